//! Follow-ups, the customer timeline, the due list and tags.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn follow_ups_keep_the_customers_dates_current() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let c = app.customer(&rep, "Followed Co", json!({})).await;
    let first = app
        .post(&format!("/api/v1/customers/{c}/follow-ups"), &rep, json!({"kind": "call", "content": "首次电话", "occurred_at": "2026-11-20T02:00:00Z", "next_follow_up_at": "2026-11-27T02:00:00Z"}))
        .await
        .expect(201);
    let id = first.id();
    assert_eq!(
        first.header("location"),
        Some(format!("/api/v1/follow-ups/{id}"))
    );
    assert_eq!(first.body["kind"], "call");
    let customer = app
        .get(&format!("/api/v1/customers/{c}"), &rep)
        .await
        .expect(200);
    assert_eq!(customer.body["last_follow_up_at"], "2026-11-20T02:00:00Z");
    assert_eq!(customer.body["next_follow_up_at"], "2026-11-27T02:00:00Z");
    assert_eq!(
        customer.body["version"], 2,
        "a follow-up changes the customer"
    );

    let second = app
        .post(
            &format!("/api/v1/customers/{c}/follow-ups"),
            &rep,
            json!({"kind": "visit", "content": "上门拜访", "occurred_at": "2026-11-22T02:00:00Z"}),
        )
        .await
        .expect(201)
        .id();
    let customer = app
        .get(&format!("/api/v1/customers/{c}"), &rep)
        .await
        .expect(200);
    assert_eq!(customer.body["last_follow_up_at"], "2026-11-22T02:00:00Z");
    assert_eq!(
        customer.body["next_follow_up_at"], "2026-11-27T02:00:00Z",
        "kept when not given"
    );

    let list = app
        .get(&format!("/api/v1/customers/{c}/follow-ups"), &rep)
        .await
        .expect(200);
    assert_eq!(list.ids(), vec![second.clone(), id.clone()], "newest first");
    let edited = app
        .patch(
            &format!("/api/v1/follow-ups/{second}"),
            &rep,
            json!({"content": "上门拜访，谈了价格", "next_follow_up_at": null}),
        )
        .await
        .expect(200);
    assert_eq!(edited.body["version"], 2);
    assert_eq!(
        app.get(&format!("/api/v1/customers/{c}"), &rep)
            .await
            .expect(200)
            .body["next_follow_up_at"],
        serde_json::Value::Null
    );
    app.delete(&format!("/api/v1/follow-ups/{second}"), &rep)
        .await
        .expect(204);
    let customer = app
        .get(&format!("/api/v1/customers/{c}"), &rep)
        .await
        .expect(200);
    assert_eq!(
        customer.body["last_follow_up_at"], "2026-11-20T02:00:00Z",
        "recomputed from what is left"
    );
}

#[tokio::test]
async fn only_the_author_edits_a_follow_up() {
    let app = spawn_app().await;
    let team = app.team("T", None).await;
    let (_, rep) = app.user("sales", Some(&team)).await;
    let (_, manager) = app.user("manager", Some(&team)).await;
    let c = app.customer(&rep, "Shared Co", json!({})).await;
    let f = app
        .post(
            &format!("/api/v1/customers/{c}/follow-ups"),
            &rep,
            json!({"kind": "note", "content": "mine"}),
        )
        .await
        .expect(201)
        .id();
    app.get(&format!("/api/v1/follow-ups/{f}"), &manager)
        .await
        .expect(200);
    let calls = [
        Call::patch(
            format!("/api/v1/follow-ups/{f}"),
            json!({"content": "not yours"}),
        ),
        Call::delete(format!("/api/v1/follow-ups/{f}")),
    ];
    app.refuses(&manager, 403, "forbidden", calls).await;
    app.delete(&format!("/api/v1/follow-ups/{f}"), &app.admin)
        .await
        .expect(204);
}

#[tokio::test]
async fn follow_ups_and_timelines_are_scoped() {
    let app = spawn_app().await;
    let (_, rep_a) = app.user("sales", None).await;
    let (_, rep_b) = app.user("sales", None).await;
    let c = app.customer(&rep_a, "Private Co", json!({})).await;
    let f = app
        .post(
            &format!("/api/v1/customers/{c}/follow-ups"),
            &rep_a,
            json!({"kind": "email", "content": "quote sent"}),
        )
        .await
        .expect(201)
        .id();
    let calls = [
        Call::get(format!("/api/v1/follow-ups/{f}")),
        Call::patch(format!("/api/v1/follow-ups/{f}"), json!({"content": "x"})),
        Call::get(format!("/api/v1/customers/{c}/follow-ups")),
        Call::get(format!("/api/v1/customers/{c}/timeline")),
        Call::post(
            format!("/api/v1/customers/{c}/follow-ups"),
            json!({"kind": "call", "content": "x"}),
        ),
    ];
    app.refuses(&rep_b, 404, "not_found", calls).await;
    let all = app
        .get("/api/v1/follow-ups?include_total=true", &rep_b)
        .await
        .expect(200);
    assert_eq!(all.body["total"], 0);
    assert_eq!(
        app.get("/api/v1/follow-ups?include_total=true", &rep_a)
            .await
            .expect(200)
            .body["total"],
        1
    );
}

#[tokio::test]
async fn follow_up_rules_are_named() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "Rules Co", json!({})).await;
    let path = format!("/api/v1/customers/{c}/follow-ups");
    app.post_each_invalid(
        &path,
        &app.admin,
        [
            (
                json!({"kind": "fax", "content": "x"}),
                "kind",
                "invalid_choice",
            ),
            (json!({"content": "x"}), "kind", "required"),
            (
                json!({"kind": "call", "content": " "}),
                "content",
                "required",
            ),
            (
                json!({"kind": "call", "content": "c".repeat(10_001)}),
                "content",
                "too_long",
            ),
            (
                json!({"kind": "call", "content": "x", "occurred_at": "2030-01-01T00:00:00Z"}),
                "occurred_at",
                "in_future",
            ),
            (
                json!({"kind": "call", "content": "x", "occurred_at": "2026-11-20T00:00:00Z", "next_follow_up_at": "2026-11-19T00:00:00Z"}),
                "next_follow_up_at",
                "before_occurred_at",
            ),
            (
                json!({"kind": "call", "content": "x", "occurred_at": "yesterday"}),
                "occurred_at",
                "invalid",
            ),
        ],
    )
    .await;
    app.assert_empty(&path, &app.admin, "nothing listed").await;
}

#[tokio::test]
async fn the_timeline_merges_newest_first_and_pages() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let c = app.pool_customer("Storied Co").await;
    app.post(&format!("/api/v1/customers/{c}/claim"), &rep, json!({}))
        .await
        .expect(200);
    for (i, day) in ["2026-11-01", "2026-11-03", "2026-11-02"]
        .iter()
        .enumerate()
    {
        app.post(&format!("/api/v1/customers/{c}/follow-ups"), &rep, json!({"kind": "note", "content": format!("note {i}"), "occurred_at": format!("{day}T08:00:00Z")})).await.expect(201);
    }
    let mut kinds = vec![];
    let mut path = format!("/api/v1/customers/{c}/timeline?per_page=2");
    loop {
        let page = app.get(&path, &rep).await.expect(200);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        for i in items {
            kinds.push(match i["kind"].as_str().unwrap() {
                "follow_up" => i["follow_up"]["content"].as_str().unwrap().to_owned(),
                _ => i["owner_change"]["change"].as_str().unwrap().to_owned(),
            });
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/customers/{c}/timeline?per_page=2&after={cursor}")
            }
            None => break,
        }
    }
    // Ownership events happened now, after the back-dated follow-ups.
    assert_eq!(
        kinds,
        vec![
            "claimed", "released", "created", "note 1", "note 2", "note 0"
        ]
    );
    app.get(&format!("/api/v1/customers/{c}/timeline?after=bogus"), &rep)
        .await
        .expect_problem(400, "invalid_parameter");
}

#[tokio::test]
async fn the_due_list_shows_my_customers_to_follow_up() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let (_, other) = app.user("sales", None).await;
    let overdue = app.customer(&rep, "Overdue", json!({})).await;
    let later = app.customer(&rep, "Later", json!({})).await;
    let theirs = app.customer(&other, "Theirs", json!({})).await;
    for (c, token, next) in [
        (&overdue, &rep, "2026-11-01T00:00:00Z"),
        (&later, &rep, "2099-01-01T00:00:00Z"),
        (&theirs, &other, "2026-11-01T00:00:00Z"),
    ] {
        app.post(&format!("/api/v1/customers/{c}/follow-ups"), token, json!({"kind": "call", "content": "x", "occurred_at": "2026-10-01T00:00:00Z", "next_follow_up_at": next})).await.expect(201);
    }
    assert_eq!(
        app.get("/api/v1/customers/due-for-follow-up", &rep)
            .await
            .expect(200)
            .ids(),
        vec![overdue.clone()]
    );
    let all = app
        .get(
            "/api/v1/customers/due-for-follow-up?before=2100-01-01T00:00:00Z",
            &rep,
        )
        .await
        .expect(200);
    assert_eq!(all.ids(), vec![overdue, later], "soonest first");
}

#[tokio::test]
async fn tags_are_added_removed_and_counted_in_scope() {
    let app = spawn_app().await;
    let (_, rep_a) = app.user("sales", None).await;
    let (_, rep_b) = app.user("sales", None).await;
    let a1 = app.customer(&rep_a, "A1", json!({"tags": ["vip"]})).await;
    let a2 = app.customer(&rep_a, "A2", json!({})).await;
    app.customer(&rep_b, "B1", json!({"tags": ["vip", "secret"]}))
        .await;
    let r = app
        .post(
            &format!("/api/v1/customers/{a2}/tags"),
            &rep_a,
            json!({"tags": ["vip", "华东", "vip"]}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["tags"], json!(["vip", "华东"]));
    app.post(
        &format!("/api/v1/customers/{a2}/tags"),
        &rep_a,
        json!({"tags": ["a,b"]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let tags = app.get("/api/v1/tags", &rep_a).await.expect(200);
    assert_eq!(
        tags.body["items"],
        json!([{"tag": "vip", "count": 2}, {"tag": "华东", "count": 1}])
    );
    let tagged = app
        .get("/api/v1/customers?tag=vip&sort=name", &rep_a)
        .await
        .expect(200);
    assert_eq!(tagged.ids(), vec![a1.clone(), a2.clone()]);
    let removed = app
        .delete(&format!("/api/v1/customers/{a1}/tags/vip"), &rep_a)
        .await
        .expect(200);
    assert_eq!(removed.body["tags"], json!([]));
    assert_eq!(
        app.get("/api/v1/customers?tag=vip", &rep_a)
            .await
            .expect(200)
            .ids(),
        vec![a2.clone()]
    );
    let admin_tags = app.get("/api/v1/tags", &app.admin).await.expect(200);
    assert_eq!(
        admin_tags.body["items"][0],
        json!({"tag": "vip", "count": 2})
    );
    app.post(
        &format!("/api/v1/customers/{a1}/tags"),
        &rep_b,
        json!({"tags": ["mine"]}),
    )
    .await
    .expect_problem(404, "not_found");
}
