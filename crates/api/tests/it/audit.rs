//! The audit log: every mutation recorded with before/after, filters, and a chain that reports tampering.

use domain::Role;
use serde_json::json;
use store::sqlx;
use testkit::TestApp;

#[tokio::test]
async fn mutations_are_recorded_with_actor_request_and_before_after() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let staff = app.member(&t, Role::Staff).await;
    let r =
        app.patch(&format!("/v1/members/{}", staff.user_id), &t.owner.token, &json!({"role": "cpa"})).await;
    let request_id = r.headers["x-request-id"].to_str().unwrap().to_owned();

    let page = app
        .get(&format!("/v1/audit-log?action=user.update&entity_id={}", staff.user_id), &t.owner.token)
        .await
        .value();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let e = &items[0];
    assert_eq!(e["actor_kind"], "user");
    assert_eq!(e["actor_id"], t.owner.user_id.as_str());
    assert_eq!(e["before"]["role"], "staff");
    assert_eq!(e["after"]["role"], "cpa");
    assert_eq!(e["request_id"], request_id.as_str());
    assert_eq!(e["ip"], "127.0.0.1");
    assert!(!page.to_string().contains("argon2"), "no password hash in the audit log");

    // Every kind of mutation so far is there.
    let all = app.get("/v1/audit-log?limit=200", &t.owner.token).await.value();
    let actions: Vec<&str> =
        all["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in [
        "organization.create",
        "user.create",
        "session.create",
        "invitation.create",
        "invitation.accept",
        "user.update",
    ] {
        assert!(actions.contains(&expected), "missing {expected} in {actions:?}");
    }

    // Keyset pages walk the whole log without repeats.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/audit-log?limit=2&cursor={c}"),
            None => "/v1/audit-log?limit=2".to_owned(),
        };
        let p = app.get(&path, &t.owner.token).await.value();
        for e in p["items"].as_array().unwrap() {
            seen.push(e["id"].as_str().unwrap().to_owned());
        }
        match p["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    // Ids are UUIDv7: in one process, later entries have greater ids.
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "pages are newest first with no repeats");
    assert_eq!(seen.len(), all["items"].as_array().unwrap().len());
}

#[tokio::test]
async fn the_chain_verifies_and_reports_an_edited_or_deleted_entry() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    app.member(&t, Role::Staff).await;
    app.member(&t, Role::Cpa).await;
    let r = app.post("/v1/audit-log/verify", Some(&t.owner.token), &json!({})).await.value();
    assert_eq!(r["intact"], true, "{r}");
    let entries = r["entries"].as_i64().unwrap();
    assert!(entries >= 8);

    // Edit an entry behind the app's back (as the owner, who bypasses nothing the app could).
    let mut owner = app.test_db.owner_conn().await;
    sqlx::query("update audit_log set after = jsonb_set(after, '{role}', '\"owner\"') where seq = 3")
        .execute(&mut owner)
        .await
        .unwrap();
    let r = app.post("/v1/audit-log/verify", Some(&t.owner.token), &json!({})).await.value();
    assert_eq!(r["intact"], false);
    assert_eq!(r["first_break_seq"], 3);
    assert!(r["reason"].as_str().unwrap().contains("edited"));

    // Deleting the tail is caught through the chain head.
    let app2 = TestApp::spawn().await;
    let t2 = app2.tenant("beta").await;
    app2.member(&t2, Role::Staff).await;
    let mut owner2 = app2.test_db.owner_conn().await;
    sqlx::query("delete from audit_log where seq = (select max(seq) from audit_log)")
        .execute(&mut owner2)
        .await
        .unwrap();
    let r = app2.post("/v1/audit-log/verify", Some(&t2.owner.token), &json!({})).await.value();
    assert_eq!(r["intact"], false, "{r}");
}

#[tokio::test]
async fn the_app_role_cannot_rewrite_history() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let org: domain::OrganizationId = t.organization_id.parse().unwrap();
    let mut tx = store::TenantTx::begin(&app.db, org, store::Actor::system()).await.unwrap();
    let err = sqlx::query("update audit_log set action = 'x'").execute(tx.conn()).await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
}

/// Floats in an entry's content (a document field's OCR confidence is an `f32`) hash the way they
/// read back from the database: the chain stays intact.
#[tokio::test]
async fn entries_with_floats_verify() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let org: domain::OrganizationId = t.organization_id.parse().unwrap();
    let mut tx = store::TenantTx::begin(&app.db, org, store::Actor::system()).await.unwrap();
    let floats: Vec<f64> = (1..200).map(|i| f64::from(i as f32 / 197.0f32) * 1.000_000_1).collect();
    tx.audit(
        store::AuditRecord::new("document.field_correct", "document", "d1")
            .before(json!({"confidence": 0.97f32, "values": [0.1 + 0.2, 1e-7, 1.5e300]}))
            .after(json!({"floats": floats})),
    );
    tx.commit().await.unwrap();
    let r = app.post("/v1/audit-log/verify", Some(&t.owner.token), &json!({})).await.value();
    assert_eq!(r["intact"], true, "{r}");
}

/// Verification goes on past the first break and reports each one.
#[tokio::test]
async fn every_break_is_reported() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    for role in [Role::Staff, Role::Cpa, Role::Intern] {
        app.member(&t, role).await;
    }
    let mut owner = app.test_db.owner_conn().await;
    sqlx::query("update audit_log set action = 'edited' where seq in (2, 5)")
        .execute(&mut owner)
        .await
        .unwrap();
    let r = app.post("/v1/audit-log/verify", Some(&t.owner.token), &json!({})).await.value();
    assert_eq!(r["intact"], false);
    assert_eq!(r["first_break_seq"], 2);
    let seqs: Vec<i64> = r["breaks"].as_array().unwrap().iter().map(|b| b["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, vec![2, 5], "{r}");
}

/// A transaction whose organization's chain head is held by another opens a lane of its own
/// instead of waiting for it; every lane verifies, and a break names its lane.
#[tokio::test]
async fn a_held_chain_head_opens_another_lane_and_each_lane_verifies() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let org: domain::OrganizationId = t.organization_id.parse().unwrap();
    let mut holder = store::TenantTx::begin(&app.db, org, store::Actor::system()).await.unwrap();
    sqlx::query("select lane from audit_chain_heads where lane = 0 for update")
        .execute(holder.conn())
        .await
        .unwrap();

    // Committed while lane 0 is held: it does not wait (the holder is still open) and lands in lane 1.
    let mut tx = store::TenantTx::begin(&app.db, org, store::Actor::system()).await.unwrap();
    tx.audit(store::AuditRecord::new("client.update", "client", "c1").after(json!({"n": 1})));
    tx.audit(store::AuditRecord::new("client.update", "client", "c2").after(json!({"n": 2})));
    tx.commit().await.unwrap();
    holder.rollback().await.unwrap();
    app.member(&t, Role::Staff).await;

    let page = app.get("/v1/audit-log?action=client.update", &t.owner.token).await.value();
    let lanes: Vec<(i64, i64)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["lane"].as_i64().unwrap(), e["seq"].as_i64().unwrap()))
        .collect();
    assert_eq!(lanes, vec![(1, 2), (1, 1)], "{page}");
    let after = app.get("/v1/audit-log?action=invitation.accept", &t.owner.token).await.value();
    assert_eq!(after["items"][0]["lane"], 0, "a free lane 0 is taken again: {after}");
    let r = app.post("/v1/audit-log/verify", Some(&t.owner.token), &json!({})).await.value();
    assert_eq!(r["intact"], true, "{r}");

    let mut owner = app.test_db.owner_conn().await;
    sqlx::query("update audit_log set action = 'edited' where lane = 1 and seq = 2")
        .execute(&mut owner)
        .await
        .unwrap();
    let r = app.post("/v1/audit-log/verify", Some(&t.owner.token), &json!({})).await.value();
    assert_eq!((r["first_break_lane"].as_i64(), r["first_break_seq"].as_i64()), (Some(1), Some(2)), "{r}");

    // A whole lane deleted is caught through its head.
    sqlx::query("delete from audit_log where lane = 1").execute(&mut owner).await.unwrap();
    let r = app.post("/v1/audit-log/verify", Some(&t.owner.token), &json!({})).await.value();
    assert_eq!(r["intact"], false, "{r}");
    assert_eq!(r["breaks"][0]["lane"], 1, "{r}");
}
