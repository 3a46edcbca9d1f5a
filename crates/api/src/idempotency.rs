//! Writes answered once: the answer a keyed write stores (so that the same key and body
//! get it again) and the response it becomes.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde::Serialize;
use sims_persistence::PersistenceError;
use sims_persistence::idempotency::{Answer, Answered};

/// A JSON answer with `status`.
pub fn answer(status: StatusCode, value: &impl Serialize) -> Result<Answer, PersistenceError> {
    Ok(Answer {
        status: status.as_u16(),
        body: serde_json::to_string(value).map_err(|e| PersistenceError::Answer(e.to_string()))?,
        location: None,
        etag: None,
    })
}

/// A `201 Created` answer with the new resource's `Location` and `ETag`.
pub fn created(
    value: &impl Serialize,
    location: String,
    version: i64,
) -> Result<Answer, PersistenceError> {
    let mut a = answer(StatusCode::CREATED, value)?;
    a.location = Some(location);
    a.etag = Some(format!("\"{version}\""));
    Ok(a)
}

/// The response of an answer; a replay says so in `Idempotent-Replayed: true`.
pub fn respond(answered: Answered) -> HttpResponse {
    let Answered { answer, replayed } = answered;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = HttpResponse::build(status);
    b.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    ));
    if let Some(l) = answer.location {
        b.insert_header((header::LOCATION, l));
    }
    if let Some(e) = answer.etag {
        b.insert_header((header::ETAG, e));
    }
    if replayed {
        b.insert_header(("Idempotent-Replayed", "true"));
    }
    b.body(answer.body)
}
