//! CSV import and export of customers and contacts.

use serde_json::json;

use crate::helpers::*;

impl TestApp {
    async fn import(&self, token: &str, query: &str, csv: &[u8]) -> Reply {
        let rb = self
            .client
            .post(format!("{}/api/v1/customers/import{query}", self.address))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv.to_vec());
        self.send(rb).await
    }

    /// Uploads `csv` as the `file` part of a form, beside another part that is ignored.
    async fn upload(&self, token: &str, part: &str, csv: &str) -> Reply {
        let boundary = "sims-test-boundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"c.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
        );
        let rb = self
            .client
            .post(format!("{}/api/v1/customers/import", self.address))
            .bearer_auth(token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(rb).await
    }

    async fn export(&self, path: &str, token: &str) -> (String, Vec<Vec<String>>) {
        let res = self
            .client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("export");
        assert_eq!(res.status().as_u16(), 200);
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = res.bytes().await.expect("body");
        assert!(
            bytes.starts_with("\u{feff}".as_bytes()),
            "UTF-8 BOM for spreadsheets"
        );
        let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
        let rows = text.lines().map(split_csv_line).collect();
        (ct, rows)
    }
}

/// Splits one CSV line (fields here never hold newlines).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[tokio::test]
async fn import_reads_chinese_headers_with_a_bom() {
    let app = spawn_app().await;
    let (rep_id, rep) = app.user("sales", None).await;
    let csv = "\u{feff}客户名称,电话,邮箱,级别,城市,标签,备注,微信\n杭州西湖科技,+86 138 0013 8000,info@xihu.cn,A,杭州,重点;华东,\"展会, 2026\",wx1\n宁波五金,0574-8888 1234,,b,宁波,,,\nZhang San,,zs@example.com,,,vip,,\n";
    let r = app.import(&rep, "", csv.as_bytes()).await.expect(200);
    assert_eq!(r.body["created"], 3, "{}", r.body);
    assert_eq!(
        (
            r.body["rows"].as_u64(),
            r.body["valid"].as_u64(),
            r.body["invalid"].as_u64()
        ),
        (Some(3), Some(3), Some(0))
    );
    assert_eq!(r.body["ignored_columns"], json!(["微信"]));
    let list = app
        .get("/api/v1/customers?sort=name&city=%E6%9D%AD%E5%B7%9E", &rep)
        .await
        .expect(200);
    let c = &list.body["items"][0];
    assert_eq!(c["name"], "杭州西湖科技");
    assert_eq!(c["tags"], json!(["重点", "华东"]));
    assert_eq!(c["notes"], "展会, 2026");
    assert_eq!(c["owner_id"].as_str(), Some(rep_id.as_str()));
    assert_eq!(
        app.get("/api/v1/customers?q=13800138000", &rep)
            .await
            .expect(200)
            .ids()
            .len(),
        1
    );
    let audit = app
        .get(
            &format!("/api/v1/audit?entity_id={}", c["id"].as_str().unwrap()),
            &app.admin,
        )
        .await
        .expect(200);
    assert_eq!(audit.body["items"][0]["action"], "import");
}

#[tokio::test]
async fn broken_rows_are_reported_and_nothing_is_written() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let existing = app
        .customer(
            &app.admin,
            "Already Here Ltd",
            json!({"phone": "13911112222"}),
        )
        .await;
    let mut csv = b"name,email,phone\n".to_vec();
    csv.extend_from_slice(b"Good One,good@example.com,\n"); // line 2
    csv.extend_from_slice(b"Bad Email,not-an-email,\n"); // line 3
    csv.extend_from_slice(b",nobody@example.com,\n"); // line 4: missing name
    csv.extend_from_slice(b"good one,,\n"); // line 5: same name as line 2
    csv.extend_from_slice(b"Someone,,+86 139 1111 2222\n"); // line 6: matches the database
    csv.extend_from_slice(b"Too,many,columns,here\n"); // line 7
    csv.extend_from_slice(b"Bad \xff\xfe bytes,,\n"); // line 8: invalid UTF-8
    csv.extend_from_slice(b"Fine Too,,\n"); // line 9

    let dry = app.import(&rep, "?dry_run=true", &csv).await.expect(200);
    assert_eq!(dry.body["dry_run"], true);
    assert_eq!(
        (
            dry.body["rows"].as_u64(),
            dry.body["valid"].as_u64(),
            dry.body["invalid"].as_u64(),
            dry.body["created"].as_u64()
        ),
        (Some(8), Some(2), Some(6), Some(0))
    );
    let errors = dry.body["errors"].as_array().unwrap();
    assert_line_codes(
        &dry.body,
        &[
            (3, "invalid_email"),
            (4, "required"),
            (5, "duplicate_in_file"),
            (6, "duplicate_customer"),
            (7, "wrong_column_count"),
            (8, "invalid_utf8"),
        ],
    );
    let dup = errors
        .iter()
        .find(|e| e["code"] == "duplicate_customer")
        .unwrap();
    assert_eq!(dup["matches"], json!([existing]));
    assert_eq!(
        errors
            .iter()
            .find(|e| e["code"] == "duplicate_in_file")
            .unwrap()["duplicate_of_line"],
        2
    );
    assert_eq!(
        app.get("/api/v1/customers?include_total=true", &rep)
            .await
            .expect(200)
            .body["total"],
        0,
        "a dry run writes nothing"
    );

    let all_or_nothing = app
        .import(&rep, "", &csv)
        .await
        .expect_problem(422, "validation_failed");
    assert!(
        all_or_nothing
            .fields()
            .contains(&"line[3].email".to_owned()),
        "{}",
        all_or_nothing.body
    );
    assert_eq!(
        app.get("/api/v1/customers?include_total=true", &rep)
            .await
            .expect(200)
            .body["total"],
        0,
        "all or nothing"
    );

    let partial = app
        .import(&rep, "?skip_invalid=true", &csv)
        .await
        .expect(200);
    assert_eq!(partial.body["created"], 2);
    let mut names: Vec<String> = app
        .get("/api/v1/customers?sort=name", &rep)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["Fine Too", "Good One"]);
}

#[tokio::test]
async fn import_refuses_files_it_cannot_use() {
    let app = spawn_app_with(|s| s.import.max_bytes = 1000).await;
    app.import(&app.admin, "", b"email,phone\na@b.cn,\n")
        .await
        .expect_problem(422, "validation_failed");
    let big = format!("name\n{}", "x\n".repeat(600));
    app.import(&app.admin, "", big.as_bytes())
        .await
        .expect_problem(413, "payload_too_large");
    let rb = app
        .client
        .post(format!("{}/api/v1/customers/import", app.address))
        .bearer_auth(&app.admin)
        .json(&json!({"name": "x"}));
    app.send(rb)
        .await
        .expect_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn import_takes_the_file_part_of_a_form() {
    let app = spawn_app_with(|s| s.import.max_bytes = 1000).await;
    let r = app
        .upload(&app.admin, "file", "name,phone\n西湖科技,13800138000\n")
        .await
        .expect(200);
    assert_eq!(r.body["created"], 1, "{}", r.body);
    let r = app
        .upload(&app.admin, "attachment", "name\nx\n")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["file".to_owned()]);
    let big = format!("name\n{}", "x\n".repeat(600));
    app.upload(&app.admin, "file", &big)
        .await
        .expect_problem(413, "payload_too_large");
    let total = app
        .get("/api/v1/customers?include_total=true", &app.admin)
        .await
        .expect(200);
    assert_eq!(total.body["total"], 1, "only the first upload wrote");
}

#[tokio::test]
async fn exported_cells_never_run_as_formulas() {
    let app = spawn_app().await;
    let evil = "=HYPERLINK(\"http://evil.example\",\"click\")";
    app.customer(
        &app.admin,
        evil,
        json!({"phone": "+86 138 0013 8000", "notes": "@SUM(A1:A9)"}),
    )
    .await;
    let (_, rows) = app.export("/api/v1/customers/export", &app.admin).await;
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = &rows[1];
    assert_eq!(row[col("name")], format!("'{evil}"));
    assert_eq!(row[col("notes")], "'@SUM(A1:A9)");
    assert_eq!(
        row[col("phone")],
        "+86 138 0013 8000",
        "a phone stays as it is"
    );
}

#[tokio::test]
async fn export_streams_exactly_what_the_list_shows() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let (_, other) = app.user("sales", None).await;
    let mut csv = String::from("name,level,phone\n");
    for i in 0..1203 {
        csv.push_str(&format!(
            "客户 {i:04},{},1{:010}\n",
            if i % 3 == 0 { "A" } else { "B" },
            3_000_000_000u64 + i
        ));
    }
    assert_eq!(
        app.import(&rep, "", csv.as_bytes()).await.expect(200).body["created"],
        1203
    );
    app.customer(&other, "Not yours", json!({"level": "A"}))
        .await;

    let (ct, rows) = app
        .export("/api/v1/customers/export?level=A&sort=name", &rep)
        .await;
    assert!(ct.starts_with("text/csv"));
    assert_eq!(rows[0][..3], ["id", "name", "kind"]);
    let exported: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(exported.len(), 401);
    // The same filters and sort on the list, page by page.
    let mut listed = vec![];
    let mut path = "/api/v1/customers?level=A&sort=name&per_page=200".to_owned();
    loop {
        let page = app.get(&path, &rep).await.expect(200);
        listed.extend(page.ids());
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/customers?level=A&sort=name&per_page=200&after={c}"),
            None => break,
        }
    }
    assert_eq!(exported, listed);
    assert_eq!(rows[1][1], "客户 0000", "Chinese text survives");
    let (_, everything) = app.export("/api/v1/customers/export", &rep).await;
    assert_eq!(everything.len(), 1204, "header and every row, across pages");
    let (_, theirs) = app.export("/api/v1/customers/export", &other).await;
    assert_eq!(theirs.len(), 2, "scoped");
    app.get("/api/v1/customers/export?sort=secret", &rep)
        .await
        .expect_problem(400, "invalid_parameter");
}

#[tokio::test]
async fn contacts_export_in_scope() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let (_, other) = app.user("sales", None).await;
    let c = app.customer(&rep, "With contacts", json!({})).await;
    app.post(
        &format!("/api/v1/customers/{c}/contacts"),
        &rep,
        json!({"name": "李雷", "is_primary": true}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/v1/customers/{c}/contacts"),
        &rep,
        json!({"name": "Han \"Mei\""}),
    )
    .await
    .expect(201);
    let (_, rows) = app
        .export(
            &format!("/api/v1/contacts/export?customer_id={c}&sort=name"),
            &rep,
        )
        .await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][2], "Han \"Mei\"");
    assert_eq!(rows[2][2], "李雷");
    assert_eq!(rows[2][6], "true");
    app.get(&format!("/api/v1/contacts/export?customer_id={c}"), &other)
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn contacts_import_onto_customers_the_caller_may_change() {
    let app = spawn_app().await;
    let (_, rep) = app.user("sales", None).await;
    let (_, other) = app.user("sales", None).await;
    let mine = app.customer(&rep, "Mine Co", json!({})).await;
    let theirs = app.customer(&other, "Their Co", json!({})).await;
    let csv = format!(
        "\u{feff}客户ID,姓名,职位,手机,邮箱,主要联系人\n{mine},韩梅梅,采购经理,13800138000,han@mine.cn,是\n{mine},李雷,,,,否\n{theirs},Spy,,,,\nnot-a-uuid,X,,,,\n{mine},,,,bad,\n"
    );
    let post = |query: &'static str| {
        let rb = app
            .client
            .post(format!("{}/api/v1/contacts/import{query}", app.address))
            .bearer_auth(&rep)
            .header("content-type", "text/csv")
            .body(csv.clone());
        app.send(rb)
    };
    let dry = post("?dry_run=true").await.expect(200);
    assert_eq!(
        (dry.body["valid"].as_u64(), dry.body["invalid"].as_u64()),
        (Some(2), Some(3)),
        "{}",
        dry.body
    );
    assert_line_codes(
        &dry.body,
        &[
            (4, "not_found"),
            (5, "invalid_uuid"),
            (6, "required"),
            (6, "invalid_email"),
        ],
    );
    post("").await.expect_problem(422, "validation_failed");
    app.assert_empty(
        &format!("/api/v1/customers/{mine}/contacts"),
        &rep,
        "nothing listed",
    )
    .await;
    let done = post("?skip_invalid=true").await.expect(200);
    assert_eq!(done.body["created"], 2);
    let primaries = app
        .get(
            &format!("/api/v1/contacts?customer_id={mine}&is_primary=true"),
            &rep,
        )
        .await
        .expect(200);
    assert_eq!(primaries.body["items"][0]["name"], "韩梅梅");
    app.assert_empty(
        &format!("/api/v1/customers/{theirs}/contacts"),
        &other,
        "nothing on a customer out of scope",
    )
    .await;
}
