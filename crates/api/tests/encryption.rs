//! Field encryption at rest (SPEC §8), through the real binary: `sims encrypt-existing`
//! seals what a server without a key wrote; with the key on, every answer is the same,
//! `q` and duplicate checks find a phone or email by its whole normalised value, exports
//! and webhooks carry the values in clear — and no table holds one in clear. A missing or
//! wrong key stops the server at start-up; `sims rotate-key` moves everything to a new
//! key while the old one still reads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
use serde_json::{Value, json};
use sims_tests::Receiver;

mod support;

use support::*;

// `openssl rand -base64 32`, twice.
const KEY_1: &str = "CKStVZM9Vf/LR6cJOYPS0MAtEnIZiunCoL7f3G0xlzU=";
const KEY_2: &str = "58iFzQZfYz3y5Tb4T4M7FAFeQubBjvxqDv4m9UiS0lM=";

/// Every row of every table as text, to search for what must not be there.
async fn everything_stored(url: &str) -> String {
    let conn = Database::connect(url).await.unwrap();
    let backend = conn.get_database_backend();
    let rows = |sql: String| {
        let conn = &conn;
        async move {
            conn.query_all_raw(Statement::from_string(backend, sql.clone()))
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap_or_default())
                .collect::<Vec<_>>()
        }
    };
    let tables = match backend {
        DatabaseBackend::Postgres => rows(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'"
                .into(),
        )
        .await,
        _ => rows("SELECT name FROM sqlite_master WHERE type = 'table'".into()).await,
    };
    let mut out = String::new();
    for t in tables {
        let sql = match backend {
            DatabaseBackend::Postgres => format!("SELECT CAST(t AS text) FROM \"{t}\" t"),
            _ => {
                let cols = rows(format!("SELECT name FROM pragma_table_info('{t}')")).await;
                let parts: Vec<String> = cols.iter().map(|c| format!("quote(\"{c}\")")).collect();
                format!("SELECT {} FROM \"{t}\"", parts.join(" || '|' || "))
            }
        };
        for r in rows(sql).await {
            out.push_str(&t);
            out.push(':');
            out.push_str(&r);
            out.push('\n');
        }
    }
    conn.close().await.ok();
    out
}

/// The clear values no table may hold, in any of their forms.
const CLEAR: [&str; 9] = [
    "13700137000",
    "d@delta.cn",
    "13800138000",
    "138-0013-8000",
    "sales@acme.com",
    "Sales@Acme.com",
    "13900139000",
    "b@beta.cn",
    "15000150000",
];

fn assert_nothing_in_clear(stored: &str) {
    for value in CLEAR {
        if let Some(line) = stored.lines().find(|l| l.contains(value)) {
            panic!("{value} is stored in clear: {line}");
        }
    }
}

/// `sims serve` that must refuse to start: its exit and what it said.
fn refused_start(db: &TestDb, env: &[(&str, &str)]) -> String {
    let mut all = vec![
        ("SIMS_BIND", "127.0.0.1:0"),
        ("SIMS_JWT_SECRET", "crash-test-secret-crash-test-secret-000"),
    ];
    all.extend_from_slice(env);
    let out = sims(&db.url, &["serve"], &all);
    assert!(!out.status.success(), "the server started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_and_emails_are_sealed_at_rest_and_read_found_and_sent_in_clear() {
    let db = TestDb::create().await;
    // Written without a key: in clear.
    let (acme, acme_contact) = {
        let server = start(&db, &[("SIMS_WEBHOOKS__POLL_INTERVAL_MS", "0")]).await;
        let api = Api::sign_in(&server).await;
        let (status, acme) = api
            .post(
                "/customers",
                json!({"name": "Acme", "phone": "+86 138-0013-8000", "email": "Sales@Acme.com"}),
            )
            .await;
        assert_eq!(status, 201, "{acme}");
        let id = acme["id"].as_str().unwrap().to_owned();
        let (status, contact) = api
            .post(
                &format!("/customers/{id}/contacts"),
                json!({"name": "李雷", "phone": "15000150000", "email": "lilei@acme.com"}),
            )
            .await;
        assert_eq!(status, 201, "{contact}");
        (acme, contact)
    };
    assert!(everything_stored(&db.url).await.contains("13800138000"));

    let out = sims(&db.url, &["encrypt-existing"], &[]);
    assert!(!out.status.success(), "no key, nothing to encrypt under");
    let out = sims(
        &db.url,
        &["encrypt-existing"],
        &[("SIMS_ENCRYPTION__KEY", KEY_1)],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("1 customers, 1 contacts"), "{said}");
    assert_nothing_in_clear(&everything_stored(&db.url).await);
    let again = sims(
        &db.url,
        &["encrypt-existing"],
        &[("SIMS_ENCRYPTION__KEY", KEY_1)],
    );
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(
        said.contains("0 customers, 0 contacts, 0 stored copies"),
        "{said}"
    );

    // With the key on.
    let receiver = Receiver::start(vec![200]).await;
    let keyed = [
        ("SIMS_ENCRYPTION__KEY", KEY_1),
        ("SIMS_WEBHOOKS__POLL_INTERVAL_MS", "50"),
    ];
    {
        let server = start(&db, &keyed).await;
        let api = Api::sign_in(&server).await;
        let id = acme["id"].as_str().unwrap();
        assert_eq!(
            api.get(&format!("/customers/{id}")).await,
            acme,
            "the same answer"
        );
        let cid = acme_contact["id"].as_str().unwrap();
        assert_eq!(api.get(&format!("/contacts/{cid}")).await, acme_contact);
        let (status, _) = api
            .post(
                "/webhooks",
                json!({"url": receiver.url, "events": ["customer.created"]}),
            )
            .await;
        assert_eq!(status, 201);
        let body = json!({"name": "Beta", "phone": "13900139000", "email": "b@beta.cn"});
        let (status, created) = api.post("/customers", body).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["phone"], "13900139000");
        let beta = created["id"].as_str().unwrap().to_owned();

        // Duplicate checks and exact search by the whole normalised value.
        let (status, dup) = api
            .post(
                "/customers",
                json!({"name": "Beta Two", "phone": "+86 139 0013 9000"}),
            )
            .await;
        assert_eq!(status, 409, "{dup}");
        assert_eq!(dup["code"], "duplicate_customer");
        let (status, dup) = api
            .post(
                "/customers",
                json!({"name": "Acme Two", "email": "SALES@acme.com"}),
            )
            .await;
        assert_eq!(
            (status, dup["code"].clone()),
            (409, json!("duplicate_customer"))
        );
        let found = |v: Value| -> Vec<String> {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(found(api.get("/customers?q=13900139000").await), ["Beta"]);
        assert_eq!(
            found(api.get("/customers?q=%2B86%20139-0013-9000").await),
            ["Beta"]
        );
        assert_eq!(found(api.get("/customers?q=B%40BETA.cn").await), ["Beta"]);
        assert_eq!(found(api.get("/customers?q=13800138000").await), ["Acme"]);
        assert!(
            found(api.get("/customers?q=1390013").await).is_empty(),
            "no part search"
        );
        assert_eq!(found(api.get("/contacts?q=15000150000").await), ["李雷"]);
        assert_eq!(
            found(api.get("/contacts?q=LILEI%40acme.com").await),
            ["李雷"]
        );

        // An import finds duplicates by the keyed hashes, and stores its rows sealed.
        let import = |csv: &'static str| {
            api.client
                .post(format!(
                    "{}/api/v1/customers/import?skip_invalid=true",
                    api.base
                ))
                .bearer_auth(&api.token)
                .header("content-type", "text/csv")
                .body(csv)
                .send()
        };
        let report: Value =
            import("name,phone,email\nGamma,+86 139-0013-9000,\nDelta,13700137000,d@delta.cn\n")
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        assert_eq!(report["created"], 1, "{report}");
        assert_eq!(report["errors"][0]["line"], 2, "{report}");
        assert_eq!(found(api.get("/customers?q=13700137000").await), ["Delta"]);

        // Exports and webhooks carry the values in clear.
        let export = api
            .client
            .get(format!("{}/api/v1/customers/export", api.base))
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            export.contains("13900139000") && export.contains("Sales@Acme.com"),
            "{export}"
        );
        // Beta's creation and Delta's import.
        let event: Value = receiver
            .wait_for(2)
            .await
            .iter()
            .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
            .find(|e| e["data"]["id"] == beta.as_str())
            .expect("Beta's event");
        assert_eq!(event["data"]["phone"], "13900139000");
        assert_eq!(event["data"]["email"], "b@beta.cn");
    }
    assert_nothing_in_clear(&everything_stored(&db.url).await);

    // A missing or wrong key is a start-up error.
    let said = refused_start(&db, &[]);
    assert!(said.contains("SIMS_ENCRYPTION__KEY"), "{said}");
    let said = refused_start(&db, &[("SIMS_ENCRYPTION__KEY", KEY_2)]);
    assert!(said.contains("neither SIMS_ENCRYPTION__KEY"), "{said}");
    let said = refused_start(&db, &[("SIMS_ENCRYPTION__KEY", "c2hvcnQ=")]);
    assert!(said.contains("32 bytes"), "{said}");

    // Rotation: the new key with the old one beside it reads; rotate-key moves everything.
    let rotating = [
        ("SIMS_ENCRYPTION__KEY", KEY_2),
        ("SIMS_ENCRYPTION__OLD_KEYS", KEY_1),
    ];
    {
        let server = start(&db, &rotating).await;
        let api = Api::sign_in(&server).await;
        let id = acme["id"].as_str().unwrap();
        assert_eq!(api.get(&format!("/customers/{id}")).await, acme);
        let (status, dup) = api
            .post(
                "/customers",
                json!({"name": "Beta Three", "phone": "13900139000"}),
            )
            .await;
        assert_eq!(status, 409, "duplicates found under the old key too: {dup}");
    }
    let out = sims(&db.url, &["rotate-key"], &rotating);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("3 customers, 1 contacts"), "{said}");
    {
        let server = start(&db, &[("SIMS_ENCRYPTION__KEY", KEY_2)]).await;
        let api = Api::sign_in(&server).await;
        let id = acme["id"].as_str().unwrap();
        assert_eq!(api.get(&format!("/customers/{id}")).await, acme);
        let page = api.get("/customers?q=13900139000").await;
        assert_eq!(page["items"][0]["email"], "b@beta.cn");
    }
    assert_nothing_in_clear(&everything_stored(&db.url).await);
    let said = refused_start(&db, &[("SIMS_ENCRYPTION__KEY", KEY_1)]);
    assert!(
        said.contains("neither"),
        "the old key alone no longer opens: {said}"
    );
    db.drop_it().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_with_a_key_stores_every_phone_and_email_sealed() {
    let db = TestDb::create().await;
    // The server creates the first admin; the seed accepts a database holding only it.
    let server = start(&db, &[("SIMS_ENCRYPTION__KEY", KEY_1)]).await;
    let out = sims(
        &db.url,
        &["seed", "--profile", "demo"],
        &[
            ("SIMS_ENCRYPTION__KEY", KEY_1),
            ("SIMS_JWT_SECRET", "crash-test-secret-crash-test-secret-000"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = Database::connect(&db.url).await.unwrap();
    for (table, column) in [
        ("customers", "phone"),
        ("customers", "email"),
        ("contacts", "phone"),
        ("contacts", "email"),
    ] {
        let counts = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                format!(
                    "SELECT CAST(COUNT({column}) AS BIGINT) AS n, \
                     CAST(COUNT(CASE WHEN {column} LIKE 'enc:v1:%' THEN 1 END) AS BIGINT) AS sealed FROM {table}"
                ),
            ))
            .await
            .unwrap()
            .unwrap();
        let (n, sealed): (i64, i64) = (
            counts.try_get("", "n").unwrap(),
            counts.try_get("", "sealed").unwrap(),
        );
        assert!(n > 0, "{table}.{column} has values");
        assert_eq!(sealed, n, "every {table}.{column} sealed");
    }
    conn.close().await.ok();
    let api = Api::sign_in(&server).await;
    let page = api.get("/customers?per_page=5").await;
    let phone = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| c["phone"].as_str())
        .expect("a seeded phone");
    assert!(!phone.starts_with("enc:"), "{phone}");
    db.drop_it().await;
}
