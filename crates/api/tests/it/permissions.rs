//! Every route checks a permission of the catalogue, per role.

use domain::{Permission, PermissionSet, Role};
use serde_json::json;
use testkit::TestApp;

#[tokio::test]
async fn routes_answer_by_role_grant() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let mut personas = vec![t.owner.clone()];
    for role in
        [Role::Admin, Role::Manager, Role::SeniorCpa, Role::Cpa, Role::Staff, Role::Intern, Role::Client]
    {
        personas.push(app.member(&t, role).await);
    }
    // (method, path, body, permission the route needs)
    let checks: Vec<(&str, &str, serde_json::Value, Permission)> = vec![
        ("GET", "/v1/members", json!(null), Permission::UsersRead),
        ("GET", "/v1/audit-log", json!(null), Permission::SystemAudit),
        ("POST", "/v1/audit-log/verify", json!({}), Permission::SystemAudit),
        ("GET", "/v1/invitations", json!(null), Permission::UsersInvite),
        ("GET", "/v1/api-keys", json!(null), Permission::ApiKeys),
        ("PATCH", "/v1/organization", json!({}), Permission::SystemSettings),
    ];
    for p in &personas {
        let grant = PermissionSet::for_role(p.role);
        for (method, path, body, needs) in &checks {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let body = (!body.is_null()).then_some(body);
            let r = app.request(m, path, Some(&p.token), body).await;
            if grant.contains(*needs) {
                assert!(r.status < 300, "{} should reach {method} {path}: {} {}", p.role, r.status, r.body);
            } else {
                assert_eq!(r.status, 403, "{} must not reach {method} {path}: {}", p.role, r.body);
                assert!(r.problem().detail.contains(needs.as_str()));
            }
        }
        // Everyone reads themselves, their own notifications and the catalogue.
        assert_eq!(app.get("/v1/me", &p.token).await.status, 200);
        assert_eq!(app.get("/v1/notifications", &p.token).await.status, 200);
        assert_eq!(app.post("/v1/notifications/read-all", Some(&p.token), &json!({})).await.status, 200);
        assert_eq!(app.get(&format!("/v1/members/{}", p.user_id), &p.token).await.status, 200);
    }
    let catalogue = app.request(reqwest::Method::GET, "/v1/permissions", None, None).await.value();
    assert_eq!(catalogue["permissions"].as_array().unwrap().len(), Permission::ALL.len());
}

#[tokio::test]
async fn the_database_catalogue_matches_the_code() {
    let app = TestApp::spawn().await;
    let mut owner = app.test_db.owner_conn().await;
    let rows: Vec<(String, String)> =
        store::sqlx::query_as("select role, permission from role_permissions order by 1, 2")
            .fetch_all(&mut owner)
            .await
            .unwrap();
    let mut expected: Vec<(String, String)> = Role::ALL
        .iter()
        .flat_map(|r| {
            PermissionSet::for_role(*r).iter().map(move |p| (r.as_str().to_owned(), p.as_str().to_owned()))
        })
        .collect();
    expected.sort();
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn a_role_change_applies_to_the_next_request() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let manager = app.member(&t, Role::Manager).await;
    assert_eq!(app.get("/v1/members", &manager.token).await.status, 200);
    let r = app
        .patch(&format!("/v1/members/{}", manager.user_id), &t.owner.token, &json!({"role": "intern"}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get("/v1/members", &manager.token).await.status, 403, "cached authentication was dropped");
    assert_eq!(app.get("/v1/me", &manager.token).await.value()["user"]["role"], "intern");
}
