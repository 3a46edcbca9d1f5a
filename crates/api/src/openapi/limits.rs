//! The limits the domain enforces, written into the document: every string gets the
//! `maxLength` (and where there is one, the `pattern`) that the server applies, every
//! integer its range, every array its most items, every response the rate-limit headers.
//!
//! The tables name the domain's own constants, so a limit changes in one place. A string,
//! integer or array the tables do not cover is left bare, and the committed lint
//! configuration (`.spectral.yaml`) fails on it: a new field cannot ship without its limit.

use serde_json::{Map, Value, json};
use sims_domain::api_key::PREFIX_LEN;
use sims_domain::catalog::{SKU_MAX, UNIT_MAX};
use sims_domain::customer::{MAX_MATCHES, MAX_TAGS};
use sims_domain::import::MAX_REPORTED;
use sims_domain::listing::{CURSOR_MAX, MAX_OFFSET_ITEMS, MAX_PER_PAGE, QUERY_VALUE_MAX};
use sims_domain::money::{DECIMAL_PATTERN, DECIMAL_TEXT_MAX};
use sims_domain::order::MAX_ORDER_LINES;
use sims_domain::payment::MAX_INSTALMENTS;
use sims_domain::pipeline::{LOST_REASON_MAX, MAX_STAGES, POSITION_MAX, PROBABILITY_MAX};
use sims_domain::pool::{
    COOLDOWN_RANGE, MAX_OWNED_RANGE, RETURN_AFTER_RANGE, RETURNING_WITHIN_MAX,
};
use sims_domain::values::{
    ADDRESS_MAX, EMAIL_MAX, NAME_MAX, NOTES_MAX, PASSWORD_MAX, PASSWORD_MIN, PHONE_MAX,
    SHORT_TEXT_MAX, TAG_MAX,
};
use sims_domain::{payment, report, stock, webhook};

use crate::csv::{COLUMN_NAME_MAX, MAX_COLUMNS};
use crate::error::{DETAIL_MAX, ERRORS_MAX, FIELD_NAME_MAX};
use crate::extract::ETAG_PATTERN;

/// A limit on one string: most characters, and optionally fewest and a pattern.
#[derive(Clone, Copy)]
struct Text {
    max: usize,
    min: Option<usize>,
    pattern: Option<&'static str>,
}

const fn text(max: usize) -> Text {
    Text {
        max,
        min: None,
        pattern: None,
    }
}

const fn required(max: usize) -> Text {
    Text {
        max,
        min: Some(1),
        pattern: None,
    }
}

const DECIMAL: Text = Text {
    max: DECIMAL_TEXT_MAX,
    min: None,
    pattern: Some(DECIMAL_PATTERN),
};

/// Longest order number (`SO-202611-000123`).
const ORDER_NUMBER_MAX: usize = 32;
/// Longest opaque token the API issues or accepts (refresh tokens, API keys).
const TOKEN_MAX: usize = 256;
/// Longest access token (a JWT) the API issues.
const JWT_MAX: usize = 4096;
/// Longest `X-Request-Id` kept (a longer one is replaced by a fresh id).
const REQUEST_ID_MAX: usize = 200;
/// Longest ETag the API sends (a version number in quotes).
const ETAG_MAX: usize = 32;
/// Longest `Location` the API sends.
const LOCATION_MAX: usize = 2048;
/// Longest `Allow` the API sends (every method).
const ALLOW_MAX: usize = 64;
/// Longest `Idempotency-Key` accepted.
const IDEMPOTENCY_KEY_MAX: usize = 255;
/// Longest stable error code or problem type.
const CODE_MAX: usize = 64;
/// Longest problem title or type URI.
const TITLE_MAX: usize = 200;
/// Longest event type name (`opportunity.stage_changed`), or `*`.
const WEBHOOK_EVENT_MAX: usize = 40;
/// Longest description of a webhook subscription.
const WEBHOOK_DESCRIPTION_MAX: usize = crate::routes::webhooks::DESCRIPTION_MAX;

/// String limits by `Schema.property` (checked first) or by property name.
const STRINGS: &[(&str, Text)] = &[
    ("name", required(NAME_MAX)),
    ("company", text(NAME_MAX)),
    ("title", text(SHORT_TEXT_MAX)),
    ("industry", text(SHORT_TEXT_MAX)),
    ("source", text(SHORT_TEXT_MAX)),
    ("province", text(SHORT_TEXT_MAX)),
    ("city", text(SHORT_TEXT_MAX)),
    ("category", text(SHORT_TEXT_MAX)),
    ("address", text(ADDRESS_MAX)),
    ("notes", text(NOTES_MAX)),
    ("content", required(NOTES_MAX)),
    ("email", text(EMAIL_MAX)),
    ("phone", text(PHONE_MAX)),
    ("tags[]", required(TAG_MAX)),
    ("tag", text(TAG_MAX)),
    ("sku", required(SKU_MAX)),
    ("code", required(SKU_MAX)),
    ("unit", required(UNIT_MAX)),
    (
        "currency",
        Text {
            max: 3,
            min: Some(3),
            pattern: Some("^[A-Z]{3}$"),
        },
    ),
    ("lost_reason", text(LOST_REASON_MAX)),
    ("url", required(webhook::URL_MAX)),
    ("events[]", required(WEBHOOK_EVENT_MAX)),
    ("CreateWebhook.description", text(WEBHOOK_DESCRIPTION_MAX)),
    ("UpdateWebhook.description", text(WEBHOOK_DESCRIPTION_MAX)),
    ("WebhookView.description", text(WEBHOOK_DESCRIPTION_MAX)),
    ("WebhookCreated.description", text(WEBHOOK_DESCRIPTION_MAX)),
    ("WebhookCreated.secret", text(TOKEN_MAX)),
    ("reason", required(stock::REASON_MAX)),
    ("reference", text(stock::REFERENCE_MAX)),
    ("CreatePayment.reference", text(payment::REFERENCE_MAX)),
    ("PaymentView.reference", text(payment::REFERENCE_MAX)),
    ("password", text(PASSWORD_MAX)),
    (
        "CreateUser.password",
        Text {
            max: PASSWORD_MAX,
            min: Some(PASSWORD_MIN),
            pattern: None,
        },
    ),
    (
        "UpdateUser.password",
        Text {
            max: PASSWORD_MAX,
            min: Some(PASSWORD_MIN),
            pattern: None,
        },
    ),
    ("current_password", text(PASSWORD_MAX)),
    (
        "new_password",
        Text {
            max: PASSWORD_MAX,
            min: Some(PASSWORD_MIN),
            pattern: None,
        },
    ),
    ("refresh_token", text(TOKEN_MAX)),
    ("api_key", required(TOKEN_MAX)),
    ("secret", text(TOKEN_MAX)),
    ("prefix", text(PREFIX_LEN)),
    ("access_token", text(JWT_MAX)),
    ("next_cursor", text(CURSOR_MAX)),
    ("number", text(ORDER_NUMBER_MAX)),
    ("request_id", text(REQUEST_ID_MAX)),
    ("ignored_columns[]", text(COLUMN_NAME_MAX)),
    ("Problem.type", text(TITLE_MAX)),
    ("Problem.title", text(TITLE_MAX)),
    ("Problem.detail", text(DETAIL_MAX)),
    ("Problem.code", text(CODE_MAX)),
    ("ProblemField.code", text(CODE_MAX)),
    ("RowError.code", text(CODE_MAX)),
    ("field", text(FIELD_NAME_MAX)),
    ("message", text(DETAIL_MAX)),
    // Decimal strings: amounts, prices, quantities, percents.
    ("amount", DECIMAL),
    ("quantity", DECIMAL),
    ("available", DECIMAL),
    ("list_price", DECIMAL),
    ("cost", DECIMAL),
    ("tax_rate", DECIMAL),
    ("reorder_point", DECIMAL),
    ("discount_percent", DECIMAL),
    ("unit_price", DECIMAL),
    ("total", DECIMAL),
    // Reports: keys are periods (`2026-11-03`, `2026-W45`, `2026-11`) or ids; rates and
    // day averages are short decimals.
    ("SalesRow.key", text(36)),
    ("SalesRow.label", text(NAME_MAX)),
    ("NewCustomersRow.key", text(10)),
    ("customer_name", text(NAME_MAX)),
    ("month", text(7)),
    ("win_rate", text(8)),
    ("attainment", text(DECIMAL_TEXT_MAX)),
    ("average_days_to_win", text(DECIMAL_TEXT_MAX)),
];

/// Query parameters: by name, else [`QUERY_VALUE_MAX`] (the extractor's rule).
const QUERY_STRINGS: &[(&str, Text)] = &[
    (
        "after",
        Text {
            max: CURSOR_MAX,
            min: Some(1),
            pattern: None,
        },
    ),
    (
        "sort",
        Text {
            max: QUERY_VALUE_MAX,
            min: None,
            pattern: Some("^([+-]?[a-z_]{1,40}(,[+-]?[a-z_]{1,40}){0,2})?$"),
        },
    ),
    ("amount_min", DECIMAL),
    ("amount_max", DECIMAL),
    ("total_min", DECIMAL),
    ("total_max", DECIMAL),
];

/// Headers, sent or answered.
const HEADER_STRINGS: &[(&str, Text)] = &[
    (
        "If-Match",
        Text {
            max: ETAG_MAX,
            min: Some(1),
            pattern: Some(ETAG_PATTERN),
        },
    ),
    (
        "Idempotency-Key",
        Text {
            max: IDEMPOTENCY_KEY_MAX,
            min: Some(1),
            pattern: Some("^[!-~]+$"),
        },
    ),
    ("ETag", text(ETAG_MAX)),
    ("Allow", text(ALLOW_MAX)),
    ("Location", text(LOCATION_MAX)),
];

/// The limit of a string in `format`, whatever its name.
fn by_format(format: &str) -> Option<Text> {
    match format {
        "uuid" => Some(text(36)),
        "date" => Some(text(10)),
        "date-time" => Some(text(64)),
        _ => None,
    }
}

const I64: i64 = i64::MAX;
/// The largest integer JavaScript clients read exactly.
const SAFE: i64 = (1 << 53) - 1;

fn range(r: (u32, u32)) -> (i64, i64) {
    (i64::from(r.0), i64::from(r.1))
}

/// Integer ranges by `Schema.property`, by property name, or by parameter name.
fn integer_range(owner: &str, prop: &str) -> Option<(i64, i64)> {
    let qualified = format!("{owner}.{prop}");
    Some(match (qualified.as_str(), prop) {
        ("Problem.status", _) => (400, 599),
        (_, "version") => (1, SAFE),
        (_, "page") => (1, i64::from(MAX_OFFSET_ITEMS)),
        (op, "per_page") if op.ends_with("_report.per_page") => (1, i64::from(report::ROWS_MAX)),
        (_, "per_page") => (1, i64::from(MAX_PER_PAGE)),
        (_, "total" | "count" | "rows" | "valid" | "invalid" | "created" | "returned") => (0, SAFE),
        (_, "line" | "duplicate_of_line") => (1, SAFE),
        (_, "expires_in") => (1, i64::from(u32::MAX)),
        (_, "position") => (0, i64::from(POSITION_MAX)),
        (_, "probability") => (0, i64::from(PROBABILITY_MAX)),
        (_, "max_owned_per_rep") => range(MAX_OWNED_RANGE),
        (_, "return_after_days") => range(RETURN_AFTER_RANGE),
        (_, "reclaim_cooldown_days") => range(COOLDOWN_RANGE),
        (_, "within_days") => (0, i64::from(RETURNING_WITHIN_MAX)),
        (_, "orders" | "won" | "lost" | "new_customers" | "total_new" | "days_past_due") => {
            (0, SAFE)
        }
        ("IdleCustomers.days", _) => (1, 3650),
        (_, "RateLimit-Limit" | "RateLimit-Remaining") => (0, i64::from(u32::MAX)),
        (_, "RateLimit-Reset") => (0, 60),
        (_, "Retry-After") => (0, I64),
        ("DeliveryView.attempts", _) => (0, i64::from(webhook::MAX_ATTEMPTS)),
        ("DeliveryView.last_status_code", _) => (100, 599),
        ("DeliveryView.last_latency_ms", _) => (0, I64),
        ("Readiness.oldest_undelivered_event_age_secs", _) => (0, I64),
        _ => return None,
    })
}

/// Most items of an array by `Schema.property` or property name.
fn array_max(owner: &str, prop: &str) -> Option<usize> {
    let qualified = format!("{owner}.{prop}");
    Some(match (qualified.as_str(), prop) {
        ("ImportReport.errors", _) => MAX_REPORTED,
        ("Problem.errors", _) => ERRORS_MAX,
        ("StageList.items", _) => MAX_STAGES,
        ("CreateOrder.lines" | "UpdateOrder.lines" | "OrderView.lines", _) => MAX_ORDER_LINES,
        (_, "lines" | "movements") => stock::MAX_LINES,
        (_, "tags") => MAX_TAGS,
        (_, "instalments") => MAX_INSTALMENTS,
        (_, "matches") => MAX_MATCHES,
        (_, "events") => webhook::MAX_EVENT_TYPES,
        ("MergeCustomers.from_ids", _) => sims_domain::merge::MAX_MERGED,
        // A path down the team tree: far deeper than any sales organisation, stated so
        // that clients can bound what they read.
        ("AccessDetail.team_path", _) => 10_000,
        (_, "ignored_columns") => MAX_COLUMNS,
        ("FunnelReport.stages", _) => MAX_STAGES,
        // Report rows come in pages of at most ROWS_MAX; a forecast covers at most five
        // years of months.
        ("ForecastReport.months", _) => 61,
        (_, "rows") if owner.ends_with("Report") => report::ROWS_MAX as usize,
        (_, "items") if owner.starts_with("PageOf_") || owner.ends_with("Page") => {
            MAX_PER_PAGE as usize
        }
        _ => return None,
    })
}

fn lookup(table: &[(&str, Text)], owner: &str, prop: &str) -> Option<Text> {
    let qualified = format!("{owner}.{prop}");
    table
        .iter()
        .find(|(k, _)| *k == qualified)
        .or_else(|| table.iter().find(|(k, _)| *k == prop))
        .map(|(_, t)| *t)
}

fn has_type(schema: &Map<String, Value>, t: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(a)) => a.iter().any(|v| v == t),
        _ => false,
    }
}

/// Where a schema sits, which decides the table its strings are looked up in.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Body,
    Query,
    Path,
    Header,
}

/// Applies the limits to one schema node and everything below it.
fn limit(node: &mut Value, place: Place, owner: &str, prop: &str) {
    let Value::Object(schema) = node else {
        if let Value::Array(items) = node {
            for v in items {
                limit(v, place, owner, prop);
            }
        }
        return;
    };
    if has_type(schema, "string")
        && !["maxLength", "enum", "const"]
            .iter()
            .any(|k| schema.contains_key(*k))
    {
        let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
        let found = by_format(format).or_else(|| match place {
            Place::Body => lookup(STRINGS, owner, prop),
            Place::Query => lookup(QUERY_STRINGS, owner, prop).or(Some(text(QUERY_VALUE_MAX))),
            Place::Path => lookup(STRINGS, owner, prop),
            Place::Header => lookup(HEADER_STRINGS, owner, prop),
        });
        if let Some(t) = found {
            schema.insert("maxLength".into(), json!(t.max));
            if let Some(min) = t.min {
                schema.insert("minLength".into(), json!(min));
            }
            if let Some(p) = t.pattern {
                schema.insert("pattern".into(), json!(p));
            }
        }
    }
    if has_type(schema, "integer") {
        if let Some((lo, hi)) = integer_range(owner, prop) {
            schema.entry("minimum").or_insert(json!(lo));
            schema.insert("maximum".into(), json!(hi));
        }
        schema.entry("format").or_insert(json!("int64"));
    }
    if has_type(schema, "array")
        && !schema.contains_key("maxItems")
        && let Some(max) = array_max(owner, prop)
    {
        schema.insert("maxItems".into(), json!(max));
    }
    for (key, child) in schema.iter_mut() {
        match key.as_str() {
            "properties" => {
                if let Value::Object(props) = child {
                    for (name, p) in props.iter_mut() {
                        limit(p, place, owner, name);
                    }
                }
            }
            "items" => limit(child, place, owner, &format!("{prop}[]")),
            "oneOf" | "anyOf" | "allOf" => limit(child, place, owner, prop),
            _ => {}
        }
    }
}

/// The `RateLimit-*` headers every response carries while the budget is on.
fn rate_limit_headers() -> Map<String, Value> {
    let header = |description: &str, prop: &str| {
        let mut schema = json!({"type": "integer"});
        limit(&mut schema, Place::Header, "", prop);
        json!({"description": description, "schema": schema})
    };
    let mut m = Map::new();
    m.insert(
        "RateLimit-Limit".into(),
        header(
            "Requests allowed in the current one-minute window",
            "RateLimit-Limit",
        ),
    );
    m.insert(
        "RateLimit-Remaining".into(),
        header("Requests left in the current window", "RateLimit-Remaining"),
    );
    m.insert(
        "RateLimit-Reset".into(),
        header("Seconds until the window resets", "RateLimit-Reset"),
    );
    m
}

/// Adds references to the rate-limit headers to one response object.
fn add_rate_limit_headers(response: &mut Value) {
    let Value::Object(r) = response else { return };
    if r.contains_key("$ref") {
        return;
    }
    let headers = r
        .entry("headers")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(h) = headers {
        for name in ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"] {
            h.entry(name)
                .or_insert_with(|| json!({"$ref": format!("#/components/headers/{name}")}));
        }
    }
}

/// Applies every limit to the document.
pub fn apply(doc: &mut Value) {
    if let Some(Value::Object(components)) = doc.get_mut("components") {
        if let Some(Value::Object(schemas)) = components.get_mut("schemas") {
            for (name, schema) in schemas.iter_mut() {
                limit(schema, Place::Body, name, "");
            }
        }
        if let Some(Value::Object(responses)) = components.get_mut("responses") {
            for r in responses.values_mut() {
                add_rate_limit_headers(r);
                limit_response(r, "");
            }
        }
        components.insert("headers".into(), Value::Object(rate_limit_headers()));
    }
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for item in paths.values_mut() {
        let Value::Object(ops) = item else { continue };
        for op in ops.values_mut() {
            let Value::Object(op) = op else { continue };
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if let Some(Value::Array(params)) = op.get_mut("parameters") {
                for p in params {
                    let name = p["name"].as_str().unwrap_or_default().to_owned();
                    let place = match p["in"].as_str() {
                        Some("query") => Place::Query,
                        Some("path") => Place::Path,
                        _ => Place::Header,
                    };
                    if let Some(schema) = p.get_mut("schema") {
                        limit(schema, place, &id, &name);
                    }
                }
            }
            if let Some(Value::Object(content)) =
                op.get_mut("requestBody").and_then(|b| b.get_mut("content"))
            {
                for media in content.values_mut() {
                    if let Some(schema) = media.get_mut("schema") {
                        limit(schema, Place::Body, &id, "");
                    }
                }
            }
            if let Some(Value::Object(responses)) = op.get_mut("responses") {
                for r in responses.values_mut() {
                    add_rate_limit_headers(r);
                    limit_response(r, &id);
                }
            }
        }
    }
}

/// Limits a response's headers and inline body schemas.
fn limit_response(response: &mut Value, owner: &str) {
    if let Some(Value::Object(headers)) = response.get_mut("headers") {
        for (name, h) in headers.iter_mut() {
            if let Some(schema) = h.get_mut("schema") {
                limit(schema, Place::Header, owner, name);
            }
        }
    }
    if let Some(Value::Object(content)) = response.get_mut("content") {
        for media in content.values_mut() {
            if let Some(schema) = media.get_mut("schema") {
                limit(schema, Place::Body, owner, "");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_take_the_limit_of_their_field() {
        let mut doc = json!({"components": {"schemas": {
            "CreateCustomer": {"type": "object", "properties": {
                "name": {"type": "string"},
                "notes": {"type": ["string", "null"]},
                "owner_id": {"type": ["string", "null"], "format": "uuid"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "unknown": {"type": "string"}
            }},
            "CreatePayment": {"type": "object", "properties": {
                "reference": {"type": "string"}, "amount": {"type": "string"}
            }}
        }}});
        apply(&mut doc);
        let c = &doc["components"]["schemas"]["CreateCustomer"]["properties"];
        assert_eq!(c["name"]["maxLength"], json!(NAME_MAX));
        assert_eq!(c["name"]["minLength"], json!(1));
        assert_eq!(c["notes"]["maxLength"], json!(NOTES_MAX));
        assert_eq!(c["owner_id"]["maxLength"], json!(36));
        assert_eq!(c["tags"]["maxItems"], json!(MAX_TAGS));
        assert_eq!(c["tags"]["items"]["maxLength"], json!(TAG_MAX));
        assert!(
            c["unknown"].get("maxLength").is_none(),
            "a field no table names stays bare, for the lint to catch"
        );
        let p = &doc["components"]["schemas"]["CreatePayment"]["properties"];
        assert_eq!(p["reference"]["maxLength"], json!(payment::REFERENCE_MAX));
        assert_eq!(p["amount"]["pattern"], json!(DECIMAL_PATTERN));
    }

    #[test]
    fn responses_carry_the_rate_limit_headers() {
        let mut doc = json!({"components": {}, "paths": {"/x": {"get": {
            "operationId": "get_x",
            "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "ok"}, "401": {"$ref": "#/components/responses/Unauthorized"}}
        }}}});
        apply(&mut doc);
        let op = &doc["paths"]["/x"]["get"];
        assert_eq!(
            op["responses"]["200"]["headers"]["RateLimit-Limit"]["$ref"],
            "#/components/headers/RateLimit-Limit"
        );
        assert!(
            op["responses"]["401"].get("headers").is_none(),
            "refs are left alone"
        );
        assert_eq!(
            op["parameters"][0]["schema"]["maximum"],
            json!(MAX_OFFSET_ITEMS)
        );
        assert_eq!(
            doc["components"]["headers"]["RateLimit-Reset"]["schema"]["maximum"],
            json!(60)
        );
    }
}
