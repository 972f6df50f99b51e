//! Clients: CRUD, tax ids, archive/restore, delete, lists, search, bulk, import and export.

use domain::Role;
use serde_json::{Value, json};
use testkit::{Tenant, TestApp};

async fn client(app: &TestApp, t: &Tenant, body: Value) -> Value {
    let r = app.post("/v1/clients", Some(&t.owner.token), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["business_name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_client_is_created_read_updated_archived_restored_and_deleted() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let c = client(
        &app,
        &t,
        json!({"business_name": "Blue Fern LLC", "tax_id": "12-3456789", "business_type": "llc",
               "primary_contact_email": "Ann@BlueFern.test", "annual_revenue": "1250000.00", "tags": ["VIP", "vip", "tax"],
               "website": "https://bluefern.test"}),
    )
    .await;
    assert_eq!(c["tax_id"], "12-3456789", "the owner sees the whole tax id");
    assert_eq!(c["primary_contact_email"], "ann@bluefern.test");
    assert_eq!(c["tags"], json!(["vip", "tax"]));
    assert_eq!(c["status"], "active");
    let id = c["id"].as_str().unwrap();

    // Staff see the tax id masked.
    let staff = app.member(&t, Role::Staff).await;
    let seen = app.get(&format!("/v1/clients/{id}"), &staff.token).await.value();
    assert_eq!(seen["tax_id"], "**-***6789");

    let r = app
        .patch(
            &format!("/v1/clients/{id}"),
            &t.owner.token,
            &json!({"legal_name": "Blue Fern Holdings LLC", "website": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.value();
    assert_eq!(v["legal_name"], "Blue Fern Holdings LLC");
    assert!(v["website"].is_null());
    assert_eq!(v["business_name"], "Blue Fern LLC", "absent fields stay");

    let r = app.post(&format!("/v1/clients/{id}/archive"), Some(&t.owner.token), &json!({})).await;
    assert_eq!(r.value()["status"], "archived");
    assert!(ids(&app.get("/v1/clients", &t.owner.token).await.value()).is_empty(), "archived leave the list");
    assert_eq!(
        ids(&app.get("/v1/clients?status=archived", &t.owner.token).await.value()),
        vec!["Blue Fern LLC"]
    );
    let r = app.post(&format!("/v1/clients/{id}/restore"), Some(&t.owner.token), &json!({})).await;
    assert_eq!(r.value()["status"], "active", "restored to the status it had");

    // Staff may read but not delete; the owner deletes (soft).
    assert_eq!(app.delete(&format!("/v1/clients/{id}"), &staff.token).await.status, 403);
    assert_eq!(app.delete(&format!("/v1/clients/{id}"), &t.owner.token).await.status, 204);
    assert_eq!(app.get(&format!("/v1/clients/{id}"), &t.owner.token).await.status, 404);
    let audit = app.get(&format!("/v1/audit-log?entity_id={id}"), &t.owner.token).await.value();
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        vec!["client.delete", "client.restore", "client.archive", "client.update", "client.create"]
    );
    assert!(!audit.to_string().contains("3456789"), "the audit log never holds a full tax id");
}

#[tokio::test]
async fn tax_ids_are_validated_unique_and_searchable() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    for (tax_id, ok) in [
        ("12-3456789", true),
        ("123-45-6789", true),
        ("07-1234567", false),
        ("666-12-3456", false),
        ("12345", false),
    ] {
        let r = app
            .post(
                "/v1/clients",
                Some(&t.owner.token),
                &json!({"business_name": format!("Co {tax_id}"), "tax_id": tax_id}),
            )
            .await;
        assert_eq!(r.status == 201, ok, "{tax_id}: {}", r.body);
        if !ok {
            assert_eq!(r.problem().errors[0].field, "tax_id");
        }
    }
    let dup = app
        .post("/v1/clients", Some(&t.owner.token), &json!({"business_name": "Copy", "tax_id": "12-3456789"}))
        .await;
    assert_eq!(dup.status, 409);
    // Search by tax id finds the client; nine bare digits match either kind.
    let found = app.get("/v1/clients?q=123-45-6789", &t.owner.token).await.value();
    assert_eq!(ids(&found), vec!["Co 123-45-6789"]);
    let both = app.get("/v1/clients?q=123456789", &t.owner.token).await.value();
    assert_eq!(ids(&both), vec!["Co 12-3456789", "Co 123-45-6789"]);
    // The same number in another firm is another firm's business.
    let other = app.tenant("other").await;
    let r = app
        .post(
            "/v1/clients",
            Some(&other.owner.token),
            &json!({"business_name": "Theirs", "tax_id": "12-3456789"}),
        )
        .await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn lists_filter_sort_and_page_by_keyset() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let cpa = app.member(&t, Role::Cpa).await;
    for (i, name) in ["Delta", "alpha", "Charlie", "Bravo", "Echo"].iter().enumerate() {
        client(
            &app,
            &t,
            json!({"business_name": name, "annual_revenue": format!("{}", (i + 1) * 1000), "risk_level": if i % 2 == 0 { "high" } else { "low" },
                   "industry": "construction", "tags": if i < 2 { vec!["vip"] } else { vec![] },
                   "assigned_to": if i == 4 { Some(cpa.user_id.clone()) } else { None }}),
        )
        .await;
    }
    let r = app.get("/v1/clients?risk_level=high&sort=revenue&order=desc", &t.owner.token).await.value();
    assert_eq!(ids(&r), vec!["Echo", "Charlie", "Delta"]);
    assert_eq!(ids(&app.get("/v1/clients?tags=vip", &t.owner.token).await.value()), vec!["Delta", "alpha"]);
    assert_eq!(ids(&app.get("/v1/clients?assigned_to=me", &cpa.token).await.value()), vec!["Echo"]);

    // Walk the name order two at a time: every client once, in order.
    let mut names = Vec::new();
    let mut path = "/v1/clients?limit=2".to_owned();
    loop {
        let page = app.get(&path, &t.owner.token).await.value();
        names.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/clients?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(names, vec!["Bravo", "Charlie", "Delta", "Echo", "alpha"]);
    // A cursor from one sort does not work for another.
    let first = app.get("/v1/clients?limit=1&sort=created", &t.owner.token).await.value();
    let c = first["next_cursor"].as_str().unwrap();
    let r = app.get(&format!("/v1/clients?limit=1&sort=name&cursor={c}"), &t.owner.token).await;
    assert_eq!(r.status, 400);
    for bad in ["sort=size", "order=sideways", "status=gone", "assigned_to=someone"] {
        assert_eq!(app.get(&format!("/v1/clients?{bad}"), &t.owner.token).await.status, 422, "{bad}");
    }
}

#[tokio::test]
async fn search_finds_prefixes_typos_and_contacts() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    client(
        &app,
        &t,
        json!({"business_name": "Riverside Dental Group", "primary_contact_name": "Maria Okafor"}),
    )
    .await;
    client(
        &app,
        &t,
        json!({"business_name": "Hillcrest Bakery", "primary_contact_email": "owner@hillcrest.test"}),
    )
    .await;
    client(&app, &t, json!({"business_name": "Riverbend Logistics"})).await;
    let q = |s: &str| format!("/v1/clients?q={s}");
    assert_eq!(ids(&app.get(&q("river"), &t.owner.token).await.value()).len(), 2, "prefix");
    assert_eq!(
        ids(&app.get(&q("riverside%20dent"), &t.owner.token).await.value()),
        vec!["Riverside Dental Group"]
    );
    assert_eq!(
        ids(&app.get(&q("Hilcrest%20Bakry"), &t.owner.token).await.value()),
        vec!["Hillcrest Bakery"],
        "typos"
    );
    assert_eq!(
        ids(&app.get(&q("okafor"), &t.owner.token).await.value()),
        vec!["Riverside Dental Group"],
        "contact"
    );
    assert_eq!(
        ids(&app.get(&q("hillcrest.test"), &t.owner.token).await.value()),
        vec!["Hillcrest Bakery"],
        "email"
    );
    assert!(ids(&app.get(&q("zzzz"), &t.owner.token).await.value()).is_empty());
    assert_eq!(app.get(&q("%21%21%21"), &t.owner.token).await.status, 422);
}

#[tokio::test]
async fn bulk_actions_are_all_or_nothing_and_bounded() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let cpa = app.member(&t, Role::Cpa).await;
    let mut all = Vec::new();
    for i in 0..5 {
        all.push(
            client(&app, &t, json!({"business_name": format!("C{i}")})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let r = app
        .post(
            "/v1/clients/bulk",
            Some(&t.owner.token),
            &json!({"action": "assign", "ids": all, "assigned_to": cpa.user_id}),
        )
        .await;
    assert_eq!(r.value(), json!({"changed": 5, "unchanged": 0}));
    let r = app
        .post(
            "/v1/clients/bulk",
            Some(&t.owner.token),
            &json!({"action": "set_status", "ids": &all[..2], "status": "inactive"}),
        )
        .await;
    assert_eq!(r.value()["changed"], 2);
    let r =
        app.post("/v1/clients/bulk", Some(&t.owner.token), &json!({"action": "archive", "ids": all})).await;
    assert_eq!(r.value()["changed"], 5);
    assert_eq!(ids(&app.get("/v1/clients?status=archived", &t.owner.token).await.value()).len(), 5);
    let r =
        app.post("/v1/clients/bulk", Some(&t.owner.token), &json!({"action": "restore", "ids": all})).await;
    assert_eq!(r.value()["changed"], 5);
    assert_eq!(
        ids(&app.get("/v1/clients?status=inactive", &t.owner.token).await.value()).len(),
        2,
        "restored to their own statuses"
    );

    // One unknown id: nothing changes.
    let mut with_unknown = all.clone();
    with_unknown.push(uuid::Uuid::now_v7().to_string());
    let r = app
        .post("/v1/clients/bulk", Some(&t.owner.token), &json!({"action": "archive", "ids": with_unknown}))
        .await;
    assert_eq!(r.status, 404);
    assert!(ids(&app.get("/v1/clients?status=archived", &t.owner.token).await.value()).is_empty());
    let too_many: Vec<String> = (0..1001).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let r = app
        .post("/v1/clients/bulk", Some(&t.owner.token), &json!({"action": "archive", "ids": too_many}))
        .await;
    assert_eq!(r.status, 422);
    let r = app
        .post(
            "/v1/clients/bulk",
            Some(&t.owner.token),
            &json!({"action": "assign", "ids": all, "assigned_to": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(r.status, 422, "assignee must be staff of this firm");
}

async fn import(app: &TestApp, token: &str, csv: &str, dry_run: bool) -> testkit::TestResponse {
    let resp = app
        .http
        .post(app.url(&format!("/v1/clients/import?dry_run={dry_run}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    testkit::TestResponse {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

#[tokio::test]
async fn csv_import_is_validated_row_by_row_and_all_or_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let cpa = app.member(&t, Role::Cpa).await;
    let bad = format!(
        "business_name,tax_id,status,annual_revenue,assigned_to_email,tags\n\
         Good One,12-3456789,active,1000,{},a;b\n\
         ,98-7654321,active,,,\n\
         Bad Tax,12-345,prospect,,,\n\
         Dup Tax,12-3456789,active,,,\n\
         Bad Status,,sleeping,abc,nobody@acme.test,\n",
        cpa.email
    );
    let r = import(&app, &t.owner.token, &bad, false).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let p = r.problem();
    let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert!(fields.contains(&"line 3: business_name"), "{fields:?}");
    assert!(fields.contains(&"line 4: tax_id"));
    assert!(fields.contains(&"line 5: tax_id"), "duplicate within the file");
    assert!(fields.contains(&"line 6: status") && fields.contains(&"line 6: annual_revenue"));
    assert!(fields.contains(&"line 6: assigned_to_email"));
    assert!(ids(&app.get("/v1/clients", &t.owner.token).await.value()).is_empty(), "nothing half-imported");

    let good =
        format!("Business Name,Tax ID,Assigned To Email\nGood One,12-3456789,{}\nGood Two,,\n", cpa.email);
    let dry = import(&app, &t.owner.token, &good, true).await.value();
    assert_eq!((dry["accepted"].as_u64(), dry["imported"].as_bool()), (Some(2), Some(false)));
    assert!(ids(&app.get("/v1/clients", &t.owner.token).await.value()).is_empty());
    let done = import(&app, &t.owner.token, &good, false).await.value();
    assert_eq!(done["imported"], true);
    let list = app.get("/v1/clients", &t.owner.token).await.value();
    assert_eq!(ids(&list), vec!["Good One", "Good Two"]);
    assert_eq!(list["items"][0]["assigned_to"], cpa.user_id.as_str());
    // Importing the same file again collides with the tax id now on file.
    let again = import(&app, &t.owner.token, &good, false).await;
    assert_eq!(again.status, 422);
    assert!(again.body.contains("already exists"));

    // Unreadable files and wrong types are refused clearly.
    assert_eq!(import(&app, &t.owner.token, "name,color\nx,y\n", false).await.status, 422);
    let json_body =
        app.post("/v1/clients/import", Some(&t.owner.token), &json!({"business_name": "x"})).await;
    assert_eq!(json_body.status, 415);
    let staff = app.member(&t, Role::Staff).await;
    assert_eq!(import(&app, &staff.token, &good, true).await.status, 403);
}

#[tokio::test]
async fn csv_export_streams_filtered_clients_and_round_trips_through_import() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let names: Vec<String> = (0..2500).map(|i| format!("Client {i:05}")).collect();
    let mut csv = String::from("business_name,industry,tax_id\n");
    for (i, n) in names.iter().enumerate() {
        csv.push_str(&format!(
            "{n},{},{}\n",
            if i % 2 == 0 { "retail" } else { "dental" },
            if i == 7 { "123-45-6789" } else { "" }
        ));
    }
    assert_eq!(import(&app, &t.owner.token, &csv, false).await.status, 200);

    let resp = app
        .http
        .get(app.url("/v1/clients/export?industry=retail"))
        .bearer_auth(&t.owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let body = resp.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].starts_with("id,created_at,business_name"));
    assert_eq!(lines.len(), 1 + 1250, "header plus every retail client across batches");
    assert!(lines.iter().skip(1).all(|l| l.contains("retail")));

    // Staff with export rights see masked tax ids; the owner sees them whole.
    let manager = app.member(&t, Role::Manager).await;
    let owner_all = app
        .http
        .get(app.url("/v1/clients/export"))
        .bearer_auth(&t.owner.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(owner_all.contains("123-45-6789"));
    let admin = app.member(&t, Role::Staff).await;
    assert_eq!(app.get("/v1/clients/export", &admin.token).await.status, 403, "staff lack clients:export");
    let _ = manager;

    // What was exported imports back (into another firm).
    let other = app.tenant("other").await;
    let r = import(&app, &other.owner.token, &owner_all, false).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["accepted"], 2500);
    let audit = app.get("/v1/audit-log?action=client.export", &t.owner.token).await.value();
    assert_eq!(
        audit["items"].as_array().unwrap().len(),
        2,
        "every export is audited (the refused one is not an export)"
    );
}

#[tokio::test]
async fn portal_users_see_only_their_clients() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let mine = client(&app, &t, json!({"business_name": "Mine", "tax_id": "12-3456789"})).await;
    let theirs = client(&app, &t, json!({"business_name": "Theirs"})).await;
    let portal = app.member(&t, Role::Client).await;
    assert!(ids(&app.get("/v1/clients", &portal.token).await.value()).is_empty(), "no grant, no clients");
    let r = app
        .post(
            &format!("/v1/clients/{}/portal-access", mine["id"].as_str().unwrap()),
            Some(&t.owner.token),
            &json!({"user_id": portal.user_id, "can_view_financials": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let access_id = r.value()["id"].as_str().unwrap().to_owned();
    assert_eq!(ids(&app.get("/v1/clients", &portal.token).await.value()), vec!["Mine"]);
    let seen = app.get(&format!("/v1/clients/{}", mine["id"].as_str().unwrap()), &portal.token).await.value();
    assert_eq!(seen["tax_id"], "**-***6789");
    assert_eq!(
        app.get(&format!("/v1/clients/{}", theirs["id"].as_str().unwrap()), &portal.token).await.status,
        404
    );
    assert_eq!(
        app.get(&format!("/v1/clients/{}/notes", mine["id"].as_str().unwrap()), &portal.token).await.status,
        403
    );
    // Staff cannot be granted portal access; revoking ends access at once.
    let staff = app.member(&t, Role::Staff).await;
    let r = app
        .post(
            &format!("/v1/clients/{}/portal-access", mine["id"].as_str().unwrap()),
            Some(&t.owner.token),
            &json!({"user_id": staff.user_id}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(app.delete(&format!("/v1/portal-access/{access_id}"), &t.owner.token).await.status, 200);
    assert!(ids(&app.get("/v1/clients", &portal.token).await.value()).is_empty());
}
