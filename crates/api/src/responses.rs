//! The error responses every route shares, declared once as reusable OpenAPI responses
//! and attached to handlers as sets (`responses(Authenticated, WithId, ...)`). A handler
//! lists its own responses after the sets: a status it names itself wins.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{Object, Ref, RefOr, Type};

/// Every shared response: its component name, status and description.
const SHARED: &[(&str, &str, &str)] = &[
    (
        "BadRequest",
        "400",
        "Malformed JSON, or a path, query or header value that is not valid",
    ),
    (
        "Unauthorized",
        "401",
        "Not signed in: the bearer token is missing, invalid or expired, or the account is deactivated",
    ),
    ("Forbidden", "403", "Your role may not do this"),
    (
        "NotFound",
        "404",
        "No such resource, or it is not visible to you",
    ),
    (
        "MethodNotAllowed",
        "405",
        "The path does not serve this method; `Allow` lists those it does",
    ),
    (
        "VersionMismatch",
        "412",
        "`If-Match` names a version older than the stored one; read it again",
    ),
    ("PayloadTooLarge", "413", "The body is over 1 MiB"),
    (
        "UnsupportedMediaType",
        "415",
        "The body is not `application/json`",
    ),
    (
        "Unprocessable",
        "422",
        "A field breaks a validation rule, or names a record that does not exist or is not yours to use; `errors` names each field",
    ),
    (
        "RateLimited",
        "429",
        "Over the request budget; retry after `Retry-After` seconds",
    ),
    (
        "Internal",
        "500",
        "An unexpected error; it was logged, and the body says nothing more",
    ),
];

fn problem_response(description: &str, status: &str) -> Response {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    let mut b = ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", content);
    if status == "405" {
        b = b.header(
            "Allow",
            HeaderBuilder::new()
                .schema(Some(Object::with_type(Type::String)))
                .description(Some(
                    "The methods the path serves, e.g. `GET, PATCH, DELETE`",
                ))
                .build(),
        );
    }
    if status == "429" {
        b = b.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(Object::with_type(Type::Integer)))
                .description(Some("Seconds until the budget resets"))
                .build(),
        );
    }
    b.build()
}

/// The shared responses, for the document's `components.responses`.
pub fn components() -> BTreeMap<String, RefOr<Response>> {
    SHARED
        .iter()
        .map(|(name, status, description)| {
            (
                (*name).to_owned(),
                RefOr::T(problem_response(description, status)),
            )
        })
        .collect()
}

fn refs(names: &[&str]) -> BTreeMap<String, RefOr<Response>> {
    names
        .iter()
        .filter_map(|name| SHARED.iter().find(|(n, ..)| n == name))
        .map(|(name, status, _)| {
            (
                (*status).to_owned(),
                RefOr::Ref(Ref::from_response_name(*name)),
            )
        })
        .collect()
}

macro_rules! response_set {
    ($($(#[$doc:meta])* $set:ident = [$($name:literal),+];)+) => {
        $(
            $(#[$doc])*
            pub struct $set;

            impl IntoResponses for $set {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    refs(&[$($name),+])
                }
            }
        )+
    };
}

response_set! {
    /// What any route answers: another method, a rate limit, an unexpected error.
    Always = ["MethodNotAllowed", "RateLimited", "Internal"];
    /// What a route that needs a bearer token answers besides [`Always`].
    Authenticated = ["Unauthorized", "MethodNotAllowed", "RateLimited", "Internal"];
    /// A route whose path names a record: a bad id, or one not found.
    WithId = ["BadRequest", "NotFound"];
    /// A route that reads a JSON body.
    WithBody = ["BadRequest", "PayloadTooLarge", "UnsupportedMediaType", "Unprocessable"];
    /// A route with query parameters (lists).
    WithQuery = ["BadRequest"];
    /// A change that honours `If-Match`.
    WithIfMatch = ["VersionMismatch"];
    /// A route for some roles only.
    RoleGated = ["Forbidden"];
}
