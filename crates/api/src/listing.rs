//! The list envelope and the paging parameters every list accepts.

use serde::{Deserialize, Serialize};
use sims_domain::listing::{SortKey, check_page, parse_sort};
use sims_persistence::{ListRequest, Page};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult};

/// Paging, sorting and totals, shared by every list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number (default 1). Ignored when `after` is given.
    #[param(minimum = 1, default = 1)]
    pub page: Option<u32>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub per_page: Option<u32>,
    /// Continue after this `next_cursor` (keyset pagination; answers `page: null`).
    pub after: Option<String>,
    /// Comma-separated sort keys, `-` for descending, e.g. `-created_at,name`.
    pub sort: Option<String>,
    /// Also count all matching items into `total` (slower; ask once, not on every page).
    pub include_total: Option<bool>,
}

impl PageParams {
    /// Checks the parameters against the resource's sort whitelist.
    pub fn to_request(
        &self,
        whitelist: &[&'static str],
        default_sort: &[SortKey],
    ) -> ApiResult<ListRequest> {
        let (page, per_page) = check_page(self.page, self.per_page)
            .map_err(|v| ApiError::fields(crate::error::ErrorCode::InvalidParameter, vec![v]))?;
        let sort = parse_sort(self.sort.as_deref(), whitelist, default_sort)
            .map_err(|v| ApiError::fields(crate::error::ErrorCode::InvalidParameter, vec![v]))?;
        Ok(ListRequest {
            page,
            per_page,
            after: self.after.clone(),
            sort,
            include_total: self.include_total.unwrap_or(false),
        })
    }
}

/// Newest first: the default order of every list.
pub const NEWEST_FIRST: &[SortKey] = &[SortKey {
    field: "created_at",
    descending: true,
}];

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    /// The page number, `null` for a keyset continuation (`after`).
    pub page: Option<u32>,
    pub per_page: u32,
    pub has_more: bool,
    /// Pass as `after` to read the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// All matching items, only when `include_total=true`.
    pub total: Option<u64>,
}

impl<T> PageOf<T> {
    /// Renders a page of rows with `f`.
    pub fn from_page<R>(page: Page<R>, f: impl FnMut(R) -> T) -> Self {
        let p = page.map(f);
        Self {
            items: p.items,
            page: p.page,
            per_page: p.per_page,
            has_more: p.has_more,
            next_cursor: p.next_cursor,
            total: p.total,
        }
    }
}

impl<T> From<Page<T>> for PageOf<T> {
    fn from(page: Page<T>) -> Self {
        Self::from_page(page, |t| t)
    }
}

/// Accepts `null` as "clear" and absence as "leave alone" in PATCH bodies.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}
