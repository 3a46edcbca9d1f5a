//! sea-orm entities, one per table. The schema itself is owned by `sims-migrations`;
//! each table here mirrors its columns, with its meaning in the doc comment.

/// Declares the entity of a table: its row (`Model`), columns, active model, and no
/// relations (joins are written as queries).
macro_rules! table {
    ($(#[$doc:meta])* $module:ident: $table:literal {
        $($(#[$attr:meta])* pub $field:ident: $ty:ty),* $(,)?
    }) => {
        $(#[$doc])*
        pub mod $module {
            use sea_orm::entity::prelude::*;

            /// A row.
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                $($(#[$attr])* pub $field: $ty,)*
            }

            /// No relations: joins are written as queries.
            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}

            impl crate::decode::Decoded for Entity {
                fn decode(res: &sea_orm::QueryResult) -> Result<Model, DbErr> {
                    use crate::decode::ColumnValue;
                    // The columns in the order the table declares them, as a select of
                    // the whole table lists them.
                    let mut at = 0..;
                    Ok(Model {
                        $($field: <$ty as ColumnValue>::read(
                            res,
                            at.next().unwrap_or_default(),
                            stringify!($field),
                        )?,)*
                    })
                }
            }
        }
    };
}

table! {
    /// `api_keys`: integration credentials, each acting as `user_id`; the secret is kept
    /// only as its SHA-256.
    api_keys: "api_keys" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub name: String,
        /// The secret's first 12 characters, to tell keys apart.
        pub prefix: String,
        pub secret_hash: String,
        pub expires_at: Option<DateTimeUtc>,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub last_used_at: Option<DateTimeUtc>,
        pub revoked_at: Option<DateTimeUtc>,
    }
}

table! {
    /// `audit_log`: who changed what, written in the same transaction as the change.
    audit_log: "audit_log" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub actor_id: Option<Uuid>,
        pub action: String,
        pub entity: String,
        pub entity_id: Uuid,
        /// JSON object `{field: {"before": …, "after": …}}`.
        pub changes: String,
        pub request_id: Option<String>,
        pub at: DateTimeUtc,
    }
}

table! {
    /// `contacts` (联系人): people at a customer.
    contacts: "contacts" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub customer_id: Uuid,
        pub name: String,
        pub name_norm: String,
        pub title: Option<String>,
        pub phone: Option<String>,
        pub phone_digits: Option<String>,
        pub email: Option<String>,
        pub email_norm: Option<String>,
        pub is_primary: bool,
        pub created_by: Uuid,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

table! {
    /// `customer_events`: ownership changes of a customer, for its history and timeline.
    customer_events: "customer_events" {
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
}

table! {
    /// `customer_tags`: one row per tag on a customer, for filtering and counting.
    customer_tags: "customer_tags" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub tag: String,
    }
}

table! {
    /// `customers` (客户). `owner_id` null means the customer is in the pool (公海).
    customers: "customers" {
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
}

table! {
    /// `deletions`: a tombstone for every deleted record a mobile client mirrors, under
    /// the record's own id.
    deletions: "deletions" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// `customer`, `contact`, `follow_up`, `lead`, `opportunity` or `order`.
        pub entity: String,
        pub deleted_at: DateTimeUtc,
    }
}

table! {
    /// `follow_ups` (跟进记录).
    follow_ups: "follow_ups" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub customer_id: Uuid,
        pub opportunity_id: Option<Uuid>,
        pub kind: String,
        pub content: String,
        pub occurred_at: DateTimeUtc,
        pub next_follow_up_at: Option<DateTimeUtc>,
        pub author_id: Uuid,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

table! {
    /// `idempotency_keys`: the stored first response of a keyed request.
    idempotency_keys: "idempotency_keys" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub caller_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub request_hash: String,
        /// `None` while the first request is still running.
        pub status: Option<i32>,
        pub body: Option<String>,
        pub location: Option<String>,
        pub etag: Option<String>,
        pub created_at: DateTimeUtc,
    }
}

table! {
    /// `job_leases`: which instance runs a background job, until when.
    job_leases: "job_leases" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub holder: String,
        pub until: DateTimeUtc,
    }
}

table! {
    /// `leads` (线索).
    leads: "leads" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub name_norm: String,
        pub company: Option<String>,
        pub phone: Option<String>,
        pub phone_digits: Option<String>,
        pub email: Option<String>,
        pub email_norm: Option<String>,
        pub source: Option<String>,
        pub status: String,
        pub owner_id: Uuid,
        pub customer_id: Option<Uuid>,
        pub contact_id: Option<Uuid>,
        pub opportunity_id: Option<Uuid>,
        pub converted_at: Option<DateTimeUtc>,
        pub created_by: Uuid,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

table! {
    /// `login_failures`: failed sign-ins per account and per address, in a time window.
    login_failures: "login_failures" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub failures: i32,
        pub window_started_at: DateTimeUtc,
    }
}

table! {
    /// `opportunities` (商机). `amount_minor` is the amount in minor units (分).
    opportunities: "opportunities" {
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
}

table! {
    /// `opportunity_stage_changes`: every stage move `(from, to, at, by)`.
    opportunity_stage_changes: "opportunity_stage_changes" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub opportunity_id: Uuid,
        pub customer_id: Uuid,
        pub from_stage_id: Option<Uuid>,
        pub to_stage_id: Uuid,
        pub by_user_id: Uuid,
        pub at: DateTimeUtc,
    }
}

table! {
    /// `order_counters`: the last order number used in each month.
    order_counters: "order_counters" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub month: String,
        pub last: i64,
    }
}

table! {
    /// `order_lines`: priced lines of an order.
    order_lines: "order_lines" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub order_id: Uuid,
        pub position: i32,
        pub product_id: Uuid,
        pub quantity_milli: i64,
        pub shipped_milli: i64,
        pub unit_price_e4: i64,
        pub discount_bp: i64,
        pub tax_bp: i64,
        pub gross_minor: i64,
        pub discount_minor: i64,
        pub net_minor: i64,
        pub tax_minor: i64,
        pub total_minor: i64,
    }
}

table! {
    /// `orders` (订单). Amounts in minor units.
    orders: "orders" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub number: String,
        pub customer_id: Uuid,
        pub opportunity_id: Option<Uuid>,
        pub owner_id: Uuid,
        pub warehouse_id: Uuid,
        pub currency: String,
        pub status: String,
        pub subtotal_minor: i64,
        pub discount_minor: i64,
        pub tax_minor: i64,
        pub total_minor: i64,
        pub paid_minor: i64,
        pub order_date: Date,
        pub confirmed_at: Option<DateTimeUtc>,
        pub created_by: Uuid,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

table! {
    /// `payment_plan_instalments`: an order's dated instalments.
    payment_plan_instalments: "payment_plan_instalments" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub order_id: Uuid,
        pub position: i32,
        pub due_date: Date,
        pub amount_minor: i64,
    }
}

table! {
    /// `payments` (回款).
    payments: "payments" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub order_id: Uuid,
        pub amount_minor: i64,
        pub received_at: DateTimeUtc,
        pub method: String,
        pub reference: Option<String>,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
    }
}

table! {
    /// `pipeline_stages`: the configured stages of the sales pipeline.
    pipeline_stages: "pipeline_stages" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub position: i32,
        pub probability: i32,
        pub kind: String,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

table! {
    /// `pool_cooldowns`: until when a rep may not claim back a customer they released or lost.
    pool_cooldowns: "pool_cooldowns" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
        pub until: DateTimeUtc,
    }
}

table! {
    /// `products`. Prices in ten-thousandths, tax rate in basis points, quantities in thousandths.
    products: "products" {
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
}

table! {
    /// `refresh_tokens`: hashed refresh tokens, grouped in rotation families.
    refresh_tokens: "refresh_tokens" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub family_id: Uuid,
        pub token_hash: String,
        pub expires_at: DateTimeUtc,
        pub created_at: DateTimeUtc,
        pub used_at: Option<DateTimeUtc>,
        pub revoked_at: Option<DateTimeUtc>,
        /// When the family's first token was issued (sign-in); `null` for families older
        /// than this column, whose own `created_at` stands in.
        pub family_started_at: Option<DateTimeUtc>,
    }
}

table! {
    /// `settings`: admin-editable settings as JSON documents by key.
    settings: "settings" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub value: String,
        pub version: i64,
        pub updated_at: DateTimeUtc,
    }
}

table! {
    /// `stock_levels`: on-hand and reserved stock per product and warehouse, kept equal to
    /// the ledger's sums in the same transaction as each movement.
    stock_levels: "stock_levels" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub warehouse_id: Uuid,
        pub on_hand_milli: i64,
        pub reserved_milli: i64,
        pub updated_at: DateTimeUtc,
    }
}

table! {
    /// `stock_movements`: the stock ledger.
    stock_movements: "stock_movements" {
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
}

table! {
    /// `targets` (销售目标): a monthly revenue target for one user or one team.
    targets: "targets" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// `YYYY-MM`.
        pub month: String,
        pub user_id: Option<Uuid>,
        pub team_id: Option<Uuid>,
        pub amount_minor: i64,
        pub currency: String,
        pub created_by: Uuid,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

table! {
    /// `teams`: a tree of sales teams.
    teams: "teams" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub parent_id: Option<Uuid>,
        pub manager_id: Option<Uuid>,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

table! {
    /// `users`: people who sign in.
    users: "users" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub email: String,
        pub email_norm: String,
        pub name: String,
        pub password_hash: String,
        pub role: String,
        pub team_id: Option<Uuid>,
        pub active: bool,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// Moves on with each password change and deactivation; an access token carries the
        /// epoch it was issued in and works only while it is current.
        pub session_epoch: i64,
    }
}

table! {
    /// `warehouses`.
    warehouses: "warehouses" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub code: String,
        pub name: String,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

table! {
    /// `webhook_deliveries`: one event for one subscription, with its attempts.
    webhook_deliveries: "webhook_deliveries" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub webhook_id: Uuid,
        pub event_id: Uuid,
        pub event_type: String,
        /// `pending`, `delivered`, `failed` (retried at `next_attempt_at`) or `dead`.
        pub status: String,
        pub attempts: i32,
        pub last_status_code: Option<i32>,
        pub last_latency_ms: Option<i64>,
        pub last_attempt_at: Option<DateTimeUtc>,
        pub next_attempt_at: DateTimeUtc,
        /// A dispatcher's claim on it, until this instant.
        pub locked_until: Option<DateTimeUtc>,
        pub event_occurred_at: DateTimeUtc,
        pub created_at: DateTimeUtc,
    }
}

table! {
    /// `webhook_events`: the outbox, written in the transaction of the change each reports.
    webhook_events: "webhook_events" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub event_type: String,
        pub occurred_at: DateTimeUtc,
        /// The JSON body as delivered: `{id, type, occurred_at, data}`.
        pub body: String,
        /// Whether its deliveries exist yet.
        pub fanned_out: bool,
    }
}

table! {
    /// `webhooks`: subscriptions to events, each with its signing secret.
    webhooks: "webhooks" {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub url: String,
        /// JSON array of event types, or `["*"]`.
        pub events: String,
        pub description: Option<String>,
        pub secret: String,
        pub active: bool,
        pub created_by: Uuid,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}
