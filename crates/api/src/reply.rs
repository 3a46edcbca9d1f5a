//! Responses of records: `200` with the record's `ETag`, or `201` with its `Location`
//! too. Every record has a version, sent as its ETag and checked in `If-Match`.

use actix_web::body::BoxBody;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde::Serialize;

/// A record with an optimistic-locking version.
pub trait Versioned {
    fn version(&self) -> i64;
}

macro_rules! versioned {
    ($($record:path),+ $(,)?) => {
        $(
            impl Versioned for $record {
                fn version(&self) -> i64 {
                    self.version
                }
            }
        )+
    };
}

versioned!(
    sims_domain::customer::CustomerRecord,
    sims_domain::customer::ContactRecord,
    sims_domain::lead::LeadRecord,
    sims_domain::follow_up::FollowUpRecord,
    sims_domain::pipeline::StageRecord,
    sims_domain::pipeline::OpportunityRecord,
    sims_domain::catalog::ProductRecord,
    sims_domain::catalog::WarehouseRecord,
    sims_domain::target::TargetRecord,
    sims_domain::order::OrderRecord,
    sims_domain::team::UserRecord,
    sims_domain::team::TeamRecord,
    crate::routes::webhooks::WebhookView,
    crate::routes::webhooks::WebhookCreated,
);

/// The ETag of a record at `version`.
pub fn etag(version: i64) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// `200 OK` with the record as JSON and its `ETag`.
pub struct Tagged<T>(pub T);

impl<T: Serialize + Versioned> Responder for Tagged<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header(etag(self.0.version()))
            .json(self.0)
    }
}

/// `201 Created` with the record as JSON, its `Location` and its `ETag`.
pub struct Created<T> {
    pub location: String,
    pub record: T,
}

impl<T> Created<T> {
    /// A record created at `location` (its path under the API).
    pub fn at(location: String, record: T) -> Self {
        Self { location, record }
    }
}

impl<T: Serialize + Versioned> Responder for Created<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::Created()
            .insert_header((header::LOCATION, self.location))
            .insert_header(etag(self.record.version()))
            .json(self.record)
    }
}
