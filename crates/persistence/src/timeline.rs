//! A customer's timeline: follow-ups, ownership changes, opportunity stage moves and orders merged, newest first, paged
//! by a keyset on `(at, id)` across every source.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sims_domain::Scope;
use uuid::Uuid;

use crate::entities::{
    customer_events, follow_ups, opportunities, opportunity_stage_changes, orders,
};
use crate::pool::OwnershipEvent;
use crate::uow::Scoped;
use crate::{PersistenceError, Result, customers as customer_repo};
use sims_domain::follow_up::FollowUpRecord;
use sims_domain::order::OrderRecord;
use sims_domain::pipeline::StageMove;

/// One entry of a timeline.
#[derive(Debug, Clone)]
pub enum TimelineItem {
    FollowUp(FollowUpRecord),
    OwnerChanged(OwnershipEvent),
    StageChanged(StageMove),
    Order(OrderRecord),
}

impl TimelineItem {
    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            TimelineItem::FollowUp(f) => f.occurred_at,
            TimelineItem::OwnerChanged(e) => e.at,
            TimelineItem::StageChanged(c) => c.at,
            TimelineItem::Order(o) => o.created_at,
        }
    }

    /// Its id.
    pub fn id(&self) -> Uuid {
        match self {
            TimelineItem::FollowUp(f) => f.id,
            TimelineItem::OwnerChanged(e) => e.id,
            TimelineItem::StageChanged(c) => c.id,
            TimelineItem::Order(o) => o.id,
        }
    }
}

/// A page of a timeline.
#[derive(Debug, Clone)]
pub struct TimelinePage {
    pub items: Vec<TimelineItem>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

fn bad_cursor() -> PersistenceError {
    PersistenceError::Unprocessable {
        field: "after".into(),
        message: "the cursor is not valid for this timeline".into(),
    }
}

fn encode(at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(
        serde_json::json!([
            at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            id.to_string()
        ])
        .to_string(),
    )
}

fn decode(cursor: &str) -> Result<(DateTime<Utc>, Uuid)> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| bad_cursor())?;
    let v: (String, String) = serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
    let at = DateTime::parse_from_rfc3339(&v.0)
        .map_err(|_| bad_cursor())?
        .with_timezone(&Utc);
    let id = Uuid::parse_str(&v.1).map_err(|_| bad_cursor())?;
    Ok((at, id))
}

/// The newest `limit` rows of `q` by `(at, id)` that come after the cursor `after`.
async fn newest<E: EntityTrait, C: ConnectionTrait, K: ColumnTrait>(
    conn: &C,
    q: sea_orm::Select<E>,
    (at, id): (K, K),
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<E::Model>> {
    let q = match after {
        Some((t, i)) => q.filter(
            Expr::tuple([Expr::col(at), Expr::col(id)])
                .lt(Expr::tuple([Expr::val(t), Expr::val(i)])),
        ),
        None => q,
    };
    Ok(q.order_by_desc(at)
        .order_by_desc(id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// The newest `per_page` entries of a visible customer's timeline after `after`.
pub async fn customer_timeline<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    customer_id: Uuid,
    per_page: u32,
    after: Option<&str>,
) -> Result<TimelinePage> {
    customer_repo::get(conn, scope, customer_id).await?;
    let after = after.map(decode).transpose()?;
    let limit = u64::from(per_page) + 1;

    let follow = newest(
        conn,
        follow_ups::Entity::find().filter(follow_ups::Column::CustomerId.eq(customer_id)),
        (follow_ups::Column::OccurredAt, follow_ups::Column::Id),
        after,
        limit,
    )
    .await?;
    let events = newest(
        conn,
        customer_events::Entity::find().filter(customer_events::Column::CustomerId.eq(customer_id)),
        (customer_events::Column::At, customer_events::Column::Id),
        after,
        limit,
    )
    .await?;
    // Stage moves and orders follow their own scope (their owner), not the customer's.
    let stages = newest(
        conn,
        opportunity_stage_changes::Entity::find()
            .filter(opportunity_stage_changes::Column::CustomerId.eq(customer_id))
            .filter(
                opportunity_stage_changes::Column::OpportunityId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(opportunities::Column::Id)
                        .from(opportunities::Entity)
                        .cond_where(opportunities::Entity::in_scope(scope))
                        .take(),
                ),
            ),
        (
            opportunity_stage_changes::Column::At,
            opportunity_stage_changes::Column::Id,
        ),
        after,
        limit,
    )
    .await?;
    let placed = newest(
        conn,
        orders::Entity::find()
            .filter(orders::Column::CustomerId.eq(customer_id))
            .filter(orders::Entity::in_scope(scope)),
        (orders::Column::CreatedAt, orders::Column::Id),
        after,
        limit,
    )
    .await?;

    let mut items: Vec<TimelineItem> = Vec::with_capacity(limit as usize * 4);
    for f in follow {
        items.push(TimelineItem::FollowUp(crate::follow_ups::record(f)?));
    }
    for e in events {
        items.push(TimelineItem::OwnerChanged(e.try_into()?));
    }
    items.extend(
        stages
            .into_iter()
            .map(|s| TimelineItem::StageChanged(crate::opportunities::stage_move(s))),
    );
    for o in placed {
        items.push(TimelineItem::Order(crate::orders::record(o, vec![])?));
    }
    items.sort_by_key(|i| std::cmp::Reverse((i.at(), i.id())));
    let has_more = items.len() > per_page as usize;
    items.truncate(per_page as usize);
    let next_cursor = if has_more {
        items.last().map(|i| encode(i.at(), i.id()))
    } else {
        None
    };
    Ok(TimelinePage {
        items,
        has_more,
        next_cursor,
    })
}
