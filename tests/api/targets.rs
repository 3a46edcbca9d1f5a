//! Targets (销售目标): one per month and user or team, set by admins and by managers within
//! their subtree, read within scope (a rep: their own).

use serde_json::json;

use crate::helpers::*;

struct Org {
    app: TestApp,
    team: String,
    other_team: String,
    manager: String,
    rep_id: String,
    rep: String,
    outsider_id: String,
}

async fn org() -> Org {
    let app = spawn_app().await;
    let team = app.team("East", None).await;
    let other_team = app.team("West", None).await;
    let (_, manager) = app.user("manager", Some(&team)).await;
    let (rep_id, rep) = app.user("sales", Some(&team)).await;
    let (outsider_id, _) = app.user("sales", Some(&other_team)).await;
    Org {
        app,
        team,
        other_team,
        manager,
        rep_id,
        rep,
        outsider_id,
    }
}

#[tokio::test]
async fn one_target_per_month_and_subject() {
    let o = org().await;
    let app = &o.app;
    let created = app
        .post(
            "/api/v1/targets",
            &app.admin,
            json!({"month": "2026-12", "user_id": o.rep_id, "amount": "300000"}),
        )
        .await
        .expect(201);
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/targets/{}", created.id()))
    );
    assert_eq!(created.body["month"], "2026-12");
    assert_eq!(created.body["amount"], "300000.00");
    assert_eq!(created.body["currency"], "CNY");
    assert_eq!(created.body["team_id"], serde_json::Value::Null);
    assert_eq!(created.body["version"], 1);
    let again = app
        .post(
            "/api/v1/targets",
            &app.admin,
            json!({"month": "2026-12", "user_id": o.rep_id, "amount": "1"}),
        )
        .await
        .expect_problem(409, "conflict");
    assert_eq!(again.fields(), vec!["month"]);
    // The same month for the team, and the next month for the user, are other targets.
    app.post(
        "/api/v1/targets",
        &app.admin,
        json!({"month": "2026-12", "team_id": o.team, "amount": "900000.50"}),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/targets",
        &app.admin,
        json!({"month": "2027-01", "user_id": o.rep_id, "amount": "310000"}),
    )
    .await
    .expect(201);
    let december = app
        .get("/api/v1/targets?month=2026-12", &app.admin)
        .await
        .expect(200);
    assert_eq!(december.ids().len(), 2);
}

#[tokio::test]
async fn bad_targets_are_refused_and_change_nothing() {
    let o = org().await;
    let app = &o.app;
    for (body, fields) in [
        (
            json!({"month": "2026-13", "user_id": o.rep_id, "amount": "1"}),
            vec!["month"],
        ),
        (
            json!({"month": "2026-12", "user_id": o.rep_id, "team_id": o.team, "amount": "1"}),
            vec!["team_id"],
        ),
        (json!({"month": "2026-12", "amount": "1"}), vec!["user_id"]),
        (
            json!({"month": "2026-12", "user_id": o.rep_id, "amount": "0"}),
            vec!["amount"],
        ),
        (
            json!({"month": "2026-12", "user_id": o.rep_id, "amount": "1.005"}),
            vec!["amount"],
        ),
        (
            json!({"month": "2026-12", "user_id": o.rep_id, "amount": "1", "currency": "rmb"}),
            vec!["currency"],
        ),
    ] {
        let r = app
            .post("/api/v1/targets", &app.admin, body)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.fields(), fields);
    }
    let nobody = app
        .post(
            "/api/v1/targets",
            &app.admin,
            json!({"month": "2026-12", "user_id": uuid::Uuid::now_v7(), "amount": "1"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(nobody.fields(), vec!["user_id"]);
    app.get("/api/v1/targets?month=december", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    let all = app.get("/api/v1/targets", &app.admin).await.expect(200);
    assert!(all.ids().is_empty());
}

#[tokio::test]
async fn managers_set_targets_in_their_subtree_and_reps_read_their_own() {
    let o = org().await;
    let app = &o.app;
    let sub = app.team("East-1", Some(&o.team)).await;
    let mine = app
        .post(
            "/api/v1/targets",
            &o.manager,
            json!({"month": "2026-12", "user_id": o.rep_id, "amount": "100"}),
        )
        .await
        .expect(201)
        .id();
    let sub_target = app
        .post(
            "/api/v1/targets",
            &o.manager,
            json!({"month": "2026-12", "team_id": sub, "amount": "500"}),
        )
        .await
        .expect(201)
        .id();
    // Outside the subtree: the field is unusable, and nothing is written.
    let out = app
        .post(
            "/api/v1/targets",
            &o.manager,
            json!({"month": "2026-12", "user_id": o.outsider_id, "amount": "100"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(out.fields(), vec!["user_id"]);
    app.post(
        "/api/v1/targets",
        &o.manager,
        json!({"month": "2026-12", "team_id": o.other_team, "amount": "100"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let outsiders = app
        .post(
            "/api/v1/targets",
            &app.admin,
            json!({"month": "2026-12", "user_id": o.outsider_id, "amount": "700"}),
        )
        .await
        .expect(201)
        .id();
    // Reps write none.
    let calls = [
        Call::post(
            "/api/v1/targets",
            json!({"month": "2027-01", "user_id": o.rep_id, "amount": "100"}),
        ),
        Call::patch(format!("/api/v1/targets/{mine}"), json!({"amount": "1"})),
        Call::delete(format!("/api/v1/targets/{mine}")),
    ];
    app.refuses(&o.rep, 403, "forbidden", calls).await;
    // Reads: a rep their own; a manager their subtree; an admin everything.
    let ids = |r: Reply| {
        let mut v = r.ids();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        ids(app.get("/api/v1/targets", &o.rep).await.expect(200)),
        vec![mine.clone()]
    );
    assert_eq!(
        ids(app.get("/api/v1/targets", &o.manager).await.expect(200)),
        sorted(vec![mine.clone(), sub_target.clone()])
    );
    assert_eq!(
        ids(app.get("/api/v1/targets", &app.admin).await.expect(200)),
        sorted(vec![mine.clone(), sub_target.clone(), outsiders.clone()])
    );
    app.get(&format!("/api/v1/targets/{outsiders}"), &o.manager)
        .await
        .expect_problem(404, "not_found");
    app.get(&format!("/api/v1/targets/{sub_target}"), &o.rep)
        .await
        .expect_problem(404, "not_found");
    app.patch(
        &format!("/api/v1/targets/{outsiders}"),
        &o.manager,
        json!({"amount": "1"}),
    )
    .await
    .expect_problem(404, "not_found");
}

#[tokio::test]
async fn targets_change_with_if_match_and_are_deleted() {
    let o = org().await;
    let app = &o.app;
    let id = app
        .post(
            "/api/v1/targets",
            &o.manager,
            json!({"month": "2026-11", "user_id": o.rep_id, "amount": "100"}),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/api/v1/targets/{id}");
    let changed = app
        .patch(&path, &o.manager, json!({"amount": "120.50"}))
        .await
        .expect(200);
    assert_eq!(changed.body["amount"], "120.50");
    assert_eq!(changed.body["version"], 2);
    app.patch(&path, &o.manager, json!({"amount": "-1"}))
        .await
        .expect_problem(422, "validation_failed");
    let stale = app
        .client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(&o.manager)
        .header("If-Match", "\"1\"")
        .json(&json!({"amount": "5"}));
    app.send(stale)
        .await
        .expect_problem(412, "version_mismatch");
    let got = app.get(&path, &o.rep).await.expect(200);
    assert_eq!(got.body["amount"], "120.50");
    assert_eq!(got.header("etag"), Some("\"2\"".into()));
    app.delete(&path, &o.manager).await.expect(204);
    app.get(&path, &app.admin)
        .await
        .expect_problem(404, "not_found");
}
