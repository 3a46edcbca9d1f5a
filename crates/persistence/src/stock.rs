//! The stock ledger: every change is a movement, and `stock_levels` moves with it in
//! the same transaction through a guarded update, so that available and reserved stock
//! never go below zero under any concurrency (a CHECK constraint backs the guard).
//! Who may receive or adjust stock is a role rule the caller checks.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, Expr, IntoIden, LockType, Order, Query, TableRef, UpdateStatement,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction,
    EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::Refusal;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::catalog::{ProductRecord, Quantity};
use sims_domain::stock::{
    Adjustment, Inbound, Level, MovementKind, MovementRecord, StockLevelRecord,
};
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entities::{order_lines, products, stock_levels, stock_movements};
use crate::idempotency::{Answer, Answered, IdempotencyKey};
use crate::listing::{ListRequest, Page, SortColumn, fetch_page, page_of_sorted};
use crate::records::stored;
use crate::reports::{Sql, get};
use crate::{Actor, Database, PersistenceError, Result, now, warehouses};

/// A stored stock level, as sent.
pub(crate) fn level_record(m: stock_levels::Model) -> StockLevelRecord {
    StockLevelRecord {
        product_id: m.product_id,
        warehouse_id: m.warehouse_id,
        on_hand: Quantity(m.on_hand_milli),
        reserved: Quantity(m.reserved_milli),
        available: Quantity(m.on_hand_milli - m.reserved_milli),
        updated_at: m.updated_at,
    }
}

/// A stored ledger entry, as sent.
fn movement_record(m: stock_movements::Model) -> Result<MovementRecord> {
    Ok(MovementRecord {
        kind: stored("stock_movements", "kind", &m.kind)?,
        id: m.id,
        product_id: m.product_id,
        warehouse_id: m.warehouse_id,
        quantity: Quantity(m.on_hand_delta_milli),
        reserved_change: Quantity(m.reserved_delta_milli),
        reference: m.reference,
        reason: m.reason,
        order_id: m.order_id,
        created_by: m.created_by,
        at: m.at,
    })
}

/// One movement to record.
#[derive(Debug, Clone)]
pub(crate) struct Movement {
    pub product_id: Uuid,
    pub warehouse_id: Uuid,
    pub kind: MovementKind,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub order_id: Option<Uuid>,
}

/// `CAST(SUM(col) AS BIGINT)`: PostgreSQL sums BIGINT into NUMERIC; the cast keeps the
/// result an exact 64-bit integer on both databases.
pub(crate) fn sum_bigint<C: ColumnTrait>(col: C) -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Func::cast_as(sea_orm::sea_query::Func::sum(Expr::col(col)), "BIGINT")
        .into()
}

/// Applies a movement to its stock level and writes it to the ledger, inside the
/// caller's transaction. `None` when the level would go below zero (nothing written).
pub(crate) async fn apply_movement<C: ConnectionTrait>(
    conn: &C,
    by: Uuid,
    m: &Movement,
) -> Result<Option<stock_movements::Model>> {
    let (dh, dr) = (m.on_hand_delta, m.reserved_delta);
    let t = now();
    let updated = stock_levels::Entity::update_many()
        .col_expr(
            stock_levels::Column::OnHandMilli,
            Expr::col(stock_levels::Column::OnHandMilli).add(dh),
        )
        .col_expr(
            stock_levels::Column::ReservedMilli,
            Expr::col(stock_levels::Column::ReservedMilli).add(dr),
        )
        .col_expr(stock_levels::Column::UpdatedAt, Expr::val(t))
        .filter(stock_levels::Column::ProductId.eq(m.product_id))
        .filter(stock_levels::Column::WarehouseId.eq(m.warehouse_id))
        .filter(
            Expr::col(stock_levels::Column::ReservedMilli)
                .add(dr)
                .gte(0),
        )
        .filter(
            Expr::col(stock_levels::Column::OnHandMilli)
                .add(dh)
                .sub(Expr::col(stock_levels::Column::ReservedMilli).add(dr))
                .gte(0),
        )
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        if level(conn, m.product_id, m.warehouse_id).await?.is_some() {
            return Ok(None);
        }
        let Some(new) = Level::default().apply(dh, dr) else {
            return Ok(None);
        };
        // Two first movements of a product into a warehouse may race to create its
        // level: the loser's unique violation is contention, and its transaction reruns.
        stock_levels::ActiveModel {
            product_id: Set(m.product_id),
            warehouse_id: Set(m.warehouse_id),
            on_hand_milli: Set(new.on_hand),
            reserved_milli: Set(new.reserved),
            updated_at: Set(t),
        }
        .insert(conn)
        .await?;
    }
    let written = movement_row(by, m, t).insert(conn).await?;
    Ok(Some(written))
}

/// The ledger row of a movement by `by` at `at`.
pub(crate) fn movement_row(
    by: Uuid,
    m: &Movement,
    at: DateTime<Utc>,
) -> stock_movements::ActiveModel {
    stock_movements::ActiveModel {
        id: Set(Uuid::now_v7()),
        product_id: Set(m.product_id),
        warehouse_id: Set(m.warehouse_id),
        kind: Set(m.kind.as_str().to_owned()),
        on_hand_delta_milli: Set(m.on_hand_delta),
        reserved_delta_milli: Set(m.reserved_delta),
        reference: Set(m.reference.clone()),
        reason: Set(m.reason.clone()),
        order_id: Set(m.order_id),
        created_by: Set(by),
        at: Set(at),
    }
}

/// The statement that reserves in `warehouse_id` what the lines of order `order_id`
/// still ask for, summed product by product, for every product whose available stock
/// covers it, leaving the others as they were, and returns the products reserved
/// ([`reserved_products`]). The caller sends it with the ledger entries
/// ([`movement_row`]) — and rolls back when a product is missing from the answer. On
/// PostgreSQL the levels are locked in product order within the statement.
pub(crate) fn reservation_of_order_lines(
    backend: DatabaseBackend,
    order_id: Uuid,
    warehouse_id: Uuid,
    at: DateTime<Utc>,
) -> UpdateStatement {
    let (levels, lines) = (stock_levels::Entity, order_lines::Entity);
    let asked = Alias::new("asked");
    let q = Alias::new("q");
    // What the order's lines still ask for, product by product.
    let ask = Query::select()
        .column(order_lines::Column::ProductId)
        .expr_as(
            Expr::cust("CAST(SUM(quantity_milli - shipped_milli) AS BIGINT)"),
            q.clone(),
        )
        .from(lines)
        .and_where(order_lines::Column::OrderId.eq(order_id))
        .group_by_col(order_lines::Column::ProductId)
        .to_owned();
    let mut update = Query::update();
    update
        .table(levels)
        .value(
            stock_levels::Column::ReservedMilli,
            Expr::col((levels, stock_levels::Column::ReservedMilli))
                .add(Expr::col((asked.clone(), q.clone()))),
        )
        .value(stock_levels::Column::UpdatedAt, Expr::val(at))
        .from(TableRef::SubQuery(Box::new(ask), asked.clone().into_iden()))
        .and_where(
            Expr::col((levels, stock_levels::Column::ProductId))
                .equals((asked.clone(), order_lines::Column::ProductId)),
        )
        .and_where(Expr::col((levels, stock_levels::Column::WarehouseId)).eq(warehouse_id));
    if backend == DatabaseBackend::Postgres {
        // The rows are locked first, in product order, so that two orders sharing
        // products cannot each hold one row the other waits for (PostgreSQL would detect
        // the deadlock only after a second and abort one; the join locks in no set order).
        let s = Alias::new("s");
        let locked = Query::select()
            .column((s.clone(), stock_levels::Column::ProductId))
            .from_as(levels, s.clone())
            .and_where(Expr::col((s.clone(), stock_levels::Column::WarehouseId)).eq(warehouse_id))
            .and_where(
                Expr::col((s.clone(), stock_levels::Column::ProductId)).in_subquery(
                    Query::select()
                        .column(order_lines::Column::ProductId)
                        .from(lines)
                        .and_where(order_lines::Column::OrderId.eq(order_id))
                        .to_owned(),
                ),
            )
            .order_by((s, stock_levels::Column::ProductId), Order::Asc)
            .lock(LockType::Update)
            .to_owned();
        update.and_where(Expr::col((levels, stock_levels::Column::ProductId)).in_subquery(locked));
    }
    update
        .and_where(
            Expr::col((levels, stock_levels::Column::OnHandMilli))
                .sub(Expr::col((levels, stock_levels::Column::ReservedMilli)))
                .gte(Expr::col((asked, q))),
        )
        .returning_col((levels, stock_levels::Column::ProductId));
    update
}

/// The products a [`reservation_of_order_lines`] reserved, from the rows it returned.
pub(crate) fn reserved_products(rows: &[sea_orm::QueryResult]) -> Result<Vec<Uuid>> {
    rows.iter()
        .map(|row| get::<Uuid>(row, "product_id"))
        .collect()
}

/// On PostgreSQL, locks the stock levels of `products` in `warehouse_id`, in product
/// order, before a transaction changes several of them one by one (shipments,
/// cancellations, receipts): every transaction that holds more than one level then took
/// them in the same order as the reservation does, and none can wait for another that
/// waits for it. SQLite has one writer at a time: nothing to lock.
pub(crate) async fn lock_levels<C: ConnectionTrait>(
    conn: &C,
    warehouse_id: Uuid,
    products: impl IntoIterator<Item = Uuid>,
) -> Result<()> {
    let mut ids: Vec<Uuid> = products.into_iter().collect();
    ids.sort();
    ids.dedup();
    let mut sql = Sql::new(conn.get_database_backend());
    if !sql.pg() || ids.len() < 2 {
        return Ok(());
    }
    sql.push("SELECT product_id FROM stock_levels WHERE warehouse_id = ")
        .bind(warehouse_id)
        .push(" AND product_id IN (");
    for (i, id) in ids.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(id);
    }
    sql.push(") ORDER BY product_id FOR UPDATE");
    sql.all(conn).await?;
    Ok(())
}

/// The stock level of a product in a warehouse, if it has one.
pub(crate) async fn level<C: ConnectionTrait>(
    conn: &C,
    product_id: Uuid,
    warehouse_id: Uuid,
) -> Result<Option<StockLevelRecord>> {
    Ok(stock_levels::Entity::find_by_id((product_id, warehouse_id))
        .one(conn)
        .await?
        .map(level_record))
}

async fn check_products<C: ConnectionTrait>(
    conn: &C,
    products_with_fields: &[(Uuid, String)],
) -> Result<()> {
    for (id, field) in products_with_fields {
        if products::Entity::find_by_id(*id).one(conn).await?.is_none() {
            return Err(PersistenceError::unusable(field.clone(), "no such product"));
        }
    }
    Ok(())
}

/// Receives stock into a warehouse (`Receipt`) or takes back goods a customer returned
/// (`Return`, optionally linked to the order they were shipped on): one movement per
/// line, all or nothing, answered by `render` at most once per idempotency key.
pub async fn take_in(
    db: &Database,
    actor: &Actor,
    (kind, warehouse_id, order_id): (MovementKind, Uuid, Option<Uuid>),
    inbound: Inbound,
    key: Option<&IdempotencyKey>,
    render: impl Fn(&[MovementRecord]) -> Result<Answer>,
) -> Result<Answered> {
    let action = match kind {
        MovementKind::Return => AuditAction::Return,
        _ => AuditAction::Receipt,
    };
    let work = async |tx: &DatabaseTransaction| {
        warehouses::check_exists(tx, warehouse_id).await?;
        if let Some(o) = order_id {
            // A body field naming no order the caller may see is a 422 naming it.
            crate::orders::find(tx, &actor.principal.scope(), o)
                .await
                .map_err(|e| match e {
                    PersistenceError::NotFound => {
                        PersistenceError::unusable("order_id", "no such order")
                    }
                    other => other,
                })?;
        }
        let fields: Vec<(Uuid, String)> = inbound
            .lines
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (*p, format!("lines[{i}].product_id")))
            .collect();
        check_products(tx, &fields).await?;
        lock_levels(tx, warehouse_id, inbound.lines.iter().map(|(p, _)| *p)).await?;
        let mut written = Vec::with_capacity(inbound.lines.len());
        for (product_id, q) in &inbound.lines {
            let m = Movement {
                product_id: *product_id,
                warehouse_id,
                kind,
                on_hand_delta: *q,
                reserved_delta: 0,
                reference: inbound.reference.clone(),
                reason: None,
                order_id,
            };
            written.extend(apply_movement(tx, actor.principal.user_id, &m).await?);
        }
        let lines: Vec<serde_json::Value> = inbound
            .lines
            .iter()
            .map(|(p, q)| json!({"product_id": p, "quantity_milli": q}))
            .collect();
        let change = Change::of(AuditEntity::Stock, Uuid::now_v7(), action).after(json!({
            "warehouse_id": warehouse_id, "reference": inbound.reference,
            "order_id": order_id, "lines": lines,
        }));
        audit::record(tx, Some(actor), change).await?;
        written
            .into_iter()
            .map(movement_record)
            .collect::<Result<Vec<_>>>()
    };
    db.write_once(key, work, |w: &Vec<MovementRecord>| render(w))
        .await
}

/// Adjusts on-hand stock by a signed amount with a reason, refusing to take away stock
/// that is not available; answered by `render` at most once per idempotency key.
pub async fn adjust(
    db: &Database,
    actor: &Actor,
    (warehouse_id, product_id): (Uuid, Uuid),
    adjustment: Adjustment,
    key: Option<&IdempotencyKey>,
    render: impl Fn(&StockLevelRecord) -> Result<Answer>,
) -> Result<Answered> {
    let work = async |tx: &DatabaseTransaction| {
        warehouses::check_exists(tx, warehouse_id).await?;
        check_products(tx, &[(product_id, "product_id".into())]).await?;
        let m = Movement {
            product_id,
            warehouse_id,
            kind: MovementKind::Adjustment,
            on_hand_delta: adjustment.quantity_milli,
            reserved_delta: 0,
            reference: None,
            reason: Some(adjustment.reason.clone()),
            order_id: None,
        };
        if apply_movement(tx, actor.principal.user_id, &m)
            .await?
            .is_none()
        {
            return Err(Refusal::InsufficientStock.into());
        }
        let change = Change::of(AuditEntity::Stock, product_id, AuditAction::Adjustment).after(
            json!({"warehouse_id": warehouse_id, "quantity_milli": adjustment.quantity_milli, "reason": adjustment.reason}),
        );
        audit::record(tx, Some(actor), change).await?;
        level(tx, product_id, warehouse_id)
            .await?
            .ok_or(PersistenceError::NotFound)
    };
    db.write_once(key, work, render).await
}

/// Sortable fields of the stock list: by product (then warehouse), either way.
pub const LEVEL_SORT_FIELDS: &[&str] = &["product_id"];

/// A page of stock levels, optionally for one product and/or warehouse, by product then
/// warehouse; `after` continues by keyset like every list.
pub async fn levels<C: ConnectionTrait>(
    conn: &C,
    product_id: Option<Uuid>,
    warehouse_id: Option<Uuid>,
    req: &ListRequest,
) -> Result<Page<StockLevelRecord>> {
    let mut q = stock_levels::Entity::find();
    if let Some(p) = product_id {
        q = q.filter(stock_levels::Column::ProductId.eq(p));
    }
    if let Some(w) = warehouse_id {
        q = q.filter(stock_levels::Column::WarehouseId.eq(w));
    }
    let cols: [SortColumn<stock_levels::Model, _>; 1] = [SortColumn::id(
        "product_id",
        stock_levels::Column::ProductId,
        |m| m.product_id,
    )];
    Ok(fetch_page(conn, q, req, &cols).await?.map(level_record))
}

/// Filters of the movement list.
#[derive(Debug, Clone, Default)]
pub struct MovementFilter {
    pub product_id: Option<Uuid>,
    pub warehouse_id: Option<Uuid>,
    pub kind: Option<MovementKind>,
    pub order_id: Option<Uuid>,
}

/// A page of the ledger, newest first.
pub async fn movements<C: ConnectionTrait>(
    conn: &C,
    f: &MovementFilter,
    req: &ListRequest,
) -> Result<Page<MovementRecord>> {
    let mut q = stock_movements::Entity::find();
    if let Some(p) = f.product_id {
        q = q.filter(stock_movements::Column::ProductId.eq(p));
    }
    if let Some(w) = f.warehouse_id {
        q = q.filter(stock_movements::Column::WarehouseId.eq(w));
    }
    if let Some(k) = f.kind {
        q = q.filter(stock_movements::Column::Kind.eq(k.as_str()));
    }
    if let Some(o) = f.order_id {
        q = q.filter(stock_movements::Column::OrderId.eq(o));
    }
    let cols: [SortColumn<stock_movements::Model, _>; 1] =
        [SortColumn::at("at", stock_movements::Column::At, |m| m.at)];
    fetch_page(conn, q, req, &cols)
        .await?
        .try_map(movement_record)
}

/// Active products at or below their reorder point: `(product, available in all warehouses)`.
pub async fn low_stock<C: ConnectionTrait>(
    conn: &C,
    req: &ListRequest,
) -> Result<Page<(ProductRecord, i64)>> {
    let candidates = products::Entity::find()
        .filter(products::Column::ReorderPointMilli.is_not_null())
        .filter(products::Column::Active.eq(true))
        .order_by_asc(products::Column::Sku)
        .all(conn)
        .await?;
    let mut out = Vec::new();
    for chunk in candidates.chunks(500) {
        let ids: Vec<Uuid> = chunk.iter().map(|p| p.id).collect();
        let sums: Vec<(Uuid, i64, i64)> = stock_levels::Entity::find()
            .select_only()
            .column(stock_levels::Column::ProductId)
            .column_as(sum_bigint(stock_levels::Column::OnHandMilli), "on_hand")
            .column_as(sum_bigint(stock_levels::Column::ReservedMilli), "reserved")
            .filter(stock_levels::Column::ProductId.is_in(ids))
            .group_by(stock_levels::Column::ProductId)
            .into_tuple()
            .all(conn)
            .await?;
        for p in chunk {
            let available = sums
                .iter()
                .find(|(id, ..)| *id == p.id)
                .map_or(0, |(_, h, r)| h - r);
            if p.reorder_point_milli.is_some_and(|rp| available <= rp) {
                out.push((crate::products::record(p.clone()), available));
            }
        }
    }
    // Sorted here, byte-wise, as the cursor compares (a database collation may differ).
    out.sort_by(|a, b| a.0.sku.cmp(&b.0.sku));
    page_of_sorted(out, req, |(p, _)| p.sku.clone())
}

/// Sum of a product's ledger in a warehouse: `(on_hand, reserved)` as the movements say.
pub async fn ledger_sums<C: ConnectionTrait>(
    conn: &C,
    product_id: Uuid,
    warehouse_id: Uuid,
) -> Result<(i64, i64)> {
    let row: Option<(Option<i64>, Option<i64>)> = stock_movements::Entity::find()
        .select_only()
        .column_as(sum_bigint(stock_movements::Column::OnHandDeltaMilli), "h")
        .column_as(sum_bigint(stock_movements::Column::ReservedDeltaMilli), "r")
        .filter(stock_movements::Column::ProductId.eq(product_id))
        .filter(stock_movements::Column::WarehouseId.eq(warehouse_id))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(row.map_or((0, 0), |(h, r)| (h.unwrap_or(0), r.unwrap_or(0))))
}
