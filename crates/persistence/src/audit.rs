//! The audit log: every mutation records who changed what, in the mutation's transaction.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Map, Value, json};
use sims_domain::audit::{AuditAction, AuditEntity};
use uuid::Uuid;

use crate::entities::audit_log;
use crate::listing::{ListRequest, Page, SortColumn, fetch_page};
use crate::records::stored;
use crate::{Actor, PersistenceError, Result, now};

/// A stored record the audit log can describe: its kind, its id and the fields an entry
/// compares.
pub(crate) trait Audited {
    const ENTITY: AuditEntity;
    fn audit_id(&self) -> Uuid;
    fn snapshot(&self) -> Value;
}

/// One change to record: what was done to which record, and its fields before and after.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    entity: AuditEntity,
    entity_id: Uuid,
    action: AuditAction,
    before: Option<Value>,
    after: Option<Value>,
}

impl Change {
    /// `action` on the record `entity_id` of kind `entity`, with no fields yet.
    pub(crate) fn of(entity: AuditEntity, entity_id: Uuid, action: AuditAction) -> Self {
        Self {
            entity,
            entity_id,
            action,
            before: None,
            after: None,
        }
    }

    /// A new record.
    pub(crate) fn created(r: &impl Audited) -> Self {
        Self::of(Self::entity_of(r), r.audit_id(), AuditAction::Create).after(r.snapshot())
    }

    /// A record changed from `before` (its snapshot) to `after`.
    pub(crate) fn updated<R: Audited>(before: Value, after: &R) -> Self {
        Self::of(R::ENTITY, after.audit_id(), AuditAction::Update)
            .before(before)
            .after(after.snapshot())
    }

    /// A record deleted.
    pub(crate) fn deleted(r: &impl Audited) -> Self {
        Self::of(Self::entity_of(r), r.audit_id(), AuditAction::Delete).before(r.snapshot())
    }

    /// The same change recorded as another action (`confirm`, `claim`, …).
    pub(crate) fn recorded_as(mut self, action: AuditAction) -> Self {
        self.action = action;
        self
    }

    /// With the fields as they were.
    pub(crate) fn before(mut self, v: Value) -> Self {
        self.before = Some(v);
        self
    }

    /// With the fields as they are now.
    pub(crate) fn after(mut self, v: Value) -> Self {
        self.after = Some(v);
        self
    }

    /// With one more field in the fields as they are now (a password "changed").
    pub(crate) fn noting(mut self, field: &str, value: Value) -> Self {
        let mut after = self.after.take().unwrap_or_else(|| json!({}));
        if let Some(o) = after.as_object_mut() {
            o.insert(field.to_owned(), value);
        }
        self.after = Some(after);
        self
    }

    fn entity_of<R: Audited>(_: &R) -> AuditEntity {
        R::ENTITY
    }

    /// The row for this change by `actor` (none: the system itself) at `at`.
    pub(crate) fn row(self, actor: Option<&Actor>, at: DateTime<Utc>) -> audit_log::ActiveModel {
        audit_log::ActiveModel {
            id: Set(Uuid::now_v7()),
            actor_id: Set(actor.map(|a| a.principal.user_id)),
            action: Set(self.action.as_str().to_owned()),
            entity: Set(self.entity.as_str().to_owned()),
            entity_id: Set(self.entity_id),
            changes: Set(diff(self.before.as_ref(), self.after.as_ref()).to_string()),
            request_id: Set(actor.and_then(|a| a.request_id.clone())),
            at: Set(at),
        }
    }
}

/// Writes one audit entry, inside the caller's transaction. `actor` is `None` for a
/// change the system made by itself (a background job).
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: Option<&Actor>,
    change: Change,
) -> Result<()> {
    change.row(actor, now()).insert(conn).await?;
    Ok(())
}

/// Writes many audit entries in one statement.
pub(crate) async fn record_all<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<audit_log::ActiveModel>,
) -> Result<()> {
    for chunk in rows.chunks(1000) {
        audit_log::Entity::insert_many(chunk.to_vec())
            .exec(conn)
            .await?;
    }
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

/// One audited change as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub action: AuditAction,
    pub entity: AuditEntity,
    pub entity_id: Uuid,
    /// `{field: {"before": …, "after": …}}`.
    pub changes: Value,
    pub request_id: Option<String>,
    pub at: DateTime<Utc>,
}

impl TryFrom<audit_log::Model> for AuditRecord {
    type Error = PersistenceError;

    fn try_from(m: audit_log::Model) -> Result<Self> {
        Ok(Self {
            action: stored("audit_log", "action", &m.action)?,
            entity: stored("audit_log", "entity", &m.entity)?,
            // Entries sealed by `sims encrypt-existing` read back opened.
            changes: serde_json::from_str(&crate::records::opened_json(
                "audit_log",
                "changes",
                &m.changes,
            )?)
            .map_err(|_| PersistenceError::Corrupt {
                table: "audit_log",
                column: "changes",
                value: m.changes.clone(),
            })?,
            id: m.id,
            actor_id: m.actor_id,
            entity_id: m.entity_id,
            request_id: m.request_id,
            at: m.at,
        })
    }
}

/// Filters of the audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<AuditEntity>,
    pub entity_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
}

/// Audit entries, newest first. Admin only; the caller checks the role.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &AuditFilter,
    req: &ListRequest,
) -> Result<Page<AuditRecord>> {
    let mut q = audit_log::Entity::find();
    if let Some(e) = &filter.entity {
        q = q.filter(audit_log::Column::Entity.eq(e.as_str()));
    }
    if let Some(id) = filter.entity_id {
        q = q.filter(audit_log::Column::EntityId.eq(id));
    }
    if let Some(id) = filter.actor_id {
        q = q.filter(audit_log::Column::ActorId.eq(id));
    }
    let cols: [SortColumn<audit_log::Model, _>; 1] =
        [SortColumn::at("at", audit_log::Column::At, |m| m.at)];
    fetch_page(conn, q, req, &cols)
        .await?
        .try_map(AuditRecord::try_from)
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
