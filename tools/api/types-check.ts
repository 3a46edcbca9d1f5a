// The TypeScript types generated from openapi/openapi.json, used the way a web client
// uses them: if a schema name, a path or an enum value changes, this stops compiling.
import type { components, paths } from "./out/sims";

type Customer = components["schemas"]["CustomerView"];
type CustomerPage =
  paths["/api/v1/customers"]["get"]["responses"][200]["content"]["application/json"];
type NewOrder =
  paths["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"];
type Problem = components["schemas"]["Problem"];

const kind: Customer["kind"] = "company";
const page: CustomerPage = {
  items: [],
  page: null,
  per_page: 50,
  has_more: false,
  next_cursor: null,
  total: null,
};
const order: NewOrder = {
  customer_id: "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8e",
  warehouse_id: "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d8f",
  lines: [{ product_id: "01939d2e-8f6a-7c3b-9d1e-2f4a5b6c7d90", quantity: "2.5" }],
};
const problem: Pick<Problem, "code" | "status"> = { code: "not_found", status: 404 };

export const used = [kind, page, order, problem];
