//! `sims backup` / `sims restore` (SPEC §8): a round trip SQLite → the suite's database
//! (PostgreSQL when `DATABASE_URL` names one) → SQLite keeps every row of every table and
//! every API answer; an archive of an older schema restores and is migrated; a non-empty
//! database, a newer archive and a damaged one are refused and change nothing.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::{Value, json};
use sims_persistence::backup::{self, BackupError};
use sims_persistence::{Database, DbOptions};

use crate::helpers::*;

async fn open(db: &TestDb) -> Database {
    Database::connect(&DbOptions {
        url: db.url.clone(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(10),
    })
    .await
    .expect("open the database")
}

async fn archive_of(db: &TestDb) -> Vec<u8> {
    let conn = open(db).await;
    let mut out = Vec::new();
    backup::backup(&conn, &mut out).await.expect("backup");
    conn.close().await.ok();
    out
}

async fn restore_into(db: &TestDb, archive: &[u8]) -> Result<backup::Summary, BackupError> {
    let conn = open(db).await;
    let result = backup::restore(&conn, archive).await;
    conn.close().await.ok();
    result
}

fn gunzip(archive: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(archive)
        .read_to_string(&mut text)
        .expect("gzip");
    text
}

fn gzip(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).expect("gzip");
    gz.finish().expect("gzip")
}

/// Every row of every table of a SQLite database, each value as stored (as text), sorted.
async fn sqlite_rows(db: &TestDb) -> Vec<(String, Vec<Vec<String>>)> {
    let conn = sea_orm::Database::connect(&db.url).await.expect("connect");
    let tables = query(
        &conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> 'seaql_migrations' ORDER BY name",
    )
    .await;
    let mut out = Vec::new();
    for t in tables.into_iter().map(|r| r[0].clone()) {
        let columns: Vec<String> = query(
            &conn,
            &format!("SELECT name FROM pragma_table_info('{t}') ORDER BY cid"),
        )
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
        // quote() shows each value with its storage class: 1 and '1' differ.
        let select: Vec<String> = columns
            .iter()
            .map(|c| format!("quote(\"{c}\") AS \"{c}\""))
            .collect();
        let mut rows = query(&conn, &format!("SELECT {} FROM \"{t}\"", select.join(", "))).await;
        rows.sort();
        out.push((t, rows));
    }
    conn.close().await.ok();
    out
}

async fn query(conn: &sea_orm::DatabaseConnection, sql: &str) -> Vec<Vec<String>> {
    use sea_orm::ConnectionTrait;
    conn.query_all_raw(sea_orm::Statement::from_string(
        sea_orm::DatabaseBackend::Sqlite,
        sql,
    ))
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
    .iter()
    .map(|r| {
        (0..r.column_names().len())
            .map(|i| r.try_get_by_index::<String>(i).unwrap_or_default())
            .collect()
    })
    .collect()
}

/// The answers a client reads, page by page, as the admin.
async fn answers(app: &TestApp) -> Vec<(String, Value)> {
    let lists = [
        "/api/v1/customers",
        "/api/v1/contacts",
        "/api/v1/follow-ups",
        "/api/v1/leads",
        "/api/v1/opportunities",
        "/api/v1/orders",
        "/api/v1/products",
        "/api/v1/warehouses",
        "/api/v1/stock",
        "/api/v1/stock/movements",
        "/api/v1/users",
        "/api/v1/teams",
        "/api/v1/targets",
        "/api/v1/webhooks",
        "/api/v1/api-keys",
        "/api/v1/deletions",
        "/api/v1/audit",
    ];
    let single = [
        "/api/v1/me",
        "/api/v1/pipeline/stages",
        "/api/v1/settings/pool",
        "/api/v1/tags",
        "/api/v1/reports/sales",
        "/api/v1/reports/funnel",
        "/api/v1/reports/receivables",
        "/api/v1/reports/inventory",
        "/api/v1/reports/customers",
        "/api/v1/reports/targets",
    ];
    let mut out = Vec::new();
    for path in lists {
        let items = app.all(path, &app.admin).await;
        out.push((path.to_owned(), Value::Array(items)));
    }
    for path in single {
        out.push((
            path.to_owned(),
            app.get(path, &app.admin).await.expect(200).body,
        ));
    }
    out
}

/// Fills the app with data of every kind the seed makes, and what only the API makes:
/// a team whose parent is newer than itself, a webhook, an API key, a tombstone.
async fn populate(app: &TestApp) {
    let settings = test_settings(&app._db);
    let request = sims_api::seed::SeedRequest {
        profile: sims_persistence::seed::Profile::Demo,
        seed: 3,
        force: false,
        progress: false,
    };
    sims_api::seed::run(&settings, request).await.expect("seed");
    let older = app.team("Older", None).await;
    let newer = app.team("Newer", None).await;
    app.patch(
        &format!("/api/v1/teams/{older}"),
        &app.admin,
        json!({"parent_id": newer}),
    )
    .await
    .expect(200);
    app.post(
        "/api/v1/webhooks",
        &app.admin,
        json!({"url": "http://127.0.0.1:9/hook", "events": ["customer.created"]}),
    )
    .await
    .expect(201);
    app.post("/api/v1/api-keys", &app.admin, json!({"name": "ERP"}))
        .await
        .expect(201);
    let gone = app.customer(&app.admin, "Gone Ltd", json!({})).await;
    app.delete(&format!("/api/v1/customers/{gone}"), &app.admin)
        .await
        .expect(204);
}

fn quiet(s: &mut sims_api::config::Settings) {
    s.webhooks.allow_private_targets = true;
    s.pool.return_interval_secs = 0;
}

#[tokio::test]
async fn a_round_trip_through_the_other_database_keeps_every_row_and_every_answer() {
    let original = spawn_app_on(TestDb::sqlite(), quiet).await;
    populate(&original).await;
    let before = answers(&original).await;
    // Taken while the server serves.
    let first = archive_of(&original._db).await;

    let middle = TestDb::create().await;
    let restored = restore_into(&middle, &first).await.expect("restore");
    assert_eq!(restored.migrated_after, 0);
    assert!(restored.rows > 1000, "{restored:?}");
    let second = archive_of(&middle).await;
    let last = TestDb::sqlite();
    restore_into(&last, &second).await.expect("restore again");

    // Row by row, value by value, every table the same after the trip.
    let (want, got) = (sqlite_rows(&original._db).await, sqlite_rows(&last).await);
    assert_eq!(want.len(), got.len());
    for ((table, rows), (other, again)) in want.iter().zip(&got) {
        assert_eq!(table, other);
        assert_eq!(rows.len(), again.len(), "rows of {table}");
        assert!(rows == again, "{table} differs after the round trip");
    }

    // Through the other database, every answer is the same, and passwords still work.
    let app = spawn_app_on(middle, quiet).await;
    let after = answers(&app).await;
    for ((path, want), (_, got)) in before.iter().zip(&after) {
        assert_eq!(want, got, "{path} answers differently after the restore");
    }
    // The test admin signed in above; a seeded rep signs in with the seed's password.
    let users = app
        .get("/api/v1/users?role=sales", &app.admin)
        .await
        .expect(200);
    let rep = users.body["items"][0]["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.login(&rep, sims_api::seed::DEMO_PASSWORD).await;
}

#[tokio::test]
async fn an_archive_of_an_older_schema_restores_and_is_migrated() {
    let original = spawn_app_on(TestDb::sqlite(), quiet).await;
    let (warehouse, product) = original.warehouse_and_product().await;
    let customer = original
        .customer(&original.admin, "Old Ltd", json!({"phone": "13800138000"}))
        .await;
    original.receive(&warehouse, &product, "5").await;
    let order = original
        .draft_order(&original.admin, &customer, (&warehouse, &product))
        .await;
    original.confirm(&original.admin, &order).await;
    original
        .post(
            &format!("/api/v1/orders/{order}/payments"),
            &original.admin,
            json!({"amount": "5.00", "received_at": "2026-11-25T08:00:00Z", "method": "cash"}),
        )
        .await
        .expect(201);
    let customers = original
        .get("/api/v1/customers", &original.admin)
        .await
        .expect(200);
    let sales = original
        .get("/api/v1/reports/sales?group_by=product", &original.admin)
        .await
        .expect(200);
    // The schema as an earlier release left it: before product sales (which migration
    // 11 derives from the orders) and every migration after it.
    let conn = sea_orm::Database::connect(&original._db.url)
        .await
        .expect("connect");
    use sims_migrations::MigratorTrait;
    let since_product_sales = sims_migrations::Migrator::migrations()
        .iter()
        .skip_while(|m| m.name() != "m20261202_000011_product_sales")
        .count();
    sims_migrations::Migrator::down(&conn, Some(since_product_sales as u32))
        .await
        .expect("migrate down");
    conn.close().await.ok();
    let archive = archive_of(&original._db).await;
    let header = gunzip(&archive);
    let migrations = header.lines().next().unwrap_or_default();
    assert!(
        migrations.contains("m20261201_000010_targets_and_reports")
            && !migrations.contains("m20261202_000011_product_sales"),
        "{migrations}"
    );
    if let Ok(path) = std::env::var("SIMS_WRITE_BACKUP_FIXTURE") {
        std::fs::write(path, &archive).expect("write the fixture");
    }

    let target = TestDb::create().await;
    let restored = restore_into(&target, &archive).await.expect("restore");
    assert_eq!(restored.migrations, 10);
    assert_eq!(restored.migrated_after, since_product_sales);
    let app = spawn_app_on(target, quiet).await;
    assert_eq!(
        app.get("/api/v1/customers", &app.admin)
            .await
            .expect(200)
            .body,
        customers.body
    );
    assert_eq!(
        app.get("/api/v1/reports/sales?group_by=product", &app.admin)
            .await
            .expect(200)
            .body,
        sales.body,
        "product sales derived by the migrations that ran after the restore"
    );
}

/// The archive committed with the first release that wrote archives: its format and its
/// schema stay readable by every later release.
#[tokio::test]
async fn the_archive_of_the_first_release_still_restores() {
    let archive = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/backup/release-0.1-schema-10.sims-backup"
    ))
    .expect("the fixture");
    let target = TestDb::create().await;
    let restored = restore_into(&target, &archive).await.expect("restore");
    assert_eq!(restored.migrations, 10);
    let app = spawn_app_on(target, quiet).await;
    let page = app.get("/api/v1/customers", &app.admin).await.expect(200);
    let names: Vec<&str> = page.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["Old Ltd"]);
    let orders = app.get("/api/v1/orders", &app.admin).await.expect(200);
    assert_eq!(orders.body["items"][0]["status"], "confirmed");
    assert_eq!(orders.body["items"][0]["total"], "11.30");
    let sales = app
        .get("/api/v1/reports/sales?group_by=product", &app.admin)
        .await
        .expect(200);
    assert_eq!(
        sales.body["rows"].as_array().map(Vec::len),
        Some(1),
        "{}",
        sales.body
    );
}

#[tokio::test]
async fn a_database_with_data_is_refused_and_keeps_it() {
    let app = spawn_app_on(TestDb::sqlite(), quiet).await;
    app.customer(&app.admin, "Kept Ltd", json!({})).await;
    let archive = archive_of(&app._db).await;
    let before = sqlite_rows(&app._db).await;
    match restore_into(&app._db, &archive).await {
        Err(BackupError::NotEmpty(what)) => {
            assert!(
                what.contains("customers") && what.contains("users"),
                "{what}"
            )
        }
        other => panic!("restored into a database with data: {other:?}"),
    }
    assert!(sqlite_rows(&app._db).await == before, "nothing changed");
}

#[tokio::test]
async fn a_newer_or_damaged_archive_is_refused_and_writes_nothing() {
    let app = spawn_app_on(TestDb::sqlite(), quiet).await;
    app.customer(&app.admin, "Acme", json!({})).await;
    let archive = archive_of(&app._db).await;
    let text = gunzip(&archive);
    let (header, rest) = text.split_once('\n').unwrap_or_default();

    let newer_version = header.replace("\"version\":1", "\"version\":2");
    let mut future: Value = serde_json::from_str(header).expect("header");
    future["migrations"]
        .as_array_mut()
        .expect("migrations")
        .push(json!("m20991231_000099_future"));
    let cut = text
        .lines()
        .take(text.lines().count() - 3)
        .collect::<Vec<_>>();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("newer format", gzip(&format!("{newer_version}\n{rest}"))),
        ("newer schema", gzip(&format!("{future}\n{rest}"))),
        ("cut off", gzip(&(cut.join("\n") + "\n"))),
        ("cut off mid-stream", archive[..archive.len() / 2].to_vec()),
        ("not gzip", text.clone().into_bytes()),
        ("not an archive", gzip("{\"hello\": 1}\n")),
        (
            "a row that does not fit its column",
            gzip(&text.replacen("\"Acme\"", "17", 1)),
        ),
    ];
    for (what, bytes) in cases {
        let target = TestDb::sqlite();
        let result = restore_into(&target, &bytes).await;
        match (&result, what) {
            (Err(BackupError::Newer(message)), "newer format" | "newer schema") => {
                assert!(message.contains("newer"), "{what}: {message}")
            }
            (Err(BackupError::Damaged(_)), _) if !what.starts_with("newer") => {}
            _ => panic!("{what}: {result:?}"),
        }
        let rows = sqlite_rows(&target).await;
        assert!(
            rows.iter().all(|(_, r)| r.is_empty()),
            "{what}: rows were written"
        );
    }
}
