//! Conventions every endpoint shares: problem+json, body limits, request ids, health,
//! metrics, docs and CORS.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn malformed_json_is_400_and_wrong_media_type_415() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/customers", app.address);
    let rb = app
        .client
        .post(&url)
        .bearer_auth(&app.admin)
        .header("content-type", "application/json")
        .body("{\"name\": ");
    app.send(rb).await.expect_problem(400, "malformed_json");
    let rb = app
        .client
        .post(&url)
        .bearer_auth(&app.admin)
        .header("content-type", "application/json")
        .body("");
    app.send(rb).await.expect_problem(400, "malformed_json");
    let rb = app
        .client
        .post(&url)
        .bearer_auth(&app.admin)
        .header("content-type", "text/plain")
        .body("{\"name\": \"x\"}");
    app.send(rb)
        .await
        .expect_problem(415, "unsupported_media_type");
    assert_eq!(
        app.get("/api/v1/customers?include_total=true", &app.admin)
            .await
            .expect(200)
            .body["total"],
        0
    );
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let app = spawn_app().await;
    let huge = json!({"name": "big", "notes": "x".repeat(1024 * 1024)});
    app.post("/api/v1/customers", &app.admin, huge)
        .await
        .expect_problem(413, "payload_too_large");
    // Just under the limit is parsed (and then refused for its notes' length, not size).
    let near = json!({"name": "big", "notes": "x".repeat(1000 * 1000)});
    app.post("/api/v1/customers", &app.admin, near)
        .await
        .expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn unknown_routes_are_problem_404() {
    let app = spawn_app().await;
    app.get("/api/v1/nothing-here", &app.admin)
        .await
        .expect_problem(404, "not_found");
    app.request(Method::GET, "/nope", None, None)
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let app = spawn_app().await;
    let r = app
        .request(Method::PUT, "/api/v1/customers", Some(&app.admin), None)
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
    let id = app.customer(&app.admin, "Acme", json!({})).await;
    let r = app
        .request(
            Method::POST,
            &format!("/api/v1/customers/{id}"),
            Some(&app.admin),
            None,
        )
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET, PATCH, DELETE"));
    let r = app
        .request(Method::from_bytes(b"TRACE").unwrap(), "/health", None, None)
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET"));
    app.request(Method::PUT, "/api/v1/no-such-thing", Some(&app.admin), None)
        .await
        .expect_problem(404, "not_found");
    // A literal path beside a parameter template is the one meant.
    let r = app
        .request(
            Method::PATCH,
            "/api/v1/customers/export",
            Some(&app.admin),
            Some(json!({})),
        )
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET"));
}

#[tokio::test]
async fn a_body_is_an_object_and_a_path_tag_is_a_tag() {
    let app = spawn_app().await;
    let id = app.customer(&app.admin, "Acme", json!({})).await;
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            Some(&app.admin),
            Some(json!([null, null])),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["body".to_owned()]);
    let rb = app
        .client
        .post(format!("{}/api/v1/customers", app.address))
        .bearer_auth(&app.admin)
        .header("content-type", "application/json")
        .body("nonsense");
    app.send(rb).await.expect_problem(400, "malformed_json");
    let r = app
        .delete(
            &format!("/api/v1/customers/{id}/tags/{}", "t".repeat(51)),
            &app.admin,
        )
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["tag".to_owned()]);
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = spawn_app().await;
    let rb = app
        .client
        .get(format!("{}/health", app.address))
        .header("X-Request-Id", "trace-me-42");
    assert_eq!(
        app.send(rb).await.header("x-request-id").as_deref(),
        Some("trace-me-42")
    );
    let r = app.request(Method::GET, "/api/v1/me", None, None).await;
    assert!(
        r.header("x-request-id").is_some_and(|id| id.len() >= 16),
        "errors carry one too"
    );
}

#[tokio::test]
async fn responses_are_not_sniffed_and_api_answers_not_cached() {
    let app = spawn_app().await;
    let me = app.get("/api/v1/me", &app.admin).await.expect(200);
    assert_eq!(
        me.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(me.header("cache-control").as_deref(), Some("no-store"));
    let err = app
        .request(Method::GET, "/api/v1/me", None, None)
        .await
        .expect(401);
    assert_eq!(err.header("cache-control").as_deref(), Some("no-store"));
    let health = app.request(Method::GET, "/health", None, None).await;
    assert_eq!(
        health.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

#[tokio::test]
async fn health_ready_metrics_and_docs() {
    let app = spawn_app().await;
    assert_eq!(
        app.request(Method::GET, "/health", None, None)
            .await
            .expect(200)
            .body,
        json!({"status": "ok"})
    );
    assert_eq!(
        app.request(Method::GET, "/ready", None, None)
            .await
            .expect(200)
            .body,
        json!({"status": "ok", "oldest_undelivered_event_age_secs": null})
    );
    app.get("/api/v1/customers", &app.admin).await.expect(200);
    // Made-up methods and unknown paths count under one label each.
    for i in 0..5 {
        let method = Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        app.request(method, &format!("/random/{i}"), None, None)
            .await
            .expect_problem(404, "not_found");
    }
    let metrics = app
        .request(Method::GET, "/metrics", None, None)
        .await
        .expect(200);
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains(
            "sims_http_requests_total{method=\"GET\",route=\"/api/v1/customers\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(!text.contains("MADEUP"), "{text}");
    assert!(
        text.contains(
            "sims_http_requests_total{method=\"OTHER\",route=\"unmatched\",status=\"404\"} 5"
        ),
        "{text}"
    );
    assert!(text.contains("sims_http_request_duration_seconds_bucket"));
    assert!(text.contains("sims_db_pool_connections"));
    assert!(
        text.contains("sims_webhook_oldest_undelivered_seconds 0"),
        "{text}"
    );
    assert!(text.contains("sims_pool_return_last_run_timestamp_seconds "));
    assert!(text.contains("sims_pool_returned_total "));
    // The statements sent move with every request that reads the database.
    let sent = |text: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix("sims_db_statements_total "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no statement count in {text}"))
    };
    let before = sent(text);
    app.get("/api/v1/customers", &app.admin).await.expect(200);
    let after = app
        .request(Method::GET, "/metrics", None, None)
        .await
        .expect(200);
    assert!(sent(after.body.as_str().unwrap()) > before);
    let spec = app
        .request(Method::GET, "/openapi.json", None, None)
        .await
        .expect(200);
    assert_eq!(spec.body["openapi"], "3.1.0");
    // What the server serves is the document the handlers describe.
    let described: serde_json::Value =
        serde_json::from_str(&sims_api::openapi::to_pretty_json()).expect("the built document");
    assert_eq!(spec.body, described);
    assert!(spec.body["paths"]["/api/v1/customers"].is_object());
    let docs = app
        .request(Method::GET, "/docs/", None, None)
        .await
        .expect(200);
    assert!(
        docs.body.as_str().unwrap().contains("swagger"),
        "Swagger UI is served offline"
    );
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = spawn_app_with(|s| s.cors_origins = vec!["https://app.example.com".into()]).await;
    let url = format!("{}/api/v1/customers", app.address);
    let pre = app
        .client
        .request(Method::OPTIONS, &url)
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization,if-match,content-type",
        );
    let r = app.send(pre).await.expect(200);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    let get = app
        .client
        .get(&url)
        .bearer_auth(&app.admin)
        .header("Origin", "https://app.example.com");
    let r = app.send(get).await.expect(200);
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_lowercase();
    for h in ["etag", "location", "x-request-id", "ratelimit-remaining"] {
        assert!(exposed.contains(h), "{h} exposed: {exposed}");
    }
    let evil = app
        .client
        .get(&url)
        .bearer_auth(&app.admin)
        .header("Origin", "https://evil.example.com");
    let r = app.send(evil).await;
    assert!(r.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_stored_value_the_code_cannot_read_is_a_logged_500_not_a_default() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let id = app.customer(&app.admin, "Corrupt Co", json!({})).await;
    let conn = sea_orm::Database::connect(&app._db.url).await.unwrap();
    let changed = conn
        .execute_unprepared("UPDATE customers SET kind = 'alien' WHERE name = 'Corrupt Co'")
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 1);
    conn.close().await.ok();
    let r = app
        .get(&format!("/api/v1/customers/{id}"), &app.admin)
        .await
        .expect_problem(500, "internal");
    assert!(
        !r.body.to_string().contains("alien"),
        "nothing stored leaks: {}",
        r.body
    );
    app.get("/api/v1/customers", &app.admin)
        .await
        .expect_problem(500, "internal");
}

/// The pool gauges count every connection the server holds on its database, whichever
/// HTTP worker holds it: on PostgreSQL each worker has a pool of its own (two workers
/// here), beside the pool start-up and the background jobs share.
#[tokio::test]
async fn the_pool_gauge_counts_the_connections_of_every_worker() {
    use sea_orm::ConnectionTrait;
    let db = TestDb::create().await;
    let url = db.url.clone();
    let app = spawn_app_on(db, |_| {}).await;
    let burst = (0..40).map(|_| app.get("/api/v1/customers", &app.admin));
    for r in futures_util::future::join_all(burst).await {
        r.expect(200);
    }
    let metrics = app
        .request(Method::GET, "/metrics", None, None)
        .await
        .expect(200);
    let gauge: i64 = metrics
        .body
        .as_str()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("sims_db_pool_connections "))
        })
        .and_then(|n| n.trim().parse().ok())
        .expect("sims_db_pool_connections");
    assert!(gauge >= 1, "{gauge}");
    if !url.starts_with("postgres") {
        return;
    }
    // The burst reached both workers, which opened connections of their own, and the
    // shared pool keeps one.
    assert!(gauge >= 3, "{gauge}");
    let conn = sea_orm::Database::connect(url.as_str())
        .await
        .expect("connect");
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
        ))
        .await
        .expect("count the connections");
    let open = rows.len() as i64;
    conn.close().await.ok();
    // The one connection outside every pool listens for changes to users.
    assert!(
        (gauge..=gauge + 1).contains(&open),
        "the gauge says {gauge}, the database sees {open}"
    );
}
