//! `stock_movements`: the stock ledger.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_movements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub product_id: Uuid,
    pub warehouse_id: Uuid,
    /// `receipt`, `adjustment`, `reserve`, `release`, `shipment` or `return`.
    pub kind: String,
    pub on_hand_delta_milli: i64,
    pub reserved_delta_milli: i64,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub order_id: Option<Uuid>,
    pub created_by: Uuid,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
