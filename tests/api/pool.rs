//! The customer pool: race-safe claims, the ownership limit, cooldowns, transfers, the
//! return job on a controlled clock, and its warning list.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn concurrent_claims_leave_exactly_one_owner() {
    let app = spawn_app().await;
    let c = app.pool_customer("Contested").await;
    let mut reps = vec![];
    for _ in 0..5 {
        reps.push(app.user("sales", None).await);
    }
    let claim_path = format!("/api/v1/customers/{c}/claim");
    let claims = reps
        .iter()
        .map(|(_, t)| app.post(&claim_path, t, json!({})));
    let replies = futures_util::future::join_all(claims).await;
    let winners: Vec<_> = replies
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status.as_u16() == 200)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        replies
            .iter()
            .map(|r| (r.status, r.body.clone()))
            .collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status.as_u16() != 200) {
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (409, "not_in_pool"),
            "{}",
            r.body
        );
    }
    let (winner_id, winner) = &reps[winners[0]];
    let got = app
        .get(&format!("/api/v1/customers/{c}"), winner)
        .await
        .expect(200);
    assert_eq!(got.body["owner_id"].as_str(), Some(winner_id.as_str()));
    // The winner claiming again is fine; a loser now cannot even see it.
    app.post(&format!("/api/v1/customers/{c}/claim"), winner, json!({}))
        .await
        .expect(200);
    let loser = &reps[(winners[0] + 1) % reps.len()].1;
    app.get(&format!("/api/v1/customers/{c}"), loser)
        .await
        .expect_problem(404, "not_found");
    app.post(&format!("/api/v1/customers/{c}/claim"), loser, json!({}))
        .await
        .expect_problem(409, "not_in_pool");
}

#[tokio::test]
async fn the_pool_is_visible_to_every_rep_but_changed_only_after_a_claim() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let c = app.pool_customer("Open to all").await;
    let pool = app
        .get("/api/v1/customers?in_pool=true", &rep)
        .await
        .expect(200);
    assert_eq!(pool.ids(), vec![c.clone()]);
    let got = app
        .get(&format!("/api/v1/customers/{c}"), &rep)
        .await
        .expect(200);
    assert_eq!(got.body["owner_id"], serde_json::Value::Null);
    let calls = [
        Call::patch(format!("/api/v1/customers/{c}"), json!({"level": "A"})),
        Call::post(format!("/api/v1/customers/{c}/release"), json!({})),
    ];
    app.refuses(&rep, 403, "forbidden", calls).await;
    app.post(&format!("/api/v1/customers/{c}/claim"), &rep, json!({}))
        .await
        .expect(200);
    app.patch(
        &format!("/api/v1/customers/{c}"),
        &rep,
        json!({"level": "A"}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn the_ownership_limit_is_enforced() {
    let app = spawn_app().await;
    app.patch(
        "/api/v1/settings/pool",
        &app.admin,
        json!({"max_owned_per_rep": 1}),
    )
    .await
    .expect(200);
    let (_, rep) = app.user("sales", None).await;
    app.customer(&rep, "Mine", json!({})).await;
    let c = app.pool_customer("One too many").await;
    app.post(&format!("/api/v1/customers/{c}/claim"), &rep, json!({}))
        .await
        .expect_problem(409, "owned_limit_reached");
    let still = app
        .get(&format!("/api/v1/customers/{c}"), &rep)
        .await
        .expect(200);
    assert_eq!(
        still.body["owner_id"],
        serde_json::Value::Null,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_released_customer_cannot_be_claimed_back_during_the_cooldown() {
    let app = spawn_app().await;
    let team = app.team("华东", None).await;
    let (rep_id, rep) = app.user("sales", Some(&team)).await;
    let (_, manager) = app.user("manager", Some(&team)).await;
    let c = app.customer(&rep, "Let go", json!({})).await;
    let released = app
        .post(&format!("/api/v1/customers/{c}/release"), &rep, json!({}))
        .await
        .expect(200);
    assert_eq!(released.body["owner_id"], serde_json::Value::Null);
    app.post(
        &format!("/api/v1/customers/{c}/release"),
        &manager,
        json!({}),
    )
    .await
    .expect_problem(409, "not_owned");
    let r = app
        .post(&format!("/api/v1/customers/{c}/claim"), &rep, json!({}))
        .await
        .expect_problem(409, "claim_cooldown");
    assert!(r.body["detail"].as_str().unwrap().contains("after"));
    // A manager may still give it back.
    let t = app
        .post(
            &format!("/api/v1/customers/{c}/transfer"),
            &manager,
            json!({"owner_id": rep_id}),
        )
        .await
        .expect(200);
    assert_eq!(t.body["owner_id"].as_str(), Some(rep_id.as_str()));
    // With no cooldown configured, a rep claims back at once.
    app.patch(
        "/api/v1/settings/pool",
        &app.admin,
        json!({"reclaim_cooldown_days": 0}),
    )
    .await
    .expect(200);
    app.post(&format!("/api/v1/customers/{c}/release"), &rep, json!({}))
        .await
        .expect(200);
    app.post(&format!("/api/v1/customers/{c}/claim"), &rep, json!({}))
        .await
        .expect(200);
}

#[tokio::test]
async fn transfers_are_for_managers_within_their_teams() {
    let app = spawn_app().await;
    let team_a = app.team("A", None).await;
    let team_b = app.team("B", None).await;
    let (rep_a_id, rep_a) = app.user("sales", Some(&team_a)).await;
    let (rep_a2_id, _) = app.user("sales", Some(&team_a)).await;
    let (rep_b_id, _) = app.user("sales", Some(&team_b)).await;
    let (_, manager_a) = app.user("manager", Some(&team_a)).await;
    let c = app.customer(&rep_a, "Handed over", json!({})).await;
    let path = format!("/api/v1/customers/{c}/transfer");
    app.post(&path, &rep_a, json!({"owner_id": rep_a2_id}))
        .await
        .expect_problem(403, "forbidden");
    let r = app
        .post(&path, &manager_a, json!({"owner_id": rep_b_id}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["owner_id"]);
    app.post(&path, &manager_a, json!({"owner_id": uuid::Uuid::now_v7()}))
        .await
        .expect_problem(422, "validation_failed");
    app.post(&path, &manager_a, json!({"owner_id": rep_a2_id}))
        .await
        .expect(200);
    app.get(&format!("/api/v1/customers/{c}"), &rep_a)
        .await
        .expect_problem(404, "not_found");
    app.post(&path, &app.admin, json!({"owner_id": rep_b_id}))
        .await
        .expect(200);
    let timeline = app
        .get(&format!("/api/v1/customers/{c}/timeline"), &app.admin)
        .await
        .expect(200);
    let changes: Vec<_> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["owner_change"]["change"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(changes, vec!["transferred", "transferred", "created"]);
    assert_eq!(
        timeline.body["items"][0]["owner_change"]["to_owner_id"].as_str(),
        Some(rep_b_id.as_str())
    );
    assert_eq!(
        timeline.body["items"][2]["owner_change"]["to_owner_id"].as_str(),
        Some(rep_a_id.as_str())
    );
}

#[tokio::test]
async fn the_return_job_takes_back_neglected_customers_only() {
    let app = spawn_app().await;
    let (rep_id, rep) = app.user("sales", None).await;
    let neglected = app.customer(&rep, "Neglected", json!({})).await;
    let followed = app.customer(&rep, "Followed", json!({})).await;
    let fresh = app.customer(&rep, "Fresh", json!({})).await;
    app.age_customer(&neglected, 31, None).await;
    app.age_customer(&followed, 40, Some(2)).await;
    app.age_customer(&fresh, 29, None).await;

    app.post("/api/v1/admin/jobs/pool-return", &rep, json!({}))
        .await
        .expect_problem(403, "forbidden");
    assert_eq!(app.run_pool_return().await, 1);
    let n = app
        .get(&format!("/api/v1/customers/{neglected}"), &rep)
        .await
        .expect(200);
    assert_eq!(
        n.body["owner_id"],
        serde_json::Value::Null,
        "back in the pool"
    );
    for kept in [&followed, &fresh] {
        let k = app
            .get(&format!("/api/v1/customers/{kept}"), &rep)
            .await
            .expect(200);
        assert_eq!(k.body["owner_id"].as_str(), Some(rep_id.as_str()));
    }
    // Lost to the pool: the rep cannot claim it straight back.
    app.post(
        &format!("/api/v1/customers/{neglected}/claim"),
        &rep,
        json!({}),
    )
    .await
    .expect_problem(409, "claim_cooldown");
    let timeline = app
        .get(
            &format!("/api/v1/customers/{neglected}/timeline"),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(
        timeline.body["items"][0]["owner_change"]["change"],
        "returned_to_pool"
    );
    assert_eq!(
        timeline.body["items"][0]["owner_change"]["actor_id"],
        serde_json::Value::Null
    );
    let audit = app
        .get(&format!("/api/v1/audit?entity_id={neglected}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(audit.body["items"][0]["action"], "return_to_pool");
    // Running again returns nothing more.
    assert_eq!(app.run_pool_return().await, 0);
}

#[tokio::test]
async fn the_return_follows_the_configured_days() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let c = app.customer(&rep, "Short leash", json!({})).await;
    app.age_customer(&c, 6, None).await;
    assert_eq!(app.run_pool_return().await, 0);
    app.patch(
        "/api/v1/settings/pool",
        &app.admin,
        json!({"return_after_days": 5}),
    )
    .await
    .expect(200);
    assert_eq!(app.run_pool_return().await, 1);
}

#[tokio::test]
async fn reps_are_warned_before_they_lose_customers() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let (_, other) = app.user("sales", None).await;
    let soon = app.customer(&rep, "Soon", json!({})).await;
    let later = app.customer(&rep, "Later", json!({})).await;
    app.age_customer(&soon, 28, None).await;
    app.age_customer(&later, 10, None).await;
    let r = app
        .get("/api/v1/customers/pool/returning?within_days=3", &rep)
        .await
        .expect(200);
    assert_eq!(r.ids(), vec![soon.clone()]);
    let returns_at =
        chrono::DateTime::parse_from_rfc3339(r.body["items"][0]["returns_at"].as_str().unwrap())
            .unwrap();
    let in_days = (returns_at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!(
        (47..=48).contains(&in_days),
        "returns in about two days, got {in_days} h"
    );
    app.assert_empty(
        "/api/v1/customers/pool/returning?within_days=3",
        &other,
        "scoped",
    )
    .await;
    assert_eq!(
        app.get("/api/v1/customers/pool/returning?within_days=30", &rep)
            .await
            .expect(200)
            .ids()
            .len(),
        2
    );
    app.get("/api/v1/customers/pool/returning?within_days=999", &rep)
        .await
        .expect_problem(400, "invalid_parameter");
    // A follow-up resets the clock.
    app.post(
        &format!("/api/v1/customers/{soon}/follow-ups"),
        &rep,
        json!({"kind": "call", "content": "checked in"}),
    )
    .await
    .expect(201);
    app.assert_empty(
        "/api/v1/customers/pool/returning?within_days=3",
        &rep,
        "nothing listed",
    )
    .await;
}

#[tokio::test]
async fn pool_settings_are_for_admins_and_validated() {
    let app = spawn_app().await;
    let (_, manager) = app.user("manager", None).await;
    let calls = [
        Call::get("/api/v1/settings/pool"),
        Call::patch("/api/v1/settings/pool", json!({"max_owned_per_rep": 9})),
    ];
    app.refuses(&manager, 403, "forbidden", calls).await;
    let got = app
        .get("/api/v1/settings/pool", &app.admin)
        .await
        .expect(200);
    assert_eq!(
        got.body,
        json!({"max_owned_per_rep": 500, "return_after_days": 30, "reclaim_cooldown_days": 7})
    );
    let etag = got.header("etag").unwrap();
    let r = app
        .patch(
            "/api/v1/settings/pool",
            &app.admin,
            json!({"return_after_days": 0, "reclaim_cooldown_days": 1000}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, vec!["reclaim_cooldown_days", "return_after_days"]);
    app.patch(
        "/api/v1/settings/pool",
        &app.admin,
        json!({"return_after_days": -1}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let rb = app
        .client
        .patch(format!("{}/api/v1/settings/pool", app.address))
        .bearer_auth(&app.admin)
        .header("If-Match", etag.clone())
        .json(&json!({"return_after_days": 14}));
    let ok = app.send(rb).await.expect(200);
    assert_eq!(ok.body["return_after_days"], 14);
    assert_eq!(ok.body["max_owned_per_rep"], 500, "untouched");
    let rb = app
        .client
        .patch(format!("{}/api/v1/settings/pool", app.address))
        .bearer_auth(&app.admin)
        .header("If-Match", etag)
        .json(&json!({"return_after_days": 20}));
    app.send(rb).await.expect_problem(412, "version_mismatch");
    assert_eq!(
        app.get("/api/v1/settings/pool", &app.admin)
            .await
            .expect(200)
            .body["return_after_days"],
        14
    );
}
