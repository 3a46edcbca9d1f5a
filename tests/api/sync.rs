//! Mobile sync: every delete of a mirrored record leaves a tombstone in `/deletions`,
//! written with the delete and only with it.

use std::collections::BTreeSet;

use serde_json::json;

use crate::helpers::*;

/// Every `(entity, id)` in the deletions `path` names, walking its pages with `after`.
async fn deletions(app: &TestApp, token: &str, path: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut next = format!("{path}{sep}per_page=2");
    loop {
        let page = app.get(&next, token).await.expect(200);
        for item in page.body["items"].as_array().unwrap() {
            assert!(item["deleted_at"].is_string(), "{item}");
            out.insert((
                item["entity"].as_str().unwrap().to_owned(),
                item["id"].as_str().unwrap().to_owned(),
            ));
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => next = format!("{path}{sep}per_page=2&after={c}"),
            None => return out,
        }
    }
}

fn pair(entity: &str, id: &str) -> (String, String) {
    (entity.to_owned(), id.to_owned())
}

#[tokio::test]
async fn every_deleted_record_is_announced_with_what_went_with_it() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let start = app
        .get("/api/v1/deletions", &rep)
        .await
        .expect(200)
        .body
        .clone();
    assert_eq!(start["items"], json!([]));

    let kept = app.customer(&app.admin, "Kept Co", json!({})).await;
    let gone = app.customer(&app.admin, "Gone Co", json!({})).await;
    let contact = |c: &str, name: &str| {
        let path = format!("/api/v1/customers/{c}/contacts");
        let body = json!({"name": name});
        let app = &app;
        async move { app.post(&path, &app.admin, body).await.expect(201).id() }
    };
    let follow_up = |c: &str| {
        let path = format!("/api/v1/customers/{c}/follow-ups");
        let app = &app;
        async move {
            app.post(
                &path,
                &app.admin,
                json!({"kind": "call", "content": "rang"}),
            )
            .await
            .expect(201)
            .id()
        }
    };
    let lone_contact = contact(&kept, "Deleted alone").await;
    let lone_follow_up = follow_up(&kept).await;
    let kept_contact = contact(&kept, "Stays").await;
    let cascaded_contact = contact(&gone, "Goes with its customer").await;
    let cascaded_follow_up = follow_up(&gone).await;
    let lead = app.lead(&app.admin, "Lead to drop").await;
    let opportunity = app
        .opportunity(&app.admin, &kept, "Dropped deal", "10.00")
        .await;

    for path in [
        format!("/api/v1/contacts/{lone_contact}"),
        format!("/api/v1/follow-ups/{lone_follow_up}"),
        format!("/api/v1/leads/{lead}"),
        format!("/api/v1/opportunities/{opportunity}"),
        format!("/api/v1/customers/{gone}"),
    ] {
        app.delete(&path, &app.admin).await.expect(204);
    }

    let want = BTreeSet::from([
        pair("contact", &lone_contact),
        pair("follow_up", &lone_follow_up),
        pair("lead", &lead),
        pair("opportunity", &opportunity),
        pair("customer", &gone),
        pair("contact", &cascaded_contact),
        pair("follow_up", &cascaded_follow_up),
    ]);
    // The same ids for every role: a rep learns of the admin's deletions too.
    assert_eq!(deletions(&app, &rep, "/api/v1/deletions").await, want);
    assert_eq!(deletions(&app, &app.admin, "/api/v1/deletions").await, want);
    assert!(!want.contains(&pair("contact", &kept_contact)));

    let contacts = deletions(&app, &rep, "/api/v1/deletions?entity=contact").await;
    assert_eq!(
        contacts,
        BTreeSet::from([
            pair("contact", &lone_contact),
            pair("contact", &cascaded_contact)
        ])
    );
    let later = (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339();
    let none = app
        .send(
            app.client
                .get(format!("{}/api/v1/deletions", app.address))
                .bearer_auth(&rep)
                .query(&[("since", later.as_str())]),
        )
        .await
        .expect(200);
    assert_eq!(none.body["items"], json!([]));
    let earlier = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let all = app
        .send(
            app.client
                .get(format!("{}/api/v1/deletions", app.address))
                .bearer_auth(&rep)
                .query(&[("since", earlier.as_str()), ("sort", "deleted_at")]),
        )
        .await
        .expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), want.len());
    let first = all.body["items"][0]["deleted_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let last = all.body["items"][want.len() - 1]["deleted_at"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        chrono::DateTime::parse_from_rfc3339(&first).unwrap()
            <= chrono::DateTime::parse_from_rfc3339(&last).unwrap(),
        "oldest first when sorted by deleted_at"
    );
}

#[tokio::test]
async fn a_refused_delete_leaves_no_tombstone() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "In Use Co", json!({})).await;
    app.post(
        "/api/v1/opportunities",
        &app.admin,
        json!({"customer_id": c, "name": "Keeps it alive", "amount": "10.00"}),
    )
    .await
    .expect(201);
    app.delete(&format!("/api/v1/customers/{c}"), &app.admin)
        .await
        .expect_problem(409, "customer_in_use");
    let page = app.get("/api/v1/deletions", &app.admin).await.expect(200);
    assert_eq!(page.body["items"], json!([]));
    app.get(&format!("/api/v1/customers/{c}"), &app.admin)
        .await
        .expect(200);
}

#[tokio::test]
async fn bad_filters_are_named() {
    let app = spawn_app().await;
    for (query, field) in [
        ("entity=team", "entity"),
        ("since=yesterday", "since"),
        ("sort=name", "sort"),
        ("after=not-a-cursor", "after"),
    ] {
        let r = app
            .get(&format!("/api/v1/deletions?{query}"), &app.admin)
            .await
            .expect_problem(400, "invalid_parameter");
        assert_eq!(r.fields(), vec![field.to_owned()], "{query}: {}", r.body);
    }
    app.request(reqwest::Method::GET, "/api/v1/deletions", None, None)
        .await
        .expect_problem(401, "unauthorized");
}

#[tokio::test]
async fn tombstones_older_than_the_kept_days_are_purged() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use sims_persistence::entities::deletions;

    let app = spawn_app().await;
    let old = app.customer(&app.admin, "Long Gone", json!({})).await;
    let recent = app.customer(&app.admin, "Just Gone", json!({})).await;
    for c in [&old, &recent] {
        app.delete(&format!("/api/v1/customers/{c}"), &app.admin)
            .await
            .expect(204);
    }
    let conn = sea_orm::Database::connect(&app._db.url)
        .await
        .expect("connect");
    let now = chrono::Utc::now();
    deletions::Entity::update_many()
        .col_expr(
            deletions::Column::DeletedAt,
            Expr::val(now - chrono::Duration::days(91)),
        )
        .filter(deletions::Column::Id.eq(uuid::Uuid::parse_str(&old).unwrap()))
        .exec(&conn)
        .await
        .expect("age the tombstone");
    let purged = sims_persistence::deletions::purge(&conn, now - chrono::Duration::days(90))
        .await
        .expect("purge");
    assert_eq!(purged, 1);
    assert_eq!(
        deletions(&app, &app.admin, "/api/v1/deletions").await,
        BTreeSet::from([pair("customer", &recent)])
    );
}
