//! The committed OpenAPI document matches what the code generates, and documents every
//! operation the way SDK generators need.

use std::collections::HashSet;

#[test]
fn committed_spec_matches_the_code() {
    let generated = sims_api::openapi::to_pretty_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

/// Every `$ref` names a component the document holds (a schema used only by a query
/// parameter is not collected by itself, and generators then fail).
#[test]
fn every_reference_resolves() {
    fn walk(node: &serde_json::Value, doc: &serde_json::Value, missing: &mut Vec<String>) {
        match node {
            serde_json::Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                    let pointer = r.trim_start_matches('#');
                    if doc.pointer(pointer).is_none() {
                        missing.push(r.to_owned());
                    }
                }
                for v in map.values() {
                    walk(v, doc, missing);
                }
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    walk(v, doc, missing);
                }
            }
            _ => {}
        }
    }
    let doc: serde_json::Value =
        serde_json::from_str(&sims_api::openapi::to_pretty_json()).unwrap();
    let mut missing = vec![];
    walk(&doc, &doc, &mut missing);
    assert!(missing.is_empty(), "dangling references: {missing:?}");
}

#[test]
fn every_operation_has_a_unique_id_one_tag_and_documented_errors() {
    let doc: serde_json::Value =
        serde_json::from_str(&sims_api::openapi::to_pretty_json()).unwrap();
    let mut ids = HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{id} is not verb_noun"
            );
            assert!(ids.insert(id.to_owned()), "{id} is not unique");
            assert_eq!(
                op["tags"].as_array().map(Vec::len),
                Some(1),
                "{id} has one tag"
            );
            // Bearer security is declared once for the document; public operations
            // override it with an empty requirement.
            let public = op["security"] == serde_json::json!([{}]);
            let secured = !public;
            if secured {
                assert!(op["responses"].get("401").is_some(), "{id} documents 401");
            }
            if path.contains("{id}") {
                assert!(
                    op["responses"].get("404").is_some() || op["responses"].get("400").is_some(),
                    "{id} documents bad ids"
                );
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(doc["security"], serde_json::json!([{"bearer": []}]));
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    for id in [
        "list_customers",
        "get_customer",
        "create_customer",
        "update_customer",
        "delete_customer",
        "login",
        "refresh_token",
        "logout",
        "get_me",
    ] {
        assert!(ids.contains(id), "{id} missing");
    }
}
