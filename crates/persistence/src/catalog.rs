//! Products and warehouses (every role reads them; managers and admins change them).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use sims_domain::catalog::Product;
use sims_domain::values::normalize_name;
use uuid::Uuid;

use crate::entities::{products, warehouses};
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, contains, fetch_page};
use crate::{Actor, Database, PersistenceError, Result, audit, now};

fn snapshot(m: &products::Model) -> serde_json::Value {
    json!({"sku": m.sku, "name": m.name, "unit": m.unit, "category": m.category, "list_price_e4": m.list_price_e4, "cost_e4": m.cost_e4, "tax_rate_bp": m.tax_rate_bp, "reorder_point_milli": m.reorder_point_milli, "active": m.active})
}

/// A stored product as the domain value its changes are applied to.
pub fn to_domain(m: &products::Model) -> Product {
    Product {
        sku: m.sku.clone(),
        name: m.name.clone(),
        unit: m.unit.clone(),
        category: m.category.clone(),
        list_price_e4: m.list_price_e4,
        cost_e4: m.cost_e4,
        tax_rate_bp: m.tax_rate_bp,
        reorder_point_milli: m.reorder_point_milli,
        active: m.active,
    }
}

fn apply(am: &mut products::ActiveModel, p: &Product) {
    am.sku = Set(p.sku.clone());
    am.name = Set(p.name.clone());
    am.name_norm = Set(normalize_name(&p.name));
    am.unit = Set(p.unit.clone());
    am.category = Set(p.category.clone());
    am.list_price_e4 = Set(p.list_price_e4);
    am.cost_e4 = Set(p.cost_e4);
    am.tax_rate_bp = Set(p.tax_rate_bp);
    am.reorder_point_milli = Set(p.reorder_point_milli);
    am.active = Set(p.active);
}

async fn sku_taken<C: ConnectionTrait>(conn: &C, sku: &str, except: Option<Uuid>) -> Result<bool> {
    let mut q = products::Entity::find()
        .select_only()
        .column(products::Column::Id)
        .filter(products::Column::Sku.eq(sku));
    if let Some(id) = except {
        q = q.filter(products::Column::Id.ne(id));
    }
    Ok(q.into_tuple::<Uuid>().one(conn).await?.is_some())
}

/// Creates a product; a SKU in use is a conflict.
pub async fn create_product(db: &Database, actor: &Actor, p: Product) -> Result<products::Model> {
    actor.principal.require_manager()?;
    let tx = db.begin_write().await?;
    if sku_taken(&tx, &p.sku, None).await? {
        return Err(PersistenceError::Conflict(format!(
            "sku {} is already in use",
            p.sku
        )));
    }
    let t = now();
    let mut am = products::ActiveModel {
        id: Set(Uuid::now_v7()),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    };
    apply(&mut am, &p);
    let m = am.insert(&tx).await?;
    audit::record(
        &tx,
        actor,
        "create",
        "product",
        m.id,
        None,
        Some(&snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// One product.
pub async fn get_product<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<products::Model> {
    products::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

/// Filters of the product list.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub category: Option<String>,
    pub active: Option<bool>,
    pub updated_after: Option<DateTime<Utc>>,
    /// Search in name and SKU.
    pub q: Option<String>,
}

/// Sortable fields of the product list.
pub const SORT_FIELDS: &[&str] = &["created_at", "name", "sku"];

/// A page of products.
pub async fn list_products<C: ConnectionTrait>(
    conn: &C,
    f: &ProductFilter,
    req: &ListRequest,
) -> Result<Page<products::Model>> {
    let mut q = products::Entity::find();
    if let Some(c) = &f.category {
        q = q.filter(products::Column::Category.eq(c.clone()));
    }
    if let Some(a) = f.active {
        q = q.filter(products::Column::Active.eq(a));
    }
    if let Some(t) = f.updated_after {
        q = q.filter(products::Column::UpdatedAt.gt(t));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            Condition::any()
                .add(contains(products::Column::NameNorm, &normalize_name(text)))
                .add(contains(products::Column::Sku, text)),
        );
    }
    let cols = [
        SortColumn {
            field: "created_at",
            column: products::Column::CreatedAt,
            kind: SortValue::Timestamp,
        },
        SortColumn {
            field: "name",
            column: products::Column::Name,
            kind: SortValue::Text,
        },
        SortColumn {
            field: "sku",
            column: products::Column::Sku,
            kind: SortValue::Text,
        },
    ];
    fetch_page(
        conn,
        q,
        req,
        &cols,
        products::Column::Id,
        |m, field| match field {
            "name" => CursorValue::Text(m.name.clone()),
            "sku" => CursorValue::Text(m.sku.clone()),
            _ => CursorValue::Timestamp(m.created_at),
        },
        |m| m.id,
    )
    .await
}

/// Replaces a product's attributes with `next` (validated by the caller from the stored
/// product and the change).
pub async fn update_product(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    change: impl FnOnce(Product) -> std::result::Result<Product, sims_domain::DomainError>,
    if_match: Option<i64>,
) -> Result<products::Model> {
    actor.principal.require_manager()?;
    let tx = db.begin_write().await?;
    let current = products::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(PersistenceError::NotFound)?;
    if if_match.is_some_and(|v| v != current.version) {
        return Err(PersistenceError::VersionMismatch);
    }
    let next = change(to_domain(&current))?;
    if next.sku != current.sku && sku_taken(&tx, &next.sku, Some(id)).await? {
        return Err(PersistenceError::Conflict(format!(
            "sku {} is already in use",
            next.sku
        )));
    }
    let before = snapshot(&current);
    let version = current.version;
    let mut am = current.into_active_model();
    apply(&mut am, &next);
    am.version = Set(version + 1);
    am.updated_at = Set(now());
    let m = am.update(&tx).await?;
    audit::record(
        &tx,
        actor,
        "update",
        "product",
        id,
        Some(&before),
        Some(&snapshot(&m)),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Creates a warehouse; a code in use is a conflict.
pub async fn create_warehouse(
    db: &Database,
    actor: &Actor,
    code: String,
    name: String,
) -> Result<warehouses::Model> {
    actor.principal.require_manager()?;
    let tx = db.begin_write().await?;
    if warehouses::Entity::find()
        .filter(warehouses::Column::Code.eq(code.clone()))
        .one(&tx)
        .await?
        .is_some()
    {
        return Err(PersistenceError::Conflict(format!(
            "warehouse code {code} is already in use"
        )));
    }
    let t = now();
    let m = warehouses::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        name: Set(name),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        actor,
        "create",
        "warehouse",
        m.id,
        None,
        Some(&json!({"code": m.code, "name": m.name})),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// One warehouse.
pub async fn get_warehouse<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<warehouses::Model> {
    warehouses::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(PersistenceError::NotFound)
}

/// A page of warehouses.
pub async fn list_warehouses<C: ConnectionTrait>(
    conn: &C,
    req: &ListRequest,
) -> Result<Page<warehouses::Model>> {
    let cols = [
        SortColumn {
            field: "created_at",
            column: warehouses::Column::CreatedAt,
            kind: SortValue::Timestamp,
        },
        SortColumn {
            field: "code",
            column: warehouses::Column::Code,
            kind: SortValue::Text,
        },
    ];
    fetch_page(
        conn,
        warehouses::Entity::find(),
        req,
        &cols,
        warehouses::Column::Id,
        |m, field| match field {
            "code" => CursorValue::Text(m.code.clone()),
            _ => CursorValue::Timestamp(m.created_at),
        },
        |m| m.id,
    )
    .await
}

/// Of `skus`, the ones already in use.
pub async fn existing_skus<C: ConnectionTrait>(conn: &C, skus: Vec<String>) -> Result<Vec<String>> {
    if skus.is_empty() {
        return Ok(vec![]);
    }
    Ok(products::Entity::find()
        .select_only()
        .column(products::Column::Sku)
        .filter(products::Column::Sku.is_in(skus))
        .into_tuple()
        .all(conn)
        .await?)
}

/// Inserts validated products inside the caller's transaction, with audit entries.
pub async fn insert_products<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    batch: Vec<Product>,
) -> Result<u64> {
    if batch.is_empty() {
        return Ok(0);
    }
    let t = now();
    let n = batch.len() as u64;
    let mut rows = Vec::with_capacity(batch.len());
    let mut audits = Vec::with_capacity(batch.len());
    for p in &batch {
        let id = Uuid::now_v7();
        let mut am = products::ActiveModel {
            id: Set(id),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        };
        apply(&mut am, p);
        rows.push(am);
        audits.push(crate::entities::audit_log::ActiveModel {
            id: Set(Uuid::now_v7()),
            actor_id: Set(Some(actor.principal.user_id)),
            action: Set("import".into()),
            entity: Set("product".into()),
            entity_id: Set(id),
            changes: Set(
                audit::diff(None, Some(&json!({"sku": p.sku, "name": p.name}))).to_string(),
            ),
            request_id: Set(actor.request_id.clone()),
            at: Set(t),
        });
    }
    products::Entity::insert_many(rows).exec(conn).await?;
    crate::entities::audit_log::Entity::insert_many(audits)
        .exec(conn)
        .await?;
    Ok(n)
}
