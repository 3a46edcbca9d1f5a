//! `products`. Prices in ten-thousandths, tax rate in basis points, quantities in thousandths.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub name_norm: String,
    pub unit: String,
    pub category: Option<String>,
    pub list_price_e4: i64,
    pub cost_e4: Option<i64>,
    pub tax_rate_bp: i64,
    pub reorder_point_milli: Option<i64>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
