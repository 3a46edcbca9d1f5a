//! The OpenAPI document, generated from the handlers and types themselves.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Doc, Server};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, scope};

use crate::error::{Problem, ProblemField};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SIMS — Sales Information Management System",
        description = "Customers, contacts, the customer pool, leads, pipeline, products, stock, orders, payments and reports over JSON.\n\nConventions: ids are UUID v7, timestamps RFC 3339 UTC, money is a decimal string. Lists answer `{items, page, per_page, has_more, next_cursor, total}`; continue with `?after=<next_cursor>`. Errors are RFC 9457 problem+json with a stable `code`. Mutable resources carry a `version`, sent as `ETag`; send it back in `If-Match` to refuse lost updates (`412`).",
        license(name = "MIT")
    ),
    components(schemas(Problem, ProblemField)),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Sign-in, token refresh and logout"),
        (name = "users", description = "Users and roles"),
        (name = "teams", description = "The team tree"),
        (name = "customers", description = "Customers (客户) and duplicate checks (查重)"),
        (name = "contacts", description = "Contacts (联系人)"),
        (name = "audit", description = "Audit log"),
        (name = "system", description = "Health, readiness and metrics"),
    )
)]
struct BaseDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.responses.extend(crate::responses::components());
    }
}

/// The base document (info, tags, security scheme) that the routes are added to.
pub fn base() -> Doc {
    let mut doc = BaseDoc::openapi();
    doc.servers = Some(vec![Server::new("/")]);
    doc
}

/// The complete document, as served at `/openapi.json` and printed by `sims openapi`.
pub fn build() -> Doc {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(crate::routes::system::configure)
        .service(scope("/api/v1").configure(crate::routes::configure_api))
        .split_for_parts();
    doc
}

/// The document as pretty JSON with a trailing newline, as committed.
pub fn to_pretty_json() -> String {
    let mut s = build().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
