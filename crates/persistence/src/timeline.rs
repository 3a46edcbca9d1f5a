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

use crate::entities::{customer_events, follow_ups, opportunity_stage_changes, orders};
use crate::{PersistenceError, Result, customers as customer_repo};

/// One entry of a timeline.
#[derive(Debug, Clone)]
pub enum TimelineItem {
    FollowUp(follow_ups::Model),
    OwnerChanged(customer_events::Model),
    StageChanged(opportunity_stage_changes::Model),
    Order(orders::Model),
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

    let mut fq = follow_ups::Entity::find().filter(follow_ups::Column::CustomerId.eq(customer_id));
    if let Some((at, id)) = after {
        fq = fq.filter(
            Expr::tuple([
                Expr::col(follow_ups::Column::OccurredAt),
                Expr::col(follow_ups::Column::Id),
            ])
            .lt(Expr::tuple([Expr::val(at), Expr::val(id)])),
        );
    }
    let follow = fq
        .order_by_desc(follow_ups::Column::OccurredAt)
        .order_by_desc(follow_ups::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;

    let mut eq =
        customer_events::Entity::find().filter(customer_events::Column::CustomerId.eq(customer_id));
    if let Some((at, id)) = after {
        eq = eq.filter(
            Expr::tuple([
                Expr::col(customer_events::Column::At),
                Expr::col(customer_events::Column::Id),
            ])
            .lt(Expr::tuple([Expr::val(at), Expr::val(id)])),
        );
    }
    let events = eq
        .order_by_desc(customer_events::Column::At)
        .order_by_desc(customer_events::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;

    // Stage moves and orders follow their own scope (their owner), not the customer's.
    let mut sq = opportunity_stage_changes::Entity::find()
        .filter(opportunity_stage_changes::Column::CustomerId.eq(customer_id))
        .filter(
            opportunity_stage_changes::Column::OpportunityId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(crate::entities::opportunities::Column::Id)
                    .from(crate::entities::opportunities::Entity)
                    .cond_where(crate::pipeline::readable(scope))
                    .take(),
            ),
        );
    if let Some((at, id)) = after {
        sq = sq.filter(
            Expr::tuple([
                Expr::col(opportunity_stage_changes::Column::At),
                Expr::col(opportunity_stage_changes::Column::Id),
            ])
            .lt(Expr::tuple([Expr::val(at), Expr::val(id)])),
        );
    }
    let stages = sq
        .order_by_desc(opportunity_stage_changes::Column::At)
        .order_by_desc(opportunity_stage_changes::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;

    let mut oq = orders::Entity::find()
        .filter(orders::Column::CustomerId.eq(customer_id))
        .filter(crate::orders::readable(scope));
    if let Some((at, id)) = after {
        oq = oq.filter(
            Expr::tuple([
                Expr::col(orders::Column::CreatedAt),
                Expr::col(orders::Column::Id),
            ])
            .lt(Expr::tuple([Expr::val(at), Expr::val(id)])),
        );
    }
    let placed = oq
        .order_by_desc(orders::Column::CreatedAt)
        .order_by_desc(orders::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;

    let mut items: Vec<TimelineItem> = follow
        .into_iter()
        .map(TimelineItem::FollowUp)
        .chain(events.into_iter().map(TimelineItem::OwnerChanged))
        .chain(stages.into_iter().map(TimelineItem::StageChanged))
        .chain(placed.into_iter().map(TimelineItem::Order))
        .collect();
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
