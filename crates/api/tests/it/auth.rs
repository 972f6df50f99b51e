//! Signup, sign-in, sessions, lockout, rate limits, password changes.

use domain::Role;
use serde_json::json;
use store::sqlx;
use testkit::{PASSWORD, TestApp, TestConfig};

#[tokio::test]
async fn signup_creates_an_organization_whose_owner_is_signed_in() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme-cpa").await;
    let me = app.get("/v1/me", &t.owner.token).await;
    assert_eq!(me.status, 200);
    let v = me.value();
    assert_eq!(v["user"]["role"], "owner");
    assert_eq!(v["organization"]["slug"], "acme-cpa");
    assert_eq!(v["authenticated_by"], "session");
    assert!(v["permissions"].as_array().unwrap().iter().any(|p| p == "system:settings"));

    // The slug is taken now.
    let again = app
        .post(
            "/v1/signup",
            None,
            &json!({"organization_name": "x", "slug": "ACME-cpa", "name": "y",
            "email": "z@z.test", "password": PASSWORD}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.problem_slug(), "conflict");
}

#[tokio::test]
async fn signup_validates_every_field() {
    let app = TestApp::spawn().await;
    for (field, body) in [
        (
            "slug",
            json!({"organization_name": "Acme", "slug": "a", "name": "n", "email": "a@b.test", "password": PASSWORD}),
        ),
        (
            "email",
            json!({"organization_name": "Acme", "slug": "acme", "name": "n", "email": "nope", "password": PASSWORD}),
        ),
        (
            "password",
            json!({"organization_name": "Acme", "slug": "acme", "name": "n", "email": "a@b.test", "password": "short"}),
        ),
        (
            "name",
            json!({"organization_name": "Acme", "slug": "acme", "name": " ", "email": "a@b.test", "password": PASSWORD}),
        ),
    ] {
        let r = app.post("/v1/signup", None, &body).await;
        assert_eq!(r.status, 422, "{field}: {}", r.body);
        let p = r.problem();
        assert_eq!(p.errors[0].field, field);
    }
}

#[tokio::test]
async fn login_logout_and_every_failure_look_the_same() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let ok = app.login("acme", &t.owner.email, PASSWORD, None).await;
    assert_eq!(ok.status, 201);
    let token = ok.value()["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("chs_"));

    let wrong_password = app.login("acme", &t.owner.email, "wrong password here", None).await;
    let unknown_user = app.login("acme", "nobody@acme.test", PASSWORD, None).await;
    let unknown_org = app.login("no-such-firm", &t.owner.email, PASSWORD, None).await;
    for r in [&wrong_password, &unknown_user, &unknown_org] {
        assert_eq!(r.status, 401);
        assert_eq!(r.problem_slug(), "invalid-credentials");
    }
    assert_eq!(wrong_password.problem().detail, unknown_user.problem().detail);
    assert_eq!(unknown_user.problem().detail, unknown_org.problem().detail);

    assert_eq!(app.delete("/v1/sessions/current", &token).await.status, 204);
    let after = app.get("/v1/me", &token).await;
    assert_eq!(after.status, 401);
    assert_eq!(after.problem_slug(), "unauthenticated");
    // The owner's other session still works.
    assert_eq!(app.get("/v1/me", &t.owner.token).await.status, 200);
}

#[tokio::test]
async fn malformed_and_forged_tokens_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let forged = format!("chs_{}{}", other.organization_id.replace('-', ""), &t.owner.token[4 + 32..]);
    for token in ["", "garbage", "chs_short", forged.as_str()] {
        let r = app.get("/v1/me", token).await;
        assert_eq!(r.status, 401, "token {token:?}");
    }
    let no_header = app.request(reqwest::Method::GET, "/v1/me", None, None).await;
    assert_eq!(no_header.status, 401);
    assert_eq!(no_header.problem_slug(), "unauthenticated");
}

#[tokio::test]
async fn five_failures_lock_the_account_for_thirty_minutes() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    for _ in 0..5 {
        assert_eq!(app.login("acme", &t.owner.email, "not the password", None).await.status, 401);
    }
    // Locked: even the right password is refused, with the same answer.
    let locked = app.login("acme", &t.owner.email, PASSWORD, None).await;
    assert_eq!(locked.status, 401);
    assert_eq!(locked.problem_slug(), "invalid-credentials");

    let mut owner = app.test_db.owner_conn().await;
    let until: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select locked_until from users where email = $1")
            .bind(&t.owner.email)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    let minutes = (until - chrono::Utc::now()).num_minutes();
    assert!((28..=30).contains(&minutes), "locked for {minutes} minutes");

    // Thirty minutes later (moved back in time), the right password works and resets the count.
    sqlx::query("update users set locked_until = now() - interval '1 second' where email = $1")
        .bind(&t.owner.email)
        .execute(&mut owner)
        .await
        .unwrap();
    assert_eq!(app.login("acme", &t.owner.email, PASSWORD, None).await.status, 201);
    let failures: i32 = sqlx::query_scalar("select failed_logins from users where email = $1")
        .bind(&t.owner.email)
        .fetch_one(&mut owner)
        .await
        .unwrap();
    assert_eq!(failures, 0);
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_per_account_and_per_address() {
    let mut config = TestConfig::default();
    config.identity.login_per_account_per_minute = 3;
    config.identity.login_per_ip_per_minute = 5;
    let app = TestApp::spawn_with(config).await;
    let t = app.tenant("acme").await;
    for _ in 0..3 {
        assert_eq!(app.login("acme", &t.owner.email, "wrong wrong wrong", None).await.status, 401);
    }
    let limited = app.login("acme", &t.owner.email, PASSWORD, None).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.problem_slug(), "rate-limited");
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    // Another account from the same address: the address budget (5, one spent on signup) runs out.
    let other = app.login("acme", "someone@acme.test", PASSWORD, None).await;
    assert_eq!(other.status, 429, "{}", other.body);
}

#[tokio::test]
async fn sessions_expire_by_role_and_slide_while_used() {
    // This test edits sessions behind the app's back: no cached authentication.
    let mut config = TestConfig::default();
    config.identity.auth_cache_ttl = std::time::Duration::ZERO;
    let app = TestApp::spawn_with(config).await;
    let t = app.tenant("acme").await;
    let client = app.member(&t, Role::Client).await;
    let mut owner = app.test_db.owner_conn().await;
    let client_left = (expiry(&app, &client.token).await - chrono::Utc::now()).num_minutes();
    assert!((14..=15).contains(&client_left), "client sessions last 15 minutes, got {client_left}");
    let owner_left = (expiry(&app, &t.owner.token).await - chrono::Utc::now()).num_hours();
    assert!((23..=24).contains(&owner_left), "owner sessions last 24 hours, got {owner_left}");

    // Idle for 10 minutes: the next request slides the expiry forward.
    sqlx::query("update sessions set last_seen_at = now() - interval '10 minutes', expires_at = now() + interval '5 minutes' where token_hash = $1")
        .bind(identity::tokens::hash(&client.token))
        .execute(&mut owner)
        .await
        .unwrap();
    assert_eq!(app.get("/v1/me", &client.token).await.status, 200);
    let slid = (expiry(&app, &client.token).await - chrono::Utc::now()).num_minutes();
    assert!(slid >= 14, "expiry slid to {slid} minutes ahead");

    // Past its expiry, the token is dead.
    sqlx::query("update sessions set expires_at = now() - interval '1 second' where token_hash = $1")
        .bind(identity::tokens::hash(&client.token))
        .execute(&mut owner)
        .await
        .unwrap();
    assert_eq!(app.get("/v1/me", &client.token).await.status, 401);
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_disabling_ends_all() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let second =
        app.login("acme", &t.owner.email, PASSWORD, None).await.value()["token"].as_str().unwrap().to_owned();
    let wrong = app
        .post(
            "/v1/me/password",
            Some(&t.owner.token),
            &json!({"current_password": "nope nope nope", "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(wrong.status, 422);
    let r = app
        .post(
            "/v1/me/password",
            Some(&t.owner.token),
            &json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(app.get("/v1/me", &t.owner.token).await.status, 200, "the session that changed it stays");
    assert_eq!(app.get("/v1/me", &second).await.status, 401, "other sessions end");
    assert_eq!(app.login("acme", &t.owner.email, PASSWORD, None).await.status, 401);
    assert_eq!(app.login("acme", &t.owner.email, "a brand new passphrase", None).await.status, 201);

    let staff = app.member(&t, Role::Staff).await;
    let r = app
        .patch(&format!("/v1/members/{}", staff.user_id), &t.owner.token, &json!({"status": "disabled"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get("/v1/me", &staff.token).await.status, 401);
    assert_eq!(app.login("acme", &staff.email, PASSWORD, None).await.status, 401);
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_and_nobody_changes_their_own_role() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let admin = app.member(&t, Role::Admin).await;
    let own = app
        .patch(&format!("/v1/members/{}", t.owner.user_id), &t.owner.token, &json!({"role": "staff"}))
        .await;
    assert_eq!(own.status, 403);
    // An admin cannot touch an owner at all.
    let r =
        app.patch(&format!("/v1/members/{}", t.owner.user_id), &admin.token, &json!({"role": "staff"})).await;
    assert_eq!(r.status, 403);
    // A second owner makes demoting the first possible; demoting the last is refused.
    let second_owner = app.member(&t, Role::Owner).await;
    let r = app
        .patch(&format!("/v1/members/{}", t.owner.user_id), &second_owner.token, &json!({"role": "admin"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .patch(&format!("/v1/members/{}", second_owner.user_id), &admin.token, &json!({"status": "disabled"}))
        .await;
    assert_eq!(r.status, 403);
    let mut owner = app.test_db.owner_conn().await;
    let owners: i64 = sqlx::query_scalar("select count(*) from memberships where role = 'owner'")
        .fetch_one(&mut owner)
        .await
        .unwrap();
    assert_eq!(owners, 1);
}

async fn expiry(app: &TestApp, token: &str) -> chrono::DateTime<chrono::Utc> {
    let mut c = app.test_db.owner_conn().await;
    sqlx::query_scalar("select expires_at from sessions where token_hash = $1")
        .bind(identity::tokens::hash(token))
        .fetch_one(&mut c)
        .await
        .unwrap()
}
