//! One module per resource: DTOs, handlers with their OpenAPI description, `configure`.

use utoipa_actix_web::service_config::ServiceConfig;

pub mod audit;
pub mod auth;
pub mod contacts;
pub mod customer_files;
pub mod customers;
pub mod follow_ups;
pub mod leads;
pub mod orders;
pub mod pipeline;
pub mod pool;
pub mod stock;
pub mod system;
pub mod teams;
pub mod users;

/// Registers every `/api/v1` route.
pub fn configure_api(cfg: &mut ServiceConfig) {
    cfg.configure(auth::configure)
        .configure(users::configure)
        .configure(teams::configure)
        .configure(customer_files::configure)
        .configure(pool::configure)
        .configure(customers::configure)
        .configure(follow_ups::configure)
        .configure(leads::configure)
        .configure(pipeline::configure)
        .configure(stock::configure)
        .configure(orders::configure)
        .configure(contacts::configure)
        .configure(audit::configure);
}
