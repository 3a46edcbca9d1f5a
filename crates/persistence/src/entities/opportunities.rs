//! `opportunities` (商机). `amount_minor` is the amount in minor units (分).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "opportunities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub name: String,
    pub name_norm: String,
    pub amount_minor: i64,
    pub currency: String,
    pub stage_id: Uuid,
    /// `open`, `won` or `lost`: the kind of the current stage.
    pub status: String,
    pub expected_close_date: Option<Date>,
    pub owner_id: Uuid,
    pub lost_reason: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
