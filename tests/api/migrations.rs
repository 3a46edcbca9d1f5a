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

/// Rows of a query, every column read as text (booleans and numbers too).
async fn rows(conn: &sea_orm::DatabaseConnection, sql: &str) -> Vec<Vec<String>> {
    let result = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql,
        ))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    result
        .iter()
        .map(|r| {
            r.column_names()
                .iter()
                .map(|c| {
                    r.try_get::<String>("", c)
                        .or_else(|_| r.try_get::<i64>("", c).map(|n| n.to_string()))
                        .or_else(|_| r.try_get::<i32>("", c).map(|n| n.to_string()))
                        .or_else(|_| r.try_get::<bool>("", c).map(|b| b.to_string()))
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

/// What the schema holds, one fact a line: columns (with this database's type),
/// primary keys, unique constraints, indexes and foreign keys, sorted.
async fn schema_facts(conn: &sea_orm::DatabaseConnection) -> Vec<String> {
    let mut facts = Vec::new();
    let postgres = conn.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    let tables: Vec<String> = tables(conn)
        .await
        .into_iter()
        .filter(|t| t != "seaql_migrations")
        .collect();
    if postgres {
        for r in rows(conn, "SELECT table_name::text AS tbl, column_name::text AS col, CASE WHEN data_type = 'character varying' THEN 'varchar(' || character_maximum_length || ')' ELSE data_type::text END AS ty, is_nullable::text AS nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'seaql_migrations'").await {
            let null = if r[3] == "YES" { "null" } else { "not null" };
            facts.push(format!("column {}.{} {} {null}", r[0], r[1], r[2].replace(' ', "_")));
        }
        let indexes = "SELECT t.relname::text AS tbl, i.relname::text AS idx, ix.indisunique::text AS uniq, ix.indisprimary::text AS pk, (ix.indpred IS NOT NULL)::text AS partial, \
            array_to_string(array(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) \
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), ',') AS cols \
            FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid \
            JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public' AND t.relname <> 'seaql_migrations'";
        for r in rows(conn, indexes).await {
            let (table, name, unique, primary, partial, cols) = (
                &r[0],
                &r[1],
                r[2] == "true",
                r[3] == "true",
                r[4] == "true",
                &r[5],
            );
            facts.push(index_fact(table, name, unique, primary, partial, cols));
        }
        let fks = "SELECT kcu.table_name::text AS src, kcu.column_name::text AS src_col, ccu.table_name::text AS dst, ccu.column_name::text AS dst_col, rc.delete_rule::text AS on_delete \
            FROM information_schema.referential_constraints rc \
            JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = rc.constraint_name \
            JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = rc.constraint_name \
            WHERE kcu.table_schema = 'public'";
        for r in rows(conn, fks).await {
            facts.push(format!(
                "foreign key {} ({}) -> {} ({}) on delete {}",
                r[0],
                r[1],
                r[2],
                r[3],
                r[4].to_lowercase()
            ));
        }
    } else {
        for t in &tables {
            for r in rows(
                conn,
                &format!("SELECT name, type, \"notnull\", pk FROM pragma_table_info('{t}')"),
            )
            .await
            {
                let null = if r[2] == "1" || r[3] != "0" {
                    "not null"
                } else {
                    "null"
                };
                facts.push(format!(
                    "column {t}.{} {} {null}",
                    r[0],
                    r[1].to_lowercase().replace(' ', "_")
                ));
            }
            let pk: Vec<String> = rows(
                conn,
                &format!("SELECT name FROM pragma_table_info('{t}') WHERE pk > 0 ORDER BY pk"),
            )
            .await
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
            facts.push(format!("primary key {t} ({})", pk.join(",")));
            for r in rows(
                conn,
                &format!("SELECT name, \"unique\", origin, partial FROM pragma_index_list('{t}')"),
            )
            .await
            {
                if r[2] == "pk" {
                    continue;
                }
                let cols: Vec<String> = rows(
                    conn,
                    &format!(
                        "SELECT name FROM pragma_index_info('{}') ORDER BY seqno",
                        r[0]
                    ),
                )
                .await
                .into_iter()
                .map(|c| c[0].clone())
                .collect();
                facts.push(index_fact(
                    t,
                    &r[0],
                    r[1] == "1",
                    false,
                    r[3] == "1",
                    &cols.join(","),
                ));
            }
            for r in rows(conn, &format!("SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list('{t}')")).await {
                facts.push(format!("foreign key {t} ({}) -> {} ({}) on delete {}", r[0], r[1], r[2], r[3].to_lowercase()));
            }
        }
    }
    facts.sort();
    facts.dedup();
    facts
}

/// An index as a fact: a primary key, a unique constraint (its name is the database's
/// own), or a named index of ours.
fn index_fact(
    table: &str,
    name: &str,
    unique: bool,
    primary: bool,
    partial: bool,
    cols: &str,
) -> String {
    let ours = name.starts_with("idx_") || name.starts_with("uq_");
    let partial = if partial { " where …" } else { "" };
    match (primary, unique, ours) {
        (true, ..) => format!("primary key {table} ({cols})"),
        (false, true, false) => format!("unique {table} ({cols})"),
        (false, true, true) => format!("unique index {name} on {table} ({cols}){partial}"),
        (false, false, _) => format!("index {name} on {table} ({cols}){partial}"),
    }
}

/// The committed description names each column's type on both databases
/// (`column t.c pg=bigint sqlite=integer not null`); this picks this database's.
fn described_facts(description: &str, postgres: bool) -> Vec<String> {
    let mut facts: Vec<String> = description
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| match l.strip_prefix("column ") {
            Some(rest) => {
                let mut parts = rest.splitn(4, ' ');
                let (name, pg, sqlite, null) = (
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                );
                let ty = if postgres {
                    pg.trim_start_matches("pg=")
                } else {
                    sqlite.trim_start_matches("sqlite=")
                };
                format!("column {name} {ty} {null}")
            }
            None => l.to_owned(),
        })
        .collect();
    facts.sort();
    facts
}

/// Rewrites the description with this database's column types, keeping the other's.
fn updated_description(old: &str, facts: &[String], postgres: bool) -> String {
    let mut other: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for l in old.lines() {
        if let Some(rest) = l.strip_prefix("column ") {
            let parts: Vec<&str> = rest.splitn(4, ' ').collect();
            if parts.len() == 4 {
                let kept = if postgres { parts[2] } else { parts[1] };
                other.insert(parts[0].to_owned(), kept.to_owned());
            }
        }
    }
    let mut out = String::from(
        "# The schema the migrations create, checked on both databases by\n# `the_schema_matches_its_description` (tests/api/migrations.rs). After a new migration,\n# regenerate it on each database: SIMS_UPDATE_SCHEMA=1 cargo test the_schema_matches\n",
    );
    for f in facts {
        match f.strip_prefix("column ") {
            Some(rest) => {
                let mut parts = rest.splitn(3, ' ');
                let (name, ty, null) = (
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                );
                let (pg, sqlite) = if postgres {
                    (
                        ty.to_owned(),
                        other.get(name).map_or("sqlite=?".to_owned(), Clone::clone),
                    )
                } else {
                    (
                        other.get(name).map_or("pg=?".to_owned(), Clone::clone),
                        ty.to_owned(),
                    )
                };
                let pg = if pg.starts_with("pg=") {
                    pg
                } else {
                    format!("pg={pg}")
                };
                let sqlite = if sqlite.starts_with("sqlite=") {
                    sqlite
                } else {
                    format!("sqlite={sqlite}")
                };
                out.push_str(&format!("column {name} {pg} {sqlite} {null}\n"));
            }
            None => {
                out.push_str(f);
                out.push('\n');
            }
        }
    }
    out
}

#[tokio::test]
async fn the_schema_matches_its_description() {
    let db = TestDb::create().await;
    let conn = Database::connect(&db.url).await.unwrap();
    Migrator::up(&conn, None).await.unwrap();
    let postgres = conn.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    let facts = schema_facts(&conn).await;
    conn.close().await.unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/schema.txt");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if std::env::var("SIMS_UPDATE_SCHEMA").is_ok() {
        std::fs::write(path, updated_description(&committed, &facts, postgres)).unwrap();
        return;
    }
    let described = described_facts(&committed, postgres);
    let missing: Vec<&String> = described.iter().filter(|f| !facts.contains(f)).collect();
    let extra: Vec<&String> = facts.iter().filter(|f| !described.contains(f)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "migrations/schema.txt differs from the schema the migrations create.\n\
         described but not created: {missing:#?}\ncreated but not described: {extra:#?}\n\
         (after a new migration: SIMS_UPDATE_SCHEMA=1 cargo test the_schema_matches, on both databases)"
    );
}
