//! Sign-in, tokens, refresh rotation, logout, deactivation and rate limits.

use reqwest::Method;
use serde_json::json;
use sims_api::auth::{TokenFor, TokenKeys};

use crate::helpers::*;

/// Signs the admin in: the token pair.
async fn admin_pair(app: &TestApp) -> Reply {
    app.login_pair(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect(200)
}

/// Signs out with a refresh token (no bearer token).
async fn logout(app: &TestApp, refresh_token: &serde_json::Value) -> Reply {
    let body = json!({"refresh_token": refresh_token});
    app.request(Method::POST, "/api/v1/auth/logout", None, Some(body))
        .await
}

#[tokio::test]
async fn login_returns_a_token_pair_that_opens_me() {
    let app = spawn_app().await;
    let r = admin_pair(&app).await;
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert!(
        r.body["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 40)
    );
    let me = app
        .get("/api/v1/me", r.body["access_token"].as_str().unwrap())
        .await
        .expect(200);
    assert_eq!(me.body["email"], ADMIN_EMAIL);
    assert_eq!(me.body["role"], "admin");
    assert!(
        me.body.get("password_hash").is_none(),
        "never expose the hash"
    );
}

#[tokio::test]
async fn email_is_case_insensitive_at_login() {
    let app = spawn_app().await;
    app.login_pair("ADMIN@Example.com", ADMIN_PASSWORD)
        .await
        .expect(200);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong = app
        .login_pair(ADMIN_EMAIL, "not-the-password")
        .await
        .expect_problem(401, "unauthorized");
    let unknown = app
        .login_pair("nobody@example.com", "not-the-password")
        .await
        .expect_problem(401, "unauthorized");
    assert_eq!(wrong.body, unknown.body);
}

#[tokio::test]
async fn missing_expired_and_tampered_tokens_are_refused() {
    let app = spawn_app().await;
    app.request(Method::GET, "/api/v1/me", None, None)
        .await
        .expect_problem(401, "unauthorized");
    let admin_id = app.get("/api/v1/me", &app.admin).await.expect(200).id();
    let whom = TokenFor {
        user_id: admin_id.parse().unwrap(),
        role: "admin".into(),
        team: None,
        epoch: 0,
    };
    let expired = TokenKeys::new(JWT_SECRET, -60).issue(&whom, None).unwrap();
    let r = app
        .get("/api/v1/me", &expired)
        .await
        .expect_problem(401, "unauthorized");
    assert!(r.body["detail"].as_str().unwrap().contains("expired"));
    let mut tampered = app.admin.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    app.get("/api/v1/me", &tampered)
        .await
        .expect_problem(401, "unauthorized");
    let foreign = TokenKeys::new("some-other-secret-some-other-secret-xx", 900)
        .issue(&whom, None)
        .unwrap();
    app.get("/api/v1/me", &foreign)
        .await
        .expect_problem(401, "unauthorized");
    // Signed with our secret but for a session epoch the admin is not in.
    let stale = TokenKeys::new(JWT_SECRET, 900)
        .issue(
            &TokenFor {
                epoch: 7,
                ..whom.clone()
            },
            None,
        )
        .unwrap();
    app.get("/api/v1/me", &stale)
        .await
        .expect_problem(401, "unauthorized");
    let current = TokenKeys::new(JWT_SECRET, 900).issue(&whom, None).unwrap();
    app.get("/api/v1/me", &current).await.expect(200);
    app.get("/api/v1/me", "not-a-jwt")
        .await
        .expect_problem(401, "unauthorized");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let first = admin_pair(&app).await;
    let r1 = first.body["refresh_token"].as_str().unwrap().to_owned();
    let second = app.refresh(r1.clone()).await.expect(200);
    let r2 = second.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2, "a new refresh token every time");
    app.get("/api/v1/me", second.body["access_token"].as_str().unwrap())
        .await
        .expect(200);
    // Presenting the rotated token again is reuse: it fails and takes its family with it.
    app.refresh(r1.clone())
        .await
        .expect_problem(401, "unauthorized");
    app.refresh(r2.clone())
        .await
        .expect_problem(401, "unauthorized");
    // Another session of the same user is untouched.
    let other = admin_pair(&app).await;
    app.refresh(other.body["refresh_token"].clone())
        .await
        .expect(200);
}

#[tokio::test]
async fn unknown_refresh_token_is_unauthorized() {
    let app = spawn_app().await;
    app.refresh("made-up")
        .await
        .expect_problem(401, "unauthorized");
    app.request(Method::POST, "/api/v1/auth/refresh", None, Some(json!({})))
        .await
        .expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let pair = admin_pair(&app).await;
    let rt = pair.body["refresh_token"].clone();
    logout(&app, &rt).await.expect(204);
    app.refresh(rt.clone())
        .await
        .expect_problem(401, "unauthorized");
    logout(&app, &rt).await.expect_problem(401, "unauthorized");
}

/// Instances remember who signed-in users are between requests; on PostgreSQL a
/// deactivation through one instance reaches another at once (the database notifies every
/// listener when the change commits). SQLite is served by one process only, whose own
/// writes forget (`deactivation_takes_effect_at_once`).
#[tokio::test]
async fn a_deactivation_through_one_instance_reaches_another() {
    let app = spawn_app().await;
    if !app._db.url.starts_with("postgres") {
        return;
    }
    let other = sims_api::Application::build(test_settings(&app._db))
        .await
        .expect("a second instance");
    let second = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());
    let (email, id) = app.sales_user("roamer", "Roamer").await;
    let pair = app.login_pair(&email, PASSWORD).await.expect(200);
    let token = pair.body["access_token"].as_str().unwrap().to_owned();
    let on_second = || {
        app.client
            .get(format!("{second}/api/v1/customers"))
            .bearer_auth(&token)
            .send()
    };
    // The second instance has read and remembered the user; ask twice to be sure.
    for _ in 0..2 {
        assert_eq!(on_second().await.unwrap().status(), 200);
    }
    app.set_active(&id, false).await;
    let mut status = 200;
    for _ in 0..100 {
        status = on_second().await.unwrap().status().as_u16();
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        status, 401,
        "the second instance still serves a deactivated user"
    );
}

#[tokio::test]
async fn deactivation_takes_effect_at_once() {
    let app = spawn_app().await;
    let (email, id) = app.sales_user("leaver", "Leaver").await;
    let pair = app.login_pair(&email, PASSWORD).await.expect(200);
    let token = pair.body["access_token"].as_str().unwrap().to_owned();
    app.get("/api/v1/customers", &token).await.expect(200);
    app.set_active(&id, false).await;
    app.get("/api/v1/customers", &token)
        .await
        .expect_problem(401, "unauthorized");
    app.login_pair(&email, PASSWORD)
        .await
        .expect_problem(401, "unauthorized");
    app.refresh(pair.body["refresh_token"].clone())
        .await
        .expect_problem(401, "unauthorized");
    // Reactivated, they sign in again.
    app.set_active(&id, true).await;
    app.login_pair(&email, PASSWORD).await.expect(200);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_retry_after() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.login_pair(ADMIN_EMAIL, "wrong-password!")
            .await
            .expect_problem(401, "unauthorized");
    }
    // Even the right password is refused while locked.
    let r = app
        .login_pair(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900, "retry-after {retry}");
}

#[tokio::test]
async fn success_resets_the_failure_count() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.login_pair(ADMIN_EMAIL, "wrong-password!")
            .await
            .expect(401);
    }
    admin_pair(&app).await;
    for _ in 0..4 {
        app.login_pair(ADMIN_EMAIL, "wrong-password!")
            .await
            .expect(401);
    }
    admin_pair(&app).await;
}

#[tokio::test]
async fn the_request_budget_is_published_and_enforced() {
    let app = spawn_app_with(|s| s.rate_limit.per_minute = 3).await;
    let r = app.get("/api/v1/me", &app.admin).await.expect(200);
    assert_eq!(r.header("ratelimit-limit").as_deref(), Some("3"));
    assert_eq!(r.header("ratelimit-remaining").as_deref(), Some("2"));
    assert!(r.header("ratelimit-reset").is_some());
    app.get("/api/v1/me", &app.admin).await.expect(200);
    app.get("/api/v1/me", &app.admin).await.expect(200);
    let over = app
        .get("/api/v1/me", &app.admin)
        .await
        .expect_problem(429, "rate_limited");
    assert!(over.header("retry-after").is_some());
    assert_eq!(over.header("ratelimit-remaining").as_deref(), Some("0"));
}

#[tokio::test]
async fn requests_without_credentials_have_a_budget_per_address() {
    // Four a minute, of which signing the admin in took one.
    let app = spawn_app_with(|s| s.auth.requests_per_minute_per_address = 4).await;
    let r = app
        .request(Method::GET, "/health", None, None)
        .await
        .expect(200);
    assert_eq!(r.header("ratelimit-limit").as_deref(), Some("4"));
    assert_eq!(r.header("ratelimit-remaining").as_deref(), Some("2"));
    // A token that does not work is counted against the address too.
    let r = app
        .get("/api/v1/me", "not-a-token")
        .await
        .expect_problem(401, "unauthorized");
    assert_eq!(r.header("ratelimit-remaining").as_deref(), Some("1"));
    let r = app
        .request(Method::GET, "/health", None, None)
        .await
        .expect(200);
    assert_eq!(r.header("ratelimit-remaining").as_deref(), Some("0"));
    let over = app
        .login_pair(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
    assert!(over.header("retry-after").is_some());
    assert_eq!(over.header("ratelimit-remaining").as_deref(), Some("0"));
    // A signed-in caller's budget is their own.
    app.get("/api/v1/me", &app.admin).await.expect(200);
}

#[tokio::test]
async fn many_failures_from_one_address_are_limited_across_accounts() {
    let app = spawn_app().await;
    for i in 0..20 {
        app.login_pair(&format!("guess-{i}@example.com"), "wrong-password!")
            .await
            .expect_problem(401, "unauthorized");
    }
    app.login_pair("guess-new@example.com", "wrong-password!")
        .await
        .expect_problem(429, "rate_limited");
}

#[tokio::test]
async fn a_password_change_ends_every_session_at_once() {
    let app = spawn_app().await;
    let (email, id) = app.sales_user("s", "S").await;
    let first = app.login_pair(&email, PASSWORD).await.expect(200);
    let second = app.login_pair(&email, PASSWORD).await.expect(200);
    let token = first.body["access_token"].as_str().unwrap().to_owned();
    let other_device = second.body["access_token"].as_str().unwrap().to_owned();
    let refresh = second.body["refresh_token"].as_str().unwrap().to_owned();

    let r = app
        .post(
            "/api/v1/me/password",
            &token,
            json!({"current_password": "not my password", "new_password": "a brand new passphrase"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["current_password".to_owned()]);
    let r = app
        .post(
            "/api/v1/me/password",
            &token,
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["new_password".to_owned()]);
    app.get("/api/v1/me", &other_device).await.expect(200);

    app.post(
        "/api/v1/me/password",
        &token,
        json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
    )
    .await
    .expect(204);
    for t in [&token, &other_device] {
        app.get("/api/v1/me", t)
            .await
            .expect_problem(401, "unauthorized");
    }
    app.refresh(refresh.clone())
        .await
        .expect_problem(401, "unauthorized");
    app.login_pair(&email, PASSWORD).await.expect(401);
    let fresh = app.login(&email, "a brand new passphrase").await;
    app.get("/api/v1/me", &fresh).await.expect(200);

    // An admin setting the password ends the sessions too.
    app.patch(
        &format!("/api/v1/users/{id}"),
        &app.admin,
        json!({"password": "set by the admin ok"}),
    )
    .await
    .expect(200);
    app.get("/api/v1/me", &fresh)
        .await
        .expect_problem(401, "unauthorized");
}

#[tokio::test]
async fn a_refresh_family_lives_at_most_its_maximum_age() {
    let app = spawn_app_with(|s| s.auth.refresh_family_max_days = 0).await;
    let pair = admin_pair(&app).await;
    let r = app
        .refresh(pair.body["refresh_token"].clone())
        .await
        .expect_problem(401, "unauthorized");
    assert!(r.body["detail"].as_str().unwrap().contains("sign in again"));
}

#[tokio::test]
async fn a_burst_of_guesses_cannot_outrun_the_limit() {
    let app = spawn_app().await;
    let wrong: Vec<String> = (0..50).map(|i| format!("wrong guess {i}")).collect();
    let guesses = wrong.iter().map(|w| app.login_pair(ADMIN_EMAIL, w));
    let replies = futures_util::future::join_all(guesses).await;
    let checked = replies.iter().filter(|r| r.status.as_u16() == 401).count();
    let refused = replies.iter().filter(|r| r.status.as_u16() == 429).count();
    assert_eq!(
        (checked, refused),
        (5, 45),
        "exactly max_login_failures guesses reach the hash"
    );
    // Locked: the right password answers 429 too, until the window passes.
    app.login_pair(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    async fn from(app: &TestApp, xff: &str, i: usize) -> Reply {
        let rb = app
            .client
            .post(format!("{}/api/v1/auth/login", app.address))
            .header("x-forwarded-for", xff)
            .json(
                &json!({"email": format!("guess-{i}@example.com"), "password": "wrong-password!"}),
            );
        app.send(rb).await
    }
    // Behind a proxy on this machine: each forwarded client has its own budget.
    let app = spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1".into()]).await;
    for i in 0..20 {
        from(&app, "198.51.100.1", i)
            .await
            .expect_problem(401, "unauthorized");
    }
    from(&app, "198.51.100.1", 99)
        .await
        .expect_problem(429, "rate_limited");
    from(&app, "198.51.100.2", 99)
        .await
        .expect_problem(401, "unauthorized");
    // No proxy configured: the header is the client's word and changes nothing.
    let app = spawn_app().await;
    for i in 0..20 {
        from(&app, &format!("198.51.100.{i}"), i)
            .await
            .expect_problem(401, "unauthorized");
    }
    from(&app, "203.0.113.77", 99)
        .await
        .expect_problem(429, "rate_limited");
}

#[tokio::test]
async fn expired_counters_and_idempotency_keys_are_purged() {
    use sea_orm::EntityTrait;
    use sea_orm::sea_query::Expr;
    use sims_persistence::entities::{idempotency_keys, login_failures};
    let app = spawn_app().await;
    app.login_pair("nobody@example.com", "wrong-password!")
        .await
        .expect(401);
    let w = app.warehouse("W1", "x").await;
    let p = app
        .product(
            json!({"sku": "P1", "name": "p", "unit": "个", "list_price": "1", "tax_rate": "0"}),
        )
        .await;
    let receipt = json!({"warehouse_id": w, "lines": [{"product_id": p, "quantity": "1"}]});
    app.keyed(&app.address, "/api/v1/stock/receipts", "po-1", receipt)
        .await
        .expect(201);
    let conn = sea_orm::Database::connect(&app._db.url).await.unwrap();
    let long_ago = chrono::Utc::now() - chrono::Duration::days(2);
    login_failures::Entity::update_many()
        .col_expr(login_failures::Column::WindowStartedAt, Expr::val(long_ago))
        .exec(&conn)
        .await
        .unwrap();
    idempotency_keys::Entity::update_many()
        .col_expr(idempotency_keys::Column::CreatedAt, Expr::val(long_ago))
        .exec(&conn)
        .await
        .unwrap();
    let window = chrono::Duration::minutes(15);
    let failures = sims_persistence::auth::purge_failures(&conn, window)
        .await
        .unwrap();
    assert_eq!(failures, 2, "the account's and the address's");
    assert!(
        login_failures::Entity::find()
            .all(&conn)
            .await
            .unwrap()
            .is_empty()
    );
    let purged = sims_persistence::idempotency::purge_expired(&conn)
        .await
        .unwrap();
    assert_eq!(purged, 1, "the receipt's key");
    assert!(
        idempotency_keys::Entity::find()
            .all(&conn)
            .await
            .unwrap()
            .is_empty()
    );
    conn.close().await.ok();
}
