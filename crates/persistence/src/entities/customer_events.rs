//! `customer_events`: ownership changes of a customer, for its history and timeline.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    /// `created`, `claimed`, `released`, `transferred` or `returned_to_pool`.
    pub kind: String,
    pub from_owner_id: Option<Uuid>,
    pub to_owner_id: Option<Uuid>,
    /// `None` when the pool-return job acted.
    pub actor_id: Option<Uuid>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
