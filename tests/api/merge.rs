//! Merging duplicate customers: everything moves to the survivor in one transaction, and a
//! refused merge changes nothing.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

async fn contacts_of(app: &TestApp, customer: &str) -> Vec<(String, bool)> {
    let page = app
        .get(
            &format!("/api/v1/customers/{customer}/contacts"),
            &app.admin,
        )
        .await
        .expect(200);
    let mut out: Vec<(String, bool)> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["is_primary"].as_bool().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn contact(app: &TestApp, customer: &str, name: &str, primary: bool) -> String {
    app.post(
        &format!("/api/v1/customers/{customer}/contacts"),
        &app.admin,
        json!({"name": name, "is_primary": primary}),
    )
    .await
    .expect(201)
    .id()
}

fn merge_path(id: &str) -> String {
    format!("/api/v1/customers/{id}/merge")
}

#[tokio::test]
async fn duplicates_fold_into_one_customer() {
    let app = spawn_app().await;
    let team = app.team("East", None).await;
    let (_, manager) = app.user("manager", Some(&team)).await;
    let (rep_id, rep) = app.user("sales", Some(&team)).await;
    let target = app
        .customer(&rep, "Acme", json!({"city": "杭州", "tags": ["vip"]}))
        .await;
    let first = app
        .customer(
            &rep,
            "ACME Ltd",
            json!({"city": "上海", "phone": "13800138000", "tags": ["vip", "east"]}),
        )
        .await;
    let second = app.pool_customer("Acme (pool)").await;
    app.patch(
        &format!("/api/v1/customers/{second}"),
        &app.admin,
        json!({"email": "buyer@acme.example", "level": "A", "phone": "13900139000"}),
    )
    .await
    .expect(200);
    contact(&app, &target, "Target's primary", true).await;
    contact(&app, &first, "First's primary", true).await;
    contact(&app, &first, "First's other", false).await;
    contact(&app, &second, "Second's primary", true).await;
    let follow_up = app
        .post(
            &format!("/api/v1/customers/{first}/follow-ups"),
            &rep,
            json!({"kind": "call", "content": "rang"}),
        )
        .await
        .expect(201)
        .id();
    let opportunity = app.opportunity(&rep, &first, "Deal", "100.00").await;
    let lead = app.lead(&rep, "Lead").await;
    app.post(
        &format!("/api/v1/leads/{lead}/convert"),
        &rep,
        json!({"customer_id": first}),
    )
    .await
    .expect(200);
    let stocked = app.warehouse_and_product().await;
    let order = app
        .draft_order(&rep, &first, (&stocked.0, &stocked.1))
        .await;
    let before = app
        .get(&format!("/api/v1/customers/{target}"), &rep)
        .await
        .expect(200);
    let synced_at = chrono::Utc::now().to_rfc3339();

    let merged = app
        .post(
            &merge_path(&target),
            &manager,
            json!({"from_ids": [first, second]}),
        )
        .await
        .expect(200);
    let m = &merged.body;
    assert_eq!(m["id"], target.as_str());
    assert_eq!(m["name"], "Acme", "the target's name stays");
    assert_eq!(m["city"], "杭州", "the target's value stays");
    assert_eq!(m["phone"], "13800138000", "the first merged value fills it");
    assert_eq!(m["email"], "buyer@acme.example");
    assert_eq!(m["level"], "A");
    assert_eq!(m["tags"], json!(["vip", "east"]));
    assert_eq!(m["owner_id"], rep_id.as_str());
    assert_eq!(m["version"], before.body["version"].as_i64().unwrap() + 1);
    assert_eq!(merged.header("etag"), Some(format!("\"{}\"", m["version"])));

    for gone in [&first, &second] {
        app.get(&format!("/api/v1/customers/{gone}"), &app.admin)
            .await
            .expect_problem(404, "not_found");
    }
    assert_eq!(
        contacts_of(&app, &target).await,
        vec![
            ("First's other".to_owned(), false),
            ("First's primary".to_owned(), false),
            ("Lead".to_owned(), false),
            ("Second's primary".to_owned(), false),
            ("Target's primary".to_owned(), true),
        ]
    );
    for (path, id) in [
        ("follow-ups", &follow_up),
        ("opportunities", &opportunity),
        ("orders", &order),
        ("leads", &lead),
    ] {
        let r = app
            .get(&format!("/api/v1/{path}/{id}"), &rep)
            .await
            .expect(200);
        assert_eq!(r.body["customer_id"], target.as_str(), "{path}");
    }
    let tagged = app
        .get("/api/v1/customers?tag=east", &rep)
        .await
        .expect(200);
    assert_eq!(tagged.ids(), vec![target.clone()]);

    // A syncing client learns of the moves and of the merged customers.
    let moved = app
        .send(
            app.client
                .get(format!("{}/api/v1/contacts", app.address))
                .bearer_auth(&app.admin)
                .query(&[("updated_after", synced_at.as_str())]),
        )
        .await
        .expect(200);
    // The three contacts of the merged customers and the one the lead's conversion made.
    assert_eq!(moved.ids().len(), 4, "{}", moved.body);
    let deletions = app
        .get("/api/v1/deletions?entity=customer", &rep)
        .await
        .expect(200);
    let mut gone: Vec<String> = deletions.ids();
    gone.sort();
    let mut want = vec![first.clone(), second.clone()];
    want.sort();
    assert_eq!(gone, want);

    // The audit says what went where.
    let entry = app
        .get(
            &format!("/api/v1/audit?entity=customer&entity_id={target}"),
            &app.admin,
        )
        .await
        .expect(200);
    let merge = &entry.body["items"][0];
    assert_eq!(merge["action"], "merge");
    assert_eq!(
        merge["changes"]["merged_from"]["after"],
        json!([first, second])
    );
    assert_eq!(
        merge["changes"]["moved"]["after"]["opportunities"],
        json!([opportunity])
    );
    assert_eq!(merge["changes"]["phone"]["after"], "13800138000");
    let entry = app
        .get(
            &format!("/api/v1/audit?entity=customer&entity_id={first}"),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(entry.body["items"][0]["action"], "merge");
    assert_eq!(
        entry.body["items"][0]["changes"]["merged_into"]["after"],
        target.as_str()
    );
}

#[tokio::test]
async fn without_a_primary_the_first_merged_ones_survives() {
    let app = spawn_app().await;
    let target = app.customer(&app.admin, "Target", json!({})).await;
    let first = app.customer(&app.admin, "First", json!({})).await;
    let second = app.customer(&app.admin, "Second", json!({})).await;
    contact(&app, &target, "Target's", false).await;
    contact(&app, &second, "Second's primary", true).await;
    contact(&app, &first, "First's primary", true).await;
    app.post(
        &merge_path(&target),
        &app.admin,
        json!({"from_ids": [first, second]}),
    )
    .await
    .expect(200);
    assert_eq!(
        contacts_of(&app, &target).await,
        vec![
            ("First's primary".to_owned(), true),
            ("Second's primary".to_owned(), false),
            ("Target's".to_owned(), false),
        ]
    );
}

#[tokio::test]
async fn a_refused_merge_changes_nothing() {
    let app = spawn_app().await;
    let east = app.team("East", None).await;
    let west = app.team("West", None).await;
    let (_, manager) = app.user("manager", Some(&east)).await;
    let (_, rep) = app.user("sales", Some(&east)).await;
    let (_, west_rep) = app.user("sales", Some(&west)).await;
    let target = app.customer(&rep, "Target", json!({})).await;
    let other = app
        .customer(&rep, "Other", json!({"phone": "13800138000"}))
        .await;
    contact(&app, &other, "Stays put", true).await;
    let foreign = app.customer(&west_rep, "West's", json!({})).await;
    let missing = Uuid::now_v7().to_string();
    let many: Vec<String> = (0..21).map(|_| Uuid::now_v7().to_string()).collect();

    app.post(&merge_path(&target), &rep, json!({"from_ids": [other]}))
        .await
        .expect_problem(403, "forbidden");
    for (body, field) in [
        (json!({"from_ids": []}), "from_ids"),
        (json!({"from_ids": many}), "from_ids"),
        (json!({"from_ids": [target]}), "from_ids[0]"),
        (json!({"from_ids": [other, other]}), "from_ids[1]"),
        (json!({"from_ids": [other, missing]}), "from_ids[1]"),
        (json!({"from_ids": [foreign]}), "from_ids[0]"),
    ] {
        let r = app
            .post(&merge_path(&target), &manager, body.clone())
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.fields(), vec![field.to_owned()], "{body}: {}", r.body);
    }
    let r = app
        .post(
            &merge_path(&target),
            &manager,
            json!({"from_ids": ["nope"]}),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 400 | 422), "{}", r.body);
    app.post(
        &merge_path(&foreign),
        &manager,
        json!({"from_ids": [other]}),
    )
    .await
    .expect_problem(404, "not_found");
    let stale = app
        .send(
            app.client
                .post(format!("{}{}", app.address, merge_path(&target)))
                .bearer_auth(&manager)
                .header("if-match", "\"7\"")
                .json(&json!({"from_ids": [other]})),
        )
        .await;
    assert_eq!(stale.status.as_u16(), 412, "{}", stale.body);

    let still = app
        .get(&format!("/api/v1/customers/{other}"), &rep)
        .await
        .expect(200);
    assert_eq!(still.body["version"], 1);
    assert_eq!(
        contacts_of(&app, &other).await,
        vec![("Stays put".to_owned(), true)]
    );
    let t = app
        .get(&format!("/api/v1/customers/{target}"), &rep)
        .await
        .expect(200);
    assert_eq!(t.body["version"], 1);
    assert_eq!(t.body["phone"], Value::Null);
    let d = app.get("/api/v1/deletions", &app.admin).await.expect(200);
    assert_eq!(d.body["items"], json!([]));
}

#[tokio::test]
async fn a_merge_keeps_the_merged_customers_pool_cooldowns() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let target = app.pool_customer("Target in the pool").await;
    let merged = app.pool_customer("Released by the rep").await;
    app.post(
        &format!("/api/v1/customers/{merged}/claim"),
        &rep,
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/customers/{merged}/release"),
        &rep,
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &merge_path(&target),
        &app.admin,
        json!({"from_ids": [merged]}),
    )
    .await
    .expect(200);
    // The rep's cooldown on what they released holds on the customer it became.
    app.post(
        &format!("/api/v1/customers/{target}/claim"),
        &rep,
        json!({}),
    )
    .await
    .expect_problem(409, "claim_cooldown");
}
