//! Explaining access: the answer agrees with what the user's own reads return, for every
//! role and every kind of ownership, and names the rule that decides.

use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

struct User {
    id: String,
    token: String,
    name: &'static str,
}

async fn explain(app: &TestApp, user: &str, entity: &str, id: &str) -> Reply {
    app.get(
        &format!("/api/v1/access/explain?user_id={user}&entity={entity}&id={id}"),
        &app.admin,
    )
    .await
}

#[tokio::test]
async fn explanations_agree_with_what_each_user_reads() {
    let app = spawn_app().await;
    let top = app.team("Sales", None).await;
    let east = app.team("East", Some(&top)).await;
    let west = app.team("West", None).await;
    let user = |role: &'static str, team: Option<String>, name: &'static str| {
        let app = &app;
        async move {
            let (id, token) = app.user(role, team.as_deref()).await;
            User { id, token, name }
        }
    };
    let admin_id = app.get("/api/v1/me", &app.admin).await.expect(200).id();
    let admin = User {
        id: admin_id,
        token: app.admin.clone(),
        name: "admin",
    };
    let top_manager = user("manager", Some(top.clone()), "top manager").await;
    let east_rep = user("sales", Some(east.clone()), "east rep").await;
    let west_rep = user("sales", Some(west.clone()), "west rep").await;
    let west_manager = user("manager", Some(west.clone()), "west manager").await;

    // Records of the east rep, one of the top manager's own, and one in the pool.
    let customer = app.customer(&east_rep.token, "East Buyer", json!({})).await;
    let managers_own = app
        .customer(&top_manager.token, "Manager's Own", json!({}))
        .await;
    let pooled = app.pool_customer("Pooled Co").await;
    let lead = app.lead(&east_rep.token, "East lead").await;
    let opportunity = app
        .opportunity(&east_rep.token, &customer, "East deal", "100.00")
        .await;
    let stocked = app.warehouse_and_product().await;
    let order = app
        .draft_order(&east_rep.token, &customer, (&stocked.0, &stocked.1))
        .await;

    let records = [
        ("customer", customer.as_str(), "customers", "east"),
        ("lead", lead.as_str(), "leads", "east"),
        ("opportunity", opportunity.as_str(), "opportunities", "east"),
        ("order", order.as_str(), "orders", "east"),
        (
            "customer",
            managers_own.as_str(),
            "customers",
            "top manager",
        ),
        ("customer", pooled.as_str(), "customers", "pool"),
    ];
    let want = |who: &str, owner: &str| match (who, owner) {
        ("admin", _) => "admin",
        (_, "pool") => "pool",
        ("east rep", "east") | ("top manager", "top manager") => "owner",
        ("top manager", "east") => "team",
        _ => "outside_scope",
    };
    for who in [&admin, &top_manager, &east_rep, &west_rep, &west_manager] {
        for (entity, id, path, owner) in records {
            let e = explain(&app, &who.id, entity, id).await.expect(200);
            let read = app.get(&format!("/api/v1/{path}/{id}"), &who.token).await;
            assert_eq!(
                e.body["allowed"].as_bool(),
                Some(read.status.as_u16() == 200),
                "{} on the {owner} {entity}: explained {} but read {}",
                who.name,
                e.body,
                read.status
            );
            assert_eq!(
                e.body["reason"],
                want(who.name, owner),
                "{} on the {owner} {entity}",
                who.name
            );
            let expected_owner = match owner {
                "east" => json!(east_rep.id),
                "top manager" => json!(top_manager.id),
                _ => json!(null),
            };
            assert_eq!(e.body["detail"]["owner_id"], expected_owner);
            if e.body["reason"] == "team" {
                assert_eq!(e.body["detail"]["team_path"], json!([top, east]));
            } else {
                assert!(e.body["detail"].get("team_path").is_none(), "{}", e.body);
            }
        }
    }

    let missing = Uuid::now_v7().to_string();
    let e = explain(&app, &east_rep.id, "order", &missing)
        .await
        .expect(200);
    assert_eq!(
        e.body,
        json!({"allowed": false, "reason": "not_found", "detail": {"owner_id": null}})
    );

    // A deactivated user's access is still explained by their role and team.
    app.set_active(&east_rep.id, false).await;
    let e = explain(&app, &east_rep.id, "lead", &lead).await.expect(200);
    assert_eq!(e.body["reason"], "owner");
}

#[tokio::test]
async fn only_admins_ask_and_bad_questions_are_named() {
    let app = spawn_app().await;
    let (rep_id, rep) = app.user("sales", None).await;
    let (_, manager) = app.user("manager", None).await;
    let c = app.customer(&rep, "Mine", json!({})).await;
    let path = format!("/api/v1/access/explain?user_id={rep_id}&entity=customer&id={c}");
    for token in [&rep, &manager] {
        app.get(&path, token).await.expect_problem(403, "forbidden");
    }
    let nobody = Uuid::now_v7();
    let r = explain(&app, &nobody.to_string(), "customer", &c)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["user_id".to_owned()]);
    for (query, field) in [
        (format!("entity=customer&id={c}"), "user_id"),
        (format!("user_id={rep_id}&entity=team&id={c}"), "entity"),
        (format!("user_id={rep_id}&entity=customer&id=42"), "id"),
    ] {
        let r = app
            .get(&format!("/api/v1/access/explain?{query}"), &app.admin)
            .await
            .expect_problem(400, "invalid_parameter");
        assert_eq!(r.fields(), vec![field.to_owned()], "{query}: {}", r.body);
    }
}
