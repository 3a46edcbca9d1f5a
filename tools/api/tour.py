"""The README's API tour, run through the Python client generated from openapi/openapi.json.

CI generates the client (openapi-python-client), installs it, starts a server and runs
this script against it: if the spec and the server disagree on a path, a field, a status
or a content type, a step here fails. Every step checks what a user would see.

    SIMS_URL=http://127.0.0.1:8080 SIMS_ADMIN_EMAIL=... SIMS_ADMIN_PASSWORD=... python tour.py
"""

import io
import os
import sys
import uuid

from sims_client import AuthenticatedClient, Client
from sims_client.api.api_keys import create_api_key, list_api_keys, revoke_api_key
from sims_client.api.auth import exchange_api_key, get_me, login
from sims_client.api.access import explain_access
from sims_client.api.customers import create_customer, import_customers, list_customers, merge_customers
from sims_client.api.orders import confirm_order, create_order
from sims_client.api.payments import create_payment
from sims_client.api.pool import claim_customer, release_customer
from sims_client.api.products import create_product
from sims_client.api.reports import get_receivables_report, get_sales_report, get_targets_report
from sims_client.api.stock import create_stock_receipt, list_stock
from sims_client.api.sync import list_deletions
from sims_client.api.targets import create_target
from sims_client.api.users import create_user
from sims_client.api.warehouses import create_warehouse
from sims_client.api.webhooks import create_webhook, delete_webhook, list_webhook_deliveries, list_webhooks
from sims_client.models import (
    AccessEntity,
    AccessReason,
    CreateApiKey,
    CreateCustomer,
    CreateOrder,
    CreatePayment,
    CreateProduct,
    CreateReceipt,
    CreateTarget,
    CreateUser,
    CreateWarehouse,
    CreateWebhook,
    CsvUpload,
    DeletedEntity,
    LoginRequest,
    MergeCustomers,
    OrderLineInput,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    Problem,
    ReceiptLine,
    Role,
    TokenRequest,
)
from sims_client.types import UNSET, File

BASE = os.environ.get("SIMS_URL", "http://127.0.0.1:8080")
ADMIN_EMAIL = os.environ.get("SIMS_ADMIN_EMAIL", "admin@example.com")
ADMIN_PASSWORD = os.environ["SIMS_ADMIN_PASSWORD"]
RUN = uuid.uuid4().hex[:8]
DIGITS = f"{uuid.uuid4().int % 10_000:04d}"


def step(name):
    print(f"· {name}", flush=True)


def ok(response, status):
    """The parsed body of a response that must have `status`."""
    if response.status_code != status:
        sys.exit(f"expected {status}, got {response.status_code}: {response.content[:500]!r}")
    return response.parsed


def sign_in(email, password):
    pair = ok(login.sync_detailed(client=Client(BASE), body=LoginRequest(email, password)), 200)
    assert pair.token_type.value == "Bearer"
    return AuthenticatedClient(BASE, token=pair.access_token)


def new_rep(admin, email, name):
    """A sales rep created by the admin, and a client signed in as them."""
    user = ok(
        create_user.sync_detailed(
            client=admin,
            body=CreateUser(email=email, name=name, password="a long passphrase", role=Role.SALES),
        ),
        201,
    )
    return user, sign_in(email, "a long passphrase")


def main():
    step("sign in as the admin")
    admin = sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)

    step("a sales rep, signed in")
    rep_user, rep = new_rep(admin, f"rep-{RUN}@example.com", "李雷")

    step("the rep creates customers")
    names = [f"杭州西湖科技 {RUN} {i}" for i in range(5)]
    for i, name in enumerate(names):
        created = ok(
            create_customer.sync_detailed(
                client=rep, body=CreateCustomer(name=name, phone=f"+86 138 {DIGITS} {i:04d}")
            ),
            201,
        )
        assert created.owner_id == rep_user.id

    step("page through them with the cursor")
    seen, after = [], UNSET
    while True:
        page = ok(list_customers.sync_detailed(client=rep, q=RUN, per_page=2, after=after), 200)
        seen += [c.name for c in page.items]
        if not page.next_cursor:
            break
        assert page.has_more
        after = page.next_cursor
    assert sorted(seen) == sorted(names), seen

    step("a bad input is a problem naming the field, and creates nothing")
    bad = create_customer.sync_detailed(client=rep, body=CreateCustomer(name="x" * 201))
    problem = ok(bad, 422)
    assert isinstance(problem, Problem) and problem.code == "validation_failed"
    assert [e.field for e in problem.errors] == ["name"], problem.errors

    step("release one to the pool; another rep claims it")
    pooled = ok(list_customers.sync_detailed(client=rep, q=names[0]), 200).items[0]
    ok(release_customer.sync_detailed(pooled.id, client=rep), 200)
    other_user, other = new_rep(admin, f"rep2-{RUN}@example.com", "韩梅梅")
    claimed = ok(claim_customer.sync_detailed(pooled.id, client=other), 200)
    assert claimed.owner_id == other_user.id

    step("stock in: a warehouse, a product, a receipt")
    wh = ok(create_warehouse.sync_detailed(client=admin, body=CreateWarehouse(code=f"HZ-{RUN}", name="杭州一号仓")), 201)
    product = ok(
        create_product.sync_detailed(
            client=admin,
            body=CreateProduct(sku=f"BOLT-{RUN}", name="六角螺栓 M6", unit="盒", list_price="12.50", tax_rate="13"),
        ),
        201,
    )
    receipt = CreateReceipt(warehouse_id=wh.id, lines=[ReceiptLine(product_id=product.id, quantity="100")])
    ok(create_stock_receipt.sync_detailed(client=admin, body=receipt, idempotency_key=f"po-{RUN}"), 201)
    again = create_stock_receipt.sync_detailed(client=admin, body=receipt, idempotency_key=f"po-{RUN}")
    assert again.status_code == 201, "a retried receipt answers the first response"
    level = ok(list_stock.sync_detailed(client=admin, product_id=product.id), 200).items[0]
    assert level.on_hand == "100", f"received once: {level.on_hand}"

    step("an order, confirmed, paid in full")
    customer = ok(list_customers.sync_detailed(client=rep, q=names[1]), 200).items[0]
    order = ok(
        create_order.sync_detailed(
            client=rep,
            body=CreateOrder(
                customer_id=customer.id,
                warehouse_id=wh.id,
                lines=[OrderLineInput(product_id=product.id, quantity="2.5", discount_percent="5")],
            ),
            idempotency_key=f"order-{RUN}",
        ),
        201,
    )
    # 2.5 × 12.50 = 31.25, less 5% = 29.69, plus 13% tax = 33.55
    assert order.total == "33.55", order.total
    confirmed = ok(confirm_order.sync_detailed(order.id, client=rep), 200)
    assert confirmed.status == OrderStatus.CONFIRMED
    paid = ok(
        create_payment.sync_detailed(
            order.id,
            client=rep,
            body=CreatePayment(amount="33.55", received_at=order.created_at, method=PaymentMethod.BANK_TRANSFER),
            idempotency_key=f"pay-{RUN}",
        ),
        201,
    )
    assert paid.payment_status == PaymentStatus.PAID, paid.payment_status

    step("a target for the rep, and the reports a manager reads")
    month = order.order_date.strftime("%Y-%m")
    ok(create_target.sync_detailed(client=admin, body=CreateTarget(month=month, user_id=rep_user.id, amount="100")), 201)
    sales = ok(get_sales_report.sync_detailed(client=rep, group_by=UNSET), 200)
    assert (sales.totals.revenue, sales.totals.orders) == ("29.69", 1), sales.totals
    assert sales.rows[-1].key == month and sales.rows[-1].revenue == "29.69", sales.rows
    others = ok(get_sales_report.sync_detailed(client=other), 200)
    assert others.totals.revenue == "0.00", "a rep never sees another rep's figures"
    targets = ok(get_targets_report.sync_detailed(client=admin, month=month), 200)
    mine = [r for r in targets.rows if r.user_id == rep_user.id]
    assert [(r.target, r.actual, r.attainment) for r in mine] == [("100.00", "29.69", "0.2969")], mine
    receivables = ok(get_receivables_report.sync_detailed(client=rep), 200)
    assert receivables.total_outstanding == "0.00", "paid in full"

    step("import customers from a CSV file (multipart upload)")
    csv = f"客户名称,电话,级别\n苏州精工 {RUN},0512-6666 {DIGITS},B\n".encode()
    upload = CsvUpload(file=File(payload=io.BytesIO(csv), file_name="customers.csv", mime_type="text/csv"))
    report = ok(import_customers.sync_detailed(client=rep, body=upload), 200)
    assert report.created == 1, report

    step("merge a duplicate; a syncing client learns it is gone; the admin asks why the rep sees the survivor")
    survivor = ok(list_customers.sync_detailed(client=rep, q=names[2]), 200).items[0]
    duplicate = ok(
        create_customer.sync_detailed(
            client=rep,
            body=CreateCustomer(name=f"{names[2]} (dup)", email=f"dup-{RUN}@example.com"),
        ),
        201,
    )
    merged = ok(
        merge_customers.sync_detailed(survivor.id, client=admin, body=MergeCustomers(from_ids=[duplicate.id])),
        200,
    )
    assert merged.email == f"dup-{RUN}@example.com", "the empty email is filled from the duplicate"
    gone = ok(list_deletions.sync_detailed(client=rep, entity=DeletedEntity.CUSTOMER), 200)
    assert duplicate.id in [d.id for d in gone.items], gone.items
    why = ok(
        explain_access.sync_detailed(client=admin, user_id=rep_user.id, entity=AccessEntity.CUSTOMER, id=survivor.id),
        200,
    )
    assert why.allowed and why.reason == AccessReason.OWNER, why
    refused = ok(merge_customers.sync_detailed(survivor.id, client=rep, body=MergeCustomers(from_ids=[pooled.id])), 403)
    assert refused.code == "forbidden"

    step("a webhook subscription: its secret once, never again; a private target is refused")
    hook = ok(
        create_webhook.sync_detailed(
            client=admin,
            body=CreateWebhook(url="https://93.184.216.34/hooks/sims", events=["order.confirmed", "payment.received"]),
        ),
        201,
    )
    assert hook.secret.startswith("whsec_")
    listed = ok(list_webhooks.sync_detailed(client=admin), 200)
    assert [h.id for h in listed.items] == [hook.id] and not hasattr(listed.items[0], "secret")
    ok(list_webhook_deliveries.sync_detailed(hook.id, client=admin), 200)
    private = ok(
        create_webhook.sync_detailed(client=admin, body=CreateWebhook(url="http://127.0.0.1:9/x", events=["*"])),
        422,
    )
    assert [e.field for e in private.errors] == ["url"], private.errors
    ok(delete_webhook.sync_detailed(hook.id, client=admin), 204)

    step("an API key acting as the rep, used directly and exchanged")
    issued = ok(create_api_key.sync_detailed(client=admin, body=CreateApiKey(name="ERP sync", user_id=rep_user.id)), 201)
    assert issued.secret.startswith("sims_")
    integration = AuthenticatedClient(BASE, token=issued.secret)
    assert ok(get_me.sync_detailed(client=integration), 200).id == rep_user.id
    token = ok(exchange_api_key.sync_detailed(client=Client(BASE), body=TokenRequest(api_key=issued.secret)), 200)
    exchanged = AuthenticatedClient(BASE, token=token.access_token)
    assert ok(get_me.sync_detailed(client=exchanged), 200).id == rep_user.id
    keys = ok(list_api_keys.sync_detailed(client=admin), 200)
    assert any(k.id == issued.id and k.last_used_at for k in keys.items)
    ok(revoke_api_key.sync_detailed(issued.id, client=admin), 204)
    assert get_me.sync_detailed(client=integration).status_code == 401
    assert get_me.sync_detailed(client=exchanged).status_code == 401

    print("tour complete")


if __name__ == "__main__":
    main()
