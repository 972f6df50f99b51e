//! Starting and driving a sandbox: the router, and the handle tests and the CLI use
//! (counters, fault switches, changes over time, tokens without the consent step, shutdown).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api;
use crate::company::{ChangeSummary, Company};
use crate::config::{CompanySpec, Faults, SandboxConfig};
use crate::grants::{IssuedTokens, OAuthCounters};
use crate::meter::RealmCounters;
use crate::model::EntityType;
use crate::oauth;
use crate::state::{AppState, SandboxState};

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("realm ids must be digits, and unique: `{0}`")]
    BadRealm(String),
    #[error("no app with client id `{0}`")]
    UnknownApp(String),
    #[error("no company with realm id `{0}`")]
    UnknownRealm(String),
    #[error("company generation failed: {0}")]
    Generation(String),
}

fn router(state: AppState) -> Router {
    Router::new()
        .route(oauth::AUTHORIZE_PATH, get(oauth::authorize))
        .route(oauth::TOKEN_PATH, post(oauth::token))
        .route(oauth::REVOKE_PATH, post(oauth::revoke))
        .route(oauth::USERINFO_PATH, get(oauth::userinfo))
        .route(oauth::JWKS_PATH, get(oauth::jwks))
        .route(oauth::DISCOVERY_PATH, get(oauth::discovery))
        .route(&format!("{}/", oauth::DISCOVERY_PATH), get(oauth::discovery))
        .route(oauth::SANDBOX_DISCOVERY_PATH, get(oauth::discovery))
        .route(&format!("{}/", oauth::SANDBOX_DISCOVERY_PATH), get(oauth::discovery))
        .route("/v3/company/{realm}/query", get(api::query_get).post(api::query_post))
        .route("/v3/company/{realm}/cdc", get(api::cdc))
        .route("/v3/company/{realm}/companyinfo/{id}", get(api::company_info))
        .route("/v3/company/{realm}/{entity}/{id}", get(api::read))
        .with_state(state)
}

/// Entry point: `Sandbox::start(config).await` generates the companies and serves them.
pub struct Sandbox;

impl Sandbox {
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
        let bind_error = |source| SandboxError::Bind { addr: config.bind, source };
        let listener = std::net::TcpListener::bind(config.bind).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let base_url = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        let state = Arc::new(SandboxState::new(&config, &base_url));
        let (shutdown, on_shutdown) = oneshot::channel::<()>();
        let mut handle = SandboxHandle {
            state: Arc::clone(&state),
            addr,
            shutdown: Some(shutdown),
            server: None,
            drift: None,
        };
        for spec in &config.companies {
            handle.add_company(spec.clone()).await?;
        }
        handle.server = Some(serve_on_own_runtime(listener, router(state), on_shutdown).map_err(bind_error)?);
        Ok(handle)
    }
}

/// Serves on a runtime of its own (two workers, one thread that owns it), like a server in
/// another process: requests are taken off the socket and counted when they arrive, however
/// busy the caller's runtime is (a test's single-threaded runtime parsing a large page would
/// otherwise delay them, bunch their arrivals and distort the per-second counters).
fn serve_on_own_runtime(
    listener: std::net::TcpListener,
    app: Router,
    on_shutdown: oneshot::Receiver<()>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("qbo-sandbox")
        .enable_all()
        .build()?;
    std::thread::Builder::new().name("qbo-sandbox".into()).spawn(move || {
        runtime.block_on(async move {
            let listener = match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::error!(error.cause = %error, "qbo sandbox cannot listen");
                    return;
                }
            };
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = on_shutdown.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(error.cause = %error, "qbo sandbox server stopped");
            }
        });
    })
}

/// Every entity of a company with its SyncToken, keyed by (type, id): what a complete mirror
/// must hold.
pub type CompanySnapshot = BTreeMap<(EntityType, String), u64>;

/// A running sandbox. Dropping it stops the server.
pub struct SandboxHandle {
    state: AppState,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<std::thread::JoinHandle<()>>,
    drift: Option<JoinHandle<()>>,
}

impl SandboxHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`: the API base (`/v3/company/...` goes below it) and the host
    /// of every OAuth endpoint.
    pub fn base_url(&self) -> &str {
        &self.state.base_url
    }

    /// The OpenID discovery document, which names the authorize, token, revoke and userinfo URLs.
    pub fn discovery_url(&self) -> String {
        format!("{}{}", self.state.base_url, oauth::DISCOVERY_PATH)
    }

    pub fn realm_ids(&self) -> Vec<String> {
        self.state.realm_ids()
    }

    /// The sandbox clock's current reading (later than every `time` it has answered with).
    pub fn now(&self) -> DateTime<Utc> {
        self.state.clock.now()
    }

    /// Generates and adds a company (replacing one with the same realm id).
    pub async fn add_company(&self, spec: CompanySpec) -> Result<(), SandboxError> {
        if spec.realm_id.is_empty() || !spec.realm_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SandboxError::BadRealm(spec.realm_id));
        }
        let as_of = spec.as_of.unwrap_or_else(|| self.state.clock.now());
        let realm = spec.realm_id.clone();
        let company = tokio::task::spawn_blocking(move || Company::generate(&spec, as_of))
            .await
            .map_err(|e| SandboxError::Generation(e.to_string()))?;
        self.state.insert_company(realm, company);
        Ok(())
    }

    fn company(&self, realm: &str) -> Result<Arc<RwLock<Company>>, SandboxError> {
        self.state.company(realm).ok_or_else(|| SandboxError::UnknownRealm(realm.into()))
    }

    /// Applies `count` random changes to a company (see `Company::apply_random_changes`) and
    /// says what changed, so a test can compare with what CDC returns.
    pub fn apply_random_changes(
        &self,
        realm: &str,
        count: usize,
        seed: u64,
    ) -> Result<ChangeSummary, SandboxError> {
        let company = self.company(realm)?;
        let mut company = company.write().unwrap_or_else(|e| e.into_inner());
        Ok(company.apply_random_changes(count, seed, &self.state.clock))
    }

    /// Applies `per_minute` random changes a minute to every company until shutdown, so a demo
    /// shows incremental syncs picking changes up.
    pub fn start_drift(&mut self, per_minute: usize) {
        if per_minute == 0 {
            return;
        }
        let state = Arc::clone(&self.state);
        let period = Duration::from_secs(60) / per_minute.min(600) as u32;
        self.drift = Some(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            let mut seed = 0u64;
            loop {
                ticker.tick().await;
                seed += 1;
                for realm in state.realm_ids() {
                    if let Some(company) = state.company(&realm) {
                        let mut company = company.write().unwrap_or_else(|e| e.into_inner());
                        company.apply_random_changes(1, seed, &state.clock);
                    }
                }
            }
        }));
    }

    /// Every entity (all types but `CompanyInfo`) with its SyncToken.
    pub fn snapshot(&self, realm: &str) -> Result<CompanySnapshot, SandboxError> {
        let company = self.company(realm)?;
        let company = company.read().unwrap_or_else(|e| e.into_inner());
        Ok(EntityType::LISTED
            .iter()
            .flat_map(|t| {
                company.records(*t).map(|r| ((*t, r.id.to_string()), r.sync_token)).collect::<Vec<_>>()
            })
            .collect())
    }

    /// A record's JSON exactly as the API would send it.
    pub fn entity_json(
        &self,
        realm: &str,
        entity: EntityType,
        id: u64,
    ) -> Result<Option<String>, SandboxError> {
        let company = self.company(realm)?;
        let company = company.read().unwrap_or_else(|e| e.into_inner());
        Ok(company.get(entity, id).map(|r| r.to_json()))
    }

    /// How many records of each type the company holds.
    pub fn counts(&self, realm: &str) -> Result<BTreeMap<EntityType, usize>, SandboxError> {
        let company = self.company(realm)?;
        let company = company.read().unwrap_or_else(|e| e.into_inner());
        Ok(EntityType::LISTED.iter().map(|t| (*t, company.count(*t))).collect())
    }

    pub fn counters(&self, realm: &str) -> RealmCounters {
        self.state.meter.counters(realm)
    }

    pub fn oauth_counters(&self) -> OAuthCounters {
        self.state.oauth_counts()
    }

    pub fn reset_counters(&self) {
        self.state.meter.reset();
        self.state.oauth_counters(|c| *c = OAuthCounters::default());
    }

    pub fn faults(&self) -> Faults {
        self.state.faults()
    }

    /// Switches fault injection at run time.
    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults);
    }

    /// Connects `client_id` to `realm` as if the user had consented, returning its first tokens.
    pub fn issue_tokens(&self, client_id: &str, realm: &str) -> Result<IssuedTokens, SandboxError> {
        if self.state.app(client_id).is_none() {
            return Err(SandboxError::UnknownApp(client_id.into()));
        }
        self.company(realm)?;
        let mut tokens = self.state.tokens();
        let mut rng = self.state.rng();
        Ok(tokens.connect(client_id, realm, self.state.token_terms(), &mut *rng, false).1)
    }

    /// Expires every access token issued so far (refresh tokens keep working).
    pub fn expire_access_tokens(&self) {
        self.state.tokens().expire_access_tokens();
    }

    /// Stops serving and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(drift) = self.drift.take() {
            drift.abort();
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::task::spawn_blocking(move || server.join()).await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(drift) = self.drift.take() {
            drift.abort();
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
