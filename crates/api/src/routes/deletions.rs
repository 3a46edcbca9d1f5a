//! Deletions, for mobile sync: the ids of mirrored records that are gone.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sims_domain::listing::SortKey;
use sims_domain::sync::DeletedEntity;
use sims_persistence::deletions::{self, Deletion, DeletionFilter};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::ApiResult;
use crate::extract::Query;
use crate::listing::{PageOf, PageParams};
use crate::responses::{Authenticated, WithQuery};
use crate::routes::Routes;

/// A record that was deleted (or merged into another): a client holding `id` drops it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletionEntry {
    pub entity: DeletedEntity,
    pub id: Uuid,
    pub deleted_at: DateTime<Utc>,
}

impl From<Deletion> for DeletionEntry {
    fn from(d: Deletion) -> Self {
        Self {
            entity: d.entity,
            id: d.id,
            deleted_at: d.deleted_at,
        }
    }
}

/// Filters of the deletions.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeletionQuery {
    /// Only deletions of this kind of record.
    pub entity: Option<DeletedEntity>,
    /// Only deletions at or after this instant (RFC 3339): ask from a few seconds before
    /// the last sync.
    pub since: Option<DateTime<Utc>>,
}

const NEWEST: &[SortKey] = &[SortKey {
    field: "deleted_at",
    descending: true,
}];

/// Deleted records, newest first: ids only, the same for every role, kept
/// `sync.tombstone_days` (default 90). A customer merged into another appears here too.
#[utoipa::path(tag = "sync", operation_id = "list_deletions", params(DeletionQuery, PageParams), responses(
    Authenticated,
    WithQuery,
    (status = 200, description = "A page of deletions", body = PageOf<DeletionEntry>),
))]
#[get("/deletions")]
pub async fn list_deletions(
    ctx: Ctx,
    query: Query<DeletionQuery>,
    paging: Query<PageParams>,
) -> ApiResult<web::Json<PageOf<DeletionEntry>>> {
    let req = paging.0.to_request(&["deleted_at"], NEWEST)?;
    let filter = DeletionFilter {
        entity: query.0.entity,
        since: query.0.since,
    };
    Ok(web::Json(PageOf::from_page(
        deletions::list(ctx.db.conn(), &filter, &req).await?,
        DeletionEntry::from,
    )))
}

/// Registers the deletion routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(list_deletions);
}
