//! Sales orders (订单): priced drafts, confirmation that reserves every line's stock all
//! or nothing, shipments, cancellation and completion (in [`transitions`]). Payments are in
//! [`crate::payments`].

mod transitions;

pub use transitions::{cancel, complete, confirm, ship};

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, ExprTrait,
    JoinType, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::catalog::{Percent, Price, Quantity};
use sims_domain::money::Money;
use sims_domain::order::{
    LineRequest, OrderLineRecord, OrderRecord, OrderStatus, PricedLine, ProductTerms, order_totals,
    payment_status,
};
use sims_domain::stock::MovementKind;
use sims_domain::webhook::EventType;
use sims_domain::{DomainError, Scope};
use uuid::Uuid;

use crate::audit::Audited;
use crate::entities::{self, order_lines, orders};
use crate::error::ShortLine;
use crate::idempotency::{Answer, Answered, IdempotencyKey};
use crate::listing::{ListRequest, Page, SortColumn, fetch_page};
use crate::records::stored;
use crate::scope::{Pool, owned_by};
use crate::stock::{Movement, apply_movement};
use crate::uow::{self, Pending, Scoped, check_version, find_in_scope, lock_for_change};
use crate::{
    Actor, Database, PersistenceError, Result, customers, now, opportunities, products, stock,
    warehouses,
};

/// A stored order with `lines` (as stored, in order), as sent.
pub(crate) fn record(o: orders::Model, lines: Vec<order_lines::Model>) -> Result<OrderRecord> {
    Ok(OrderRecord {
        status: stored("orders", "status", &o.status)?,
        payment_status: payment_status(o.total_minor, o.paid_minor),
        subtotal: Money::from_minor(o.subtotal_minor),
        discount_total: Money::from_minor(o.discount_minor),
        tax_total: Money::from_minor(o.tax_minor),
        total: Money::from_minor(o.total_minor),
        paid_amount: Money::from_minor(o.paid_minor),
        lines: lines.into_iter().map(line_record).collect(),
        id: o.id,
        number: o.number,
        customer_id: o.customer_id,
        opportunity_id: o.opportunity_id,
        owner_id: o.owner_id,
        warehouse_id: o.warehouse_id,
        currency: o.currency,
        order_date: o.order_date,
        confirmed_at: o.confirmed_at,
        created_by: o.created_by,
        version: o.version,
        created_at: o.created_at,
        updated_at: o.updated_at,
    })
}

fn line_record(l: order_lines::Model) -> OrderLineRecord {
    let money = Money::from_minor;
    OrderLineRecord {
        id: l.id,
        product_id: l.product_id,
        quantity: Quantity(l.quantity_milli),
        shipped_quantity: Quantity(l.shipped_milli),
        unit_price: Price(l.unit_price_e4),
        discount_percent: Percent(l.discount_bp),
        tax_rate: Percent(l.tax_bp),
        gross: money(l.gross_minor),
        discount: money(l.discount_minor),
        net: money(l.net_minor),
        tax: money(l.tax_minor),
        total: money(l.total_minor),
    }
}

impl Audited for orders::Model {
    const ENTITY: AuditEntity = AuditEntity::Order;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"number": self.number, "status": self.status, "total_minor": self.total_minor, "paid_minor": self.paid_minor, "customer_id": self.customer_id, "warehouse_id": self.warehouse_id})
    }
}

impl Scoped for orders::Entity {
    fn in_scope(scope: &Scope) -> Condition {
        owned_by(scope, orders::Column::OwnerId, Pool::Excluded)
    }
}

/// A new order.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The day the order was taken; its number's month follows it.
    pub order_date: NaiveDate,
    pub customer_id: Uuid,
    pub warehouse_id: Uuid,
    pub currency: String,
    pub opportunity_id: Option<Uuid>,
    pub lines: Vec<LineRequest>,
}

/// The status of a stored order.
pub(crate) fn status_of(o: &orders::Model) -> Result<OrderStatus> {
    stored("orders", "status", &o.status)
}

/// Prices lines against the catalogue (list price and tax rate by default); a line
/// naming no active product is a `422` naming it.
async fn price_lines<C: ConnectionTrait>(
    conn: &C,
    lines: &[LineRequest],
) -> Result<Vec<PricedLine>> {
    let found = products::active(conn, lines.iter().map(|l| l.product_id).collect()).await?;
    price(&found, lines)
}

/// `lines` priced with the products `found`.
fn price(found: &[entities::products::Model], lines: &[LineRequest]) -> Result<Vec<PricedLine>> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let p = found.iter().find(|p| p.id == l.product_id).ok_or_else(|| {
                PersistenceError::unusable(
                    format!("lines[{i}].product_id"),
                    "no such active product",
                )
            })?;
            let terms = ProductTerms {
                list_price_e4: p.list_price_e4,
                tax_rate_bp: p.tax_rate_bp,
            };
            Ok(l.price(i, terms)?)
        })
        .collect()
}

/// An active product of a new draft's lines, read with what the draft's other checks
/// need: whether the caller may read the customer, and who owns it.
struct Offer {
    product: entities::products::Model,
    customer_seen: bool,
    customer_owner: Option<Uuid>,
}

impl sea_orm::FromQueryResult for Offer {
    fn from_query_result(
        res: &sea_orm::QueryResult,
        pre: &str,
    ) -> std::result::Result<Self, DbErr> {
        Ok(Offer {
            product: <entities::products::Entity as crate::decode::Decoded>::decode(res)?,
            customer_seen: res.try_get(pre, "customer_seen")?,
            customer_owner: res.try_get(pre, "customer_owner")?,
        })
    }
}

/// A new draft's checks, in one statement when all is well: the customer is one the
/// caller may change (`422` naming `customer_id` when missing or out of scope, `403` the
/// pool for a rep) and the warehouse exists (`422`; no product is found without it).
/// Answers the active products of the lines, which [`price`] checks and prices. When no
/// product is found, the customer and the warehouse are checked on their own, so that
/// the error names what is wrong.
async fn check_draft<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    new: &NewOrder,
) -> Result<Vec<entities::products::Model>> {
    use entities::{customers as customer_rows, warehouses as warehouse_rows};
    let customer = || {
        Query::select()
            .from(customer_rows::Entity)
            .cond_where(customers::readable(&actor.principal.scope()))
            .and_where(customer_rows::Column::Id.eq(new.customer_id))
            .to_owned()
    };
    let warehouse = Query::select()
        .expr(Expr::val(1))
        .from(warehouse_rows::Entity)
        .and_where(warehouse_rows::Column::Id.eq(new.warehouse_id))
        .to_owned();
    let offers = products::active_of(new.lines.iter().map(|l| l.product_id).collect())
        .filter(Expr::exists(warehouse))
        .column_as(
            Expr::exists(customer().expr(Expr::val(1)).to_owned()),
            "customer_seen",
        )
        .column_as(
            Expr::from(customer().column(customer_rows::Column::OwnerId).to_owned()),
            "customer_owner",
        )
        .into_model::<Offer>()
        .all(conn)
        .await?;
    match offers.first() {
        Some(o) if !o.customer_seen => return Err(customers::unknown_customer("customer_id")),
        Some(o) => actor.principal.may_change_customer(o.customer_owner)?,
        None => {
            customers::check_writable(conn, actor, new.customer_id)
                .await
                .map_err(customers::named_in_body("customer_id"))?;
            warehouses::check_exists(conn, new.warehouse_id).await?;
        }
    }
    Ok(offers.into_iter().map(|o| o.product).collect())
}

fn line_rows(order_id: Uuid, priced: &[PricedLine]) -> Vec<order_lines::ActiveModel> {
    priced
        .iter()
        .enumerate()
        .map(|(i, l)| order_lines::ActiveModel {
            id: Set(Uuid::now_v7()),
            order_id: Set(order_id),
            position: Set(i as i32),
            product_id: Set(l.product_id),
            quantity_milli: Set(l.input.quantity_milli),
            shipped_milli: Set(0),
            unit_price_e4: Set(l.input.unit_price_e4),
            discount_bp: Set(l.input.discount_bp),
            tax_bp: Set(l.input.tax_bp),
            gross_minor: Set(l.amounts.gross),
            discount_minor: Set(l.amounts.discount),
            net_minor: Set(l.amounts.net),
            tax_minor: Set(l.amounts.tax),
            total_minor: Set(l.amounts.total),
        })
        .collect()
}

/// Writes the lines of an order (numbered from 0) and returns them as stored.
async fn insert_lines<C: ConnectionTrait>(
    conn: &C,
    order_id: Uuid,
    priced: &[PricedLine],
) -> Result<Vec<order_lines::Model>> {
    let rows = line_rows(order_id, priced);
    let models = rows
        .iter()
        .cloned()
        .map(sea_orm::TryIntoModel::try_into_model)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    order_lines::Entity::insert_many(rows).exec(conn).await?;
    Ok(models)
}

/// Creates a draft order on a customer the caller may change, priced line by line;
/// answered by `render` at most once per idempotency key.
pub async fn create(
    db: &Database,
    actor: &Actor,
    new: NewOrder,
    key: Option<&IdempotencyKey>,
    render: impl Fn(&OrderRecord) -> Result<Answer>,
) -> Result<Answered> {
    // Taken before the transaction, so that concurrent orders do not queue on the
    // counter; given back unless the last attempt wrote the order (a refused order or a
    // replayed key uses no number; a failed commit may have, and leaves a gap).
    let number = db.next_order_number(new.order_date).await?;
    let wrote = std::sync::atomic::AtomicBool::new(false);
    let work = async |tx: &DatabaseTransaction| {
        wrote.store(false, std::sync::atomic::Ordering::Relaxed);
        let found = check_draft(tx, actor, &new).await?;
        if let Some(o) = new.opportunity_id {
            opportunities::check_belongs(tx, &actor.principal.scope(), o, new.customer_id).await?;
        }
        let priced = price(&found, &new.lines)?;
        let t = order_totals(&priced)?;
        let at = now();
        let id = Uuid::now_v7();
        // The order, its lines and its audit entry go in one round trip.
        let mut pending = Pending::default();
        let order = pending.insert(
            Some(actor),
            orders::ActiveModel {
                id: Set(id),
                number: Set(number.clone()),
                customer_id: Set(new.customer_id),
                opportunity_id: Set(new.opportunity_id),
                owner_id: Set(actor.principal.user_id),
                warehouse_id: Set(new.warehouse_id),
                currency: Set(new.currency.clone()),
                status: Set(OrderStatus::Draft.as_str().to_owned()),
                subtotal_minor: Set(t.subtotal),
                discount_minor: Set(t.discount_total),
                tax_minor: Set(t.tax_total),
                total_minor: Set(t.total),
                paid_minor: Set(0),
                order_date: Set(new.order_date),
                confirmed_at: Set(None),
                created_by: Set(actor.principal.user_id),
                version: Set(1),
                created_at: Set(at),
                updated_at: Set(at),
            },
        )?;
        let rows = line_rows(id, &priced);
        let lines = rows
            .iter()
            .cloned()
            .map(sea_orm::TryIntoModel::try_into_model)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        pending.insert_rows(rows);
        pending.send(tx).await?;
        let answer = record(order, lines);
        wrote.store(answer.is_ok(), std::sync::atomic::Ordering::Relaxed);
        answer
    };
    let answered = db.write_once(key, work, render).await;
    if !wrote.load(std::sync::atomic::Ordering::Relaxed) {
        db.give_back_order_number(new.order_date, &number).await;
    }
    answered
}

async fn lines_of<C: ConnectionTrait>(conn: &C, order_id: Uuid) -> Result<Vec<order_lines::Model>> {
    Ok(order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.eq(order_id))
        .order_by_asc(order_lines::Column::Position)
        .all(conn)
        .await?)
}

/// The order `id` in `scope`, without its lines.
pub(crate) async fn find<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<orders::Model> {
    find_in_scope::<orders::Entity, _>(conn, scope, id).await
}

/// One order in the caller's scope, with its lines.
pub async fn get<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<OrderRecord> {
    let order = find(conn, scope, id).await?;
    let lines = lines_of(conn, id).await?;
    record(order, lines)
}

/// Locks an order in the caller's scope for a change and checks `If-Match`.
pub(crate) async fn lock<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<orders::Model> {
    lock_for_change::<orders::Entity, _>(conn, &actor.principal.scope(), id, if_match).await
}

/// [`lock`], with the order's lines (in order) read in the same statement. An order
/// always has lines (a draft keeps at least one).
async fn lock_with_lines<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<(orders::Model, Vec<order_lines::Model>)> {
    let lines_of_order = order_lines::Entity::belongs_to(orders::Entity)
        .from(order_lines::Column::OrderId)
        .to(orders::Column::Id)
        .into();
    let rows = orders::Entity::find_by_id(id)
        .filter(orders::Entity::in_scope(&actor.principal.scope()))
        .join_rev(JoinType::InnerJoin, lines_of_order)
        .select_also(order_lines::Entity)
        .order_by_asc(order_lines::Column::Position)
        .lock_exclusive()
        .all(conn)
        .await?;
    let mut rows = rows.into_iter();
    let Some((order, first)) = rows.next() else {
        return Err(PersistenceError::NotFound);
    };
    check_version(&order, if_match)?;
    let lines = first
        .into_iter()
        .chain(rows.filter_map(|(_, line)| line))
        .collect();
    Ok((order, lines))
}

/// Filters of the order list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub customer_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub total_min: Option<i64>,
    pub total_max: Option<i64>,
    pub updated_after: Option<DateTime<Utc>>,
}

/// Sortable fields of the order list.
pub const SORT_FIELDS: &[&str] = &["created_at", "total"];

/// A page of the caller's orders, each with its lines (read in one query for the page).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &OrderFilter,
    req: &ListRequest,
) -> Result<Page<OrderRecord>> {
    let mut q = orders::Entity::find().filter(orders::Entity::in_scope(scope));
    if let Some(s) = f.status {
        q = q.filter(orders::Column::Status.eq(s.as_str()));
    }
    if let Some(c) = f.customer_id {
        q = q.filter(orders::Column::CustomerId.eq(c));
    }
    if let Some(o) = f.owner_id {
        q = q.filter(orders::Column::OwnerId.eq(o));
    }
    if let Some(d) = f.date_from {
        q = q.filter(orders::Column::OrderDate.gte(d));
    }
    if let Some(d) = f.date_to {
        q = q.filter(orders::Column::OrderDate.lte(d));
    }
    if let Some(v) = f.total_min {
        q = q.filter(orders::Column::TotalMinor.gte(v));
    }
    if let Some(v) = f.total_max {
        q = q.filter(orders::Column::TotalMinor.lte(v));
    }
    if let Some(t) = f.updated_after {
        q = q.filter(orders::Column::UpdatedAt.gt(t));
    }
    let cols: [SortColumn<orders::Model, _>; 2] = [
        SortColumn::at("created_at", orders::Column::CreatedAt, |m| m.created_at),
        SortColumn::integer("total", orders::Column::TotalMinor, |m| m.total_minor),
    ];
    let page = fetch_page(conn, q, req, &cols).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|o| o.id).collect();
    let mut lines: HashMap<Uuid, Vec<order_lines::Model>> = HashMap::new();
    if !ids.is_empty() {
        let rows = order_lines::Entity::find()
            .filter(order_lines::Column::OrderId.is_in(ids))
            .order_by_asc(order_lines::Column::OrderId)
            .order_by_asc(order_lines::Column::Position)
            .all(conn)
            .await?;
        for l in rows {
            lines.entry(l.order_id).or_default().push(l);
        }
    }
    page.try_map(|o| {
        let of_order = lines.remove(&o.id).unwrap_or_default();
        record(o, of_order)
    })
}

/// `product_sales` of every counted order that has none yet, from its lines (the seed
/// writes it so).
pub(crate) fn product_sales_of_counted_orders() -> String {
    let counted: Vec<String> = OrderStatus::ALL
        .iter()
        .filter(|s| s.counts_in_reports())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!(
        "INSERT INTO product_sales (order_id, product_id, order_date, owner_id, currency, net_minor) \
         SELECT o.id, l.product_id, o.order_date, o.owner_id, o.currency, SUM(l.net_minor) \
         FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.status IN ({}) \
         AND NOT EXISTS (SELECT 1 FROM product_sales p WHERE p.order_id = o.id) \
         GROUP BY o.id, l.product_id, o.order_date, o.owner_id, o.currency",
        counted.join(", ")
    )
}

/// Replaces a draft order's lines and totals; any other status is `invalid_transition`.
pub async fn replace_lines(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    lines: Vec<LineRequest>,
    if_match: Option<i64>,
) -> Result<OrderRecord> {
    let (order, lines) = db
        .write(async |tx| {
            let o = lock(tx, actor, id, if_match).await?;
            status_of(&o)?.check_editable()?;
            let priced = price_lines(tx, &lines).await?;
            let t = order_totals(&priced)?;
            order_lines::Entity::delete_many()
                .filter(order_lines::Column::OrderId.eq(id))
                .exec(tx)
                .await?;
            let written = insert_lines(tx, id, &priced).await?;
            let order = uow::save(tx, Some(actor), AuditAction::Update, o, |am| {
                am.subtotal_minor = Set(t.subtotal);
                am.discount_minor = Set(t.discount_total);
                am.tax_minor = Set(t.tax_total);
                am.total_minor = Set(t.total);
            })
            .await?;
            Ok((order, written))
        })
        .await?;
    record(order, lines)
}
