//! The connect flow end to end, refresh-token rotation, `invalid_grant` as "reconnect", revoke.

use std::sync::Arc;

use qbo_sandbox::Faults;
use quickbooks::{Entity, OAuthError, QboError, RealmLimits, TokenProvider};
use secrecy::ExposeSecret;

use crate::support::{connect, consent, fast_policy, sandbox, start};

#[tokio::test]
async fn connect_flow_yields_working_tokens_and_refresh_rotates_them() {
    let env = start(200, Faults::default()).await;
    let info = env.company.company_info().await.expect("company info");
    let Entity::CompanyInfo(company) = &info.entity else { panic!("company info") };
    assert_eq!(company.company_name, "Sandbox Company US 1");
    assert!(info.raw_json().contains("\"CompanyAddr\""), "fields we do not model are kept");

    let first = env.tokens.tokens(&env.realm).await.expect("connected");
    let second = env.oauth.refresh(&first.refresh_token).await.expect("refresh");
    assert_ne!(second.refresh_token.expose_secret(), first.refresh_token.expose_secret(), "rotated");
    assert_ne!(second.access_token.expose_secret(), first.access_token.expose_secret());
    assert!(second.refresh_hard_expires_at.is_some(), "we ask for the hard expiry");

    let stale = env.oauth.refresh(&first.refresh_token).await.expect_err("the old refresh token is gone");
    assert!(matches!(stale, OAuthError::InvalidGrant { .. }) && stale.needs_reconnect(), "{stale:?}");
    assert_eq!(env.sandbox.oauth_counters().invalid_grants, 1);
}

#[tokio::test]
async fn a_code_works_once_and_reuse_revokes_what_it_minted() {
    let env = start(100, Faults::default()).await;
    let (code, _) = consent(&env.oauth, "state-2").await;
    let tokens = env.oauth.exchange_code(&code).await.expect("first exchange");
    let again = env.oauth.exchange_code(&code).await.expect_err("second exchange");
    assert!(again.needs_reconnect(), "{again:?}");
    let refreshed = env.oauth.refresh(&tokens.refresh_token).await.expect_err("the grant was revoked");
    assert!(refreshed.needs_reconnect());
}

#[tokio::test]
async fn invalid_grant_on_refresh_surfaces_as_reconnect_needed() {
    let env = start(100, Faults::default()).await;
    env.sandbox.set_faults(Faults { refresh_invalid_grant_rate: 1.0, ..Faults::default() });
    env.sandbox.expire_access_tokens();
    let error = env.company.company_info().await.expect_err("no usable token");
    assert!(
        matches!(error, QboError::Token(_)) && error.needs_reconnect() && !error.is_transient(),
        "{error:?}"
    );
    // The store remembers: no further refresh attempts until the user reconnects.
    let refreshes = env.tokens.refresh_count();
    let again = env.tokens.access_token(&env.realm).await.expect_err("still disconnected");
    assert!(again.needs_reconnect());
    assert_eq!(env.tokens.refresh_count(), refreshes);
}

#[tokio::test]
async fn revoking_disconnects_and_a_wrong_secret_is_invalid_client() {
    let env = start(100, Faults::default()).await;
    env.company.company_info().await.expect("connected");
    let tokens = env.tokens.tokens(&env.realm).await.expect("connected");
    env.oauth.revoke(&tokens.refresh_token).await.expect("revoked");
    let error = env.company.company_info().await.expect_err("revoked");
    assert!(error.needs_reconnect(), "{error:?}");

    let wrong = quickbooks::OAuthClient::new(
        reqwest::Client::new(),
        quickbooks::OAuthConfig {
            client_id: "sandbox-client-id".into(),
            client_secret: "not-the-secret".to_owned().into(),
            redirect_uri: crate::support::REDIRECT_URI.into(),
        },
        env.oauth.endpoints().clone(),
    );
    assert!(matches!(wrong.refresh(&tokens.refresh_token).await, Err(OAuthError::InvalidClient)));
}

#[tokio::test]
async fn tokens_are_bound_to_their_realm() {
    let sandbox = sandbox(100, Faults::default()).await;
    sandbox
        .add_company(qbo_sandbox::CompanySpec {
            realm_id: "4620816365000000002".into(),
            entities: 50,
            ..Default::default()
        })
        .await
        .expect("second company");
    let env = connect(sandbox, RealmLimits::default(), fast_policy()).await;
    // Consent picked one of the two companies; the other is the one this connection may not read.
    let other = env.sandbox.realm_ids().into_iter().find(|r| r != env.realm.as_str()).expect("two companies");
    let other = quickbooks::RealmId::parse(&other).expect("digits");
    let foreign = Arc::clone(&env.tokens) as Arc<dyn TokenProvider>;
    // The store has no tokens for the other realm at all…
    let client = quickbooks::QboClient::new(
        reqwest::Client::new(),
        quickbooks::ClientConfig {
            api_base: reqwest::Url::parse(env.sandbox.base_url()).expect("url"),
            ..Default::default()
        },
        Arc::new(quickbooks::LocalRealmLimiter::new(RealmLimits::default())),
    );
    let error = client.company(other.clone(), foreign).company_info().await.expect_err("not connected");
    assert!(error.needs_reconnect(), "{error:?}");
    // …and this realm's token, used for the other realm, is refused with an authorization fault.
    let tokens = env.tokens.tokens(&env.realm).await.expect("connected");
    let store = Arc::new(quickbooks::MemoryTokenStore::new(env.oauth.clone()));
    store.insert(other.clone(), tokens);
    let error = client.company(other, store).company_info().await.expect_err("wrong realm");
    let fault = error.fault().expect("a fault");
    assert_eq!(fault.kind(), quickbooks::FaultKind::Authorization, "{error:?}");
}
