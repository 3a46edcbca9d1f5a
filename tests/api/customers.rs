//! Customers: validation, duplicate checks, search, filters, paging, versions, audit.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn create_read_update_delete() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let created = app
        .post("/api/v1/customers", &rep, json!({"name": "  杭州西湖科技有限公司 ", "kind": "company", "level": "A", "industry": "制造业", "source": "展会", "phone": "0571-8888 6666", "email": "Info@XiHu.cn", "province": "浙江", "city": "杭州", "address": "文三路 100 号", "tags": ["重点", "vip"], "notes": "来自 2026 展会"}))
        .await
        .expect(201);
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/customers/{id}"))
    );
    assert_eq!(created.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(created.body["name"], "杭州西湖科技有限公司", "trimmed");
    assert_eq!(created.body["tags"], json!(["重点", "vip"]));
    assert_eq!(created.body["version"], 1);

    let got = app
        .get(&format!("/api/v1/customers/{id}"), &rep)
        .await
        .expect(200);
    assert_eq!(got.body, created.body);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));

    let updated = app
        .patch(
            &format!("/api/v1/customers/{id}"),
            &rep,
            json!({"level": "B", "city": null, "tags": ["vip"]}),
        )
        .await
        .expect(200);
    assert_eq!(updated.body["level"], "B");
    assert_eq!(updated.body["city"], serde_json::Value::Null);
    assert_eq!(updated.body["province"], "浙江", "untouched fields stay");
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.header("etag").as_deref(), Some("\"2\""));

    app.delete(&format!("/api/v1/customers/{id}"), &rep)
        .await
        .expect(204);
    app.get(&format!("/api/v1/customers/{id}"), &rep)
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn every_field_rule_is_named() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "name", "required"),
        (json!({"name": "   "}), "name", "required"),
        (json!({"name": "x".repeat(201)}), "name", "too_long"),
        (
            json!({"name": "ok", "email": "not-an-email"}),
            "email",
            "invalid_email",
        ),
        (
            // What an encrypted value looks like at rest: never a client's email.
            json!({"name": "ok", "email": "enc:v1:deadbeef:x@a.cn"}),
            "email",
            "invalid_email",
        ),
        (
            json!({"name": "ok", "phone": "call me"}),
            "phone",
            "invalid_phone",
        ),
        (
            json!({"name": "ok", "notes": "n".repeat(10_001)}),
            "notes",
            "too_long",
        ),
        (
            json!({"name": "ok", "city": "c".repeat(101)}),
            "city",
            "too_long",
        ),
        (
            json!({"name": "ok", "address": "a".repeat(501)}),
            "address",
            "too_long",
        ),
        (
            json!({"name": "ok", "tags": ["a,b"]}),
            "tags[0]",
            "invalid_tag",
        ),
        (
            json!({"name": "ok", "tags": ["fine", ""]}),
            "tags[1]",
            "required",
        ),
        (
            json!({"name": "ok", "tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "tags",
            "too_many",
        ),
        (
            json!({"name": "ok", "kind": "alien"}),
            "kind",
            "invalid_choice",
        ),
        (
            json!({"name": "ok", "level": "E"}),
            "level",
            "invalid_choice",
        ),
        (json!({"name": 42}), "name", "invalid_type"),
        (json!({"name": "ok", "tags": "vip"}), "tags", "invalid_type"),
        (
            json!({"name": "ok", "owner_id": "not-a-uuid"}),
            "owner_id",
            "invalid",
        ),
        (
            json!({"name": "ok", "colour": "red"}),
            "colour",
            "unknown_field",
        ),
    ];
    for (body, field, code) in cases {
        let error = app
            .post("/api/v1/customers", &app.admin, body.clone())
            .await
            .expect_invalid(field, code);
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let list = app
        .get("/api/v1/customers?include_total=true", &app.admin)
        .await
        .expect(200);
    assert_eq!(list.body["total"], 0, "nothing was written");
}

#[tokio::test]
async fn several_broken_fields_are_reported_together() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/api/v1/customers",
            &app.admin,
            json!({"name": "", "email": "x", "phone": "y"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, vec!["email", "name", "phone"]);
}

#[tokio::test]
async fn a_bad_patch_changes_nothing() {
    let app = spawn_app().await;
    let id = app
        .customer(&app.admin, "Stable Co", json!({"email": "a@stable.co"}))
        .await;
    app.patch(
        &format!("/api/v1/customers/{id}"),
        &app.admin,
        json!({"name": "New name", "email": "broken"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let got = app
        .get(&format!("/api/v1/customers/{id}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(got.body["name"], "Stable Co");
    assert_eq!(got.body["version"], 1);
}

#[tokio::test]
async fn stale_if_match_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.customer(&app.admin, "Versioned", json!({})).await;
    let path = format!("/api/v1/customers/{id}");
    let first = app
        .client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(&app.admin)
        .header("If-Match", "\"1\"")
        .json(&json!({"level": "A"}));
    app.send(first).await.expect(200);
    let stale = app
        .client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(&app.admin)
        .header("If-Match", "\"1\"")
        .json(&json!({"level": "D"}));
    app.send(stale)
        .await
        .expect_problem(412, "version_mismatch");
    let del = app
        .client
        .delete(format!("{}{path}", app.address))
        .bearer_auth(&app.admin)
        .header("If-Match", "\"1\"");
    app.send(del).await.expect_problem(412, "version_mismatch");
    let got = app.get(&path, &app.admin).await.expect(200);
    assert_eq!(got.body["level"], "A");
    assert_eq!(got.body["version"], 2);
    let bad = app
        .client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(&app.admin)
        .header("If-Match", "yesterday")
        .json(&json!({"level": "B"}));
    let r = app.send(bad).await.expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["If-Match"]);
    let current = app
        .client
        .delete(format!("{}{path}", app.address))
        .bearer_auth(&app.admin)
        .header("If-Match", "\"2\"");
    app.send(current).await.expect(204);
}

#[tokio::test]
async fn duplicates_are_refused_with_ids_only() {
    let app = spawn_app().await;
    let (_, rep_a) = app.user("sales", None).await;
    let (_, rep_b) = app.user("sales", None).await;
    let first = app.post("/api/v1/customers", &rep_a, json!({"name": "ACME Trading", "phone": "+86 138 0013 8000", "email": "Sales@Acme.com"})).await.expect(201).id();

    for body in [
        json!({"name": "  acme   TRADING "}),
        json!({"name": "Other", "phone": "13800138000"}),
        json!({"name": "Other", "email": "sales@acme.COM"}),
    ] {
        let r = app
            .post("/api/v1/customers", &rep_b, body.clone())
            .await
            .expect_problem(409, "duplicate_customer");
        assert_eq!(r.body["matches"], json!([first]), "{body}");
        let text = r.body.to_string();
        assert!(
            !text.contains("ACME") && !text.contains("8000") && !text.contains("acme.com"),
            "no details of another rep's customer leak: {text}"
        );
    }
    let check = app
        .get("/api/v1/customers/duplicates?phone=138-0013-8000", &rep_b)
        .await
        .expect(200);
    assert_eq!(check.body, json!({"matches": [first]}));
    let none = app
        .get("/api/v1/customers/duplicates?name=Nobody", &rep_b)
        .await
        .expect(200);
    assert_eq!(none.body, json!({"matches": []}));

    app.post(
        "/api/v1/customers?allow_duplicate=true",
        &rep_b,
        json!({"name": "ACME Trading"}),
    )
    .await
    .expect(201);
    let second = app.customer(&rep_a, "Different Co", json!({})).await;
    let r = app
        .patch(
            &format!("/api/v1/customers/{second}"),
            &rep_a,
            json!({"email": "sales@acme.com"}),
        )
        .await
        .expect_problem(409, "duplicate_customer");
    assert_eq!(r.body["matches"], json!([first]));
    app.patch(
        &format!("/api/v1/customers/{second}?allow_duplicate=true"),
        &rep_a,
        json!({"email": "sales@acme.com"}),
    )
    .await
    .expect(200);
    // Re-saving a customer's own values is not a duplicate of itself.
    app.patch(
        &format!("/api/v1/customers/{first}"),
        &rep_a,
        json!({"name": "ACME Trading", "level": "A"}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn search_finds_names_phones_and_emails() {
    let app = spawn_app().await;
    let acme = app
        .customer(
            &app.admin,
            "ACME Trading",
            json!({"phone": "+86 138 0013 8000"}),
        )
        .await;
    let west = app
        .customer(&app.admin, "西湖科技", json!({"email": "hello@xihu.cn"}))
        .await;
    app.customer(&app.admin, "Other 50%_off", json!({})).await;
    for (q, want) in [
        ("acme", &acme),
        ("13800138000", &acme),
        ("0013 8000", &acme),
        ("西湖", &west),
        ("XIHU.CN", &west),
    ] {
        let r = app
            .get(&format!("/api/v1/customers?q={}", urlencode(q)), &app.admin)
            .await
            .expect(200);
        assert_eq!(r.ids(), vec![want.clone()], "q={q}");
    }
    let r = app
        .get(
            &format!("/api/v1/customers?q={}", urlencode("%")),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(r.ids().len(), 1, "wildcards match literally");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn filters_combine() {
    let app = spawn_app().await;
    let a = app.customer(&app.admin, "A1", json!({"level": "A", "city": "杭州", "tags": ["vip"], "kind": "individual", "industry": "retail", "source": "web"})).await;
    app.customer(&app.admin, "A2", json!({"level": "A", "city": "上海"}))
        .await;
    app.customer(
        &app.admin,
        "B1",
        json!({"level": "B", "city": "杭州", "tags": ["vip"]}),
    )
    .await;
    let r = app
        .get(
            &format!("/api/v1/customers?level=A&city={}", urlencode("杭州")),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(r.ids(), vec![a.clone()]);
    let r = app
        .get("/api/v1/customers?tag=vip&level=A", &app.admin)
        .await
        .expect(200);
    assert_eq!(r.ids(), vec![a.clone()]);
    let r = app
        .get(
            "/api/v1/customers?kind=individual&industry=retail&source=web",
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(r.ids(), vec![a.clone()]);
    assert_eq!(
        app.get("/api/v1/customers?tag=vip", &app.admin)
            .await
            .expect(200)
            .ids()
            .len(),
        2
    );
    app.get("/api/v1/customers?level=Z", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    let r = app
        .get("/api/v1/customers?created_after=yesterday", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["created_after"]);
}

#[tokio::test]
async fn updated_after_returns_what_changed_since() {
    let app = spawn_app().await;
    let old = app.customer(&app.admin, "Old", json!({})).await;
    let untouched = app.customer(&app.admin, "Untouched", json!({})).await;
    let since = app
        .get(&format!("/api/v1/customers/{untouched}"), &app.admin)
        .await
        .expect(200)
        .body["updated_at"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.patch(
        &format!("/api/v1/customers/{old}"),
        &app.admin,
        json!({"level": "C"}),
    )
    .await
    .expect(200);
    let r = app
        .get(
            &format!("/api/v1/customers?updated_after={since}"),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(r.ids(), vec![old]);
}

#[tokio::test]
async fn keyset_pages_walk_every_row_once_in_order() {
    let app = spawn_app().await;
    let mut created = vec![];
    for i in 0..7 {
        created.push(
            app.customer(&app.admin, &format!("Customer {i}"), json!({}))
                .await,
        );
    }
    // Default order: newest first.
    let mut seen = vec![];
    let first = app
        .get(
            "/api/v1/customers?per_page=3&include_total=true",
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(first.body["page"], 1);
    assert_eq!(first.body["per_page"], 3);
    assert_eq!(first.body["has_more"], true);
    assert_eq!(first.body["total"], 7);
    seen.extend(first.ids());
    let mut cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    loop {
        let page = app
            .get(
                &format!("/api/v1/customers?per_page=3&after={cursor}"),
                &app.admin,
            )
            .await
            .expect(200);
        assert_eq!(page.body["page"], serde_json::Value::Null);
        assert_eq!(
            page.body["total"],
            serde_json::Value::Null,
            "total only when asked"
        );
        seen.extend(page.ids());
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => {
                assert_eq!(page.body["has_more"], false);
                break;
            }
        }
    }
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    // By name ascending, with offset pages.
    let p2 = app
        .get("/api/v1/customers?per_page=3&page=2&sort=name", &app.admin)
        .await
        .expect(200);
    let names = p2.column("name");
    assert_eq!(names, vec!["Customer 3", "Customer 4", "Customer 5"]);
    // An offset page whose query binds values before the offset (a search).
    let found = app
        .get(
            "/api/v1/customers?per_page=2&page=3&sort=name&q=customer",
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(found.column("name"), vec!["Customer 4", "Customer 5"]);
    // And a cursor continues the same sort.
    let c = p2.body["next_cursor"].as_str().unwrap();
    let p3 = app
        .get(
            &format!("/api/v1/customers?per_page=3&sort=name&after={c}"),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(p3.body["items"][0]["name"], "Customer 6");
    // Mixed directions still walk correctly.
    let mixed = app
        .get(
            "/api/v1/customers?per_page=10&sort=-name,created_at",
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(mixed.body["items"][0]["name"], "Customer 6");
}

#[tokio::test]
async fn a_reps_pages_interleave_their_own_customers_and_the_pools_in_order() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let (_, other) = app.user("sales", None).await;
    // Created in this order: the rep sees their own and the pool's, never the other's.
    let mut visible = vec![];
    for (i, whose) in [
        "own", "pool", "other", "own", "pool", "pool", "other", "own", "pool",
    ]
    .iter()
    .enumerate()
    {
        let name = format!("{whose} {i}");
        match *whose {
            "own" => visible.push(app.customer(&rep, &name, json!({})).await),
            "pool" => visible.push(app.pool_customer(&name).await),
            _ => drop(app.customer(&other, &name, json!({})).await),
        }
    }
    let walk = |sort: &'static str| {
        let app = &app;
        let rep = &rep;
        async move {
            let mut seen = vec![];
            let mut url = format!("/api/v1/customers?per_page=2&sort={sort}&include_total=true");
            loop {
                let page = app.get(&url, rep).await.expect(200);
                seen.extend(page.ids());
                match page.body["next_cursor"].as_str() {
                    Some(c) => url = format!("/api/v1/customers?per_page=2&sort={sort}&after={c}"),
                    None => break (seen, page),
                }
            }
        }
    };
    let (oldest_first, _) = walk("created_at").await;
    assert_eq!(oldest_first, visible);
    let (newest_first, last) = walk("-created_at").await;
    let mut expected = visible.clone();
    expected.reverse();
    assert_eq!(newest_first, expected);
    assert_eq!(last.body["has_more"], false);
    // The first page counts what the rep sees; a numbered page agrees with the walk.
    let first = app
        .get("/api/v1/customers?per_page=2&include_total=true", &rep)
        .await
        .expect(200);
    assert_eq!(first.body["total"], 7);
    let second = app
        .get("/api/v1/customers?per_page=2&page=2", &rep)
        .await
        .expect(200);
    assert_eq!(second.ids(), expected[2..4].to_vec());
    // Filters apply to both parts; a filter that picks one part reads it alone.
    let pooled = app
        .get("/api/v1/customers?in_pool=true&q=pool", &rep)
        .await
        .expect(200);
    assert_eq!(pooled.ids().len(), 4);
    let mine = app
        .get("/api/v1/customers?in_pool=false&per_page=2", &rep)
        .await
        .expect(200);
    let next = mine.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/customers?in_pool=false&per_page=2&after={next}"),
            &rep,
        )
        .await
        .expect(200);
    let own: Vec<String> = [&expected[1], &expected[4], &expected[6]]
        .map(String::clone)
        .to_vec();
    assert_eq!([mine.ids(), rest.ids()].concat(), own);
}

#[tokio::test]
async fn list_parameters_are_checked() {
    let app = spawn_app().await;
    let r = app
        .get("/api/v1/customers?sort=password_hash", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["sort"]);
    assert_eq!(r.body["errors"][0]["code"], "unknown_sort_field");
    let r = app
        .get("/api/v1/customers?per_page=201", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["per_page"]);
    let r = app
        .get("/api/v1/customers?per_page=abc", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["per_page"]);
    let r = app
        .get("/api/v1/customers?page=0", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["page"]);
    let r = app
        .get("/api/v1/customers?after=forged-cursor", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["after"]);
    // A cursor from another sort order is refused too.
    for i in 0..3 {
        app.customer(&app.admin, &format!("C{i}"), json!({})).await;
    }
    let by_name = app
        .get(
            "/api/v1/customers?per_page=1&sort=name,-created_at",
            &app.admin,
        )
        .await
        .expect(200);
    let c = by_name.body["next_cursor"].as_str().unwrap();
    let r = app
        .get(&format!("/api/v1/customers?after={c}"), &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
    assert_eq!(r.fields(), vec!["after"]);
}

#[tokio::test]
async fn bad_ids_in_paths_are_400() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/v1/customers/123"),
        (Method::PATCH, "/api/v1/customers/abc"),
        (Method::DELETE, "/api/v1/customers/x"),
        (Method::GET, "/api/v1/contacts/nope"),
    ] {
        let r = app
            .request(method, path, Some(&app.admin), Some(json!({})))
            .await
            .expect_problem(400, "invalid_parameter");
        assert_eq!(r.fields(), vec!["id"], "{path}");
    }
}

#[tokio::test]
async fn every_change_is_audited_for_admins_only() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let id = app.customer(&rep, "Audited", json!({"level": "C"})).await;
    let rb = app
        .client
        .patch(format!("{}/api/v1/customers/{id}", app.address))
        .bearer_auth(&rep)
        .header("X-Request-Id", "req-audit-1")
        .json(&json!({"level": "A"}));
    app.send(rb).await.expect(200);
    let log = app
        .get(
            &format!("/api/v1/audit?entity=customer&entity_id={id}"),
            &app.admin,
        )
        .await
        .expect(200);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "update", "newest first");
    assert_eq!(
        items[0]["changes"],
        json!({"level": {"before": "C", "after": "A"}})
    );
    assert_eq!(items[0]["request_id"], "req-audit-1");
    assert_eq!(items[1]["action"], "create");
    app.delete(&format!("/api/v1/customers/{id}"), &rep)
        .await
        .expect(204);
    let log = app
        .get(&format!("/api/v1/audit?entity_id={id}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(log.body["items"][0]["action"], "delete");
    app.get("/api/v1/audit", &rep)
        .await
        .expect_problem(403, "forbidden");
}

#[tokio::test]
async fn concurrent_updates_with_the_same_if_match_one_wins() {
    let app = spawn_app().await;
    let id = app.customer(&app.admin, "Contended", json!({})).await;
    let url = format!("{}/api/v1/customers/{id}", app.address);
    let attempts = (0..6).map(|i| {
        let rb = app
            .client
            .patch(&url)
            .bearer_auth(&app.admin)
            .header("If-Match", "\"1\"")
            .json(&json!({"notes": format!("writer {i}")}));
        app.send(rb)
    });
    let replies = futures_util::future::join_all(attempts).await;
    let ok = replies.iter().filter(|r| r.status.as_u16() == 200).count();
    let stale = replies.iter().filter(|r| r.status.as_u16() == 412).count();
    assert_eq!(
        (ok, stale),
        (1, 5),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let got = app
        .get(&format!("/api/v1/customers/{id}"), &app.admin)
        .await
        .expect(200);
    assert_eq!(got.body["version"], 2);
}

#[tokio::test]
async fn concurrent_updates_of_different_fields_lose_nothing() {
    let app = spawn_app().await;
    let id = app.customer(&app.admin, "Shared", json!({})).await;
    let path = format!("/api/v1/customers/{id}");
    let bodies = [
        json!({"city": "杭州"}),
        json!({"level": "A"}),
        json!({"industry": "制造业"}),
        json!({"source": "展会"}),
    ];
    let writes = bodies
        .iter()
        .map(|b| app.patch(&path, &app.admin, b.clone()));
    for r in futures_util::future::join_all(writes).await {
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    }
    let got = app.get(&path, &app.admin).await.expect(200);
    assert_eq!(
        (
            got.body["city"].as_str(),
            got.body["level"].as_str(),
            got.body["industry"].as_str(),
            got.body["source"].as_str()
        ),
        (Some("杭州"), Some("A"), Some("制造业"), Some("展会"))
    );
    assert_eq!(got.body["version"], 5);
}

#[tokio::test]
async fn a_customer_with_opportunities_or_orders_is_not_deleted() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let (_, other) = app.user("sales", None).await;
    let c = app.customer(&app.admin, "Acme", json!({})).await;
    // Another rep's opportunity on it (the customer was theirs once).
    app.post(
        &format!("/api/v1/customers/{c}/transfer"),
        &app.admin,
        json!({"owner_id": app.get("/api/v1/me", &other).await.body["id"]}),
    )
    .await
    .expect(200);
    let opp = app.opportunity(&other, &c, "2027 框架", "1000.00").await;
    let r = app
        .delete(&format!("/api/v1/customers/{c}"), &app.admin)
        .await
        .expect_problem(409, "customer_in_use");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("1 opportunities")
    );
    app.get(&format!("/api/v1/opportunities/{opp}"), &other)
        .await
        .expect(200);
    // Contacts and follow-ups go with a customer that has neither.
    let free = app.customer(&rep, "Free", json!({})).await;
    app.post(
        &format!("/api/v1/customers/{free}/contacts"),
        &rep,
        json!({"name": "韩梅梅"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/v1/customers/{free}/follow-ups"),
        &rep,
        json!({"kind": "call", "content": "hello"}),
    )
    .await
    .expect(201);
    app.delete(&format!("/api/v1/customers/{free}"), &rep)
        .await
        .expect(204);
    app.get(&format!("/api/v1/customers/{free}"), &rep)
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn tags_page_like_every_list() {
    let app = spawn_app().await;
    for (name, tags) in [
        ("A", vec!["华东", "重点", "制造"]),
        ("B", vec!["华东", "重点"]),
        ("C", vec!["华东", "零售"]),
    ] {
        app.customer(&app.admin, name, json!({"tags": tags})).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/tags?per_page=2&include_total=true".to_owned();
    loop {
        let page = app.get(&path, &app.admin).await.expect(200);
        if page.body["total"].is_number() {
            assert_eq!(page.body["total"], 4);
        }
        for t in page.body["items"].as_array().unwrap() {
            seen.push((
                t["tag"].as_str().unwrap().to_owned(),
                t["count"].as_i64().unwrap(),
            ));
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/tags?per_page=2&after={c}"),
            None => break,
        }
    }
    let mut want = vec![
        ("华东".to_owned(), 3),
        ("重点".to_owned(), 2),
        ("制造".to_owned(), 1),
        ("零售".to_owned(), 1),
    ];
    want[2..].sort();
    assert_eq!(seen, want, "most used first, then by name");
    app.get("/api/v1/tags?after=forged", &app.admin)
        .await
        .expect_problem(400, "invalid_parameter");
}
