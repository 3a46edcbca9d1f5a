//! The audit log: every mutation records who changed what, in the mutation's transaction.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::entities::audit_log;
use crate::listing::{CursorValue, ListRequest, Page, SortColumn, SortValue, fetch_page};
use crate::{Actor, Result, now};

/// Writes one audit entry. `before`/`after` are JSON objects of the record's fields;
/// only the fields that differ are kept.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: Uuid,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<()> {
    write(conn, Some(actor), action, entity, entity_id, before, after).await
}

/// Writes an audit entry for a change the system made by itself (a background job):
/// no actor, no request.
pub async fn record_system<C: ConnectionTrait>(
    conn: &C,
    action: &str,
    entity: &str,
    entity_id: Uuid,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<()> {
    write(conn, None, action, entity, entity_id, before, after).await
}

async fn write<C: ConnectionTrait>(
    conn: &C,
    actor: Option<&Actor>,
    action: &str,
    entity: &str,
    entity_id: Uuid,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<()> {
    let changes = diff(before, after);
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        actor_id: Set(actor.map(|a| a.principal.user_id)),
        action: Set(action.to_owned()),
        entity: Set(entity.to_owned()),
        entity_id: Set(entity_id),
        changes: Set(changes.to_string()),
        request_id: Set(actor.and_then(|a| a.request_id.clone())),
        at: Set(now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// `{field: {"before": …, "after": …}}` for every field whose value differs.
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Value {
    let empty = Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut out = Map::new();
    for key in b.keys().chain(a.keys().filter(|k| !b.contains_key(*k))) {
        let (bv, av) = (
            b.get(key).unwrap_or(&Value::Null),
            a.get(key).unwrap_or(&Value::Null),
        );
        if bv != av {
            out.insert(key.clone(), json!({"before": bv, "after": av}));
        }
    }
    Value::Object(out)
}

/// Filters of the audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
}

/// Audit entries, newest first. Admin only; the caller checks the role.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &AuditFilter,
    req: &ListRequest,
) -> Result<Page<audit_log::Model>> {
    let mut q = audit_log::Entity::find();
    if let Some(e) = &filter.entity {
        q = q.filter(audit_log::Column::Entity.eq(e.clone()));
    }
    if let Some(id) = filter.entity_id {
        q = q.filter(audit_log::Column::EntityId.eq(id));
    }
    if let Some(id) = filter.actor_id {
        q = q.filter(audit_log::Column::ActorId.eq(id));
    }
    let cols = [SortColumn {
        field: "at",
        column: audit_log::Column::At,
        kind: SortValue::Timestamp,
    }];
    fetch_page(
        conn,
        q,
        req,
        &cols,
        audit_log::Column::Id,
        |m, _| CursorValue::Timestamp(m.at),
        |m| m.id,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_keeps_changed_fields_only() {
        let b = json!({"name": "A", "city": "杭州", "tags": []});
        let a = json!({"name": "B", "city": "杭州", "tags": ["vip"]});
        assert_eq!(
            diff(Some(&b), Some(&a)),
            json!({"name": {"before": "A", "after": "B"}, "tags": {"before": [], "after": ["vip"]}})
        );
        assert_eq!(
            diff(None, Some(&json!({"name": "A"}))),
            json!({"name": {"before": null, "after": "A"}})
        );
    }
}
