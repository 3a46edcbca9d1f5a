//! The stock ledger: every change is a movement, and `stock_levels` moves with it in
//! the same transaction through a guarded update, so that available and reserved stock
//! never go below zero under any concurrency (a CHECK constraint backs the guard).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::catalog::Level;
use uuid::Uuid;

use crate::entities::{products, stock_levels, stock_movements, warehouses};
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, fetch_page};
use crate::{Actor, Database, PersistenceError, Result, audit, now};

/// What kind of change a movement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementKind {
    Receipt,
    Adjustment,
    Reserve,
    Release,
    Shipment,
    Return,
}

impl MovementKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::Adjustment => "adjustment",
            Self::Reserve => "reserve",
            Self::Release => "release",
            Self::Shipment => "shipment",
            Self::Return => "return",
        }
    }
}

/// One movement to record.
#[derive(Debug, Clone)]
pub struct Movement {
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
/// caller's transaction. `Ok(false)` when the level would go below zero (nothing
/// written).
pub async fn apply_movement<C: ConnectionTrait>(conn: &C, by: Uuid, m: &Movement) -> Result<bool> {
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
        let exists = stock_levels::Entity::find_by_id((m.product_id, m.warehouse_id))
            .one(conn)
            .await?
            .is_some();
        if exists {
            return Ok(false);
        }
        let Some(level) = Level::default().apply(dh, dr) else {
            return Ok(false);
        };
        stock_levels::ActiveModel {
            product_id: Set(m.product_id),
            warehouse_id: Set(m.warehouse_id),
            on_hand_milli: Set(level.on_hand),
            reserved_milli: Set(level.reserved),
            updated_at: Set(t),
        }
        .insert(conn)
        .await?;
    }
    stock_movements::ActiveModel {
        id: Set(Uuid::now_v7()),
        product_id: Set(m.product_id),
        warehouse_id: Set(m.warehouse_id),
        kind: Set(m.kind.as_str().to_owned()),
        on_hand_delta_milli: Set(dh),
        reserved_delta_milli: Set(dr),
        reference: Set(m.reference.clone()),
        reason: Set(m.reason.clone()),
        order_id: Set(m.order_id),
        created_by: Set(by),
        at: Set(t),
    }
    .insert(conn)
    .await?;
    Ok(true)
}

async fn check_refs<C: ConnectionTrait>(
    conn: &C,
    warehouse_id: Uuid,
    products_with_fields: &[(Uuid, String)],
) -> Result<()> {
    if warehouses::Entity::find_by_id(warehouse_id)
        .one(conn)
        .await?
        .is_none()
    {
        return Err(PersistenceError::Unprocessable {
            field: "warehouse_id".into(),
            message: "no such warehouse".into(),
        });
    }
    for (id, field) in products_with_fields {
        if products::Entity::find_by_id(*id).one(conn).await?.is_none() {
            return Err(PersistenceError::Unprocessable {
                field: field.clone(),
                message: "no such product".into(),
            });
        }
    }
    Ok(())
}

/// Receives stock into a warehouse: one `receipt` movement per line, all or nothing.
pub async fn receive(
    db: &Database,
    actor: &Actor,
    warehouse_id: Uuid,
    reference: Option<String>,
    lines: Vec<(Uuid, i64)>,
) -> Result<Vec<stock_movements::Model>> {
    inbound(
        db,
        actor,
        MovementKind::Receipt,
        warehouse_id,
        reference,
        None,
        lines,
    )
    .await
}

/// Takes back goods a customer returned: one `return` movement per line (optionally
/// linked to the order they were shipped on), all or nothing.
pub async fn take_return(
    db: &Database,
    actor: &Actor,
    warehouse_id: Uuid,
    reference: Option<String>,
    order_id: Option<Uuid>,
    lines: Vec<(Uuid, i64)>,
) -> Result<Vec<stock_movements::Model>> {
    inbound(
        db,
        actor,
        MovementKind::Return,
        warehouse_id,
        reference,
        order_id,
        lines,
    )
    .await
}

async fn inbound(
    db: &Database,
    actor: &Actor,
    kind: MovementKind,
    warehouse_id: Uuid,
    reference: Option<String>,
    order_id: Option<Uuid>,
    lines: Vec<(Uuid, i64)>,
) -> Result<Vec<stock_movements::Model>> {
    actor.principal.require_manager()?;
    let tx = db.begin_write().await?;
    let fields: Vec<(Uuid, String)> = lines
        .iter()
        .enumerate()
        .map(|(i, (p, _))| (*p, format!("lines[{i}].product_id")))
        .collect();
    check_refs(&tx, warehouse_id, &fields).await?;
    let batch = Uuid::now_v7();
    let mut written = Vec::with_capacity(lines.len());
    for (product_id, q) in &lines {
        let m = Movement {
            product_id: *product_id,
            warehouse_id,
            kind,
            on_hand_delta: *q,
            reserved_delta: 0,
            reference: reference.clone(),
            reason: None,
            order_id,
        };
        apply_movement(&tx, actor.principal.user_id, &m).await?;
        let last = stock_movements::Entity::find()
            .filter(stock_movements::Column::ProductId.eq(*product_id))
            .filter(stock_movements::Column::WarehouseId.eq(warehouse_id))
            .order_by_desc(stock_movements::Column::Id)
            .one(&tx)
            .await?;
        written.extend(last);
    }
    let lines_json: Vec<serde_json::Value> = lines
        .iter()
        .map(|(p, q)| json!({"product_id": p, "quantity_milli": q}))
        .collect();
    audit::record(&tx, actor, kind.as_str(), "stock", batch, None, Some(&json!({"warehouse_id": warehouse_id, "reference": reference, "order_id": order_id, "lines": lines_json}))).await?;
    tx.commit().await?;
    Ok(written)
}

/// Adjusts on-hand stock by a signed amount with a reason; refusing to take away stock
/// that is not available.
pub async fn adjust(
    db: &Database,
    actor: &Actor,
    warehouse_id: Uuid,
    product_id: Uuid,
    delta: i64,
    reason: String,
) -> Result<stock_levels::Model> {
    actor.principal.require_manager()?;
    let tx = db.begin_write().await?;
    check_refs(&tx, warehouse_id, &[(product_id, "product_id".into())]).await?;
    let m = Movement {
        product_id,
        warehouse_id,
        kind: MovementKind::Adjustment,
        on_hand_delta: delta,
        reserved_delta: 0,
        reference: None,
        reason: Some(reason.clone()),
        order_id: None,
    };
    if !apply_movement(&tx, actor.principal.user_id, &m).await? {
        return Err(sims_domain::DomainError::refused(
            "insufficient_stock",
            "the adjustment would take away more than is available",
        )
        .into());
    }
    audit::record(
        &tx,
        actor,
        "adjustment",
        "stock",
        product_id,
        None,
        Some(&json!({"warehouse_id": warehouse_id, "quantity_milli": delta, "reason": reason})),
    )
    .await?;
    let level = stock_levels::Entity::find_by_id((product_id, warehouse_id))
        .one(&tx)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    tx.commit().await?;
    Ok(level)
}

/// Stock levels, optionally for one product and/or warehouse, by product then warehouse.
pub async fn levels<C: ConnectionTrait>(
    conn: &C,
    product_id: Option<Uuid>,
    warehouse_id: Option<Uuid>,
    page: u32,
    per_page: u32,
) -> Result<(Vec<stock_levels::Model>, bool)> {
    let mut q = stock_levels::Entity::find();
    if let Some(p) = product_id {
        q = q.filter(stock_levels::Column::ProductId.eq(p));
    }
    if let Some(w) = warehouse_id {
        q = q.filter(stock_levels::Column::WarehouseId.eq(w));
    }
    let mut rows = q
        .order_by_asc(stock_levels::Column::ProductId)
        .order_by_asc(stock_levels::Column::WarehouseId)
        .offset(u64::from(page.saturating_sub(1)) * u64::from(per_page))
        .limit(u64::from(per_page) + 1)
        .all(conn)
        .await?;
    let more = rows.len() > per_page as usize;
    rows.truncate(per_page as usize);
    Ok((rows, more))
}

/// Filters of the movement list.
#[derive(Debug, Clone, Default)]
pub struct MovementFilter {
    pub product_id: Option<Uuid>,
    pub warehouse_id: Option<Uuid>,
    pub kind: Option<String>,
    pub order_id: Option<Uuid>,
    pub after_time: Option<DateTime<Utc>>,
}

/// A page of the ledger, newest first.
pub async fn movements<C: ConnectionTrait>(
    conn: &C,
    f: &MovementFilter,
    req: &ListRequest,
) -> Result<Page<stock_movements::Model>> {
    let mut q = stock_movements::Entity::find();
    if let Some(p) = f.product_id {
        q = q.filter(stock_movements::Column::ProductId.eq(p));
    }
    if let Some(w) = f.warehouse_id {
        q = q.filter(stock_movements::Column::WarehouseId.eq(w));
    }
    if let Some(k) = &f.kind {
        q = q.filter(stock_movements::Column::Kind.eq(k.clone()));
    }
    if let Some(o) = f.order_id {
        q = q.filter(stock_movements::Column::OrderId.eq(o));
    }
    if let Some(t) = f.after_time {
        q = q.filter(stock_movements::Column::At.gt(t));
    }
    let cols = [SortColumn {
        field: "at",
        column: stock_movements::Column::At,
        kind: SortValue::Timestamp,
    }];
    fetch_page(
        conn,
        q,
        req,
        &cols,
        stock_movements::Column::Id,
        |m, _| CursorValue::Timestamp(m.at),
        |m| m.id,
    )
    .await
}

/// Active products at or below their reorder point: `(product, available in all warehouses)`.
pub async fn low_stock<C: ConnectionTrait>(conn: &C) -> Result<Vec<(products::Model, i64)>> {
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
                out.push((p.clone(), available));
            }
        }
    }
    Ok(out)
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
