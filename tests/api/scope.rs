//! Data scope: reps see their own, managers their team and its sub-teams, admins all.
//! Out-of-scope records answer 404 exactly like missing ones.

use serde_json::json;

use crate::helpers::*;

struct World {
    app: TestApp,
    rep_a: String,
    rep_a_id: String,
    rep_sub: String,
    rep_b: String,
    manager_a: String,
    manager_b: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let team_a = app.team("华东", None).await;
    let team_a1 = app.team("杭州组", Some(&team_a)).await;
    let team_b = app.team("华南", None).await;
    let (rep_a_id, rep_a) = app.user("sales", Some(&team_a)).await;
    let (_, rep_sub) = app.user("sales", Some(&team_a1)).await;
    let (_, rep_b) = app.user("sales", Some(&team_b)).await;
    let (_, manager_a) = app.user("manager", Some(&team_a)).await;
    let (_, manager_b) = app.user("manager", Some(&team_b)).await;
    World {
        app,
        rep_a,
        rep_a_id,
        rep_sub,
        rep_b,
        manager_a,
        manager_b,
    }
}

#[tokio::test]
async fn a_rep_cannot_reach_another_reps_customer_or_its_contacts() {
    let w = world().await;
    let app = &w.app;
    let c = app
        .customer(
            &w.rep_a,
            "Rep A's customer",
            json!({"phone": "13900001111"}),
        )
        .await;
    let contact = app
        .post(
            &format!("/api/v1/customers/{c}/contacts"),
            &w.rep_a,
            json!({"name": "Zhang"}),
        )
        .await
        .expect(201)
        .id();

    let path = format!("/api/v1/customers/{c}");
    let missing = app
        .get(
            &format!("/api/v1/customers/{}", uuid::Uuid::now_v7()),
            &w.rep_b,
        )
        .await
        .expect_problem(404, "not_found");
    let hidden = app
        .get(&path, &w.rep_b)
        .await
        .expect_problem(404, "not_found");
    assert_eq!(
        missing.body, hidden.body,
        "out of scope looks exactly like missing"
    );
    let calls = [
        Call::patch(&path, json!({"name": "stolen"})),
        Call::delete(&path),
    ];
    app.refuses(&w.rep_b, 404, "not_found", calls).await;
    let list = app
        .get("/api/v1/customers?include_total=true", &w.rep_b)
        .await
        .expect(200);
    assert!(list.ids().is_empty());
    assert_eq!(list.body["total"], 0);
    let searched = app
        .get("/api/v1/customers?q=13900001111", &w.rep_b)
        .await
        .expect(200);
    assert!(searched.ids().is_empty(), "search does not leak");

    let calls = [
        Call::get(format!("/api/v1/contacts/{contact}")),
        Call::patch(format!("/api/v1/contacts/{contact}"), json!({"name": "x"})),
        Call::delete(format!("/api/v1/contacts/{contact}")),
        Call::get(format!("/api/v1/customers/{c}/contacts")),
        Call::post(
            format!("/api/v1/customers/{c}/contacts"),
            json!({"name": "x"}),
        ),
    ];
    app.refuses(&w.rep_b, 404, "not_found", calls).await;
    let contacts = app
        .get("/api/v1/contacts?include_total=true", &w.rep_b)
        .await
        .expect(200);
    assert!(contacts.ids().is_empty());
    assert_eq!(contacts.body["total"], 0);

    // A teammate (same team, also a rep) sees nothing either.
    app.get(&path, &w.rep_sub)
        .await
        .expect_problem(404, "not_found");
    // The owner still has everything, unchanged.
    let own = app.get(&path, &w.rep_a).await.expect(200);
    assert_eq!(own.body["name"], "Rep A's customer");
    assert_eq!(
        app.get(&format!("/api/v1/customers/{c}/contacts"), &w.rep_a)
            .await
            .expect(200)
            .ids(),
        vec![contact]
    );
}

#[tokio::test]
async fn a_manager_sees_their_team_and_sub_teams_only() {
    let w = world().await;
    let app = &w.app;
    let a = app.customer(&w.rep_a, "Team A customer", json!({})).await;
    let sub = app
        .customer(&w.rep_sub, "Sub-team customer", json!({}))
        .await;
    let b = app.customer(&w.rep_b, "Team B customer", json!({})).await;

    let mut seen = app
        .get("/api/v1/customers?include_total=true", &w.manager_a)
        .await
        .expect(200);
    assert_eq!(seen.body["total"], 2);
    let mut ids = seen.ids();
    ids.sort();
    let mut want = vec![a.clone(), sub.clone()];
    want.sort();
    assert_eq!(ids, want);
    app.get(&format!("/api/v1/customers/{b}"), &w.manager_a)
        .await
        .expect_problem(404, "not_found");
    app.patch(
        &format!("/api/v1/customers/{sub}"),
        &w.manager_a,
        json!({"level": "A"}),
    )
    .await
    .expect(200);

    seen = app.get("/api/v1/customers", &w.manager_b).await.expect(200);
    assert_eq!(seen.ids(), vec![b.clone()]);

    let all = app
        .get("/api/v1/customers?include_total=true", &app.admin)
        .await
        .expect(200);
    assert_eq!(all.body["total"], 3, "admin sees everything");
}

#[tokio::test]
async fn a_manager_filtering_by_an_out_of_scope_owner_gets_nothing() {
    let w = world().await;
    let app = &w.app;
    app.customer(&w.rep_a, "Team A customer", json!({})).await;
    let r = app
        .get(
            &format!("/api/v1/customers?owner_id={}", w.rep_a_id),
            &w.manager_b,
        )
        .await
        .expect(200);
    assert!(r.ids().is_empty());
}

#[tokio::test]
async fn reps_cannot_create_customers_for_someone_else() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .post(
            "/api/v1/customers",
            &w.rep_b,
            json!({"name": "For A", "owner_id": w.rep_a_id}),
        )
        .await
        .expect_problem(403, "forbidden");
    assert!(r.body["detail"].as_str().is_some());
    let created = app
        .post(
            "/api/v1/customers",
            &w.manager_a,
            json!({"name": "Assigned", "owner_id": w.rep_a_id}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["owner_id"].as_str(), Some(w.rep_a_id.as_str()));
    app.get(&format!("/api/v1/customers/{}", created.id()), &w.rep_a)
        .await
        .expect(200);
}

#[tokio::test]
async fn a_manager_gives_records_only_to_members_of_their_teams() {
    let w = world().await;
    let app = &w.app;
    let team_a1 = app.team("宁波组", None).await;
    let (outsider, _) = app.user("sales", Some(&team_a1)).await;
    for (path, body) in [
        (
            "/api/v1/customers?allow_duplicate=true",
            json!({"name": "For an outsider", "owner_id": outsider}),
        ),
        (
            "/api/v1/leads",
            json!({"name": "Lead for an outsider", "owner_id": outsider}),
        ),
    ] {
        let r = app
            .post(path, &w.manager_a, body)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.fields(), vec!["owner_id"], "{path}");
    }
    let own = app
        .post(
            "/api/v1/customers?allow_duplicate=true",
            &w.manager_a,
            json!({"name": "For my rep", "owner_id": w.rep_a_id}),
        )
        .await
        .expect(201);
    assert_eq!(own.body["owner_id"], w.rep_a_id.as_str());
}
