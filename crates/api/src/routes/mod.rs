//! One module per resource: DTOs, handlers with their OpenAPI description, `configure`.

use utoipa_actix_web::service_config::ServiceConfig;

pub mod audit;
pub mod auth;
pub mod contacts;
pub mod customers;
pub mod system;
pub mod teams;
pub mod users;

/// Registers every `/api/v1` route.
pub fn configure_api(cfg: &mut ServiceConfig) {
    cfg.configure(auth::configure)
        .configure(users::configure)
        .configure(teams::configure)
        .configure(customers::configure)
        .configure(contacts::configure)
        .configure(audit::configure);
}
