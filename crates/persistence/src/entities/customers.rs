//! `customers` (客户). `owner_id` null means the customer is in the pool (公海).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub name_norm: String,
    pub kind: String,
    pub level: Option<String>,
    pub industry: Option<String>,
    pub source: Option<String>,
    pub phone: Option<String>,
    pub phone_digits: Option<String>,
    pub phone_norm: Option<String>,
    pub email: Option<String>,
    pub email_norm: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    /// JSON array of tag strings, mirrored in `customer_tags` for filtering.
    pub tags: String,
    pub notes: Option<String>,
    pub owner_id: Option<Uuid>,
    pub owner_since: Option<DateTimeUtc>,
    pub last_follow_up_at: Option<DateTimeUtc>,
    pub next_follow_up_at: Option<DateTimeUtc>,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
