//! Invoices: server-computed amounts, numbering, the status flow, payments, AR aging, portal view.

use domain::Role;
use serde_json::{Value, json};
use store::sqlx;
use testkit::{Tenant, TestApp};

async fn client_id(app: &TestApp, t: &Tenant, name: &str) -> String {
    let r = app.post("/v1/clients", Some(&t.owner.token), &json!({"business_name": name})).await;
    r.value()["id"].as_str().unwrap().to_owned()
}

fn lines() -> Value {
    json!([{"description": "Tax preparation", "quantity": "3", "unit_price": "33.335"},
           {"description": "Bookkeeping", "quantity": "1.5", "unit_price": "100"}])
}

#[tokio::test]
async fn the_server_computes_and_guards_every_amount() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let c = client_id(&app, &t, "Blue Fern").await;
    let r = app
        .post(
            "/v1/invoices",
            Some(&t.owner.token),
            &json!({"client_id": c, "lines": lines(), "tax_rate": "0.0825", "discount": "10"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.value();
    assert_eq!(v["number"], "INV-000001");
    assert_eq!(v["subtotal"], "250.01");
    assert_eq!(v["tax_amount"], "20.63");
    assert_eq!(v["total"], "260.64");
    assert_eq!(v["balance"], "260.64");
    assert_eq!(v["status"], "draft");
    assert_eq!(v["lines"][0]["amount"], "100.01");
    let second = app
        .post("/v1/invoices", Some(&t.owner.token), &json!({"client_id": c, "lines": lines()}))
        .await
        .value();
    assert_eq!(second["number"], "INV-000002");
    // Numbers are per organization.
    let other = app.tenant("other").await;
    let oc = client_id(&app, &other, "Theirs").await;
    let o = app
        .post("/v1/invoices", Some(&other.owner.token), &json!({"client_id": oc, "lines": lines()}))
        .await
        .value();
    assert_eq!(o["number"], "INV-000001");

    // An inconsistent total is refused; so are bad lines and custom numbers that collide.
    let r = app
        .post(
            "/v1/invoices",
            Some(&t.owner.token),
            &json!({"client_id": c, "lines": lines(), "total": "999.00"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.problem().errors[0].field, "total");
    let r = app
        .post(
            "/v1/invoices",
            Some(&t.owner.token),
            &json!({"client_id": c, "lines": [{"description": "x", "quantity": "0", "unit_price": "1"}]}),
        )
        .await;
    assert_eq!(r.problem().errors[0].field, "lines[0].quantity");
    let r = app
        .post(
            "/v1/invoices",
            Some(&t.owner.token),
            &json!({"client_id": c, "lines": [], "number": "INV-000009"}),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = app
        .post(
            "/v1/invoices",
            Some(&t.owner.token),
            &json!({"client_id": c, "lines": lines(), "number": "2026-A7"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .post(
            "/v1/invoices",
            Some(&t.owner.token),
            &json!({"client_id": c, "lines": lines(), "number": "2026-A7"}),
        )
        .await;
    assert_eq!(r.status, 409);
    // Nor can a total sneak in through the database.
    let mut owner = app.test_db.owner_conn().await;
    let err = sqlx::query("update invoices set total = total + 1 where number = 'INV-000001'")
        .execute(&mut owner)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("check"), "{err}");
}

#[tokio::test]
async fn invoices_move_through_their_status_flow() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let c = client_id(&app, &t, "Blue Fern").await;
    let inv = app
        .post("/v1/invoices", Some(&t.owner.token), &json!({"client_id": c, "lines": lines()}))
        .await
        .value();
    let id = inv["id"].as_str().unwrap();
    let r = app
        .post(&format!("/v1/invoices/{id}/payments"), Some(&t.owner.token), &json!({"amount": "10.00"}))
        .await;
    assert_eq!(r.status, 409, "drafts take no payments");
    let r = app
        .patch(
            &format!("/v1/invoices/{id}"),
            &t.owner.token,
            &json!({"lines": [{"description": "Flat fee", "quantity": "1", "unit_price": "400"}]}),
        )
        .await;
    assert_eq!(r.value()["total"], "400.00", "editing a draft recomputes");
    assert_eq!(
        app.post(&format!("/v1/invoices/{id}/send"), Some(&t.owner.token), &json!({})).await.value()["status"],
        "sent"
    );
    let r = app.patch(&format!("/v1/invoices/{id}"), &t.owner.token, &json!({"title": "x"})).await;
    assert_eq!(r.status, 409, "sent invoices are not edited");
    let r = app
        .post(&format!("/v1/invoices/{id}/payments"), Some(&t.owner.token), &json!({"amount": "500.00"}))
        .await;
    assert_eq!(r.status, 422, "more than the balance");
    let r = app
        .post(
            &format!("/v1/invoices/{id}/payments"),
            Some(&t.owner.token),
            &json!({"amount": "150.00", "method": "ach"}),
        )
        .await
        .value();
    assert_eq!((r["status"].as_str(), r["balance"].as_str()), (Some("partial"), Some("250.00")));
    assert_eq!(
        app.post(&format!("/v1/invoices/{id}/cancel"), Some(&t.owner.token), &json!({})).await.status,
        409,
        "money came in"
    );
    let r = app
        .post(&format!("/v1/invoices/{id}/payments"), Some(&t.owner.token), &json!({"amount": "250.00"}))
        .await
        .value();
    assert_eq!(r["status"], "paid");
    assert!(r["paid_at"].is_string());
    assert_eq!(r["payments"].as_array().unwrap().len(), 2);
    assert_eq!(app.delete(&format!("/v1/invoices/{id}"), &t.owner.token).await.status, 409);

    let draft = app
        .post("/v1/invoices", Some(&t.owner.token), &json!({"client_id": c, "lines": lines()}))
        .await
        .value();
    let did = draft["id"].as_str().unwrap();
    assert_eq!(
        app.post(&format!("/v1/invoices/{did}/cancel"), Some(&t.owner.token), &json!({})).await.value()["status"],
        "cancelled"
    );
    let staff = app.member(&t, Role::Staff).await;
    assert_eq!(app.get("/v1/invoices", &staff.token).await.status, 403, "staff lack billing:read");
}

#[tokio::test]
async fn ar_aging_buckets_open_balances_by_days_past_due() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let c = client_id(&app, &t, "Blue Fern").await;
    let d = client_id(&app, &t, "Hillcrest").await;
    // (client, due date, amount, send?, payment)
    let rows = [
        (&c, "2026-12-20", "100", true, None),       // current on 2026-12-01
        (&c, "2026-11-20", "200", true, Some("50")), // 11 days past due, 150 open
        (&d, "2026-10-15", "300", true, None),       // 47 days
        (&d, "2026-09-10", "400", true, None),       // 82 days
        (&d, "2026-06-01", "500", true, None),       // 183 days
        (&d, "2026-06-01", "900", false, None),      // draft: not receivable
    ];
    for (client, due, amount, send, paid) in rows {
        let v = app
            .post(
                "/v1/invoices",
                Some(&t.owner.token),
                &json!({"client_id": client, "issue_date": "2026-05-01", "due_date": due,
                "lines": [{"description": "Work", "quantity": "1", "unit_price": amount}]}),
            )
            .await
            .value();
        let id = v["id"].as_str().unwrap();
        if send {
            app.post(&format!("/v1/invoices/{id}/send"), Some(&t.owner.token), &json!({})).await;
        }
        if let Some(p) = paid {
            app.post(&format!("/v1/invoices/{id}/payments"), Some(&t.owner.token), &json!({"amount": p}))
                .await;
        }
    }
    let a = app.get("/v1/invoices/aging?as_of=2026-12-01", &t.owner.token).await.value();
    assert_eq!(a["current"], "100.00");
    assert_eq!(a["days_1_30"], "150.00");
    assert_eq!(a["days_31_60"], "300.00");
    assert_eq!(a["days_61_90"], "400.00");
    assert_eq!(a["days_over_90"], "500.00");
    assert_eq!(a["total_open"], "1450.00");
    assert_eq!(a["open_invoices"], 5);
    let one =
        app.get(&format!("/v1/invoices/aging?as_of=2026-12-01&client_id={c}"), &t.owner.token).await.value();
    assert_eq!(one["total_open"], "250.00");
    let list = app.get(&format!("/v1/invoices?client_id={d}&status=sent"), &t.owner.token).await.value();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    assert!(list["items"][0].get("lines").is_none(), "lists are compact");
}

#[tokio::test]
async fn portal_users_see_their_clients_invoices_only_with_financial_access_and_view_marks_viewed() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let c = client_id(&app, &t, "Blue Fern").await;
    let other = client_id(&app, &t, "Hillcrest").await;
    let mut ids = Vec::new();
    for client in [&c, &other] {
        let v = app
            .post("/v1/invoices", Some(&t.owner.token), &json!({"client_id": client, "lines": lines()}))
            .await
            .value();
        let id = v["id"].as_str().unwrap().to_owned();
        app.post(&format!("/v1/invoices/{id}/send"), Some(&t.owner.token), &json!({})).await;
        ids.push(id);
    }
    let portal = app.member(&t, Role::Client).await;
    let grant = app
        .post(
            &format!("/v1/clients/{c}/portal-access"),
            Some(&t.owner.token),
            &json!({"user_id": portal.user_id, "can_view_financials": false}),
        )
        .await
        .value();
    assert!(app.get("/v1/invoices", &portal.token).await.value()["items"].as_array().unwrap().is_empty());
    assert_eq!(app.get(&format!("/v1/invoices/{}", ids[0]), &portal.token).await.status, 404);
    app.delete(&format!("/v1/portal-access/{}", grant["id"].as_str().unwrap()), &t.owner.token).await;
    app.post(
        &format!("/v1/clients/{c}/portal-access"),
        Some(&t.owner.token),
        &json!({"user_id": portal.user_id}),
    )
    .await;
    let list = app.get("/v1/invoices", &portal.token).await.value();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let seen = app.get(&format!("/v1/invoices/{}", ids[0]), &portal.token).await.value();
    assert_eq!(seen["status"], "viewed");
    assert!(seen["viewed_at"].is_string());
    assert_eq!(app.get(&format!("/v1/invoices/{}", ids[1]), &portal.token).await.status, 404);
    assert_eq!(
        app.post(
            &format!("/v1/invoices/{}/payments", ids[0]),
            Some(&portal.token),
            &json!({"amount": "1.00"})
        )
        .await
        .status,
        403
    );
    let aging = app.get("/v1/invoices/aging", &portal.token).await.value();
    assert_eq!(aging["open_invoices"], 1);
}

#[tokio::test]
async fn the_receivables_rollup_always_matches_the_invoices() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let c = client_id(&app, &t, "Blue Fern").await;
    let mut ids = Vec::new();
    for (i, due) in ["2026-10-01", "2026-10-01", "2026-11-15", "2026-12-31", "2027-01-15"].iter().enumerate()
    {
        let v = app
            .post("/v1/invoices", Some(&t.owner.token), &json!({"client_id": c, "issue_date": "2026-09-01", "due_date": due,
                "lines": [{"description": "Work", "quantity": "1", "unit_price": format!("{}", (i + 1) * 100)}]}))
            .await
            .value();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let post = |path: String, body: Value| {
        let token = t.owner.token.clone();
        let app = &app;
        async move { app.post(&path, Some(&token), &body).await }
    };
    for id in &ids[..4] {
        assert_eq!(post(format!("/v1/invoices/{id}/send"), json!({})).await.status, 200);
    }
    post(format!("/v1/invoices/{}/payments", ids[0]), json!({"amount": "100.00"})).await; // paid in full
    post(format!("/v1/invoices/{}/payments", ids[1]), json!({"amount": "50.00"})).await; // partial
    post(format!("/v1/invoices/{}/cancel", ids[2]), json!({})).await;
    let mut owner = app.test_db.owner_conn().await;
    sqlx::query("update invoices set status = 'overdue' where id = $1::uuid")
        .bind(&ids[3])
        .execute(&mut owner)
        .await
        .unwrap();
    app.delete(&format!("/v1/invoices/{}", ids[4]), &t.owner.token).await; // a draft, never open

    let direct: Vec<(chrono::NaiveDate, rust_decimal::Decimal, i64)> = sqlx::query_as(
        "select due_date, sum(balance), count(*) from invoices where status in ('sent', 'viewed', 'partial', 'overdue')
         group by 1 order by 1",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    let rollup: Vec<(chrono::NaiveDate, rust_decimal::Decimal, i64)> = sqlx::query_as(
        "select due_date, balance, invoices::bigint from ar_open_by_due where invoices > 0 order by 1",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert_eq!(rollup, direct);
    assert_eq!(direct.len(), 2, "the partial (Oct 1) and the overdue (Dec 31)");
    let aging = app.get("/v1/invoices/aging?as_of=2026-12-01", &t.owner.token).await.value();
    assert_eq!(aging["total_open"], "550.00");
    assert_eq!(aging["open_invoices"], 2);
}

/// A client sees the invoices the firm issued to it, never the firm's drafts (nor a draft cancelled
/// before it was sent), in the list and by id.
#[tokio::test]
async fn portal_users_never_see_drafts() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let c = client_id(&app, &t, "Blue Fern").await;
    let new_invoice = async || {
        let v =
            app.post("/v1/invoices", Some(&t.owner.token), &json!({"client_id": c, "lines": lines()})).await;
        assert_eq!(v.status, 201, "{}", v.body);
        v.value()["id"].as_str().unwrap().to_owned()
    };
    let (draft, cancelled_draft, sent, cancelled_sent) =
        (new_invoice().await, new_invoice().await, new_invoice().await, new_invoice().await);
    for id in [&sent, &cancelled_sent] {
        assert_eq!(
            app.post(&format!("/v1/invoices/{id}/send"), Some(&t.owner.token), &json!({})).await.status,
            200
        );
    }
    for id in [&cancelled_draft, &cancelled_sent] {
        let r = app.post(&format!("/v1/invoices/{id}/cancel"), Some(&t.owner.token), &json!({})).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let portal = app.member(&t, Role::Client).await;
    let r = app
        .post(
            &format!("/v1/clients/{c}/portal-access"),
            Some(&t.owner.token),
            &json!({"user_id": portal.user_id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let list = app.get("/v1/invoices", &portal.token).await.value();
    let mut seen: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    seen.sort_unstable();
    let mut issued = vec![sent.as_str(), cancelled_sent.as_str()];
    issued.sort_unstable();
    assert_eq!(seen, issued, "{list}");
    let drafts = app.get("/v1/invoices?status=draft", &portal.token).await.value();
    assert!(drafts["items"].as_array().unwrap().is_empty(), "{drafts}");
    for id in [&draft, &cancelled_draft] {
        assert_eq!(app.get(&format!("/v1/invoices/{id}"), &portal.token).await.status, 404);
    }
    assert_eq!(app.get(&format!("/v1/invoices/{sent}"), &portal.token).await.status, 200);
    // Staff see them all.
    assert_eq!(app.get("/v1/invoices", &t.owner.token).await.value()["items"].as_array().unwrap().len(), 4);
}
