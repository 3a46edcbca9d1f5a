//! Sales orders (订单): priced drafts, confirmation that reserves every line's stock all
//! or nothing, shipments, cancellation, completion and payments (回款).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::TryIntoModel;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::order::{LineAmounts, LineInput, OrderStatus, PaymentMethod, price_line, totals};
use sims_domain::{DomainError, Scope};
use uuid::Uuid;

use crate::entities::{
    order_counters, order_lines, orders, payments, products, stock_levels, warehouses,
};
use crate::error::ShortLine;
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, fetch_page};
use crate::scope::{Pool, owned_by};
use crate::stock::{Movement, MovementKind, apply_movement};
use crate::{Actor, Database, PersistenceError, Result, audit, customers, now, pipeline};

/// One line as asked for: product defaults fill what is not given.
#[derive(Debug, Clone)]
pub struct LineRequest {
    pub product_id: Uuid,
    pub quantity_milli: i64,
    pub unit_price_e4: Option<i64>,
    pub discount_bp: Option<i64>,
    pub tax_bp: Option<i64>,
}

/// A new order.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub customer_id: Uuid,
    pub warehouse_id: Uuid,
    pub currency: String,
    pub opportunity_id: Option<Uuid>,
    pub lines: Vec<LineRequest>,
}

/// An order with its lines, in order.
#[derive(Debug, Clone)]
pub struct OrderWithLines {
    pub order: orders::Model,
    pub lines: Vec<order_lines::Model>,
}

pub(crate) fn readable(scope: &Scope) -> Condition {
    owned_by(scope, orders::Column::OwnerId, Pool::Excluded)
}

fn status_of(o: &orders::Model) -> OrderStatus {
    OrderStatus::parse(&o.status).unwrap_or(OrderStatus::Draft)
}

fn snapshot(o: &orders::Model) -> serde_json::Value {
    json!({"number": o.number, "status": o.status, "total_minor": o.total_minor, "paid_minor": o.paid_minor, "customer_id": o.customer_id, "warehouse_id": o.warehouse_id})
}

/// Prices lines against the catalogue (list price and tax rate by default).
async fn price_lines<C: ConnectionTrait>(
    conn: &C,
    order_id: Uuid,
    lines: &[LineRequest],
) -> Result<Vec<order_lines::ActiveModel>> {
    if lines.is_empty() {
        return Err(
            DomainError::field("lines", "required", "an order has at least one line").into(),
        );
    }
    let ids: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
    let found = products::Entity::find()
        .filter(products::Column::Id.is_in(ids))
        .filter(products::Column::Active.eq(true))
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let product = found.iter().find(|p| p.id == l.product_id).ok_or_else(|| {
            PersistenceError::Unprocessable {
                field: format!("lines[{i}].product_id"),
                message: "no such active product".into(),
            }
        })?;
        let input = LineInput {
            quantity_milli: l.quantity_milli,
            unit_price_e4: l.unit_price_e4.unwrap_or(product.list_price_e4),
            discount_bp: l.discount_bp.unwrap_or(0),
            tax_bp: l.tax_bp.unwrap_or(product.tax_rate_bp),
        };
        let a: LineAmounts = price_line(input).ok_or_else(|| {
            DomainError::field(
                &format!("lines[{i}]"),
                "out_of_range",
                "the line's amount is too large",
            )
        })?;
        out.push(order_lines::ActiveModel {
            id: Set(Uuid::now_v7()),
            order_id: Set(order_id),
            position: Set(i as i32),
            product_id: Set(l.product_id),
            quantity_milli: Set(input.quantity_milli),
            shipped_milli: Set(0),
            unit_price_e4: Set(input.unit_price_e4),
            discount_bp: Set(input.discount_bp),
            tax_bp: Set(input.tax_bp),
            gross_minor: Set(a.gross),
            discount_minor: Set(a.discount),
            net_minor: Set(a.net),
            tax_minor: Set(a.tax),
            total_minor: Set(a.total),
        });
    }
    Ok(out)
}

fn amounts(l: &order_lines::ActiveModel) -> LineAmounts {
    LineAmounts {
        gross: *l.gross_minor.as_ref(),
        discount: *l.discount_minor.as_ref(),
        net: *l.net_minor.as_ref(),
        tax: *l.tax_minor.as_ref(),
        total: *l.total_minor.as_ref(),
    }
}

/// The next order number of the month: `SO-YYYYMM-000123`.
async fn next_number<C: ConnectionTrait>(conn: &C, today: NaiveDate) -> Result<String> {
    let month = format!("{:04}{:02}", today.year(), today.month());
    // One atomic upsert: concurrent first orders of a month cannot both insert the row.
    order_counters::Entity::insert(order_counters::ActiveModel {
        month: Set(month.clone()),
        last: Set(1),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(order_counters::Column::Month)
            .value(
                order_counters::Column::Last,
                Expr::col((order_counters::Entity, order_counters::Column::Last)).add(1),
            )
            .to_owned(),
    )
    .exec(conn)
    .await?;
    let last = order_counters::Entity::find_by_id(month.clone())
        .one(conn)
        .await?
        .map_or(1, |c| c.last);
    Ok(format!("SO-{month}-{last:06}"))
}

/// Creates a draft order on a customer the caller may change, priced line by line.
pub async fn create(db: &Database, actor: &Actor, new: NewOrder) -> Result<OrderWithLines> {
    let tx = db.begin_write().await?;
    customers::check_writable(&tx, actor, new.customer_id).await?;
    if warehouses::Entity::find_by_id(new.warehouse_id)
        .one(&tx)
        .await?
        .is_none()
    {
        return Err(PersistenceError::Unprocessable {
            field: "warehouse_id".into(),
            message: "no such warehouse".into(),
        });
    }
    if let Some(o) = new.opportunity_id {
        pipeline::check_belongs(&tx, &actor.principal.scope(), o, new.customer_id).await?;
    }
    let id = Uuid::now_v7();
    let lines = price_lines(&tx, id, &new.lines).await?;
    let t = totals(&lines.iter().map(amounts).collect::<Vec<_>>()).ok_or_else(|| {
        DomainError::field("lines", "out_of_range", "the order total is too large")
    })?;
    let at = now();
    let number = next_number(&tx, at.date_naive()).await?;
    let order = orders::ActiveModel {
        id: Set(id),
        number: Set(number),
        customer_id: Set(new.customer_id),
        opportunity_id: Set(new.opportunity_id),
        owner_id: Set(actor.principal.user_id),
        warehouse_id: Set(new.warehouse_id),
        currency: Set(new.currency),
        status: Set(OrderStatus::Draft.as_str().to_owned()),
        subtotal_minor: Set(t.subtotal),
        discount_minor: Set(t.discount_total),
        tax_minor: Set(t.tax_total),
        total_minor: Set(t.total),
        paid_minor: Set(0),
        order_date: Set(at.date_naive()),
        confirmed_at: Set(None),
        created_by: Set(actor.principal.user_id),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&tx)
    .await?;
    let models = lines
        .iter()
        .cloned()
        .map(|l| l.try_into_model())
        .collect::<std::result::Result<Vec<_>, _>>()?;
    order_lines::Entity::insert_many(lines).exec(&tx).await?;
    audit::record(
        &tx,
        actor,
        "create",
        "order",
        id,
        None,
        Some(&snapshot(&order)),
    )
    .await?;
    tx.commit().await?;
    Ok(OrderWithLines {
        order,
        lines: models,
    })
}

async fn lines_of<C: ConnectionTrait>(conn: &C, order_id: Uuid) -> Result<Vec<order_lines::Model>> {
    Ok(order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.eq(order_id))
        .order_by_asc(order_lines::Column::Position)
        .all(conn)
        .await?)
}

/// One order in the caller's scope, with its lines.
pub async fn get<C: ConnectionTrait>(conn: &C, scope: &Scope, id: Uuid) -> Result<OrderWithLines> {
    let order = orders::Entity::find_by_id(id)
        .filter(readable(scope))
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    let lines = lines_of(conn, id).await?;
    Ok(OrderWithLines { order, lines })
}

async fn locked<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<orders::Model> {
    let o = orders::Entity::find_by_id(id)
        .filter(readable(&actor.principal.scope()))
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    if if_match.is_some_and(|v| v != o.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    Ok(o)
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

/// A page of the caller's orders (without lines).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    f: &OrderFilter,
    req: &ListRequest,
) -> Result<Page<orders::Model>> {
    let mut q = orders::Entity::find().filter(readable(scope));
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
    let cols = [
        SortColumn {
            field: "created_at",
            column: orders::Column::CreatedAt,
            kind: SortValue::Timestamp,
        },
        SortColumn {
            field: "total",
            column: orders::Column::TotalMinor,
            kind: SortValue::Integer,
        },
    ];
    fetch_page(
        conn,
        q,
        req,
        &cols,
        orders::Column::Id,
        |m, field| match field {
            "total" => CursorValue::Integer(m.total_minor),
            _ => CursorValue::Timestamp(m.created_at),
        },
        |m| m.id,
    )
    .await
}

async fn save_status<C: ConnectionTrait>(
    conn: &C,
    o: orders::Model,
    to: OrderStatus,
    confirmed: bool,
) -> Result<orders::Model> {
    let version = o.version;
    let mut am = o.into_active_model();
    am.status = Set(to.as_str().to_owned());
    if confirmed {
        am.confirmed_at = Set(Some(now()));
    }
    am.version = Set(version + 1);
    am.updated_at = Set(now());
    Ok(am.update(conn).await?)
}

/// Replaces a draft order's lines and totals; any other status is `invalid_transition`.
pub async fn replace_lines(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    lines: Vec<LineRequest>,
    if_match: Option<i64>,
) -> Result<OrderWithLines> {
    let tx = db.begin_write().await?;
    let o = locked(&tx, actor, id, if_match).await?;
    if status_of(&o) != OrderStatus::Draft {
        return Err(DomainError::InvalidTransition {
            from: o.status.clone(),
            to: "edited".into(),
        }
        .into());
    }
    let priced = price_lines(&tx, id, &lines).await?;
    let t = totals(&priced.iter().map(amounts).collect::<Vec<_>>()).ok_or_else(|| {
        DomainError::field("lines", "out_of_range", "the order total is too large")
    })?;
    order_lines::Entity::delete_many()
        .filter(order_lines::Column::OrderId.eq(id))
        .exec(&tx)
        .await?;
    order_lines::Entity::insert_many(priced).exec(&tx).await?;
    let before = snapshot(&o);
    let version = o.version;
    let mut am = o.into_active_model();
    am.subtotal_minor = Set(t.subtotal);
    am.discount_minor = Set(t.discount_total);
    am.tax_minor = Set(t.tax_total);
    am.total_minor = Set(t.total);
    am.version = Set(version + 1);
    am.updated_at = Set(now());
    let order = am.update(&tx).await?;
    audit::record(
        &tx,
        actor,
        "update",
        "order",
        id,
        Some(&before),
        Some(&snapshot(&order)),
    )
    .await?;
    let lines = lines_of(&tx, id).await?;
    tx.commit().await?;
    Ok(OrderWithLines { order, lines })
}

/// Confirms a draft: reserves every line's stock in one transaction, all or nothing.
/// Lines that stock cannot cover are listed in `InsufficientStock` and nothing changes.
pub async fn confirm(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<OrderWithLines> {
    let tx = db.begin_write().await?;
    let o = locked(&tx, actor, id, if_match).await?;
    status_of(&o).transition(OrderStatus::Confirmed)?;
    let lines = lines_of(&tx, id).await?;
    let mut short = Vec::new();
    for (index, l) in lines.iter().enumerate() {
        let m = Movement {
            product_id: l.product_id,
            warehouse_id: o.warehouse_id,
            kind: MovementKind::Reserve,
            on_hand_delta: 0,
            reserved_delta: l.quantity_milli,
            reference: Some(o.number.clone()),
            reason: None,
            order_id: Some(id),
        };
        if !apply_movement(&tx, actor.principal.user_id, &m).await? {
            let available = stock_levels::Entity::find_by_id((l.product_id, o.warehouse_id))
                .one(&tx)
                .await?
                .map_or(0, |s| s.on_hand_milli - s.reserved_milli);
            short.push(ShortLine {
                index,
                line_id: l.id,
                product_id: l.product_id,
                requested_milli: l.quantity_milli,
                available_milli: available,
            });
        }
    }
    if !short.is_empty() {
        return Err(PersistenceError::InsufficientStock(short));
    }
    let before = snapshot(&o);
    let order = save_status(&tx, o, OrderStatus::Confirmed, true).await?;
    audit::record(
        &tx,
        actor,
        "confirm",
        "order",
        id,
        Some(&before),
        Some(&snapshot(&order)),
    )
    .await?;
    tx.commit().await?;
    Ok(OrderWithLines { order, lines })
}

/// Ships part or all of a confirmed order: moves reserved stock out. Shipping more than
/// is left on a line is refused and nothing changes.
pub async fn ship(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    shipment: Vec<(Uuid, i64)>,
    if_match: Option<i64>,
) -> Result<OrderWithLines> {
    let tx = db.begin_write().await?;
    let o = locked(&tx, actor, id, if_match).await?;
    let status = status_of(&o);
    if !status.holds_reservation() {
        return Err(DomainError::InvalidTransition {
            from: o.status.clone(),
            to: "shipped".into(),
        }
        .into());
    }
    if shipment.is_empty() {
        return Err(DomainError::field("lines", "required", "ship at least one line").into());
    }
    let lines = lines_of(&tx, id).await?;
    for (i, (line_id, q)) in shipment.iter().enumerate() {
        let Some(line) = lines.iter().find(|l| l.id == *line_id) else {
            return Err(PersistenceError::Unprocessable {
                field: format!("lines[{i}].line_id"),
                message: "no such line on this order".into(),
            });
        };
        // Guarded in SQL too, so that two concurrent shipments cannot both pass.
        let updated = order_lines::Entity::update_many()
            .col_expr(
                order_lines::Column::ShippedMilli,
                Expr::col(order_lines::Column::ShippedMilli).add(*q),
            )
            .filter(order_lines::Column::Id.eq(*line_id))
            .filter(
                Expr::col(order_lines::Column::ShippedMilli)
                    .add(*q)
                    .lte(Expr::col(order_lines::Column::QuantityMilli)),
            )
            .exec(&tx)
            .await?;
        if updated.rows_affected != 1 {
            return Err(DomainError::field(
                &format!("lines[{i}].quantity"),
                "exceeds_remaining",
                "more than is left to ship on this line",
            )
            .into());
        }
        let m = Movement {
            product_id: line.product_id,
            warehouse_id: o.warehouse_id,
            kind: MovementKind::Shipment,
            on_hand_delta: -q,
            reserved_delta: -q,
            reference: Some(o.number.clone()),
            reason: None,
            order_id: Some(id),
        };
        if !apply_movement(&tx, actor.principal.user_id, &m).await? {
            return Err(PersistenceError::Conflict(
                "the reserved stock for this line is gone".into(),
            ));
        }
    }
    let lines = lines_of(&tx, id).await?;
    let done = lines.iter().all(|l| l.shipped_milli == l.quantity_milli);
    let to = status.transition(if done {
        OrderStatus::Shipped
    } else {
        OrderStatus::PartiallyShipped
    })?;
    let before = snapshot(&o);
    let order = save_status(&tx, o, to, false).await?;
    audit::record(
        &tx,
        actor,
        "ship",
        "order",
        id,
        Some(&before),
        Some(&snapshot(&order)),
    )
    .await?;
    tx.commit().await?;
    Ok(OrderWithLines { order, lines })
}

/// Cancels a draft or confirmed order, releasing what is still reserved.
pub async fn cancel(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<OrderWithLines> {
    let tx = db.begin_write().await?;
    let o = locked(&tx, actor, id, if_match).await?;
    let status = status_of(&o);
    status.transition(OrderStatus::Cancelled)?;
    let lines = lines_of(&tx, id).await?;
    if status.holds_reservation() {
        for l in &lines {
            let left = l.quantity_milli - l.shipped_milli;
            if left > 0 {
                let m = Movement {
                    product_id: l.product_id,
                    warehouse_id: o.warehouse_id,
                    kind: MovementKind::Release,
                    on_hand_delta: 0,
                    reserved_delta: -left,
                    reference: Some(o.number.clone()),
                    reason: None,
                    order_id: Some(id),
                };
                if !apply_movement(&tx, actor.principal.user_id, &m).await? {
                    return Err(PersistenceError::Conflict(
                        "the reserved stock for this order is inconsistent".into(),
                    ));
                }
            }
        }
    }
    let before = snapshot(&o);
    let order = save_status(&tx, o, OrderStatus::Cancelled, false).await?;
    audit::record(
        &tx,
        actor,
        "cancel",
        "order",
        id,
        Some(&before),
        Some(&snapshot(&order)),
    )
    .await?;
    tx.commit().await?;
    Ok(OrderWithLines { order, lines })
}

/// Completes a shipped order.
pub async fn complete(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<OrderWithLines> {
    let tx = db.begin_write().await?;
    let o = locked(&tx, actor, id, if_match).await?;
    status_of(&o).transition(OrderStatus::Completed)?;
    let before = snapshot(&o);
    let order = save_status(&tx, o, OrderStatus::Completed, false).await?;
    audit::record(
        &tx,
        actor,
        "complete",
        "order",
        id,
        Some(&before),
        Some(&snapshot(&order)),
    )
    .await?;
    let lines = lines_of(&tx, id).await?;
    tx.commit().await?;
    Ok(OrderWithLines { order, lines })
}

/// A payment received.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub amount_minor: i64,
    pub received_at: DateTime<Utc>,
    pub method: PaymentMethod,
    pub reference: Option<String>,
}

/// Records a payment on a confirmed (or later, not cancelled) order. A payment that
/// would take the paid amount past the total is refused (`overpayment`).
pub async fn add_payment(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    p: NewPayment,
) -> Result<(payments::Model, orders::Model)> {
    let tx = db.begin_write().await?;
    let o = locked(&tx, actor, id, None).await?;
    if matches!(status_of(&o), OrderStatus::Draft | OrderStatus::Cancelled) {
        return Err(DomainError::refused(
            "invalid_transition",
            format!("a {} order takes no payments", o.status),
        )
        .into());
    }
    let paid = o
        .paid_minor
        .checked_add(p.amount_minor)
        .filter(|v| *v <= o.total_minor)
        .ok_or_else(|| {
            DomainError::refused(
                "overpayment",
                format!(
                    "the order's outstanding amount is {}",
                    sims_domain::Money::from_minor(o.total_minor - o.paid_minor)
                ),
            )
        })?;
    let t = now();
    let payment = payments::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(id),
        amount_minor: Set(p.amount_minor),
        received_at: Set(p.received_at),
        method: Set(p.method.as_str().to_owned()),
        reference: Set(p.reference),
        created_by: Set(actor.principal.user_id),
        created_at: Set(t),
    }
    .insert(&tx)
    .await?;
    let before = snapshot(&o);
    let version = o.version;
    let mut am = o.into_active_model();
    am.paid_minor = Set(paid);
    am.version = Set(version + 1);
    am.updated_at = Set(t);
    let order = am.update(&tx).await?;
    audit::record(
        &tx,
        actor,
        "payment",
        "order",
        id,
        Some(&before),
        Some(&snapshot(&order)),
    )
    .await?;
    tx.commit().await?;
    Ok((payment, order))
}

/// An order's payments, oldest first.
pub async fn payments_of<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<Vec<payments::Model>> {
    get(conn, scope, id).await?;
    Ok(payments::Entity::find()
        .filter(payments::Column::OrderId.eq(id))
        .order_by_asc(payments::Column::ReceivedAt)
        .limit(10_000)
        .all(conn)
        .await?)
}

/// An order's payment plan, by due date.
pub async fn payment_plan<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<(
    orders::Model,
    Vec<crate::entities::payment_plan_instalments::Model>,
)> {
    use crate::entities::payment_plan_instalments as plan;
    let o = get(conn, scope, id).await?.order;
    let items = plan::Entity::find()
        .filter(plan::Column::OrderId.eq(id))
        .order_by_asc(plan::Column::Position)
        .all(conn)
        .await?;
    Ok((o, items))
}

/// Replaces an order's payment plan. The instalments must add up to the order total
/// exactly, in date order; a cancelled order has no plan.
pub async fn set_payment_plan(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    instalments: Vec<(NaiveDate, i64)>,
) -> Result<(
    orders::Model,
    Vec<crate::entities::payment_plan_instalments::Model>,
)> {
    use crate::entities::payment_plan_instalments as plan;
    let tx = db.begin_write().await?;
    let o = locked(&tx, actor, id, None).await?;
    if status_of(&o) == OrderStatus::Cancelled {
        return Err(DomainError::InvalidTransition {
            from: o.status.clone(),
            to: "planned".into(),
        }
        .into());
    }
    let sum = instalments
        .iter()
        .try_fold(0i64, |acc, (_, a)| acc.checked_add(*a));
    if sum != Some(o.total_minor) {
        return Err(DomainError::field(
            "instalments",
            "sum_mismatch",
            format!(
                "the instalments must add up to the order total {}",
                sims_domain::Money::from_minor(o.total_minor)
            ),
        )
        .into());
    }
    if instalments.windows(2).any(|w| w[0].0 > w[1].0) {
        return Err(DomainError::field(
            "instalments",
            "not_in_order",
            "list the instalments by due date",
        )
        .into());
    }
    plan::Entity::delete_many()
        .filter(plan::Column::OrderId.eq(id))
        .exec(&tx)
        .await?;
    let rows: Vec<plan::ActiveModel> = instalments
        .iter()
        .enumerate()
        .map(|(i, (due, amount))| plan::ActiveModel {
            id: Set(Uuid::now_v7()),
            order_id: Set(id),
            position: Set(i as i32),
            due_date: Set(*due),
            amount_minor: Set(*amount),
        })
        .collect();
    plan::Entity::insert_many(rows).exec(&tx).await?;
    audit::record(&tx, actor, "payment_plan", "order", id, None, Some(&json!({"instalments": instalments.iter().map(|(d, a)| json!({"due_date": d, "amount_minor": a})).collect::<Vec<_>>()}))).await?;
    let items = plan::Entity::find()
        .filter(plan::Column::OrderId.eq(id))
        .order_by_asc(plan::Column::Position)
        .all(&tx)
        .await?;
    tx.commit().await?;
    Ok((o, items))
}
