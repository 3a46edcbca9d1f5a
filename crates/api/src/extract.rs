//! Request extractors that fail with problem+json naming the offending field:
//! JSON bodies, query strings, path ids and `If-Match`.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use sims_domain::FieldViolation;
use sims_domain::listing::{CURSOR_MAX, QUERY_VALUE_MAX};
use sims_domain::values::check_length;
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};

/// Reads a decimal string strictly (see [`sims_domain::money::DECIMAL_PATTERN`]): a JSON
/// number or `"1e3"` is refused, never guessed at.
pub fn decimal<'de, D: serde::Deserializer<'de>>(de: D) -> Result<rust_decimal::Decimal, D::Error> {
    let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(de)?;
    sims_domain::money::parse_decimal_text(&s).ok_or_else(|| {
        serde::de::Error::invalid_value(
            serde::de::Unexpected::Str(&s),
            &"a decimal string such as \"12.50\"",
        )
    })
}

/// [`decimal`] for an optional field; use with `#[serde(default)]`.
pub fn optional_decimal<'de, D: serde::Deserializer<'de>>(
    de: D,
) -> Result<Option<rust_decimal::Decimal>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Strict(#[serde(deserialize_with = "decimal")] rust_decimal::Decimal);
    Ok(<Option<Strict> as serde::Deserialize>::deserialize(de)?.map(|s| s.0))
}

/// Largest JSON body accepted.
pub const JSON_LIMIT: usize = 1024 * 1024;

/// Splits a serde message into the field it names (for missing and unknown fields)
/// and a cleaned-up message.
fn describe(path: &str, message: &str) -> (String, &'static str, String) {
    let base = if path == "." {
        String::new()
    } else {
        path.to_owned()
    };
    let join = |name: &str| {
        if base.is_empty() {
            name.to_owned()
        } else {
            format!("{base}.{name}")
        }
    };
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let clean = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned();
    if let Some(name) = quoted("missing field `") {
        return (
            join(&name),
            "required",
            format!("{} is required", join(&name)),
        );
    }
    if let Some(name) = quoted("unknown field `") {
        // serde_path_to_error already ends the path with the unknown key.
        let field = if base.is_empty() { name } else { base };
        return (field, "unknown_field", clean);
    }
    let code = if clean.starts_with("unknown variant") {
        "invalid_choice"
    } else if clean.starts_with("invalid type") {
        "invalid_type"
    } else if clean.contains("too large")
        || clean.contains("too small")
        || clean.starts_with("invalid value: integer")
    {
        "out_of_range"
    } else {
        "invalid"
    };
    (
        if base.is_empty() { "body".into() } else { base },
        code,
        clean,
    )
}

/// Parses a JSON body, mapping syntax errors to `400 malformed_json` and type or enum
/// errors to `422 validation_failed` with the field path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorCode::MalformedJson,
            "the request body is empty; send a JSON object",
        ));
    }
    // Every body is an object: serde would otherwise read `[null, null]` as a struct.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            return Err(ApiError::new(
                ErrorCode::MalformedJson,
                format!("the request body is not valid JSON: {e}"),
            ));
        }
        return Err(ApiError::validation(vec![FieldViolation::new(
            "body",
            "invalid_type",
            "the request body must be a JSON object",
        )]));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => de.end().map(|_| v).map_err(|e| {
            ApiError::new(
                ErrorCode::MalformedJson,
                format!("the request body is not valid JSON: {e}"),
            )
        }),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let (field, code, message) = describe(&path, &inner.to_string());
                    Err(ApiError::validation(vec![FieldViolation::new(
                        field, code, message,
                    )]))
                }
                _ => Err(ApiError::new(
                    ErrorCode::MalformedJson,
                    format!("the request body is not valid JSON: {inner}"),
                )),
            }
        }
    }
}

/// A JSON request body of at most 1 MiB.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// Reads a JSON body of at most 1 MiB (checking the media type), without parsing it.
fn read_json_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<Vec<u8>, ApiError>> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let declared_len = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        if let Some(ct) = content_type
            && !(ct.starts_with("application/json") || ct.contains("+json"))
        {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        let too_large = || {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the body exceeds {JSON_LIMIT} bytes"),
            )
        };
        if declared_len.is_some_and(|n| n > JSON_LIMIT) {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(declared_len.unwrap_or(1024).min(JSON_LIMIT));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    format!("could not read the body: {e}"),
                )
            })?;
            if body.len() + chunk.len() > JSON_LIMIT {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json_body(req, payload);
        Box::pin(async move { parse_json(&body.await?).map(Json) })
    }
}

/// A JSON body with the request's `Idempotency-Key` (if any) and a hash of the path and
/// the raw body, for the creates that honour idempotency.
#[derive(Debug)]
pub struct KeyedJson<T> {
    pub value: T,
    pub key: Option<String>,
    pub hash: String,
}

impl<T> KeyedJson<T> {
    /// The key `caller` sent, with the hash of the request it guards.
    pub fn key_of(
        &self,
        caller: uuid::Uuid,
    ) -> Option<sims_persistence::idempotency::IdempotencyKey> {
        self.key
            .clone()
            .map(|key| sims_persistence::idempotency::IdempotencyKey {
                caller,
                key,
                request_hash: self.hash.clone(),
            })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for KeyedJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let key = req
            .headers()
            .get("idempotency-key")
            .map(|v| v.to_str().map(|s| s.trim().to_owned()));
        let path = req.path().to_owned();
        let body = read_json_body(req, payload);
        Box::pin(async move {
            let key = match key {
                None => None,
                Some(Ok(k))
                    if !k.is_empty()
                        && k.len() <= 255
                        && k.chars().all(|c| c.is_ascii_graphic()) =>
                {
                    Some(k)
                }
                Some(_) => {
                    return Err(ApiError::fields(
                        ErrorCode::InvalidParameter,
                        vec![FieldViolation::new(
                            "Idempotency-Key",
                            "invalid",
                            "Idempotency-Key must be 1 to 255 visible ASCII characters",
                        )],
                    ));
                }
            };
            let body = body.await?;
            let value = parse_json(&body)?;
            let mut to_hash = path.into_bytes();
            to_hash.push(b'\n');
            to_hash.extend_from_slice(&body);
            let hash = crate::auth::token_hash(&String::from_utf8_lossy(&to_hash));
            Ok(KeyedJson { value, key, hash })
        })
    }
}

/// A CSV file of at most `import.max_bytes` (UTF-8, with or without BOM): the body
/// itself (`text/csv`), or the `file` part of a `multipart/form-data` upload, which is
/// what browsers and generated clients send.
#[derive(Debug)]
pub struct CsvBody(pub Vec<u8>);

/// The multipart form an import takes: one CSV file.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct CsvUpload {
    /// The CSV file (UTF-8, with or without BOM; header row first).
    #[schema(value_type = String, format = Binary, content_media_type = "text/csv")]
    file: Vec<u8>,
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("the file exceeds {limit} bytes"),
    )
}

/// Reads the `file` part of a multipart upload, ignoring any other part.
async fn multipart_file(
    headers: &actix_web::http::header::HeaderMap,
    payload: Payload,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let unreadable = |e: actix_multipart::MultipartError| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("could not read the multipart body: {e}"),
        )
    };
    let mut form = actix_multipart::Multipart::new(headers, payload);
    while let Some(part) = form.next().await {
        let mut part = part.map_err(unreadable)?;
        if part.name() != Some("file") {
            while let Some(chunk) = part.next().await {
                chunk.map_err(unreadable)?;
            }
            continue;
        }
        let mut file = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(unreadable)?;
            if file.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            file.extend_from_slice(&chunk);
        }
        return Ok(file);
    }
    Err(ApiError::validation(vec![FieldViolation::new(
        "file",
        "required",
        "send the CSV file as the form's `file` part",
    )]))
}

impl FromRequest for CsvBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<actix_web::web::Data<crate::state::AppState>>()
            .map(|s| s.settings.import.max_bytes)
            .unwrap_or(20 * 1024 * 1024);
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        let mut payload = payload.take();
        let headers = req.headers().clone();
        Box::pin(async move {
            if let Some(ct) = &content_type
                && ct.starts_with("multipart/form-data")
            {
                return multipart_file(&headers, payload, limit).await.map(CsvBody);
            }
            if let Some(ct) = content_type
                && !(ct.starts_with("text/csv")
                    || ct.starts_with("text/plain")
                    || ct.starts_with("application/octet-stream"))
            {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "send the file as text/csv, or as the `file` part of multipart/form-data",
                ));
            }
            let mut body = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::new(
                        ErrorCode::BadRequest,
                        format!("could not read the body: {e}"),
                    )
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(CsvBody(body))
        })
    }
}

/// Query parameters; a bad value is `400 invalid_parameter` naming the parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

/// Parses a query string into `T`. No value may be longer than
/// [`QUERY_VALUE_MAX`] characters (`after` [`CURSOR_MAX`]).
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let max = if name == "after" {
            CURSOR_MAX
        } else {
            QUERY_VALUE_MAX
        };
        if let Err(v) = check_length(&name, &value, max) {
            return Err(ApiError::fields(ErrorCode::InvalidParameter, vec![v]));
        }
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let (field, code, message) = describe(&path, &err.inner().to_string());
        ApiError::fields(
            ErrorCode::InvalidParameter,
            vec![FieldViolation::new(field, code, message)],
        )
    })
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// The `{id}` segment of the path, as a UUID; anything else is `400` naming `id`.
#[derive(Debug, Clone, Copy)]
pub struct Id(pub Uuid);

impl FromRequest for Id {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Only the hyphenated form the API sends (36 characters), as the spec says.
        let raw = req.match_info().get("id").unwrap_or_default();
        let parsed = Some(raw)
            .filter(|r| r.len() == 36)
            .and_then(|r| Uuid::parse_str(r).ok());
        // `PATCH /customers/export` reaches `PATCH /customers/{id}`: for a literal path
        // the API serves, the answer is 405, not a bad id.
        let literal = || {
            req.app_data::<actix_web::web::Data<crate::methods::KnownPaths>>()
                .and_then(|k| k.literal(req.path()))
        };
        if parsed.is_none()
            && let Some(allow) = literal()
        {
            return std::future::ready(Err(ApiError::method_not_allowed(req, allow)));
        }
        std::future::ready(parsed.map(Id).ok_or_else(|| {
            ApiError::fields(
                ErrorCode::InvalidParameter,
                vec![FieldViolation::new(
                    "id",
                    "invalid_uuid",
                    "id must be a UUID",
                )],
            )
        }))
    }
}

/// What `If-Match` accepts besides `*`: a version as an ETag (`"3"`, `W/"3"`) or bare.
pub const ETAG_PATTERN: &str = r#"^(\*|(W/)?"[0-9]{1,18}"|[0-9]{1,18})$"#;

/// The version in an ETag matching [`ETAG_PATTERN`].
fn parse_etag(s: &str) -> Option<i64> {
    let (weak, s) = match s.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let digits = match s.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?,
        None if !weak => s,
        None => return None,
    };
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The version an `If-Match` header names (`"3"`, `W/"3"` or `3`); `None` when absent
/// or `*`.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.headers().get(header::IF_MATCH) {
            None => Ok(IfMatch(None)),
            Some(v) => {
                let s = v.to_str().unwrap_or_default().trim();
                if s == "*" {
                    Ok(IfMatch(None))
                } else {
                    parse_etag(s).map(|n| IfMatch(Some(n))).ok_or_else(|| {
                        ApiError::fields(
                            ErrorCode::InvalidParameter,
                            vec![FieldViolation::new(
                                "If-Match",
                                "invalid_etag",
                                "If-Match must be an ETag this API sent, like \"3\"",
                            )],
                        )
                    })
                }
            }
        };
        std::future::ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        quantity: u32,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        lines: Vec<Line>,
    }

    fn field_of(r: Result<Body, ApiError>) -> (u16, String) {
        let e = r.err().unwrap_or_else(|| panic!("should fail"));
        (
            e.code.status().as_u16(),
            e.errors
                .first()
                .map(|f| f.field.clone())
                .unwrap_or_default(),
        )
    }

    #[test]
    fn etags_are_read_exactly_as_the_spec_writes_them() {
        for (raw, want) in [("\"3\"", Some(3)), ("W/\"12\"", Some(12)), ("7", Some(7))] {
            assert_eq!(parse_etag(raw), want, "{raw}");
        }
        for raw in [
            "",
            "\"\"",
            "W/3",
            "+3",
            "-3",
            "\"3",
            "null",
            "\"3\"\"",
            "1234567890123456789",
        ] {
            assert_eq!(parse_etag(raw), None, "{raw}");
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        assert_eq!(
            field_of(parse_json(
                br#"{"name": "a", "lines": [{"quantity": "x"}]}"#
            )),
            (422, "lines[0].quantity".into())
        );
        assert_eq!(
            field_of(parse_json(br#"{"lines": []}"#)),
            (422, "name".into())
        );
        assert_eq!(
            field_of(parse_json(br#"{"name": "a", "lines": [], "extra": 1}"#)),
            (422, "extra".into())
        );
        assert_eq!(
            field_of(parse_json(br#"{"name": "a", "lines": [{"quantity": -1}]}"#)),
            (422, "lines[0].quantity".into())
        );
        assert_eq!(field_of(parse_json(br#"{"name": "a""#)).0, 400);
        assert_eq!(field_of(parse_json(b"")).0, 400);
        assert_eq!(
            field_of(parse_json(br#"{"name": "a", "lines": []} trailing"#)).0,
            400
        );
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Params {
        per_page: Option<u32>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = parse_query::<Params>("per_page=abc")
            .err()
            .unwrap_or_else(|| panic!("should fail"));
        assert_eq!(e.code.status().as_u16(), 400);
        assert_eq!(e.errors[0].field, "per_page");
        assert!(parse_query::<Params>("per_page=20").is_ok());
    }
}
