//! A sandbox, a client connected to it through the real OAuth flow, and helpers to read a whole
//! company and compare it with the sandbox's own records.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use qbo_sandbox::{
    AppCredentials, CompanySpec, Faults, RealmCounters, Sandbox, SandboxConfig, SandboxHandle,
};
use quickbooks::{
    ClientConfig, CompanyClient, Endpoints, EntityKind, EntityPager, LocalRealmLimiter, MemoryTokenStore,
    OAuthClient, OAuthConfig, QboClient, QboError, RealmId, RealmLimits, RequestPolicy, Scope, TokenSet,
};

pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

pub struct Env {
    pub sandbox: SandboxHandle,
    pub realm: RealmId,
    pub oauth: OAuthClient,
    pub tokens: Arc<MemoryTokenStore>,
    pub company: CompanyClient,
}

/// Short waits so storms finish quickly; the shape (pause the realm, back off, give up at the
/// deadline) is the production one.
pub fn fast_policy() -> RequestPolicy {
    RequestPolicy {
        attempt_timeout: Duration::from_secs(30),
        deadline: Duration::from_secs(120),
        throttle_pause: Duration::from_millis(250),
        max_throttle_retries: 50,
        server_error_base: Duration::from_millis(20),
        server_error_cap: Duration::from_millis(200),
        max_server_retries: 20,
    }
}

pub async fn sandbox(entities: usize, faults: Faults) -> SandboxHandle {
    let app = AppCredentials { redirect_uris: vec![REDIRECT_URI.into()], ..AppCredentials::default() };
    let company = CompanySpec { entities, seed: 42, ..CompanySpec::default() };
    let config =
        SandboxConfig { apps: vec![app], companies: vec![company], faults, ..SandboxConfig::default() };
    Sandbox::start(config).await.expect("sandbox starts")
}

pub fn oauth_client(sandbox: &SandboxHandle, endpoints: Endpoints) -> OAuthClient {
    let app = AppCredentials::default();
    let config = OAuthConfig {
        client_id: app.client_id,
        client_secret: app.client_secret.into(),
        redirect_uri: REDIRECT_URI.into(),
    };
    let _ = sandbox;
    OAuthClient::new(reqwest::Client::new(), config, endpoints)
}

/// The user's trip through the consent screen: follow the authorization URL, check the state
/// that comes back, and return the code and realm.
pub async fn consent(oauth: &OAuthClient, state: &str) -> (String, RealmId) {
    let browser =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let url = oauth.authorization_url(state, &[Scope::Accounting, Scope::OpenId]);
    let response = browser.get(url).send().await.expect("authorize answers");
    assert_eq!(response.status(), reqwest::StatusCode::FOUND);
    let location = response.headers()[reqwest::header::LOCATION].to_str().expect("ascii").to_owned();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let location = reqwest::Url::parse(&location).expect("a URL");
    let param = |name: &str| location.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    assert_eq!(param("state").as_deref(), Some(state));
    let realm = RealmId::parse(&param("realmId").expect("realmId")).expect("digits");
    (param("code").expect("a code"), realm)
}

pub async fn connect(sandbox: SandboxHandle, limits: RealmLimits, policy: RequestPolicy) -> Env {
    connect_full(sandbox, limits, policy, Duration::from_secs(300)).await
}

/// Connects with a token store that refreshes `margin` before expiry (zero: only after a 401).
pub async fn connect_with_margin(sandbox: SandboxHandle, margin: Duration) -> Env {
    connect_full(sandbox, shared_core_limits(), fast_policy(), margin).await
}

async fn connect_full(
    sandbox: SandboxHandle,
    limits: RealmLimits,
    policy: RequestPolicy,
    margin: Duration,
) -> Env {
    let http = reqwest::Client::new();
    let endpoints =
        Endpoints::discover(&http, &sandbox.discovery_url(), sandbox.base_url()).await.expect("discovery");
    let oauth = oauth_client(&sandbox, endpoints.clone());
    let (code, realm) = consent(&oauth, "state-1").await;
    let tokens: TokenSet = oauth.exchange_code(&code).await.expect("code exchange");
    let store = Arc::new(MemoryTokenStore::new(oauth.clone()).with_margin(margin));
    store.insert(realm.clone(), tokens);
    let config = ClientConfig { api_base: endpoints.api_base, policy, ..ClientConfig::default() };
    let qbo = QboClient::new(http, config, Arc::new(LocalRealmLimiter::new(limits)));
    let company = qbo.company(realm.clone(), store.clone());
    Env { sandbox, realm, oauth, tokens: store, company }
}

pub async fn start(entities: usize, faults: Faults) -> Env {
    connect(sandbox(entities, faults).await, shared_core_limits(), fast_policy()).await
}

/// Production's limits with a wider guard: the sandbox runs on the same two (busy, in CI) cores as
/// the client, so its handlers can see requests the client spaced out arrive bunched by more than
/// the 250 ms a network spreads them — and would count that as the client breaking Intuit's limit.
pub fn shared_core_limits() -> RealmLimits {
    RealmLimits { guard: Duration::from_secs(1), ..RealmLimits::default() }
}

/// (kind, id) → SyncToken.
pub type Mirror = BTreeMap<(EntityKind, String), u64>;

/// Reads every entity of `kinds`, kinds in parallel (as a sync's DAG level would), and fails on
/// a record yielded twice.
pub async fn read_everything(company: &CompanyClient, kinds: &[EntityKind]) -> Result<Mirror, QboError> {
    read_in_pages_of(company, kinds, 1_000).await
}

pub async fn read_in_pages_of(
    company: &CompanyClient,
    kinds: &[EntityKind],
    size: u32,
) -> Result<Mirror, QboError> {
    let reads = kinds.iter().map(|kind| async move {
        let mut pager = EntityPager::new(*kind).page_size(size);
        let mut seen = Vec::new();
        while let Some(page) = pager.next_page(company).await? {
            seen.extend(page.records.into_iter().map(|r| ((*kind, r.header.id), r.header.sync_token)));
        }
        Ok::<_, QboError>(seen)
    });
    let mut mirror = Mirror::new();
    for (key, token) in futures::future::try_join_all(reads).await?.into_iter().flatten() {
        let again = mirror.insert(key.clone(), token);
        assert!(again.is_none(), "{key:?} read twice");
    }
    Ok(mirror)
}

/// The sandbox's own view of the company, in the client's terms.
pub fn expected(sandbox: &SandboxHandle, realm: &RealmId) -> Mirror {
    sandbox
        .snapshot(realm.as_str())
        .expect("company exists")
        .into_iter()
        .map(|((entity, id), token)| ((EntityKind::from_name(entity.name()).expect("same kinds"), id), token))
        .collect()
}

/// Intuit's per-realm limits, as the sandbox measured the client's traffic.
pub fn assert_within_intuit_limits(counters: &RealmCounters) {
    assert_eq!(counters.throttled_by_limit, 0, "{counters:?}");
    assert!(counters.max_per_second <= 10, "{counters:?}");
    assert!(counters.max_per_minute <= 500, "{counters:?}");
    assert!(counters.max_in_flight <= 10, "{counters:?}");
}
