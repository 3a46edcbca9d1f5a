//! The schema migrates up, down and up again on an empty database of either kind.

use sea_orm::{ConnectionTrait, Database};
use sims_migrations::{Migrator, MigratorTrait};

use crate::helpers::TestDb;

async fn tables(conn: &sea_orm::DatabaseConnection) -> Vec<String> {
    let sql = match conn.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        }
    };
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql,
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect()
}

#[tokio::test]
async fn up_down_up_leaves_the_same_schema() {
    let db = TestDb::create().await;
    let conn = Database::connect(&db.url).await.unwrap();
    Migrator::up(&conn, None).await.unwrap();
    let first = tables(&conn).await;
    for t in [
        "users",
        "teams",
        "customers",
        "contacts",
        "customer_tags",
        "refresh_tokens",
        "login_failures",
        "audit_log",
    ] {
        assert!(first.contains(&t.to_owned()), "{t} in {first:?}");
    }
    Migrator::down(&conn, None).await.unwrap();
    assert_eq!(tables(&conn).await, vec!["seaql_migrations".to_owned()]);
    Migrator::up(&conn, None).await.unwrap();
    assert_eq!(tables(&conn).await, first);
    assert!(
        Migrator::get_pending_migrations(&conn)
            .await
            .unwrap()
            .is_empty()
    );
    conn.close().await.unwrap();
}
