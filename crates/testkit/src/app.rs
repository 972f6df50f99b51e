//! The real app on a random port, an HTTP client, and personas.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use api_types::Problem;
use domain::Role;
use identity::{Identity, IdentityConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use vault::KeyRing;

use test_db::TestDb;

/// Every persona's password.
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub db: store::Db,
    pub identity: Identity,
    pub keys: KeyRing,
    /// Writes mail into [`TestApp::outbox`] (the demo's default transport); run it with
    /// [`TestApp::mail_worker`].
    pub mailer: mailer::Mailer,
    /// Where this app's mail lands, one `<id>.eml` per mail.
    pub outbox: std::path::PathBuf,
    /// The documents' blob store (a temporary directory, encrypted with `keys`); the tests'
    /// pipeline workers read it.
    pub blobs: documents::Blobs,
    /// The document use cases this app serves (for tests that call them directly).
    pub documents: documents::service::Documents,
    /// The query-result cache (authentications, the marketplace) this app reads through.
    pub cache: cache::Cache,
    /// Where this app's cache keeps its keys in Redis; [`TestApp::spawn_sibling`] shares it.
    cache_prefix: String,
    server: JoinHandle<()>,
    sampler: Option<JoinHandle<()>>,
    blob_dir: Arc<tempfile::TempDir>,
    _outbox_dir: tempfile::TempDir,
    // Declared last: dropped after the server and pool (and after every sibling sharing it).
    pub test_db: Arc<TestDb>,
}

/// A signed-in user of some organization.
#[derive(Debug, Clone)]
pub struct Persona {
    pub email: String,
    pub user_id: String,
    pub role: Role,
    pub token: String,
}

/// An organization with its owner signed in.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub slug: String,
    pub organization_id: String,
    pub owner: Persona,
}

/// A response, its body read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not the expected JSON ({e}): {}", self.body))
    }

    pub fn value(&self) -> Value {
        self.json()
    }

    /// The problem body, asserting the content type and that `status` matches.
    pub fn problem(&self) -> Problem {
        let ct = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(ct, "application/problem+json", "not a problem response: {} {}", self.status, self.body);
        let p: Problem = self.json();
        assert_eq!(p.status, self.status);
        p
    }

    /// The problem's type slug (`validation`, `not-found`, …).
    pub fn problem_slug(&self) -> String {
        self.problem().kind.rsplit('/').next().unwrap_or_default().to_owned()
    }
}

#[derive(Clone)]
pub struct TestConfig {
    pub identity: IdentityConfig,
    pub api: api::ApiConfig,
    /// QuickBooks (say, a local `qbo-sandbox`); the redirect URI is set to this app's callback.
    pub quickbooks: Option<qbo_sync::QuickBooksConfig>,
    /// Cache the marketplace's reads (in process and in the test Redis, under a prefix of this app's own;
    /// authentications are cached as `identity.auth_cache_ttl` says).
    pub cache: bool,
    /// The cache's Redis instead of the test Redis (say, a port where nothing listens).
    pub cache_redis_url: Option<String>,
    pub upload_limits: documents::UploadLimits,
    /// Each organization's document storage quota, in bytes.
    pub storage_quota: u64,
    /// HTML routes served beside the API (the console's tests pass `web_console::router()`).
    pub pages: axum::Router<api::AppState>,
    /// Read the operations figures this often (off by default: most tests never look at them).
    pub operations_interval: Option<Duration>,
}

/// The slug of the organization that runs the platform in tests: create a tenant with it
/// ([`TestApp::tenant`]) and its owner verifies marketplace advisors.
pub const PLATFORM_SLUG: &str = "countinghouse-ops";

impl Default for TestConfig {
    fn default() -> Self {
        TestConfig {
            identity: IdentityConfig {
                // OWASP's memory cost, one pass: real argon2id, a little quicker for the suite.
                argon2_iterations: 1,
                login_per_ip_per_minute: 10_000,
                login_per_account_per_minute: 1_000,
                platform_organization: Some(domain::OrgSlug::parse(PLATFORM_SLUG).expect("valid slug")),
                ..IdentityConfig::default()
            },
            api: api::ApiConfig::default(),
            quickbooks: None,
            cache: true,
            cache_redis_url: None,
            upload_limits: documents::UploadLimits::default(),
            storage_quota: documents::service::DEFAULT_STORAGE_QUOTA,
            pages: axum::Router::new(),
            operations_interval: None,
        }
    }
}

/// The app's cache, in process and in Redis under `prefix` (each database has a prefix of its own).
fn shared_cache(redis_url: Option<String>, prefix: &str) -> cache::Cache {
    let url = redis_url.unwrap_or_else(|| {
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
    });
    // A busy CI machine can keep a live Redis from answering within production's 50 ms; tests that
    // stop Redis see refused connections at once either way.
    let config =
        cache::L2Config { timeout: std::time::Duration::from_secs(2), ..cache::L2Config::new(url, prefix) };
    cache::Cache::with_redis(10_000, config).expect("a valid Redis URL")
}

fn marketplace_cache(cache: cache::Cache, enabled: bool) -> marketplace::MarketplaceCache {
    marketplace::MarketplaceCache::new(cache, |_| marketplace::UseSettings {
        enabled,
        ttl: Duration::from_secs(60),
        stale_for: Duration::from_secs(30),
    })
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(TestConfig::default()).await
    }

    pub async fn spawn_with(config: TestConfig) -> TestApp {
        let test_db = Arc::new(TestDb::create().await);
        let keys = KeyRing::parse(&[KeyRing::generate_key_spec(1)]).expect("fresh key");
        let blob_dir = Arc::new(tempfile::tempdir().expect("blob directory"));
        let cache_prefix = format!("test:ch:{}:cache:", uuid::Uuid::new_v4());
        TestApp::start(test_db, keys, blob_dir, cache_prefix, config).await
    }

    /// A second instance of this app, as a second server process would be: its own port, pool and
    /// in-process cache, sharing the database, keys, blobs and the cache's Redis.
    pub async fn spawn_sibling(&self, config: TestConfig) -> TestApp {
        let prefix = self.cache_prefix.clone();
        TestApp::start(self.test_db.clone(), self.keys.clone(), self.blob_dir.clone(), prefix, config).await
    }

    async fn start(
        test_db: Arc<TestDb>,
        keys: KeyRing,
        blob_dir: Arc<tempfile::TempDir>,
        cache_prefix: String,
        config: TestConfig,
    ) -> TestApp {
        let db = test_db.app_pool().await;
        store::audit::ensure_partitions(&db, 3).await.expect("audit partitions");
        let cache = shared_cache(config.cache_redis_url, &cache_prefix);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let addr = listener.local_addr().expect("bound address");
        let mut api_config = config.api;
        // An https address stands for a deployment behind a TLS proxy and is kept; else the app's own.
        if !api_config.public_url.starts_with("https://") {
            api_config.public_url = format!("http://{addr}");
        }
        // Mailed links point at this app.
        let identity_config = IdentityConfig { public_url: api_config.public_url.clone(), ..config.identity };
        let identity = Identity::new(db.clone(), keys.clone(), identity_config, cache.clone());
        let outbox_dir = tempfile::tempdir().expect("outbox directory");
        let outbox = outbox_dir.path().to_owned();
        let mailer = mailer::Mailer::outbox(&outbox, "Countinghouse <no-reply@countinghouse.test>")
            .expect("an outbox mailer");
        let quickbooks = match config.quickbooks {
            Some(mut qb) => {
                qb.redirect_uri = format!("http://{addr}/v1/quickbooks/callback");
                Some(
                    qbo_sync::QuickBooks::new(qb, db.clone(), keys.clone())
                        .await
                        .expect("QuickBooks service"),
                )
            }
            None => None,
        };
        let blobs =
            documents::Blobs::new(documents::BlobStore::new(blob_dir.path()), db.clone(), keys.clone());
        let documents = documents::service::Documents::new(
            db.clone(),
            blobs.clone(),
            config.upload_limits,
            &keys.blind_index("documents.links", b""),
        )
        .with_storage_quota(config.storage_quota);
        let reminders =
            workflow_reminders::Reminders::new(db.clone(), keys.clone(), api_config.public_url.clone());
        let state = api::AppState::new(api::App {
            db: db.clone(),
            identity: identity.clone(),
            practice: practice::Practice::new(db.clone(), keys.clone()),
            marketplace: marketplace::Marketplace::new(db.clone())
                .with_cache(marketplace_cache(cache.clone(), config.cache)),
            config: api_config,
            metrics: telemetry::metrics_handle(),
            quickbooks: qbo_sync::Integration::new(db.clone(), quickbooks),
            documents: documents.clone(),
            operations: api::operations::Operations::new(
                config.operations_interval.unwrap_or(api::operations::SAMPLE_INTERVAL),
            ),
            reminders,
        });
        let sampler = config.operations_interval.map(|_| state.spawn_operations_sampler());
        let router = api::router_with(state, config.pages);
        let server = tokio::spawn(async move {
            api::serve(listener, router, std::future::pending()).await.expect("server runs");
        });
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("http client");
        TestApp {
            addr,
            http,
            db,
            identity,
            keys,
            mailer,
            outbox,
            _outbox_dir: outbox_dir,
            blobs,
            documents,
            cache,
            cache_prefix,
            server,
            sampler,
            blob_dir,
            test_db,
        }
    }

    /// A worker running this app's `mail.send` jobs into its outbox.
    pub fn mail_worker(&self) -> jobs::WorkerHandle {
        let mut registry = jobs::Registry::new();
        mailer::register(&mut registry, self.mailer.clone(), self.keys.clone());
        let config = jobs::WorkerConfig {
            queues: vec![jobs::QueueConfig::new(mailer::QUEUE)],
            poll_interval: Duration::from_millis(50),
            ..jobs::WorkerConfig::default()
        };
        jobs::Worker::new(self.db.pool().clone(), registry, config).start()
    }

    /// The mails in the outbox so far (as written, RFC 5322), oldest first.
    pub fn outbox_mails(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(&self.outbox) else { return Vec::new() };
        let mut files: Vec<_> = dir
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
    }

    /// Waits (up to a minute) until the outbox holds `n` mails, and returns them.
    pub async fn wait_for_mails(&self, n: usize) -> Vec<String> {
        for _ in 0..1200 {
            let mails = self.outbox_mails();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the outbox {} did not get {n} mail(s)", self.outbox.display());
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request reaches the server");
        TestResponse {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.expect("body"),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.request(reqwest::Method::GET, path, Some(token), None).await
    }

    pub async fn post<B: Serialize>(&self, path: &str, token: Option<&str>, body: &B) -> TestResponse {
        let body = serde_json::to_value(body).expect("serializable body");
        self.request(reqwest::Method::POST, path, token, Some(&body)).await
    }

    pub async fn patch<B: Serialize>(&self, path: &str, token: &str, body: &B) -> TestResponse {
        let body = serde_json::to_value(body).expect("serializable body");
        self.request(reqwest::Method::PATCH, path, Some(token), Some(&body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> TestResponse {
        self.request(reqwest::Method::DELETE, path, Some(token), None).await
    }

    /// Signs up a new organization; its owner is signed in.
    pub async fn tenant(&self, slug: &str) -> Tenant {
        let email = format!("owner@{slug}.test");
        let r = self
            .post(
                "/v1/signup",
                None,
                &json!({
                    "organization_name": format!("{slug} LLP"),
                    "slug": slug,
                    "name": "Owner",
                    "email": email,
                    "password": PASSWORD,
                }),
            )
            .await;
        assert_eq!(r.status, 201, "signup failed: {}", r.body);
        let v = r.value();
        Tenant {
            slug: slug.to_owned(),
            organization_id: v["organization"]["id"].as_str().expect("org id").to_owned(),
            owner: Persona {
                email,
                user_id: v["user"]["id"].as_str().expect("user id").to_owned(),
                role: Role::Owner,
                token: v["token"].as_str().expect("token").to_owned(),
            },
        }
    }

    /// Adds a member with `role` through the invitation flow and signs them in.
    pub async fn member(&self, tenant: &Tenant, role: Role) -> Persona {
        let email = format!("{}-{}@{}.test", role, uuid::Uuid::new_v4().simple(), tenant.slug);
        let inv = self
            .post(
                "/v1/invitations",
                Some(&tenant.owner.token),
                &json!({ "email": email, "name": "Member", "role": role }),
            )
            .await;
        assert_eq!(inv.status, 201, "invite failed: {}", inv.body);
        let token = inv.value()["token"].as_str().expect("invitation token").to_owned();
        let accepted =
            self.post("/v1/invitations/accept", None, &json!({ "token": token, "password": PASSWORD })).await;
        assert_eq!(accepted.status, 201, "accept failed: {}", accepted.body);
        let v = accepted.value();
        Persona {
            email,
            user_id: v["user"]["id"].as_str().expect("user id").to_owned(),
            role,
            token: v["token"].as_str().expect("token").to_owned(),
        }
    }

    /// Signs in with a password (and optional MFA code); returns the raw response.
    pub async fn login(
        &self,
        slug: &str,
        email: &str,
        password: &str,
        mfa_code: Option<&str>,
    ) -> TestResponse {
        self.post(
            "/v1/sessions",
            None,
            &json!({ "organization": slug, "email": email, "password": password, "mfa_code": mfa_code }),
        )
        .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(sampler) = &self.sampler {
            sampler.abort();
        }
    }
}
