//! Contacts: validation, the one-primary rule, listing under a customer and on their own.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn contacts_live_under_their_customer() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "Contacted Co", json!({})).await;
    let r = app.post(&format!("/api/v1/customers/{c}/contacts"), &app.admin, json!({"name": "韩梅梅", "title": "采购经理", "phone": "13800138000", "email": "han@example.com"})).await.expect(201);
    let id = r.id();
    assert_eq!(r.header("location"), Some(format!("/api/v1/contacts/{id}")));
    assert_eq!(r.body["customer_id"], c.as_str());
    assert_eq!(r.body["is_primary"], false);
    let got = app
        .get(&format!("/api/v1/contacts/{id}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(got.body, r.body);
    let upd = app
        .patch(
            &format!("/api/v1/contacts/{id}"),
            &app.admin,
            json!({"title": null, "phone": "+86 139 0000 0000"}),
        )
        .await
        .expect(200);
    assert_eq!(upd.body["title"], serde_json::Value::Null);
    assert_eq!(upd.body["version"], 2);
    let found = app
        .get("/api/v1/contacts?q=13900000000", &app.admin)
        .await
        .expect(200);
    assert_eq!(found.ids(), vec![id.clone()]);
    app.delete(&format!("/api/v1/contacts/{id}"), &app.admin)
        .await
        .expect(204);
    app.assert_empty(
        &format!("/api/v1/customers/{c}/contacts"),
        &app.admin,
        "nothing listed",
    )
    .await;
}

#[tokio::test]
async fn contact_rules_are_named() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "Rules Co", json!({})).await;
    let path = format!("/api/v1/customers/{c}/contacts");
    app.post_each_invalid(
        &path,
        &app.admin,
        [
            (json!({}), "name", "required"),
            (json!({"name": " "}), "name", "required"),
            (json!({"name": "n".repeat(201)}), "name", "too_long"),
            (
                json!({"name": "ok", "email": "nope"}),
                "email",
                "invalid_email",
            ),
            (
                json!({"name": "ok", "phone": "12"}),
                "phone",
                "invalid_phone",
            ),
            (
                json!({"name": "ok", "title": "t".repeat(101)}),
                "title",
                "too_long",
            ),
            (
                json!({"name": "ok", "is_primary": "yes"}),
                "is_primary",
                "invalid_type",
            ),
        ],
    )
    .await;
    app.assert_empty(&path, &app.admin, "nothing written").await;
    app.post(
        &format!("/api/v1/customers/{}/contacts", uuid::Uuid::now_v7()),
        &app.admin,
        json!({"name": "x"}),
    )
    .await
    .expect_problem(404, "not_found");
}

#[tokio::test]
async fn at_most_one_primary_contact() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "Primary Co", json!({})).await;
    let path = format!("/api/v1/customers/{c}/contacts");
    let first = app
        .post(
            &path,
            &app.admin,
            json!({"name": "First", "is_primary": true}),
        )
        .await
        .expect(201)
        .id();
    let second = app
        .post(
            &path,
            &app.admin,
            json!({"name": "Second", "is_primary": true}),
        )
        .await
        .expect(201)
        .id();
    let primaries = app
        .get(
            &format!("/api/v1/contacts?customer_id={c}&is_primary=true"),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(primaries.ids(), vec![second.clone()]);
    let f = app
        .get(&format!("/api/v1/contacts/{first}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(f.body["is_primary"], false);
    assert_eq!(f.body["version"], 2, "un-marking is a change");
    let third = app
        .post(&path, &app.admin, json!({"name": "Third"}))
        .await
        .expect(201)
        .id();
    app.patch(
        &format!("/api/v1/contacts/{third}"),
        &app.admin,
        json!({"is_primary": true}),
    )
    .await
    .expect(200);
    let primaries = app
        .get(
            &format!("/api/v1/contacts?customer_id={c}&is_primary=true"),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(primaries.ids(), vec![third]);
    // Other customers' primaries are untouched.
    let other = app.customer(&app.admin, "Other Co", json!({})).await;
    let op = app
        .post(
            &format!("/api/v1/customers/{other}/contacts"),
            &app.admin,
            json!({"name": "Theirs", "is_primary": true}),
        )
        .await
        .expect(201)
        .id();
    assert_eq!(
        app.get(&format!("/api/v1/contacts/{op}"), &app.admin)
            .await
            .expect(200)
            .body["is_primary"],
        true
    );
    assert_eq!(
        app.get(
            "/api/v1/contacts?is_primary=true&include_total=true",
            &app.admin
        )
        .await
        .expect(200)
        .body["total"],
        2
    );
}

#[tokio::test]
async fn deleting_a_customer_removes_its_contacts() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "Gone Co", json!({})).await;
    let contact = app
        .post(
            &format!("/api/v1/customers/{c}/contacts"),
            &app.admin,
            json!({"name": "Gone"}),
        )
        .await
        .expect(201)
        .id();
    app.delete(&format!("/api/v1/customers/{c}"), &app.admin)
        .await
        .expect(204);
    app.get(&format!("/api/v1/contacts/{contact}"), &app.admin)
        .await
        .expect_problem(404, "not_found");
}
