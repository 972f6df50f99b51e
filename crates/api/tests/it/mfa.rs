//! Multi-factor sign-in: enrolment, codes, replay, recovery codes and the organization policy.

use domain::Role;
use serde_json::json;
use testkit::{PASSWORD, Persona, TestApp};

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

/// Enrols a persona; returns the base32 secret and the recovery codes.
async fn enrol(app: &TestApp, p: &Persona) -> (String, Vec<String>) {
    let r = app.post("/v1/me/mfa/enrolment", Some(&p.token), &json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.value();
    assert!(v["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    let secret = v["secret"].as_str().unwrap().to_owned();
    let wrong = app.post("/v1/me/mfa/confirm", Some(&p.token), &json!({"code": "000000"})).await;
    assert_eq!(wrong.status, 401);
    let code = identity::totp::code_for_base32(&secret, now()).unwrap();
    let r = app.post("/v1/me/mfa/confirm", Some(&p.token), &json!({"code": code})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let codes: Vec<String> = serde_json::from_value(r.value()["recovery_codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

#[tokio::test]
async fn an_enrolled_account_needs_a_fresh_code_or_a_recovery_code() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let (secret, codes) = enrol(&app, &t.owner).await;
    let me = app.get("/v1/me", &t.owner.token).await.value();
    assert_eq!(me["user"]["mfa_enabled"], true);

    let r = app.login("acme", &t.owner.email, PASSWORD, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.problem_slug(), "mfa-required");
    let r = app.login("acme", &t.owner.email, PASSWORD, Some("123456")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.problem_slug(), "invalid-mfa-code");

    // The enrolment consumed the current step; the next step's code signs in, once.
    let next = identity::totp::code_for_base32(&secret, now() + 30).unwrap();
    assert_eq!(app.login("acme", &t.owner.email, PASSWORD, Some(&next)).await.status, 201);
    let replay = app.login("acme", &t.owner.email, PASSWORD, Some(&next)).await;
    assert_eq!(replay.status, 401, "a code is not accepted twice");

    // A recovery code works once.
    assert_eq!(app.login("acme", &t.owner.email, PASSWORD, Some(&codes[0])).await.status, 201);
    assert_eq!(app.login("acme", &t.owner.email, PASSWORD, Some(&codes[0])).await.status, 401);
    assert_eq!(app.login("acme", &t.owner.email, PASSWORD, Some(&codes[1].to_uppercase())).await.status, 201);

    // Regenerating replaces the codes; disabling needs a valid code.
    let r = app.post("/v1/me/mfa/recovery-codes", Some(&t.owner.token), &json!({"code": codes[2]})).await;
    assert_eq!(r.status, 200);
    let fresh: Vec<String> = serde_json::from_value(r.value()["recovery_codes"].clone()).unwrap();
    assert_eq!(
        app.login("acme", &t.owner.email, PASSWORD, Some(&codes[3])).await.status,
        401,
        "old codes are gone"
    );
    let r = app.post("/v1/me/mfa/disable", Some(&t.owner.token), &json!({"code": "999999"})).await;
    assert_eq!(r.status, 401);
    let r = app.post("/v1/me/mfa/disable", Some(&t.owner.token), &json!({"code": fresh[0]})).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(app.login("acme", &t.owner.email, PASSWORD, None).await.status, 201);
}

#[tokio::test]
async fn an_organization_can_require_mfa_of_its_staff() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let staff = app.member(&t, Role::Staff).await;
    let client = app.member(&t, Role::Client).await;
    let admin = app.member(&t, Role::Admin).await;
    let r = app.patch("/v1/organization", &admin.token, &json!({"mfa_required_for_staff": true})).await;
    assert_eq!(r.status, 403, "only system:settings changes the policy");
    let r = app.patch("/v1/organization", &t.owner.token, &json!({"mfa_required_for_staff": true})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.value()["mfa_required_for_staff"], true);

    // A staff member without MFA signs in to an enrolment-only session.
    let s = app.login("acme", &staff.email, PASSWORD, None).await;
    assert_eq!(s.status, 201);
    let v = s.value();
    assert_eq!(v["mfa_enrolment_required"], true);
    let pending = Persona { token: v["token"].as_str().unwrap().to_owned(), ..staff.clone() };
    let r = app.get("/v1/organization", &pending.token).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.problem_slug(), "mfa-enrolment-required");
    assert_eq!(app.get("/v1/me", &pending.token).await.status, 200);
    enrol(&app, &pending).await;
    assert_eq!(app.get("/v1/organization", &pending.token).await.status, 200, "enrolled: full access");
    let r = app.post("/v1/me/mfa/disable", Some(&pending.token), &json!({"code": "whatever"})).await;
    assert_eq!(r.status, 403, "cannot turn off what the organization requires");

    // Client users are not covered by the staff policy.
    let c = app.login("acme", &client.email, PASSWORD, None).await;
    assert_eq!(c.value()["mfa_enrolment_required"], false);
}

/// Sessions opened before the organization required MFA are held to it as well: confined to
/// enrolment until the member enrols; a client's session is untouched by the staff policy.
#[tokio::test]
async fn sessions_opened_before_the_requirement_must_enrol_too() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let staff = app.member(&t, Role::Staff).await;
    let client = app.member(&t, Role::Client).await;
    assert_eq!(app.get("/v1/organization", &staff.token).await.status, 200);
    let r = app.patch("/v1/organization", &t.owner.token, &json!({"mfa_required_for_staff": true})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = app.get("/v1/organization", &staff.token).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.problem_slug(), "mfa-enrolment-required");
    assert_eq!(app.get("/v1/me", &staff.token).await.value()["mfa_enrolment_required"], true);
    enrol(&app, &staff).await;
    assert_eq!(app.get("/v1/organization", &staff.token).await.status, 200, "enrolled: full access");
    assert_eq!(app.get("/v1/me", &client.token).await.value()["mfa_enrolment_required"], false);
}
