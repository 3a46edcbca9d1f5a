//! Products (every role reads them; managers and admins change them, the caller checks).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Select, Set,
};
use serde_json::json;
use sims_domain::Scope;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::catalog::{Percent, Price, Product, ProductPatch, ProductRecord, Quantity};
use sims_domain::values::normalize_name;
use uuid::Uuid;

use crate::audit::Audited;
use crate::entities::products;
use crate::listing::{ListRequest, Page, SortColumn, contains, fetch_page};
use crate::uow::{self, find_in_scope, lock_for_change};
use crate::{Actor, Database, PersistenceError, Result, now};

/// A stored product, as sent (with its cost).
pub(crate) fn record(m: products::Model) -> ProductRecord {
    ProductRecord {
        id: m.id,
        sku: m.sku,
        name: m.name,
        unit: m.unit,
        category: m.category,
        list_price: Price(m.list_price_e4),
        cost: m.cost_e4.map(Price),
        tax_rate: Percent(m.tax_rate_bp),
        reorder_point: m.reorder_point_milli.map(Quantity),
        active: m.active,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

impl Audited for products::Model {
    const ENTITY: AuditEntity = AuditEntity::Product;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"sku": self.sku, "name": self.name, "unit": self.unit, "category": self.category, "list_price_e4": self.list_price_e4, "cost_e4": self.cost_e4, "tax_rate_bp": self.tax_rate_bp, "reorder_point_milli": self.reorder_point_milli, "active": self.active})
    }
}

fn to_domain(m: &products::Model) -> Product {
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

/// A new product's row.
pub(crate) fn new_row(p: &Product, at: DateTime<Utc>) -> products::ActiveModel {
    let mut am = products::ActiveModel {
        id: Set(Uuid::now_v7()),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    };
    apply(&mut am, p);
    am
}

fn sku_in_use(sku: &str) -> PersistenceError {
    PersistenceError::Taken {
        field: "sku",
        message: format!("sku {sku} is already in use"),
    }
}

async fn refuse_taken_sku<C: ConnectionTrait>(
    conn: &C,
    sku: &str,
    except: Option<Uuid>,
) -> Result<()> {
    let mut q = products::Entity::find()
        .select_only()
        .column(products::Column::Id)
        .filter(products::Column::Sku.eq(sku));
    if let Some(id) = except {
        q = q.filter(products::Column::Id.ne(id));
    }
    match q.into_tuple::<Uuid>().one(conn).await? {
        Some(_) => Err(sku_in_use(sku)),
        None => Ok(()),
    }
}

/// Creates a product; a SKU in use is a conflict naming `sku`.
pub async fn create(db: &Database, actor: &Actor, p: Product) -> Result<ProductRecord> {
    db.write(async |tx| {
        refuse_taken_sku(tx, &p.sku, None).await?;
        uow::insert(tx, Some(actor), new_row(&p, now())).await
    })
    .await
    .map(record)
}

/// One product.
pub async fn get<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<ProductRecord> {
    find_in_scope::<products::Entity, _>(conn, &Scope::All, id)
        .await
        .map(record)
}

/// Of `ids`, the active products, by id.
pub(crate) async fn active<C: ConnectionTrait>(
    conn: &C,
    ids: Vec<Uuid>,
) -> Result<Vec<products::Model>> {
    Ok(active_of(ids).all(conn).await?)
}

/// The select of [`active`], for a caller that reads more with it.
pub(crate) fn active_of(ids: Vec<Uuid>) -> Select<products::Entity> {
    products::Entity::find()
        .filter(products::Column::Id.is_in(ids))
        .filter(products::Column::Active.eq(true))
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
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    f: &ProductFilter,
    req: &ListRequest,
) -> Result<Page<ProductRecord>> {
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
    let cols: [SortColumn<products::Model, _>; 3] = [
        SortColumn::at("created_at", products::Column::CreatedAt, |m| m.created_at),
        SortColumn::text("name", products::Column::Name, |m| m.name.clone()),
        SortColumn::text("sku", products::Column::Sku, |m| m.sku.clone()),
    ];
    Ok(fetch_page(conn, q, req, &cols).await?.map(record))
}

/// Applies `patch` to a product; a SKU another product has is a conflict naming `sku`.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: ProductPatch,
    if_match: Option<i64>,
) -> Result<ProductRecord> {
    db.write(async |tx| {
        let current = lock_for_change::<products::Entity, _>(tx, &Scope::All, id, if_match).await?;
        let next = to_domain(&current).apply(patch.clone())?;
        if next.sku != current.sku {
            refuse_taken_sku(tx, &next.sku, Some(id)).await?;
        }
        uow::save(tx, Some(actor), AuditAction::Update, current, |am| {
            apply(am, &next)
        })
        .await
    })
    .await
    .map(record)
}

/// Of `skus`, the ones already in use.
pub(crate) async fn existing_skus<C: ConnectionTrait>(
    conn: &C,
    skus: Vec<String>,
) -> Result<Vec<String>> {
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
