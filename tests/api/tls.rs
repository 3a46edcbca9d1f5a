//! Optional TLS: with a certificate and key configured the server speaks HTTPS only, and a
//! certificate it cannot use is a clear start-up error.

use serde_json::Value;
use sims_api::Application;

use crate::helpers::*;

fn fixture(name: &str) -> String {
    format!("{}/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn with_a_certificate_the_server_speaks_https_only() {
    let db = TestDb::create().await;
    let mut settings = test_settings(&db);
    settings.server.tls_cert_path = Some(fixture("localhost.crt"));
    settings.server.tls_key_path = Some(fixture("localhost.key"));
    let app = Application::build(settings).await.expect("a TLS server");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());

    let pem = std::fs::read(fixture("localhost.crt")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let health = client
        .get(format!("https://localhost:{port}/health"))
        .send()
        .await
        .expect("an HTTPS answer");
    assert_eq!(health.status().as_u16(), 200);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let login = client
        .post(format!("https://localhost:{port}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);

    // Plain HTTP gets no HTTP answer, and a client that does not trust the certificate
    // refuses it.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await;
    assert!(
        plain.map(|r| !r.status().is_success()).unwrap_or(true),
        "no plain HTTP"
    );
    let untrusting = reqwest::Client::new()
        .get(format!("https://localhost:{port}/health"))
        .send()
        .await;
    assert!(untrusting.is_err(), "an untrusted certificate is refused");
}

#[tokio::test]
async fn an_unusable_certificate_is_a_clear_start_up_error() {
    let db = TestDb::create().await;
    for (cert, key, says) in [
        (
            fixture("missing.crt"),
            fixture("localhost.key"),
            "missing.crt",
        ),
        (
            fixture("localhost.crt"),
            fixture("localhost.crt"),
            "localhost.crt",
        ),
        (
            fixture("README.md"),
            fixture("localhost.key"),
            "no certificate",
        ),
    ] {
        let mut settings = test_settings(&db);
        settings.server.tls_cert_path = Some(cert);
        settings.server.tls_key_path = Some(key);
        let err = match Application::build(settings).await {
            Ok(_) => panic!("a server with an unusable certificate"),
            Err(e) => e.to_string(),
        };
        assert!(err.starts_with("TLS: ") && err.contains(says), "{err}");
    }
}
