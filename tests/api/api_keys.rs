//! API keys: issued by admins, acting as one user with that user's scope, usable as a
//! bearer or exchanged for an access token, shown once, revoked at once.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// Exchanges `secret` at `POST /auth/token`.
async fn exchange(app: &TestApp, secret: &str) -> Reply {
    app.request(
        Method::POST,
        "/api/v1/auth/token",
        None,
        Some(json!({"api_key": secret})),
    )
    .await
}

/// Issues a key acting as `user_id` and returns (id, secret).
async fn issue(app: &TestApp, user_id: &str) -> (String, String) {
    let r = app
        .post(
            "/api/v1/api-keys",
            &app.admin,
            json!({"name": "ERP sync", "user_id": user_id}),
        )
        .await
        .expect(201);
    (
        r.id(),
        r.body["secret"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn a_key_acts_as_its_user_with_that_users_scope() {
    let app = spawn_app().await;
    let (rep, rep_token) = app.user("sales", None).await;
    let (_, other) = app.user("sales", None).await;
    let own = app.customer(&rep_token, "Rep's own", json!({})).await;
    let theirs = app.customer(&other, "Someone else's", json!({})).await;

    let r = app
        .post(
            "/api/v1/api-keys",
            &app.admin,
            json!({"name": "ERP sync", "user_id": rep}),
        )
        .await
        .expect(201);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("sims_") && secret.len() >= 37,
        "{secret}"
    );
    assert_eq!(r.body["prefix"], secret[..12]);
    assert_eq!(r.body["user_id"], rep);
    assert!(r.body["last_used_at"].is_null());
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/api-keys/{}", r.id()))
    );

    let me = app.get("/api/v1/me", &secret).await.expect(200);
    assert_eq!(me.body["id"], rep);
    app.get(&format!("/api/v1/customers/{own}"), &secret)
        .await
        .expect(200);
    app.get(&format!("/api/v1/customers/{theirs}"), &secret)
        .await
        .expect_problem(404, "not_found");

    let listed = app.get("/api/v1/api-keys", &app.admin).await.expect(200);
    let item = &listed.body["items"][0];
    assert!(item.get("secret").is_none(), "never shown again: {item}");
    assert_eq!(item["prefix"], secret[..12]);
    let used = item["last_used_at"].as_str().expect("last_used_at is set");
    // A second use within the minute writes nothing.
    app.get("/api/v1/me", &secret).await.expect(200);
    let again = app.get("/api/v1/api-keys", &app.admin).await.expect(200);
    assert_eq!(again.body["items"][0]["last_used_at"], used);
}

#[tokio::test]
async fn a_key_exchanges_for_an_access_token() {
    let app = spawn_app().await;
    let (rep, _) = app.user("sales", None).await;
    let (_, secret) = issue(&app, &rep).await;
    let r = exchange(&app, &secret).await.expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(r.body.get("refresh_token").is_none());
    assert!(r.body["expires_in"].as_i64().unwrap_or(0) > 0);
    let token = r.body["access_token"].as_str().unwrap().to_owned();
    let me = app.get("/api/v1/me", &token).await.expect(200);
    assert_eq!(me.body["id"], rep);
    for bad in ["sims_not-a-key", "not-even-the-form"] {
        exchange(&app, bad)
            .await
            .expect_problem(401, "unauthorized");
    }
}

#[tokio::test]
async fn revocation_and_deactivation_take_effect_at_once() {
    let app = spawn_app().await;
    let (rep, _) = app.user("sales", None).await;
    let (id, secret) = issue(&app, &rep).await;
    let exchanged = exchange(&app, &secret).await.expect(200).body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&format!("/api/v1/api-keys/{id}"), &app.admin)
        .await
        .expect(204);
    app.get("/api/v1/me", &secret)
        .await
        .expect_problem(401, "unauthorized");
    app.get("/api/v1/me", &exchanged)
        .await
        .expect_problem(401, "unauthorized");
    app.delete(&format!("/api/v1/api-keys/{id}"), &app.admin)
        .await
        .expect_problem(404, "not_found");
    let listed = app
        .get("/api/v1/api-keys?include_total=true", &app.admin)
        .await
        .expect(200);
    assert_eq!(
        listed.body["total"], 0,
        "a revoked key is gone from the list"
    );

    let (_, second) = issue(&app, &rep).await;
    app.get("/api/v1/me", &second).await.expect(200);
    app.set_active(&rep, false).await;
    app.get("/api/v1/me", &second)
        .await
        .expect_problem(401, "unauthorized");
    exchange(&app, &second)
        .await
        .expect_problem(401, "unauthorized");
}

#[tokio::test]
async fn an_expired_key_stops_working() {
    let app = spawn_app().await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let r = app
        .post(
            "/api/v1/api-keys",
            &app.admin,
            json!({"name": "short-lived", "expires_at": soon}),
        )
        .await
        .expect(201);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    app.get("/api/v1/me", &secret).await.expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    app.get("/api/v1/me", &secret)
        .await
        .expect_problem(401, "unauthorized");
}

#[tokio::test]
async fn only_admins_manage_keys_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    let (rep, rep_token) = app.user("sales", None).await;
    let calls = [
        Call::get("/api/v1/api-keys"),
        Call::post("/api/v1/api-keys", json!({"name": "mine"})),
    ];
    app.refuses(&rep_token, 403, "forbidden", calls).await;
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let r = app
        .post(
            "/api/v1/api-keys",
            &app.admin,
            json!({"name": " ", "expires_at": past}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, vec!["expires_at".to_owned(), "name".to_owned()]);
    let r = app
        .post(
            "/api/v1/api-keys",
            &app.admin,
            json!({"name": "ghost", "user_id": uuid::Uuid::now_v7()}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["user_id".to_owned()]);
    let listed = app
        .get("/api/v1/api-keys?include_total=true", &app.admin)
        .await
        .expect(200);
    assert_eq!(listed.body["total"], 0);
    // A key defaults to its issuer.
    let own = app
        .post(
            "/api/v1/api-keys",
            &app.admin,
            json!({"name": "admin tools"}),
        )
        .await
        .expect(201);
    assert_ne!(own.body["user_id"], rep);
    let audit = app
        .get("/api/v1/audit?entity=api_key", &app.admin)
        .await
        .expect(200);
    let entry = &audit.body["items"][0];
    assert_eq!(entry["action"], "create");
    assert!(
        !entry
            .to_string()
            .contains(own.body["secret"].as_str().unwrap()),
        "the audit log never holds a secret"
    );
}
