//! Inviting staff and client users.

use domain::Role;
use serde_json::json;
use store::sqlx;
use testkit::{PASSWORD, TestApp};

#[tokio::test]
async fn an_invitation_is_accepted_once_into_the_invited_role() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let r = app
        .post(
            "/v1/invitations",
            Some(&t.owner.token),
            &json!({"email": "New@Acme.test", "name": "Nina", "role": "cpa"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.value();
    let token = v["token"].as_str().unwrap().to_owned();
    assert!(
        token.len() >= 32 && v.get("accept_url").is_none(),
        "a token, and no link to a page that is not there"
    );
    assert_eq!(v["invitation"]["email"], "new@acme.test");

    let listed = app.get("/v1/invitations", &t.owner.token).await.value();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&token), "lists never show the token");

    let accepted =
        app.post("/v1/invitations/accept", None, &json!({"token": token, "password": PASSWORD})).await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    let s = accepted.value();
    assert_eq!(s["user"]["role"], "cpa");
    assert_eq!(s["user"]["name"], "Nina");
    assert_eq!(app.get("/v1/me", s["token"].as_str().unwrap()).await.status, 200);

    let again =
        app.post("/v1/invitations/accept", None, &json!({"token": token, "password": PASSWORD})).await;
    assert_eq!(again.status, 404);
    assert_eq!(app.login("acme", "new@acme.test", PASSWORD, None).await.status, 201);
    assert!(app.get("/v1/invitations", &t.owner.token).await.value()["items"].as_array().unwrap().is_empty());
}

/// An invitation without a name is accepted without one too: the name defaults to the address's
/// local part. Lists page like every other list.
#[tokio::test]
async fn nameless_invitations_are_accepted_and_lists_page() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let mut tokens = Vec::new();
    for i in 0..3 {
        let r = app
            .post(
                "/v1/invitations",
                Some(&t.owner.token),
                &json!({"email": format!("jo{i}@acme.test"), "role": "staff"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        tokens.push(r.value()["token"].as_str().unwrap().to_owned());
    }
    let first = app.get("/v1/invitations?limit=2", &t.owner.token).await.value();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/v1/invitations?limit=2&cursor={cursor}"), &t.owner.token).await.value();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest.get("next_cursor").is_none_or(serde_json::Value::is_null));
    assert_eq!(app.get("/v1/invitations?limit=0", &t.owner.token).await.status, 422);

    let accepted =
        app.post("/v1/invitations/accept", None, &json!({"token": tokens[0], "password": PASSWORD})).await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    assert_eq!(accepted.value()["user"]["name"], "jo0");
}

#[tokio::test]
async fn roles_bound_who_may_invite_whom() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let admin = app.member(&t, Role::Admin).await;
    let staff = app.member(&t, Role::Staff).await;
    let r = app
        .post("/v1/invitations", Some(&admin.token), &json!({"email": "o@acme.test", "role": "owner"}))
        .await;
    assert_eq!(r.status, 403, "an admin cannot make owners");
    let r = app
        .post("/v1/invitations", Some(&admin.token), &json!({"email": "c@acme.test", "role": "client"}))
        .await;
    assert_eq!(r.status, 201, "an admin invites client users");
    let r = app
        .post("/v1/invitations", Some(&staff.token), &json!({"email": "s@acme.test", "role": "staff"}))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.problem_slug(), "forbidden");
    let r = app
        .post("/v1/invitations", Some(&t.owner.token), &json!({"email": staff.email, "role": "cpa"}))
        .await;
    assert_eq!(r.status, 409, "existing members are not invited");
    let r = app
        .post("/v1/invitations", Some(&t.owner.token), &json!({"email": "c@acme.test", "role": "client"}))
        .await;
    assert_eq!(r.status, 409, "one open invitation per address");
}

#[tokio::test]
async fn revoked_and_expired_invitations_cannot_be_accepted() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let a = app
        .post("/v1/invitations", Some(&t.owner.token), &json!({"email": "a@acme.test", "role": "staff"}))
        .await
        .value();
    let b = app
        .post("/v1/invitations", Some(&t.owner.token), &json!({"email": "b@acme.test", "role": "staff"}))
        .await
        .value();
    let r = app
        .delete(&format!("/v1/invitations/{}", a["invitation"]["id"].as_str().unwrap()), &t.owner.token)
        .await;
    assert_eq!(r.status, 200);
    assert!(r.value()["revoked_at"].is_string());
    let r = app
        .post(
            "/v1/invitations/accept",
            None,
            &json!({"token": a["token"], "name": "A", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 404);

    let mut owner = app.test_db.owner_conn().await;
    sqlx::query(
        "update invitations set expires_at = now() - interval '1 second' where email = 'b@acme.test'",
    )
    .execute(&mut owner)
    .await
    .unwrap();
    let r = app
        .post(
            "/v1/invitations/accept",
            None,
            &json!({"token": b["token"], "name": "B", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(r.problem().detail.contains("expired"));
    // An expired invitation no longer blocks a new one.
    let r = app
        .post("/v1/invitations", Some(&t.owner.token), &json!({"email": "b@acme.test", "role": "staff"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // A weak password is refused before anything is created.
    let c = r.value();
    let r = app
        .post("/v1/invitations/accept", None, &json!({"token": c["token"], "name": "B", "password": "short"}))
        .await;
    assert_eq!(r.status, 422);
    let r = app
        .post(
            "/v1/invitations/accept",
            None,
            &json!({"token": c["token"], "name": "B", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 201);
}
