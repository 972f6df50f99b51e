//! Forgotten passwords end to end: the request, the `mail.send` job delivering the link (into the
//! outbox, and over real SMTP), setting the new password, and every way a link is refused.

use domain::Role;
use serde_json::json;
use testkit::{PASSWORD, SmtpSink, TestApp};

const NEW_PASSWORD: &str = "a brand new passphrase 42";

/// The token of the reset link in a mail.
fn token_in(mail: &str) -> String {
    let start = mail.find("/reset-password?token=").unwrap_or_else(|| panic!("no reset link in {mail}"));
    let rest = &mail[start + "/reset-password?token=".len()..];
    rest.split_whitespace().next().unwrap().to_owned()
}

async fn mail_jobs(app: &TestApp) -> i64 {
    let mut owner = app.test_db.owner_conn().await;
    store::sqlx::query_scalar("select count(*) from jobs where kind = 'mail.send'")
        .fetch_one(&mut owner)
        .await
        .unwrap()
}

/// Waits (up to a minute) until no `mail.send` job is left in the queue.
async fn wait_for_no_mail_jobs(app: &TestApp) {
    for _ in 0..1200 {
        if mail_jobs(app).await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the delivered mail's job was never completed");
}

async fn audit_actions(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.get("/v1/audit-log?limit=200", token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.value()["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_with_the_mailed_link_once() {
    let app = TestApp::spawn().await;
    let firm = app.tenant("reset-firm").await;
    let member = app.member(&firm, Role::Staff).await;
    let _worker = app.mail_worker();

    let r = app
        .post("/v1/password-resets", None, &json!({"organization": firm.slug, "email": member.email}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let answer = r.value()["detail"].as_str().unwrap().to_owned();

    let mails = app.wait_for_mails(1).await;
    let mail = &mails[0];
    assert!(mail.contains(&format!("To: {}", member.email)), "{mail}");
    assert!(mail.contains("Subject: Reset your Countinghouse password"), "{mail}");
    assert!(mail.contains(&format!("http://{}/reset-password?token=chr_", app.addr)), "{mail}");
    let token = token_in(mail);

    // The job is removed once delivered: the worker writes the mail first and completes the job
    // after, so wait for the completion rather than expect it the moment the mail appears.
    wait_for_no_mail_jobs(&app).await;

    let r =
        app.post("/v1/password-resets/complete", None, &json!({"token": token, "password": "short"})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.problem_slug(), "validation");

    let r = app
        .post("/v1/password-resets/complete", None, &json!({"token": token, "password": NEW_PASSWORD}))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);

    // The new password signs in, the old one does not, and the sessions open before are ended.
    assert_eq!(app.login(&firm.slug, &member.email, NEW_PASSWORD, None).await.status, 201);
    assert_eq!(app.login(&firm.slug, &member.email, PASSWORD, None).await.status, 401);
    assert_eq!(app.get("/v1/me", &member.token).await.status, 401, "the old session was revoked");

    // The link worked once.
    let again = app
        .post(
            "/v1/password-resets/complete",
            None,
            &json!({"token": token, "password": "yet another passphrase"}),
        )
        .await;
    assert_eq!(again.status, 404, "{}", again.body);
    assert_eq!(again.problem_slug(), "not-found");
    assert!(again.problem().detail.contains("ask for a new one"));

    // The same answer for an address nobody has, an unknown firm, and a slug that is not one; no mail.
    for (org, email) in [
        (firm.slug.as_str(), "nobody@reset-firm.test"),
        ("no-such-firm", member.email.as_str()),
        ("X Y", "a@b.test"),
    ] {
        let r = app.post("/v1/password-resets", None, &json!({"organization": org, "email": email})).await;
        assert_eq!(r.status, 202, "{}", r.body);
        assert_eq!(r.value()["detail"], answer.as_str());
    }
    assert_eq!(mail_jobs(&app).await, 0, "no mail queued for unknown accounts");
    assert_eq!(app.outbox_mails().len(), 1, "no mail sent for unknown accounts");

    let actions = audit_actions(&app, &firm.owner.token).await;
    for action in ["user.password_reset_request", "user.password_reset"] {
        assert!(actions.iter().any(|a| a == action), "{action} missing from {actions:?}");
    }
}

#[tokio::test]
async fn expired_unknown_and_foreign_links_are_refused() {
    let app = TestApp::spawn().await;
    let firm = app.tenant("expiry-firm").await;
    let member = app.member(&firm, Role::Cpa).await;
    let _worker = app.mail_worker();
    let r = app
        .post("/v1/password-resets", None, &json!({"organization": firm.slug, "email": member.email}))
        .await;
    assert_eq!(r.status, 202);
    let token = token_in(&app.wait_for_mails(1).await[0]);

    // An hour later (moved back as the owner: the app role cannot rewrite time).
    let mut owner = app.test_db.owner_conn().await;
    store::sqlx::query("update password_resets set expires_at = now() - interval '1 second'")
        .execute(&mut owner)
        .await
        .unwrap();
    let r = app
        .post("/v1/password-resets/complete", None, &json!({"token": token, "password": NEW_PASSWORD}))
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(app.login(&firm.slug, &member.email, PASSWORD, None).await.status, 201, "password unchanged");

    // A token of another kind, a mangled one, and one moved to another organization.
    let other = app.tenant("other-firm").await;
    let moved = format!("chr_{}{}", other.organization_id.replace('-', ""), &token[4 + 32..]);
    for bad in [firm.owner.token.as_str(), "chr_nonsense", moved.as_str()] {
        let r = app
            .post("/v1/password-resets/complete", None, &json!({"token": bad, "password": NEW_PASSWORD}))
            .await;
        assert_eq!(r.status, 404, "{bad}: {}", r.body);
    }
    // A malformed address is a 422 about the input, whoever asks.
    let r = app
        .post("/v1/password-resets", None, &json!({"organization": firm.slug, "email": "not-an-address"}))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
}

#[tokio::test]
async fn a_member_admin_creates_a_reset_link_for_a_member() {
    let app = TestApp::spawn().await;
    let firm = app.tenant("admin-reset").await;
    let staff = app.member(&firm, Role::Staff).await;
    let admin = app.member(&firm, Role::Admin).await;
    let _worker = app.mail_worker();

    let path = format!("/v1/members/{}/password-reset", staff.user_id);
    let r = app.post(&path, Some(&staff.token), &json!({})).await;
    assert_eq!(r.status, 403, "a member without users:update: {}", r.body);
    let r = app
        .post(&format!("/v1/members/{}/password-reset", admin.user_id), Some(&admin.token), &json!({}))
        .await;
    assert_eq!(r.status, 403, "not for yourself: {}", r.body);
    let r = app
        .post(&format!("/v1/members/{}/password-reset", firm.owner.user_id), Some(&admin.token), &json!({}))
        .await;
    assert_eq!(r.status, 403, "not above your own role: {}", r.body);

    let r = app.post(&path, Some(&admin.token), &json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.value();
    assert_eq!(created["email"], staff.email.as_str());
    assert_eq!(created["user_id"], staff.user_id.as_str());
    let link = created["link"].as_str().unwrap();
    assert!(link.starts_with(&format!("http://{}/reset-password?token=chr_", app.addr)), "{link}");
    let token = link.split("token=").nth(1).unwrap();

    // Mailed to the member too, with the same link.
    let mails = app.wait_for_mails(1).await;
    assert!(mails[0].contains(link), "{}", mails[0]);
    assert!(mails[0].contains("An administrator of admin-reset LLP"), "{}", mails[0]);

    let r = app
        .post("/v1/password-resets/complete", None, &json!({"token": token, "password": NEW_PASSWORD}))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(app.login(&firm.slug, &staff.email, NEW_PASSWORD, None).await.status, 201);
    assert!(audit_actions(&app, &firm.owner.token).await.iter().any(|a| a == "user.password_reset_request"));
}

#[tokio::test]
async fn the_mailer_delivers_over_smtp_and_retries_a_busy_relay() {
    let app = TestApp::spawn().await;
    let firm = app.tenant("smtp-firm").await;
    let member = app.member(&firm, Role::Staff).await;
    // The first delivery is refused with 451: the job retries and the second gets through.
    let sink = SmtpSink::refusing_first(1).await;
    let smtp = mailer::Mailer::smtp(&sink.url(), "Countinghouse <no-reply@countinghouse.test>").unwrap();
    let mut registry = jobs::Registry::new();
    mailer::register(&mut registry, smtp, app.keys.clone());
    let config = jobs::WorkerConfig {
        queues: vec![jobs::QueueConfig::new(mailer::QUEUE)],
        poll_interval: std::time::Duration::from_millis(50),
        ..jobs::WorkerConfig::default()
    };
    let _worker = jobs::Worker::new(app.db.pool().clone(), registry, config).start();

    let r = app
        .post("/v1/password-resets", None, &json!({"organization": firm.slug, "email": member.email}))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let got = sink.wait_for(1).await;
    assert_eq!(got.len(), 1, "delivered once: {got:?}");
    assert_eq!(got[0].from, "no-reply@countinghouse.test");
    assert_eq!(got[0].to, vec![member.email.clone()]);
    assert!(got[0].data.contains("Subject: Reset your Countinghouse password"), "{}", got[0].data);
    let token = token_in(&got[0].data);
    assert!(app.outbox_mails().is_empty(), "SMTP, not the outbox");

    let r = app
        .post("/v1/password-resets/complete", None, &json!({"token": token, "password": NEW_PASSWORD}))
        .await;
    assert_eq!(r.status, 204, "the link that came over SMTP works: {}", r.body);
}
