//! Users and teams: admin-only management, validation, the team tree.

use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn only_admins_manage_users() {
    let app = spawn_app().await;
    let (rep_id, rep) = app.user("sales", None).await;
    let calls = [
        Call::post(
            "/api/v1/users",
            json!({"email": "x@example.com", "name": "X", "password": PASSWORD, "role": "admin"}),
        ),
        Call::patch(format!("/api/v1/users/{rep_id}"), json!({"role": "admin"})),
        Call::post("/api/v1/teams", json!({"name": "Mine"})),
    ];
    app.refuses(&rep, 403, "forbidden", calls).await;
    // Everyone may read the directory.
    let list = app
        .get("/api/v1/users?include_total=true", &rep)
        .await
        .expect(200);
    assert_eq!(list.body["total"], 2);
    assert!(list.body["items"][0].get("password_hash").is_none());
}

#[tokio::test]
async fn user_rules() {
    let app = spawn_app().await;
    app.post_each_invalid(
        "/api/v1/users",
        &app.admin,
        [
            (
                json!({"email": "bad", "name": "X", "password": PASSWORD, "role": "sales"}),
                "email",
                "invalid_email",
            ),
            (
                json!({"email": "a@example.com", "name": "X", "password": "short", "role": "sales"}),
                "password",
                "too_short",
            ),
            (
                json!({"email": "a@example.com", "name": "", "password": PASSWORD, "role": "sales"}),
                "name",
                "required",
            ),
            (
                json!({"email": "a@example.com", "name": "X", "password": PASSWORD, "role": "boss"}),
                "role",
                "invalid_choice",
            ),
            (
                json!({"email": "a@example.com", "name": "X", "password": PASSWORD}),
                "role",
                "required",
            ),
        ],
    )
    .await;
    let r = app.post("/api/v1/users", &app.admin, json!({"email": "a@example.com", "name": "X", "password": PASSWORD, "role": "sales", "team_id": Uuid::now_v7()})).await.expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["team_id"]);
    app.post(
        "/api/v1/users",
        &app.admin,
        json!({"email": "Dup@Example.com", "name": "X", "password": PASSWORD, "role": "sales"}),
    )
    .await
    .expect(201);
    let taken = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"email": "dup@example.com", "name": "Y", "password": PASSWORD, "role": "sales"}),
        )
        .await
        .expect_problem(409, "conflict");
    assert_eq!(
        taken.fields(),
        vec!["email"],
        "the conflict names the field"
    );
    let me = app.get("/api/v1/me", &app.admin).await.expect(200).id();
    app.patch(
        &format!("/api/v1/users/{me}"),
        &app.admin,
        json!({"active": false}),
    )
    .await
    .expect_problem(409, "conflict");
}

#[tokio::test]
async fn password_change_takes_effect() {
    let app = spawn_app().await;
    let email = format!("pw-{}@example.com", Uuid::now_v7().simple());
    let id = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"email": email, "name": "PW", "password": PASSWORD, "role": "sales"}),
        )
        .await
        .expect(201)
        .id();
    app.patch(
        &format!("/api/v1/users/{id}"),
        &app.admin,
        json!({"password": "a-brand-new-password"}),
    )
    .await
    .expect(200);
    app.login_pair(&email, PASSWORD).await.expect(401);
    app.login_pair(&email, "a-brand-new-password")
        .await
        .expect(200);
}

#[tokio::test]
async fn the_team_tree_refuses_cycles_and_non_empty_deletes() {
    let app = spawn_app().await;
    let top = app.team("总部", None).await;
    let mid = app.team("华东", Some(&top)).await;
    let leaf = app.team("杭州", Some(&mid)).await;
    let r = app
        .patch(
            &format!("/api/v1/teams/{top}"),
            &app.admin,
            json!({"parent_id": leaf}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["parent_id"]);
    app.patch(
        &format!("/api/v1/teams/{mid}"),
        &app.admin,
        json!({"parent_id": mid}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.delete(&format!("/api/v1/teams/{mid}"), &app.admin)
        .await
        .expect_problem(409, "conflict");
    let (_, _) = app.user("sales", Some(&leaf)).await;
    app.delete(&format!("/api/v1/teams/{leaf}"), &app.admin)
        .await
        .expect_problem(409, "conflict");
    let empty = app.team("临时", None).await;
    app.delete(&format!("/api/v1/teams/{empty}"), &app.admin)
        .await
        .expect(204);
    app.get(&format!("/api/v1/teams/{empty}"), &app.admin)
        .await
        .expect_problem(404, "not_found");
    let teams = app
        .get("/api/v1/teams?sort=name", &app.admin)
        .await
        .expect(200);
    assert_eq!(teams.ids().len(), 3);
    let (_, manager) = app.user("manager", Some(&top)).await;
    let renamed = app
        .patch(
            &format!("/api/v1/teams/{top}"),
            &app.admin,
            json!({"name": "集团总部"}),
        )
        .await
        .expect(200);
    assert_eq!(renamed.body["name"], "集团总部");
    app.get(&format!("/api/v1/teams/{top}"), &manager)
        .await
        .expect(200);
}
