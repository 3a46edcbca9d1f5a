//! The OpenAPI document, generated from the handlers and types themselves.

mod examples;
pub mod limits;

use actix_web::App;
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Doc, Server};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, scope};

use crate::error::{Problem, ProblemField};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SIMS — Sales Information Management System",
        description = "Customers, contacts, the customer pool, leads, pipeline, products, stock, orders, payments and reports over JSON.\n\nConventions: ids are UUID v7, timestamps RFC 3339 UTC, money is a decimal string. Lists answer `{items, page, per_page, has_more, next_cursor, total}`; continue with `?after=<next_cursor>`. Errors are RFC 9457 problem+json with a stable `code`. Mutable resources carry a `version`, sent as `ETag`; send it back in `If-Match` to refuse lost updates (`412`).",
        license(name = "MIT", identifier = "MIT"),
        contact(name = "SIMS")
    ),
    components(schemas(Problem, ProblemField, sims_domain::access::AccessEntity)),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "Sign-in, token refresh, logout and the caller (`/me`)"),
        (name = "api_keys", description = "API keys for integrations: each acts as one user, with that user's role and scope (admins)"),
        (name = "users", description = "Users and their roles: the directory every role reads; admins change it"),
        (name = "teams", description = "The team tree; a manager's scope is their team and every team below it"),
        (name = "customers", description = "Customers (客户): search, filters, duplicate checks (查重), tags, CSV"),
        (name = "contacts", description = "Contacts (联系人): people at a customer, seen exactly when their customer is"),
        (name = "pool", description = "The customer pool (公海): claim, release, transfer, the return rules"),
        (name = "follow_ups", description = "Follow-ups (跟进记录) and the customer timeline"),
        (name = "leads", description = "Leads (线索): capture, qualify, assign and convert"),
        (name = "pipeline", description = "Pipeline stages: the steps an opportunity moves through"),
        (name = "opportunities", description = "Opportunities (商机): amounts, stage moves and their history"),
        (name = "products", description = "Products: exact prices; cost for managers and admins"),
        (name = "warehouses", description = "Warehouses that hold stock"),
        (name = "stock", description = "The stock ledger: levels, receipts, returns, adjustments, low stock"),
        (name = "orders", description = "Sales orders (订单): priced drafts, confirmation, shipments, completion"),
        (name = "payments", description = "Payments received on orders (回款) and payment plans"),
        (name = "targets", description = "Monthly revenue targets (销售目标) per user and per team"),
        (name = "reports", description = "Reports within the caller's scope, computed by the database: sales, funnel, forecast, targets, receivables, inventory, customers"),
        (name = "audit", description = "The audit log: who changed what, for admins"),
        (name = "access", description = "Why a user sees a record or not, by the scope that filters their queries (admins)"),
        (name = "webhooks", description = "Webhooks: signed JSON events from an outbox, retried with back-off, with a delivery log and replay (admins)"),
        (name = "sync", description = "Mobile sync: every list takes `updated_after`; `/deletions` names what is gone"),
        (name = "system", description = "Health, readiness and metrics (no sign-in)"),
    )
)]
struct BaseDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `POST /auth/login` or `POST /auth/token`: a \
                         JWT (JWS) checked as RFC8725 recommends (one algorithm, HS256, \
                         never `none`; an expiry). An API key (`sims_…`) is accepted here \
                         too, as its user.",
                    ))
                    .build(),
            ),
        );
        components.responses.extend(crate::responses::components());
    }
}

/// The base document (info, tags, security scheme) that the routes are added to.
pub fn base() -> Doc {
    let mut doc = BaseDoc::openapi();
    let mut server = Server::new("/");
    server.description =
        Some("This server: production, staging and local installs serve the same API".into());
    doc.servers = Some(vec![server]);
    doc
}

/// The document the handlers describe, before [`finish`].
fn generated() -> Doc {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(crate::routes::system::configure)
        .service(scope("/api/v1").configure(crate::routes::configure_api))
        .split_for_parts();
    doc
}

/// Completes a generated document: page schemas refer to their item schemas instead of
/// copying them, the domain's limits are written in (see [`limits`]), the reports and
/// targets get their examples (see [`examples`]), and the server is marked public.
pub fn finish(doc: &Doc) -> Value {
    let mut v = serde_json::to_value(doc).unwrap_or_default();
    if let Some(Value::Object(schemas)) = v.pointer_mut("/components/schemas") {
        let names: Vec<String> = schemas.keys().cloned().collect();
        for (name, schema) in schemas.iter_mut() {
            if let Some(item) = name.strip_prefix("PageOf_")
                && names.iter().any(|n| n == item)
                && let Some(items) = schema.pointer_mut("/properties/items/items")
            {
                *items = json!({"$ref": format!("#/components/schemas/{item}")});
            }
        }
    }
    limits::apply(&mut v);
    examples::apply(&mut v);
    if let Some(Value::Array(servers)) = v.get_mut("servers") {
        for s in servers.iter_mut() {
            s["x-internal"] = json!(false);
        }
    }
    v
}

/// The committed document, `openapi/openapi.json`, as the server serves it at
/// `/openapi.json`: the drift test holds it equal to [`build`], so the server does not
/// build its own (that costs megabytes at start-up that the allocator keeps).
pub const COMMITTED: &str = include_str!("../../../../openapi/openapi.json");

/// The complete document the handlers describe, as printed by `sims openapi`.
pub fn build() -> Value {
    finish(&generated())
}

/// The document as pretty JSON with a trailing newline, as committed.
pub fn to_pretty_json() -> String {
    let mut s = serde_json::to_string_pretty(&build()).unwrap_or_default();
    s.push('\n');
    s
}
