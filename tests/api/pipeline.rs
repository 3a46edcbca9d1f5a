//! The pipeline: stages, opportunities, stage moves and their rules, history, exact money.

use serde_json::{Value, json};

use crate::helpers::*;

async fn stages(app: &TestApp) -> Vec<Value> {
    app.get("/api/v1/pipeline/stages", &app.admin)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn stage_of(stages: &[Value], kind: &str, nth: usize) -> String {
    stages
        .iter()
        .filter(|s| s["kind"] == kind)
        .nth(nth)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn opportunity(app: &TestApp, token: &str, customer: &str, amount: &str) -> String {
    app.post(
        "/api/v1/opportunities",
        token,
        json!({"customer_id": customer, "name": "Deal", "amount": amount}),
    )
    .await
    .expect(201)
    .id()
}

#[tokio::test]
async fn the_default_pipeline_is_seeded_and_admins_shape_it() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let s = app
        .get("/api/v1/pipeline/stages", &rep)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .clone();
    let summary: Vec<(String, i64, String)> = s
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["probability"].as_i64().unwrap(),
                s["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(summary.len(), 6);
    assert_eq!(
        summary[0],
        ("初步接洽 Initial contact".into(), 10, "open".into())
    );
    assert_eq!(summary[4], ("赢单 Won".into(), 100, "won".into()));
    assert_eq!(summary[5], ("输单 Lost".into(), 0, "lost".into()));

    app.post(
        "/api/v1/pipeline/stages",
        &rep,
        json!({"name": "X", "position": 15, "probability": 20}),
    )
    .await
    .expect_problem(403, "forbidden");
    let trial = app
        .post(
            "/api/v1/pipeline/stages",
            &app.admin,
            json!({"name": "样品测试 Trial", "position": 15, "probability": 20}),
        )
        .await
        .expect(201);
    let trial_id = trial.id();
    assert_eq!(
        stages(&app).await[1]["id"].as_str(),
        Some(trial_id.as_str()),
        "ordered by position"
    );
    app.post(
        "/api/v1/pipeline/stages",
        &app.admin,
        json!({"name": "Won again", "position": 99, "probability": 100, "kind": "won"}),
    )
    .await
    .expect_problem(409, "conflict");
    let r = app
        .post(
            "/api/v1/pipeline/stages",
            &app.admin,
            json!({"name": "", "position": 5, "probability": 101}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, vec!["name", "probability"]);
    let renamed = app
        .patch(
            &format!("/api/v1/pipeline/stages/{trial_id}"),
            &app.admin,
            json!({"name": "试用 Trial", "position": 45, "probability": 50}),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            renamed.body["name"].as_str(),
            renamed.body["position"].as_i64()
        ),
        (Some("试用 Trial"), Some(45))
    );
    app.patch(
        &format!("/api/v1/pipeline/stages/{trial_id}"),
        &rep,
        json!({"name": "x"}),
    )
    .await
    .expect_problem(403, "forbidden");

    let won = stage_of(&s, "won", 0);
    app.delete(&format!("/api/v1/pipeline/stages/{won}"), &app.admin)
        .await
        .expect_problem(409, "conflict");
    app.patch(
        &format!("/api/v1/pipeline/stages/{won}"),
        &app.admin,
        json!({"probability": 90}),
    )
    .await
    .expect_problem(422, "validation_failed");
    // A stage in use cannot go.
    let c = app.customer(&rep, "Staged", json!({})).await;
    let o = app
        .post(
            "/api/v1/opportunities",
            &rep,
            json!({"customer_id": c, "name": "In trial", "amount": "10.00", "stage_id": trial_id}),
        )
        .await
        .expect(201)
        .id();
    app.delete(&format!("/api/v1/pipeline/stages/{trial_id}"), &app.admin)
        .await
        .expect_problem(409, "stage_in_use");
    app.delete(&format!("/api/v1/opportunities/{o}"), &rep)
        .await
        .expect(204);
    app.delete(&format!("/api/v1/pipeline/stages/{trial_id}"), &app.admin)
        .await
        .expect(204);
    assert_eq!(stages(&app).await.len(), 6);
}

#[tokio::test]
async fn every_move_follows_the_rules() {
    let app = spawn_app().await;
    let team = app.team("T", None).await;
    let (_, rep) = app.user("sales", Some(&team)).await;
    let (_, manager) = app.user("manager", Some(&team)).await;
    let s = stages(&app).await;
    let (first, second, won, lost) = (
        stage_of(&s, "open", 0),
        stage_of(&s, "open", 1),
        stage_of(&s, "won", 0),
        stage_of(&s, "lost", 0),
    );
    let c = app.customer(&rep, "Moving Co", json!({})).await;
    let o = opportunity(&app, &rep, &c, "0.00").await;
    let path = format!("/api/v1/opportunities/{o}/stage");
    let created = app
        .get(&format!("/api/v1/opportunities/{o}"), &rep)
        .await
        .expect(200);
    assert_eq!(
        (
            created.body["stage_id"].as_str(),
            created.body["status"].as_str()
        ),
        (Some(first.as_str()), Some("open")),
        "starts in the first open stage"
    );

    app.post(&path, &rep, json!({"stage_id": first}))
        .await
        .expect_problem(409, "invalid_transition");
    app.post(&path, &rep, json!({"stage_id": uuid::Uuid::now_v7()}))
        .await
        .expect_problem(422, "validation_failed");
    app.post(&path, &rep, json!({"stage_id": second}))
        .await
        .expect(200);
    let r = app
        .post(&path, &rep, json!({"stage_id": won}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["amount"], "won needs an amount");
    let r = app
        .post(&path, &rep, json!({"stage_id": lost}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["lost_reason"]);
    app.post(&path, &rep, json!({"stage_id": lost, "lost_reason": "  "}))
        .await
        .expect_problem(422, "validation_failed");
    let l = app
        .post(
            &path,
            &rep,
            json!({"stage_id": lost, "lost_reason": "价格太高"}),
        )
        .await
        .expect(200);
    assert_eq!(
        (l.body["status"].as_str(), l.body["lost_reason"].as_str()),
        (Some("lost"), Some("价格太高"))
    );
    assert!(l.body["closed_at"].is_string());
    app.post(&path, &rep, json!({"stage_id": first}))
        .await
        .expect_problem(403, "forbidden");
    let reopened = app
        .post(&path, &manager, json!({"stage_id": first}))
        .await
        .expect(200);
    assert_eq!(
        (
            reopened.body["status"].as_str(),
            reopened.body["lost_reason"].clone(),
            reopened.body["closed_at"].clone()
        ),
        (Some("open"), Value::Null, Value::Null)
    );
    app.patch(
        &format!("/api/v1/opportunities/{o}"),
        &rep,
        json!({"amount": "5000.00"}),
    )
    .await
    .expect(200);
    let w = app
        .post(&path, &rep, json!({"stage_id": won}))
        .await
        .expect(200);
    assert_eq!(w.body["status"], "won");
    app.post(
        &path,
        &rep,
        json!({"stage_id": lost, "lost_reason": "changed mind"}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.patch(
        &format!("/api/v1/opportunities/{o}"),
        &rep,
        json!({"amount": "0"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &path,
        &app.admin,
        json!({"stage_id": lost, "lost_reason": "cancelled"}),
    )
    .await
    .expect(200);

    // History, oldest first: (from, to, by).
    let h = app
        .get(&format!("/api/v1/opportunities/{o}/history"), &rep)
        .await
        .expect(200);
    let moves: Vec<(Value, Value)> = h.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["from_stage_id"].clone(), m["to_stage_id"].clone()))
        .collect();
    let ids = |a: &str, b: &str| (json!(a), json!(b));
    assert_eq!(
        moves,
        vec![
            (Value::Null, json!(first)),
            ids(&first, &second),
            ids(&second, &lost),
            ids(&lost, &first),
            ids(&first, &won),
            ids(&won, &lost)
        ]
    );
    // The customer's timeline shows the moves too.
    let t = app
        .get(&format!("/api/v1/customers/{c}/timeline"), &rep)
        .await
        .expect(200);
    let stage_entries = t.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "stage_changed")
        .count();
    assert_eq!(stage_entries, 6);
    assert_eq!(
        t.body["items"][0]["stage_change"]["to_stage_id"].as_str(),
        Some(lost.as_str())
    );
    // Audited.
    let audit = app
        .get(
            &format!("/api/v1/audit?entity=opportunity&entity_id={o}"),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "stage")
            .count(),
        5
    );
}

#[tokio::test]
async fn money_round_trips_exactly() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "Money Co", json!({})).await;
    for (sent, shown) in [
        ("0.10", "0.10"),
        ("0.2", "0.20"),
        ("5", "5.00"),
        ("10000000000000.00", "10000000000000.00"),
        ("1234.50", "1234.50"),
    ] {
        let r = app
            .post(
                "/api/v1/opportunities",
                &app.admin,
                json!({"customer_id": c, "name": sent, "amount": sent}),
            )
            .await
            .expect(201);
        assert_eq!(r.body["amount"], shown, "{sent}");
        let back = app
            .get(&format!("/api/v1/opportunities/{}", r.id()), &app.admin)
            .await
            .expect(200);
        assert_eq!(back.body["amount"], shown, "{sent} read back");
    }
    for (amount, code) in [
        (json!("1.005"), "invalid_amount"),
        (json!("-1.00"), "out_of_range"),
        (json!(0.1), "invalid_type"),
        (json!("12abc"), "invalid"),
        (json!("10000000000000.01"), "out_of_range"),
        (json!("1000000000000000000"), "invalid"),
        (json!("1e3"), "invalid"),
        (json!("1_000"), "invalid"),
    ] {
        app.post(
            "/api/v1/opportunities",
            &app.admin,
            json!({"customer_id": c, "name": "bad", "amount": amount}),
        )
        .await
        .expect_invalid("amount", code);
    }
    app.post(
        "/api/v1/opportunities",
        &app.admin,
        json!({"customer_id": c, "name": "x", "amount": "1", "currency": "rmb"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    // Amount filters and sort compare exact values: 0.10 + 0.20 is 0.30, not 0.30000000000000004.
    let between = app
        .get(
            "/api/v1/opportunities?amount_min=0.10&amount_max=0.20&sort=amount",
            &app.admin,
        )
        .await
        .expect(200);
    let amounts = between.column("amount");
    assert_eq!(amounts, vec!["0.10", "0.20"]);
    let top = app
        .get("/api/v1/opportunities?sort=-amount&per_page=1", &app.admin)
        .await
        .expect(200);
    assert_eq!(top.body["items"][0]["amount"], "10000000000000.00");
    let next = app
        .get(
            &format!(
                "/api/v1/opportunities?sort=-amount&per_page=1&after={}",
                top.body["next_cursor"].as_str().unwrap()
            ),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(next.body["items"][0]["amount"], "1234.50");
}

#[tokio::test]
async fn opportunities_are_scoped() {
    let app = spawn_app().await;
    let team = app.team("T", None).await;
    let (_, rep_a) = app.user("sales", Some(&team)).await;
    let (_, rep_b) = app.user("sales", None).await;
    let (_, manager) = app.user("manager", Some(&team)).await;
    let c = app.customer(&rep_a, "Scoped Co", json!({})).await;
    let o = opportunity(&app, &rep_a, &c, "100.00").await;
    let s = stages(&app).await;
    for (method, path, body) in [
        (
            reqwest::Method::GET,
            format!("/api/v1/opportunities/{o}"),
            None,
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/v1/opportunities/{o}"),
            Some(json!({"name": "x"})),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/opportunities/{o}/stage"),
            Some(json!({"stage_id": stage_of(&s, "open", 1)})),
        ),
        (
            reqwest::Method::GET,
            format!("/api/v1/opportunities/{o}/history"),
            None,
        ),
        (
            reqwest::Method::GET,
            format!("/api/v1/opportunities/{o}/follow-ups"),
            None,
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/v1/opportunities/{o}"),
            None,
        ),
    ] {
        app.request(method, &path, Some(&rep_b), body)
            .await
            .expect_problem(404, "not_found");
    }
    assert_eq!(
        app.get("/api/v1/opportunities?include_total=true", &rep_b)
            .await
            .expect(200)
            .body["total"],
        0
    );
    // A body naming a customer out of scope, or none at all, is a 422 naming the field.
    for customer in [c.clone(), uuid::Uuid::now_v7().to_string()] {
        let r = app
            .post(
                "/api/v1/opportunities",
                &rep_b,
                json!({"customer_id": customer, "name": "steal", "amount": "1"}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.fields(), vec!["customer_id"]);
    }
    // A pool customer: a rep claims it first.
    let pooled = app.pool_customer("Pooled Deal Co").await;
    app.post(
        "/api/v1/opportunities",
        &rep_b,
        json!({"customer_id": pooled, "name": "pool", "amount": "1"}),
    )
    .await
    .expect_problem(403, "forbidden");
    assert_eq!(
        app.get("/api/v1/opportunities", &manager)
            .await
            .expect(200)
            .ids(),
        vec![o.clone()]
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/opportunities?customer_id={c}&status=open&q=deal"),
            &rep_a
        )
        .await
        .expect(200)
        .ids(),
        vec![o]
    );
}

#[tokio::test]
async fn concurrent_stage_moves_with_if_match_one_wins() {
    let app = spawn_app().await;
    let c = app.customer(&app.admin, "Race Co", json!({})).await;
    let o = opportunity(&app, &app.admin, &c, "10.00").await;
    let s = stages(&app).await;
    let url = format!("{}/api/v1/opportunities/{o}/stage", app.address);
    let moves = [stage_of(&s, "open", 1), stage_of(&s, "open", 2)]
        .into_iter()
        .map(|stage| {
            let rb = app
                .client
                .post(&url)
                .bearer_auth(&app.admin)
                .header("If-Match", "\"1\"")
                .json(&json!({"stage_id": stage}));
            app.send(rb)
        });
    let replies = futures_util::future::join_all(moves).await;
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, vec![200, 412]);
    let h = app
        .get(&format!("/api/v1/opportunities/{o}/history"), &app.admin)
        .await
        .expect(200);
    assert_eq!(
        h.body["items"].as_array().unwrap().len(),
        2,
        "one move recorded"
    );
}

#[tokio::test]
async fn follow_ups_link_to_opportunities_of_the_same_customer() {
    let app = spawn_app().await;
    let c1 = app.customer(&app.admin, "One", json!({})).await;
    let c2 = app.customer(&app.admin, "Two", json!({})).await;
    let o1 = opportunity(&app, &app.admin, &c1, "1.00").await;
    let f = app
        .post(
            &format!("/api/v1/customers/{c1}/follow-ups"),
            &app.admin,
            json!({"kind": "meeting", "content": "demo", "opportunity_id": o1}),
        )
        .await
        .expect(201);
    assert_eq!(f.body["opportunity_id"].as_str(), Some(o1.as_str()));
    app.post(
        &format!("/api/v1/customers/{c1}/follow-ups"),
        &app.admin,
        json!({"kind": "note", "content": "general"}),
    )
    .await
    .expect(201);
    let listed = app
        .get(
            &format!("/api/v1/opportunities/{o1}/follow-ups"),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(listed.ids(), vec![f.id()]);
    let r = app
        .post(
            &format!("/api/v1/customers/{c2}/follow-ups"),
            &app.admin,
            json!({"kind": "call", "content": "x", "opportunity_id": o1}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["opportunity_id"]);
}

#[tokio::test]
async fn lead_conversion_can_open_an_opportunity() {
    let app = spawn_app().await;
    let (rep_id, rep) = app.user("sales", None).await;
    let lead = app
        .post(
            "/api/v1/leads",
            &rep,
            json!({"name": "赵六", "company": "温州电器"}),
        )
        .await
        .expect(201)
        .id();
    let r = app
        .post(&format!("/api/v1/leads/{lead}/convert"), &rep, json!({"opportunity": {"name": "首单", "amount": "50000.00", "expected_close_date": "2027-01-31"}}))
        .await
        .expect(200);
    let opp = r.body["opportunity_id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.body["lead"]["opportunity_id"].as_str(),
        Some(opp.as_str())
    );
    let o = app
        .get(&format!("/api/v1/opportunities/{opp}"), &rep)
        .await
        .expect(200);
    assert_eq!(
        (
            o.body["amount"].as_str(),
            o.body["currency"].as_str(),
            o.body["expected_close_date"].as_str()
        ),
        (Some("50000.00"), Some("CNY"), Some("2027-01-31"))
    );
    assert_eq!(o.body["customer_id"], r.body["customer_id"]);
    assert_eq!(o.body["owner_id"].as_str(), Some(rep_id.as_str()));
    // A bad opportunity fails the whole conversion.
    let lead2 = app.lead(&rep, "钱七").await;
    let bad = app
        .post(
            &format!("/api/v1/leads/{lead2}/convert"),
            &rep,
            json!({"opportunity": {"name": "x", "amount": "1.001"}}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(bad.fields(), vec!["opportunity.amount"]);
    assert_eq!(
        app.get(&format!("/api/v1/leads/{lead2}"), &rep)
            .await
            .expect(200)
            .body["status"],
        "new"
    );
}
