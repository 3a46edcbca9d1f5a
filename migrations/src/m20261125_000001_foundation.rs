//! Teams, users, sign-in state, customers and their contacts, tags and the audit log.

use sea_orm_migration::{prelude::*, schema::*};

use crate::schema_helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn ts(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone(col)
}

fn ts_null(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone_null(col)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("teams")
                    .col(pk_uuid("id"))
                    .col(text("name"))
                    .col(uuid_null("parent_id"))
                    .col(uuid_null("manager_id"))
                    .col(big_integer("version"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_teams_parent",
                        ("teams", "parent_id"),
                        ("teams", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        index(manager, "idx_teams_parent", "teams", &["parent_id"]).await?;

        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(pk_uuid("id"))
                    .col(text("email"))
                    .col(text_uniq("email_norm"))
                    .col(text("name"))
                    .col(text("password_hash"))
                    .col(string_len("role", 16))
                    .col(uuid_null("team_id"))
                    .col(boolean("active"))
                    .col(big_integer("version"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_users_team",
                        ("users", "team_id"),
                        ("teams", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        index(manager, "idx_users_team", "users", &["team_id"]).await?;
        index(manager, "idx_users_created", "users", &["created_at", "id"]).await?;

        manager
            .create_table(
                Table::create()
                    .table("refresh_tokens")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(uuid("family_id"))
                    .col(text_uniq("token_hash"))
                    .col(ts("expires_at"))
                    .col(ts("created_at"))
                    .col(ts_null("used_at"))
                    .col(ts_null("revoked_at"))
                    .foreign_key(&mut fk(
                        "fk_refresh_user",
                        ("refresh_tokens", "user_id"),
                        ("users", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_refresh_family",
            "refresh_tokens",
            &["family_id"],
        )
        .await?;
        index(manager, "idx_refresh_user", "refresh_tokens", &["user_id"]).await?;

        manager
            .create_table(
                Table::create()
                    .table("login_failures")
                    .col(text("key").primary_key())
                    .col(integer("failures"))
                    .col(ts("window_started_at"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("customers")
                    .col(pk_uuid("id"))
                    .col(text("name"))
                    .col(text("name_norm"))
                    .col(string_len("kind", 16))
                    .col(string_len_null("level", 1))
                    .col(text_null("industry"))
                    .col(text_null("source"))
                    .col(text_null("phone"))
                    .col(text_null("phone_digits"))
                    .col(text_null("phone_norm"))
                    .col(text_null("email"))
                    .col(text_null("email_norm"))
                    .col(text_null("province"))
                    .col(text_null("city"))
                    .col(text_null("address"))
                    .col(text("tags"))
                    .col(text_null("notes"))
                    .col(uuid_null("owner_id"))
                    .col(ts_null("owner_since"))
                    .col(ts_null("last_follow_up_at"))
                    .col(ts_null("next_follow_up_at"))
                    .col(uuid("created_by"))
                    .col(big_integer("version"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_customers_owner",
                        ("customers", "owner_id"),
                        ("users", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_customers_creator",
                        ("customers", "created_by"),
                        ("users", "id"),
                        ForeignKeyAction::Restrict,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_customers_created",
            "customers",
            &["created_at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_customers_updated",
            "customers",
            &["updated_at", "id"],
        )
        .await?;
        index(manager, "idx_customers_name", "customers", &["name", "id"]).await?;
        index(
            manager,
            "idx_customers_owner_created",
            "customers",
            &["owner_id", "created_at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_customers_name_norm",
            "customers",
            &["name_norm"],
        )
        .await?;
        index(
            manager,
            "idx_customers_phone_norm",
            "customers",
            &["phone_norm"],
        )
        .await?;
        index(
            manager,
            "idx_customers_email_norm",
            "customers",
            &["email_norm"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("customer_tags")
                    .col(uuid("customer_id"))
                    .col(text("tag"))
                    .primary_key(Index::create().col("customer_id").col("tag"))
                    .foreign_key(&mut fk(
                        "fk_customer_tags_customer",
                        ("customer_tags", "customer_id"),
                        ("customers", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_customer_tags_tag",
            "customer_tags",
            &["tag", "customer_id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("contacts")
                    .col(pk_uuid("id"))
                    .col(uuid("customer_id"))
                    .col(text("name"))
                    .col(text("name_norm"))
                    .col(text_null("title"))
                    .col(text_null("phone"))
                    .col(text_null("phone_digits"))
                    .col(text_null("email"))
                    .col(text_null("email_norm"))
                    .col(boolean("is_primary"))
                    .col(uuid("created_by"))
                    .col(big_integer("version"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_contacts_customer",
                        ("contacts", "customer_id"),
                        ("customers", "id"),
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_contacts_customer",
            "contacts",
            &["customer_id", "created_at", "id"],
        )
        .await?;
        index(
            manager,
            "idx_contacts_created",
            "contacts",
            &["created_at", "id"],
        )
        .await?;
        // At most one primary contact per customer, whatever the concurrency.
        manager
            .get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX uq_contacts_primary ON contacts (customer_id) WHERE is_primary")
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(pk_uuid("id"))
                    .col(uuid_null("actor_id"))
                    .col(text("action"))
                    .col(text("entity"))
                    .col(uuid("entity_id"))
                    .col(text("changes"))
                    .col(text_null("request_id"))
                    .col(ts("at"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "idx_audit_entity",
            "audit_log",
            &["entity", "entity_id", "at"],
        )
        .await?;
        index(manager, "idx_audit_at", "audit_log", &["at", "id"]).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_log",
            "contacts",
            "customer_tags",
            "customers",
            "login_failures",
            "refresh_tokens",
            "users",
            "teams",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
