//! One module per resource: DTOs, handlers with their OpenAPI description, `configure`.

use actix_web::dev::HttpServiceFactory;
use utoipa_actix_web::OpenApiFactory;
use utoipa_actix_web::service_config::ServiceConfig;

pub mod access;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod contacts;
pub mod customers;
pub mod deletions;
pub mod follow_ups;
pub mod leads;
pub mod orders;
pub mod payments;
pub mod pipeline;
pub mod pool;
pub mod products;
pub mod reports;
pub mod stock;
pub mod system;
pub mod targets;
pub mod teams;
pub mod users;
pub mod warehouses;
pub mod webhooks;

/// Where a handler is registered: beside its description (building the OpenAPI
/// document), or for serving only, where describing it would cost each worker megabytes
/// of schemas it never uses.
enum Target<'a, 'b> {
    Described(&'a mut ServiceConfig<'b>),
    Served(&'a mut actix_web::web::ServiceConfig),
}

type Register = Box<dyn FnOnce(Target<'_, '_>)>;

/// The handlers of the API, collected from every module and registered most specific
/// path first, so that registration never depends on the order modules are listed in
/// (`/customers/export` is not taken for `/customers/{id}`).
#[derive(Default)]
pub struct Routes(Vec<(String, Register)>);

impl Routes {
    /// Adds a handler.
    pub fn service<F>(&mut self, handler: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + utoipa::Path + 'static,
    {
        // Only the path: the operation's description is built when the document is.
        let path = F::path();
        self.0.push((
            path,
            Box::new(move |target: Target<'_, '_>| match target {
                Target::Described(cfg) => {
                    cfg.service(handler);
                }
                Target::Served(cfg) => {
                    cfg.service(handler);
                }
            }),
        ));
        self
    }

    fn register(mut self, mut target: Target<'_, '_>) {
        self.0
            .sort_by(|(a, _), (b, _)| specificity(a).cmp(&specificity(b)));
        for (_, register) in self.0 {
            let again = match &mut target {
                Target::Described(cfg) => Target::Described(cfg),
                Target::Served(cfg) => Target::Served(cfg),
            };
            register(again);
        }
    }
}

/// A path's segments with literal segments before `{parameters}` in the same place.
fn specificity(path: &str) -> Vec<(bool, &str)> {
    path.split('/')
        .map(|segment| (segment.starts_with('{'), segment))
        .collect()
}

/// Registers every `/api/v1` route with its description.
pub fn configure_api(cfg: &mut ServiceConfig) {
    api_routes().register(Target::Described(cfg));
}

/// Registers every `/api/v1` route for serving (the description is built once, apart).
pub fn serve_api(cfg: &mut actix_web::web::ServiceConfig) {
    api_routes().register(Target::Served(cfg));
}

fn api_routes() -> Routes {
    let mut routes = Routes::default();
    for configure in [
        auth::configure,
        api_keys::configure,
        users::configure,
        teams::configure,
        customers::configure,
        crate::csv::configure,
        pool::configure,
        contacts::configure,
        follow_ups::configure,
        leads::configure,
        pipeline::configure,
        products::configure,
        warehouses::configure,
        stock::configure,
        orders::configure,
        payments::configure,
        targets::configure,
        reports::configure,
        audit::configure,
        access::configure,
        deletions::configure,
        webhooks::configure,
    ] {
        configure(&mut routes);
    }
    routes
}

#[cfg(test)]
mod tests {
    use super::specificity;

    #[test]
    fn literal_segments_come_before_parameters() {
        let mut paths = vec![
            "/customers/{id}",
            "/customers/{id}/tags",
            "/customers/export",
            "/customers",
            "/customers/{id}/tags/{tag}",
            "/customers/due-for-follow-up",
        ];
        paths.sort_by(|a, b| specificity(a).cmp(&specificity(b)));
        let export = paths.iter().position(|p| *p == "/customers/export");
        let due = paths
            .iter()
            .position(|p| *p == "/customers/due-for-follow-up");
        let by_id = paths.iter().position(|p| *p == "/customers/{id}");
        assert!(export < by_id && due < by_id, "{paths:?}");
    }
}
