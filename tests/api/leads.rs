//! Leads: CRUD in scope, the status machine, assignment and conversion.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn leads_move_through_their_statuses() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let created = app.post("/api/v1/leads", &rep, json!({"name": "王五", "company": "宁波五金", "phone": "13900001111", "source": "官网"})).await.expect(201);
    let id = created.id();
    assert_eq!(created.body["status"], "new");
    let path = format!("/api/v1/leads/{id}");
    for (to, ok) in [
        ("qualified", false),
        ("converted", false),
        ("contacted", true),
        ("new", false),
        ("qualified", true),
        ("contacted", false),
        ("disqualified", true),
        ("qualified", false),
        ("contacted", false),
    ] {
        let r = app.patch(&path, &rep, json!({"status": to})).await;
        if ok {
            assert_eq!(r.status.as_u16(), 200, "to {to}: {}", r.body);
            assert_eq!(r.body["status"], to);
        } else {
            r.expect_problem(409, "invalid_transition");
        }
    }
    app.patch(&path, &rep, json!({"status": "lost"}))
        .await
        .expect_problem(422, "validation_failed");
    let found = app
        .get("/api/v1/leads?status=disqualified&q=13900001111", &rep)
        .await
        .expect(200);
    assert_eq!(found.ids(), vec![id.clone()]);
    app.delete(&path, &rep).await.expect(204);
    app.get(&path, &rep).await.expect_problem(404, "not_found");
}

#[tokio::test]
async fn lead_rules_and_scope() {
    let app = spawn_app().await;
    let team = app.team("T", None).await;
    let (rep_id, rep) = app.user("sales", Some(&team)).await;
    let (rep2_id, _) = app.user("sales", Some(&team)).await;
    let (_, other) = app.user("sales", None).await;
    let (_, manager) = app.user("manager", Some(&team)).await;
    let r = app
        .post("/api/v1/leads", &rep, json!({"name": "", "email": "x"}))
        .await
        .expect_problem(422, "validation_failed");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, vec!["email", "name"]);
    app.post(
        "/api/v1/leads",
        &rep,
        json!({"name": "X", "owner_id": rep2_id}),
    )
    .await
    .expect_problem(403, "forbidden");
    let id = app.lead(&rep, "Mine").await;
    let path = format!("/api/v1/leads/{id}");
    let calls = [
        Call::get(&path),
        Call::patch(&path, json!({"status": "contacted"})),
        Call::post(format!("{path}/convert"), json!({})),
    ];
    app.refuses(&other, 404, "not_found", calls).await;
    app.assert_empty("/api/v1/leads", &other, "nothing listed")
        .await;
    app.patch(&path, &rep, json!({"owner_id": rep2_id}))
        .await
        .expect_problem(403, "forbidden");
    let moved = app
        .patch(&path, &manager, json!({"owner_id": rep2_id}))
        .await
        .expect(200);
    assert_eq!(moved.body["owner_id"].as_str(), Some(rep2_id.as_str()));
    app.get(&path, &rep).await.expect_problem(404, "not_found");
    assert_ne!(rep_id, rep2_id);
}

#[tokio::test]
async fn converting_creates_customer_and_primary_contact_once() {
    let app = spawn_app().await;
    let (rep_id, rep) = app.user("sales", None).await;
    let id = app.post("/api/v1/leads", &rep, json!({"name": "韩梅梅", "company": "杭州西湖科技", "phone": "13800138000", "email": "han@xihu.cn", "source": "展会"})).await.expect(201).id();
    let conv = app
        .post(&format!("/api/v1/leads/{id}/convert"), &rep, json!({}))
        .await
        .expect(200);
    assert_eq!(conv.body["lead"]["status"], "converted");
    assert_eq!(conv.body["opportunity_id"], serde_json::Value::Null);
    let customer_id = conv.body["customer_id"].as_str().unwrap().to_owned();
    let contact_id = conv.body["contact_id"].as_str().unwrap().to_owned();
    assert_eq!(
        conv.body["lead"]["customer_id"].as_str(),
        Some(customer_id.as_str())
    );
    assert_eq!(
        conv.body["lead"]["contact_id"].as_str(),
        Some(contact_id.as_str())
    );
    let customer = app
        .get(&format!("/api/v1/customers/{customer_id}"), &rep)
        .await
        .expect(200);
    assert_eq!(customer.body["name"], "杭州西湖科技");
    assert_eq!(customer.body["kind"], "company");
    assert_eq!(customer.body["source"], "展会");
    assert_eq!(customer.body["owner_id"].as_str(), Some(rep_id.as_str()));
    let contact = app
        .get(&format!("/api/v1/contacts/{contact_id}"), &rep)
        .await
        .expect(200);
    assert_eq!(
        (
            contact.body["name"].as_str(),
            contact.body["is_primary"].as_bool()
        ),
        (Some("韩梅梅"), Some(true))
    );
    let again = app
        .post(&format!("/api/v1/leads/{id}/convert"), &rep, json!({}))
        .await
        .expect_problem(409, "invalid_transition");
    assert!(again.body["detail"].as_str().unwrap().contains("converted"));
    app.patch(
        &format!("/api/v1/leads/{id}"),
        &rep,
        json!({"status": "contacted"}),
    )
    .await
    .expect_problem(409, "invalid_transition");
}

#[tokio::test]
async fn converting_into_an_existing_customer_links_it() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let c = app.customer(&rep, "Existing Co", json!({})).await;
    let old_primary = app
        .post(
            &format!("/api/v1/customers/{c}/contacts"),
            &rep,
            json!({"name": "Old", "is_primary": true}),
        )
        .await
        .expect(201)
        .id();
    let id = app
        .post(
            "/api/v1/leads",
            &rep,
            json!({"name": "New Person", "company": "Existing Co"}),
        )
        .await
        .expect(201)
        .id();
    let conv = app
        .post(
            &format!("/api/v1/leads/{id}/convert"),
            &rep,
            json!({"customer_id": c}),
        )
        .await
        .expect(200);
    assert_eq!(conv.body["customer_id"].as_str(), Some(c.as_str()));
    let primaries = app
        .get(
            &format!("/api/v1/contacts?customer_id={c}&is_primary=true"),
            &rep,
        )
        .await
        .expect(200);
    assert_eq!(
        primaries.ids(),
        vec![conv.body["contact_id"].as_str().unwrap().to_owned()]
    );
    assert_eq!(
        app.get(&format!("/api/v1/contacts/{old_primary}"), &rep)
            .await
            .expect(200)
            .body["is_primary"],
        false
    );
    assert_eq!(
        app.get("/api/v1/customers?include_total=true", &rep)
            .await
            .expect(200)
            .body["total"],
        1,
        "no new customer"
    );
}

#[tokio::test]
async fn a_failed_conversion_leaves_nothing_behind() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let (_, other) = app.user("sales", None).await;
    let existing = app.customer(&other, "Taken Name Ltd", json!({})).await;
    let id = app
        .post(
            "/api/v1/leads",
            &rep,
            json!({"name": "Li", "company": "Taken Name Ltd", "email": "li@taken.example"}),
        )
        .await
        .expect(201)
        .id();
    app.patch(
        &format!("/api/v1/leads/{id}"),
        &rep,
        json!({"status": "contacted"}),
    )
    .await
    .expect(200);
    // The lead is marked converted first in the transaction; the duplicate check fails after.
    let r = app
        .post(&format!("/api/v1/leads/{id}/convert"), &rep, json!({}))
        .await
        .expect_problem(409, "duplicate_customer");
    assert_eq!(r.body["matches"], json!([existing]));
    let lead = app
        .get(&format!("/api/v1/leads/{id}"), &rep)
        .await
        .expect(200);
    assert_eq!(lead.body["status"], "contacted");
    assert_eq!(lead.body["customer_id"], serde_json::Value::Null);
    assert_eq!(lead.body["version"], 2);
    assert_eq!(
        app.get(
            "/api/v1/contacts?q=li%40taken.example&include_total=true",
            &app.admin
        )
        .await
        .expect(200)
        .body["total"],
        0
    );
    assert_eq!(
        app.get("/api/v1/customers?include_total=true", &app.admin)
            .await
            .expect(200)
            .body["total"],
        1
    );
    // Linking a customer the rep cannot see, or one that does not exist, is a 422 naming
    // `customer_id`: nothing changes.
    for customer in [existing.clone(), uuid::Uuid::now_v7().to_string()] {
        let r = app
            .post(
                &format!("/api/v1/leads/{id}/convert"),
                &rep,
                json!({"customer_id": customer}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.fields(), vec!["customer_id"]);
    }
    // A pool customer: a rep claims it before linking it.
    let pooled = app.pool_customer("Pooled Lead Co").await;
    app.post(
        &format!("/api/v1/leads/{id}/convert"),
        &rep,
        json!({"customer_id": pooled}),
    )
    .await
    .expect_problem(403, "forbidden");
    assert_eq!(
        app.get(&format!("/api/v1/leads/{id}"), &rep)
            .await
            .expect(200)
            .body["status"],
        "contacted"
    );
    // With allow_duplicate the conversion goes through.
    app.post(
        &format!("/api/v1/leads/{id}/convert?allow_duplicate=true"),
        &rep,
        json!({}),
    )
    .await
    .expect(200);
}
