//! Warehouses (every role reads them; managers and admins add them, the caller checks).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use sims_domain::Scope;
use sims_domain::audit::AuditEntity;
use sims_domain::catalog::{Warehouse, WarehouseRecord};
use uuid::Uuid;

use crate::audit::Audited;
use crate::entities::warehouses;
use crate::listing::{ListRequest, Page, SortColumn, fetch_page};
use crate::uow::{self, find_in_scope};
use crate::{Actor, Database, PersistenceError, Result, now};

/// A stored warehouse, as sent.
fn record(m: warehouses::Model) -> WarehouseRecord {
    WarehouseRecord {
        id: m.id,
        code: m.code,
        name: m.name,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

impl Audited for warehouses::Model {
    const ENTITY: AuditEntity = AuditEntity::Warehouse;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"code": self.code, "name": self.name})
    }
}

/// Sortable fields of the warehouse list.
pub const SORT_FIELDS: &[&str] = &["created_at", "code"];

/// Creates a warehouse; a code in use is a conflict naming `code`.
pub async fn create(db: &Database, actor: &Actor, w: Warehouse) -> Result<WarehouseRecord> {
    db.write(async |tx| {
        if warehouses::Entity::find()
            .filter(warehouses::Column::Code.eq(w.code.clone()))
            .one(tx)
            .await?
            .is_some()
        {
            return Err(PersistenceError::Taken {
                field: "code",
                message: format!("warehouse code {} is already in use", w.code),
            });
        }
        let t = now();
        let row = warehouses::ActiveModel {
            id: Set(Uuid::now_v7()),
            code: Set(w.code.clone()),
            name: Set(w.name.clone()),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
        };
        uow::insert(tx, Some(actor), row).await
    })
    .await
    .map(record)
}

/// Whether warehouse `id` exists; otherwise a `422` naming `warehouse_id`.
pub(crate) async fn check_exists<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<()> {
    match warehouses::Entity::find_by_id(id).one(conn).await? {
        Some(_) => Ok(()),
        None => Err(PersistenceError::unusable(
            "warehouse_id",
            "no such warehouse",
        )),
    }
}

/// One warehouse.
pub async fn get<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<WarehouseRecord> {
    find_in_scope::<warehouses::Entity, _>(conn, &Scope::All, id)
        .await
        .map(record)
}

/// A page of warehouses.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    req: &ListRequest,
) -> Result<Page<WarehouseRecord>> {
    let cols: [SortColumn<warehouses::Model, _>; 2] = [
        SortColumn::at("created_at", warehouses::Column::CreatedAt, |m| {
            m.created_at
        }),
        SortColumn::text("code", warehouses::Column::Code, |m| m.code.clone()),
    ];
    Ok(fetch_page(conn, warehouses::Entity::find(), req, &cols)
        .await?
        .map(record))
}
