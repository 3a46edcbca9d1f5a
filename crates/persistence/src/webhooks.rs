//! Webhooks: subscriptions, the outbox (an event row written in the transaction of the
//! change it reports), the fan-out of events into deliveries, and the claims, attempts
//! and replays of the dispatcher. Safe with many instances: a delivery is claimed for a
//! lease before it is sent (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite's one writer).

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;
use serde_json::json;
use sims_domain::Scope;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::webhook::{DeliveryStatus, EventType, retry_wait, subscribes};
use uuid::Uuid;

use crate::audit::Audited;
use crate::entities::{webhook_deliveries, webhook_events, webhooks};
use crate::listing::{ListRequest, Page, SortColumn, fetch_page};
use crate::records::{stored, stored_strings};
use crate::reports::{self, Sql};
use crate::uow::{self, find_in_scope, lock_for_change};
use crate::{Actor, Database, PersistenceError, Result, now};

/// A subscription as sent (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn record(m: webhooks::Model) -> Result<WebhookRecord> {
    Ok(WebhookRecord {
        events: stored_strings("webhooks", "events", &m.events)?,
        id: m.id,
        url: m.url,
        description: m.description,
        active: m.active,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

impl Audited for webhooks::Model {
    const ENTITY: AuditEntity = AuditEntity::Webhook;

    fn audit_id(&self) -> Uuid {
        self.id
    }

    fn snapshot(&self) -> serde_json::Value {
        json!({"url": self.url, "events": self.events, "description": self.description, "active": self.active})
    }
}

/// A new subscription, already checked; `secret` signs its deliveries.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub secret: String,
}

/// A change to a subscription: `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
}

/// One event for one subscription, with its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_latency_ms: Option<i64>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

fn delivery(m: webhook_deliveries::Model) -> Result<DeliveryRecord> {
    let status: DeliveryStatus = stored("webhook_deliveries", "status", &m.status)?;
    Ok(DeliveryRecord {
        event_type: stored("webhook_deliveries", "event_type", &m.event_type)?,
        next_attempt_at: matches!(status, DeliveryStatus::Pending | DeliveryStatus::Failed)
            .then_some(m.next_attempt_at),
        status,
        id: m.id,
        webhook_id: m.webhook_id,
        event_id: m.event_id,
        attempts: m.attempts,
        last_status_code: m.last_status_code,
        last_latency_ms: m.last_latency_ms,
        last_attempt_at: m.last_attempt_at,
        created_at: m.created_at,
    })
}

fn events_json(events: &[String]) -> String {
    serde_json::Value::from(events.to_vec()).to_string()
}

/// Creates a subscription (admins; the caller checks the role).
pub async fn create(db: &Database, actor: &Actor, new: NewWebhook) -> Result<WebhookRecord> {
    let at = now();
    let row = webhooks::ActiveModel {
        id: Set(Uuid::now_v7()),
        url: Set(new.url),
        events: Set(events_json(&new.events)),
        description: Set(new.description),
        secret: Set(new.secret),
        active: Set(true),
        created_by: Set(actor.principal.user_id),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    };
    db.write(async |tx| uow::insert(tx, Some(actor), row.clone()).await)
        .await
        .and_then(record)
}

/// One subscription.
pub async fn get<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<WebhookRecord> {
    find_in_scope::<webhooks::Entity, _>(conn, &Scope::All, id)
        .await
        .and_then(record)
}

/// A page of subscriptions.
pub async fn list<C: ConnectionTrait>(conn: &C, req: &ListRequest) -> Result<Page<WebhookRecord>> {
    let cols: [SortColumn<webhooks::Model, _>; 1] = [SortColumn::at(
        "created_at",
        webhooks::Column::CreatedAt,
        |m| m.created_at,
    )];
    fetch_page(conn, webhooks::Entity::find(), req, &cols)
        .await?
        .try_map(record)
}

/// Changes a subscription; a stale `If-Match` is refused.
pub async fn update(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    patch: WebhookPatch,
    if_match: Option<i64>,
) -> Result<WebhookRecord> {
    db.write(async |tx| {
        let current = lock_for_change::<webhooks::Entity, _>(tx, &Scope::All, id, if_match).await?;
        let p = patch.clone();
        uow::save(tx, Some(actor), AuditAction::Update, current, |am| {
            if let Some(u) = p.url {
                am.url = Set(u);
            }
            if let Some(e) = &p.events {
                am.events = Set(events_json(e));
            }
            if let Some(d) = p.description {
                am.description = Set(d);
            }
            if let Some(a) = p.active {
                am.active = Set(a);
            }
        })
        .await
    })
    .await
    .and_then(record)
}

/// Deletes a subscription with its deliveries.
pub async fn delete(db: &Database, actor: &Actor, id: Uuid, if_match: Option<i64>) -> Result<()> {
    db.write(async |tx| {
        let current = lock_for_change::<webhooks::Entity, _>(tx, &Scope::All, id, if_match).await?;
        uow::remove(tx, actor, current).await
    })
    .await
}

/// The deliveries of subscription `id`, newest first.
pub async fn deliveries<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    status: Option<DeliveryStatus>,
    req: &ListRequest,
) -> Result<Page<DeliveryRecord>> {
    get(conn, id).await?;
    let mut q =
        webhook_deliveries::Entity::find().filter(webhook_deliveries::Column::WebhookId.eq(id));
    if let Some(s) = status {
        q = q.filter(webhook_deliveries::Column::Status.eq(s.as_str()));
    }
    let cols: [SortColumn<webhook_deliveries::Model, _>; 1] = [SortColumn::at(
        "created_at",
        webhook_deliveries::Column::CreatedAt,
        |m| m.created_at,
    )];
    fetch_page(conn, q, req, &cols).await?.try_map(delivery)
}

/// Sends delivery `id` again from its first try, now.
pub async fn replay(db: &Database, actor: &Actor, id: Uuid) -> Result<DeliveryRecord> {
    db.write(async |tx| {
        let d = webhook_deliveries::Entity::find_by_id(id)
            .lock_exclusive()
            .one(tx)
            .await?
            .ok_or(PersistenceError::NotFound)?;
        let mut am: webhook_deliveries::ActiveModel = d.into();
        am.status = Set(DeliveryStatus::Pending.as_str().to_owned());
        am.attempts = Set(0);
        am.next_attempt_at = Set(now());
        am.locked_until = Set(None);
        let m = am.update(tx).await?;
        crate::audit::record(
            tx,
            Some(actor),
            crate::audit::Change::of(AuditEntity::Webhook, m.webhook_id, AuditAction::Replay)
                .after(json!({"delivery_id": m.id, "event_id": m.event_id})),
        )
        .await?;
        Ok(m)
    })
    .await
    .and_then(delivery)
}

/// The outbox row of an event of type `t` about `data` (the resource as an admin reads
/// it), occurring now. Written in the transaction of the change it reports.
pub(crate) fn event_row(
    t: EventType,
    data: &impl Serialize,
) -> Result<webhook_events::ActiveModel> {
    let id = Uuid::now_v7();
    let at = now();
    let mut data =
        serde_json::to_value(data).map_err(|e| PersistenceError::Answer(e.to_string()))?;
    // Kept with phones and emails sealed when encrypted; opened as it is sent.
    crate::crypto::seal_json(&mut data);
    let body = json!({"id": id, "type": t.as_str(), "occurred_at": at, "data": data});
    Ok(webhook_events::ActiveModel {
        id: Set(id),
        event_type: Set(t.as_str().to_owned()),
        occurred_at: Set(at),
        body: Set(body.to_string()),
        fanned_out: Set(false),
    })
}

/// Writes an event of type `t` about `data` into the outbox, in the caller's transaction.
pub(crate) async fn emit<C: ConnectionTrait>(
    conn: &C,
    t: EventType,
    data: &impl Serialize,
) -> Result<()> {
    webhook_events::Entity::insert(event_row(t, data)?)
        .exec(conn)
        .await?;
    Ok(())
}

/// Turns events not yet fanned out into one delivery per active subscription that wants
/// them, a batch at a time; returns how many events it handled.
pub async fn fan_out(db: &Database) -> Result<usize> {
    // A read first: an idle dispatcher takes no write lock.
    let waiting = webhook_events::Entity::find()
        .select_only()
        .column(webhook_events::Column::Id)
        .filter(webhook_events::Column::FannedOut.eq(false))
        .into_tuple::<Uuid>()
        .one(db.conn())
        .await?;
    if waiting.is_none() {
        return Ok(0);
    }
    db.write(async |tx| {
        let mut select = webhook_events::Entity::find()
            .filter(webhook_events::Column::FannedOut.eq(false))
            .order_by_asc(webhook_events::Column::OccurredAt)
            .limit(200);
        QuerySelect::query(&mut select)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        let events = select.all(tx).await?;
        if events.is_empty() {
            return Ok(0);
        }
        let subs: Vec<(Uuid, String)> = webhooks::Entity::find()
            .select_only()
            .column(webhooks::Column::Id)
            .column(webhooks::Column::Events)
            .filter(webhooks::Column::Active.eq(true))
            .into_tuple()
            .all(tx)
            .await?;
        let subs = subs
            .into_iter()
            .map(|(id, events)| Ok((id, stored_strings("webhooks", "events", &events)?)))
            .collect::<Result<Vec<_>>>()?;
        let at = now();
        let mut rows = vec![];
        for e in &events {
            let t: EventType = stored("webhook_events", "event_type", &e.event_type)?;
            for (sub, wanted) in &subs {
                if subscribes(wanted, t) {
                    rows.push(webhook_deliveries::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        webhook_id: Set(*sub),
                        event_id: Set(e.id),
                        event_type: Set(e.event_type.clone()),
                        status: Set(DeliveryStatus::Pending.as_str().to_owned()),
                        attempts: Set(0),
                        last_status_code: Set(None),
                        last_latency_ms: Set(None),
                        last_attempt_at: Set(None),
                        next_attempt_at: Set(at),
                        locked_until: Set(None),
                        event_occurred_at: Set(e.occurred_at),
                        created_at: Set(at),
                    });
                }
            }
        }
        for chunk in rows.chunks(500) {
            webhook_deliveries::Entity::insert_many(chunk.to_vec())
                .exec(tx)
                .await?;
        }
        webhook_events::Entity::update_many()
            .col_expr(webhook_events::Column::FannedOut, Expr::val(true))
            .filter(webhook_events::Column::Id.is_in(events.iter().map(|e| e.id)))
            .exec(tx)
            .await?;
        Ok(events.len())
    })
    .await
}

/// A delivery claimed for sending.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: Uuid,
    /// The claim: the attempt is recorded only while the delivery still carries it (a
    /// replay or another dispatcher after the lease took it over).
    pub claimed_until: DateTime<Utc>,
    pub url: String,
    pub secret: String,
    pub event_id: Uuid,
    pub body: String,
}

/// Claims up to `limit` deliveries that are due, for `lease` (no other dispatcher takes
/// them meanwhile), with what sending them needs.
pub async fn claim_due(db: &Database, lease: Duration, limit: u64) -> Result<Vec<Due>> {
    let waiting = webhook_deliveries::Entity::find()
        .select_only()
        .column(webhook_deliveries::Column::Id)
        .filter(webhook_deliveries::Column::Status.is_in([
            DeliveryStatus::Pending.as_str(),
            DeliveryStatus::Failed.as_str(),
        ]))
        .filter(webhook_deliveries::Column::NextAttemptAt.lte(now()))
        .into_tuple::<Uuid>()
        .one(db.conn())
        .await?;
    if waiting.is_none() {
        return Ok(vec![]);
    }
    db.write(async |tx| {
        let at = now();
        let claimed_until = at + lease;
        let mut claim = Sql::new(tx.get_database_backend());
        claim
            .push("UPDATE webhook_deliveries SET locked_until = ")
            .bind(claimed_until)
            .push(" WHERE id IN (SELECT id FROM webhook_deliveries WHERE status IN ('pending', 'failed') \
                   AND webhook_id IN (SELECT id FROM webhooks WHERE active) AND next_attempt_at <= ")
            .bind(at)
            .push(" AND (locked_until IS NULL OR locked_until < ")
            .bind(at)
            .push(") ORDER BY next_attempt_at LIMIT ")
            .push(&limit.to_string())
            .either(" FOR UPDATE SKIP LOCKED", "")
            .push(") RETURNING id");
        let ids = claim
            .all(tx)
            .await?
            .iter()
            .map(|row| reports::get::<Uuid>(row, "id"))
            .collect::<Result<Vec<_>>>()?;
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut details = Sql::new(tx.get_database_backend());
        details
            .push("SELECT d.id, d.event_id, w.url, w.secret, e.body FROM webhook_deliveries d \
                   JOIN webhooks w ON w.id = d.webhook_id JOIN webhook_events e ON e.id = d.event_id \
                   WHERE d.id IN ")
            .list(&ids);
        details
            .all(tx)
            .await?
            .iter()
            .map(|row| {
                Ok(Due {
                    id: reports::get(row, "id")?,
                    claimed_until,
                    event_id: reports::get(row, "event_id")?,
                    url: reports::get(row, "url")?,
                    secret: reports::get(row, "secret")?,
                    body: crate::records::opened_json(
                        "webhook_events",
                        "body",
                        &reports::get::<String>(row, "body")?,
                    )?,
                })
            })
            .collect()
    })
    .await
}

/// How one try of a delivery went.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    /// The receiver's status code; `None` when no answer came (refused, timed out, a
    /// blocked address).
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    /// A 2xx answer in time.
    pub delivered: bool,
}

/// Records a try of the delivery claimed as `due` and releases the claim: delivered,
/// failed with the next try after the back-off (`retry_base_secs`), or dead after the
/// last. `None` when the claim is no longer this one's (the delivery was replayed, or its
/// lease ran out and another dispatcher took it): that try is not counted.
pub async fn record_attempt(
    db: &Database,
    due: &Due,
    attempt: Attempt,
    retry_base_secs: u64,
) -> Result<Option<DeliveryStatus>> {
    db.write(async |tx| {
        let Some(d) = webhook_deliveries::Entity::find_by_id(due.id)
            .filter(webhook_deliveries::Column::LockedUntil.eq(due.claimed_until))
            .lock_exclusive()
            .one(tx)
            .await?
        else {
            return Ok(None);
        };
        let attempts = d.attempts + 1;
        let at = now();
        let (status, next) = if attempt.delivered {
            (DeliveryStatus::Delivered, d.next_attempt_at)
        } else {
            match retry_wait(attempts, retry_base_secs) {
                Some(wait) => (DeliveryStatus::Failed, at + wait),
                None => (DeliveryStatus::Dead, d.next_attempt_at),
            }
        };
        let mut am: webhook_deliveries::ActiveModel = d.into();
        am.status = Set(status.as_str().to_owned());
        am.attempts = Set(attempts);
        am.last_status_code = Set(attempt.status_code);
        am.last_latency_ms = Set(Some(attempt.latency_ms));
        am.last_attempt_at = Set(Some(at));
        am.next_attempt_at = Set(next);
        am.locked_until = Set(None);
        am.update(tx).await?;
        Ok(Some(status))
    })
    .await
}

/// When the oldest event not yet delivered everywhere occurred: one not fanned out, or
/// one with a delivery still to make (`None`: nothing waits).
pub async fn oldest_undelivered<C: ConnectionTrait>(conn: &C) -> Result<Option<DateTime<Utc>>> {
    let event = webhook_events::Entity::find()
        .select_only()
        .column(webhook_events::Column::OccurredAt)
        .filter(webhook_events::Column::FannedOut.eq(false))
        .order_by_asc(webhook_events::Column::OccurredAt)
        .into_tuple::<DateTime<Utc>>()
        .one(conn)
        .await?;
    let delivery = webhook_deliveries::Entity::find()
        .select_only()
        .column(webhook_deliveries::Column::EventOccurredAt)
        .filter(webhook_deliveries::Column::Status.is_in([
            DeliveryStatus::Pending.as_str(),
            DeliveryStatus::Failed.as_str(),
        ]))
        // A paused subscription's deliveries wait for it, not for the dispatcher.
        .filter(
            webhook_deliveries::Column::WebhookId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(webhooks::Column::Id)
                    .from(webhooks::Entity)
                    .and_where(webhooks::Column::Active.eq(true))
                    .to_owned(),
            ),
        )
        .order_by_asc(webhook_deliveries::Column::EventOccurredAt)
        .into_tuple::<DateTime<Utc>>()
        .one(conn)
        .await?;
    Ok(match (event, delivery) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// Deletes the events older than `before` that nothing waits to deliver, with their
/// delivery log; returns how many.
pub async fn purge<C: ConnectionTrait>(conn: &C, before: DateTime<Utc>) -> Result<u64> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("DELETE FROM webhook_events WHERE fanned_out AND occurred_at < ")
        .bind(before)
        .push(
            " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id \
             AND d.status IN ('pending', 'failed'))",
        );
    Ok(conn.execute_raw(sql.statement()).await?.rows_affected())
}
