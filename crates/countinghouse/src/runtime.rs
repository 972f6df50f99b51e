//! Process wiring shared by the commands: the database (configured or embedded), the key ring,
//! the application state, and the shutdown signal.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use embedded_pg::EmbeddedPostgres;
use identity::{Identity, IdentityConfig};
use secrecy::ExposeSecret;
use store::sqlx::postgres::PgConnectOptions;
use store::{Db, DbConfig};
use vault::KeyRing;

use crate::config::Config;

/// The database this process uses, and the embedded server behind it if there is one.
pub struct Database {
    pub config: DbConfig,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// `DATABASE_URL` if set; otherwise the private cluster under `state_dir/pg`.
    pub async fn open(config: &Config) -> anyhow::Result<Database> {
        let (url, embedded) = match &config.database.url {
            Some(url) => (url.expose_secret().to_owned(), None),
            None => {
                let pg = EmbeddedPostgres::start(&config.state_dir.join("pg"))
                    .await
                    .context("starting the embedded PostgreSQL (set DATABASE_URL to use your own server)")?;
                (pg.url(), Some(pg))
            }
        };
        let owner = PgConnectOptions::from_str(&url).context("DATABASE_URL is not a valid PostgreSQL URL")?;
        let mut db = DbConfig::new(owner);
        db.app_password = config.database.app_password.as_ref().map(|p| p.expose_secret().to_owned());
        db.max_connections = config.database.max_connections;
        db.statement_timeout = Duration::from_secs(config.database.statement_timeout_secs);
        Ok(Database { config: db, embedded })
    }

    pub async fn migrate(&self) -> anyhow::Result<store::migrate::MigrationReport> {
        store::migrate::migrate(&self.config.owner, self.config.app_password.as_deref())
            .await
            .context("applying migrations")
    }

    pub async fn connect(&self) -> anyhow::Result<Db> {
        Db::connect(&self.config).await.context(
            "connecting as countinghouse_app (run `countinghouse migrate` first if the role does not exist)",
        )
    }

    /// Stops the embedded server if this process started it.
    pub async fn close(self) {
        if let Some(pg) = self.embedded
            && let Err(e) = pg.stop().await
        {
            tracing::warn!(error = %e, "stopping the embedded PostgreSQL failed");
        }
    }
}

/// The configured encryption keys, or a key generated once into `state_dir/encryption.key`.
pub fn key_ring(config: &Config) -> anyhow::Result<KeyRing> {
    if !config.security.encryption_keys.is_empty() {
        let specs: Vec<&str> = config.security.encryption_keys.iter().map(|k| k.expose_secret()).collect();
        return KeyRing::parse(&specs).context("COUNTINGHOUSE_ENCRYPTION_KEYS");
    }
    let path = config.state_dir.join("encryption.key");
    let spec = match std::fs::read_to_string(&path) {
        Ok(spec) => spec,
        Err(_) => {
            std::fs::create_dir_all(&config.state_dir)?;
            let spec = KeyRing::generate_key_spec(1);
            write_private(&path, &spec).with_context(|| format!("writing {}", path.display()))?;
            tracing::warn!(
                path = %path.display(),
                "no encryption key configured; generated one. Set COUNTINGHOUSE_ENCRYPTION_KEYS in production"
            );
            spec
        }
    };
    KeyRing::parse(&[spec.trim()]).with_context(|| format!("{} is not a valid key", path.display()))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

/// The identity service, knowing which organization runs the platform; `cache` (from [`cache`])
/// holds resolved sessions and API keys.
pub fn identity(config: &Config, db: Db, keys: KeyRing, cache: cache::Cache) -> anyhow::Result<Identity> {
    let defaults = IdentityConfig::default();
    let platform_organization = match &config.platform.organization {
        Some(slug) => Some(
            domain::OrgSlug::parse(slug)
                .map_err(|e| anyhow::anyhow!("platform.organization {slug:?}: {e}"))?,
        ),
        None => None,
    };
    let auth = config.cache.settings_or(identity::AUTH_CACHE_USE, defaults.auth_cache_ttl);
    Ok(Identity::new(
        db,
        keys,
        IdentityConfig {
            argon2_memory_kib: config.security.argon2_memory_kib,
            argon2_iterations: config.security.argon2_iterations,
            login_per_ip_per_minute: config.security.login_per_ip_per_minute,
            login_per_account_per_minute: config.security.login_per_account_per_minute,
            auth_cache_ttl: if auth.enabled { auth.ttl } else { Duration::ZERO },
            platform_organization,
            public_url: config.server.public_url.clone(),
            ..defaults
        },
        cache,
    ))
}

/// The marketplace's use cases, reading through `cache` as `[cache]` configures each use.
pub fn marketplace(config: &Config, db: Db, cache: cache::Cache) -> marketplace::Marketplace {
    marketplace::Marketplace::new(db)
        .with_cache(marketplace::MarketplaceCache::new(cache, |name| config.cache.settings(name)))
}

/// The process's one query-result cache (authentications, the marketplace): in process, and shared
/// through Redis (keys under `<key_prefix>cache:`) when `[redis]` has a URL. Must be called inside the
/// Tokio runtime (it starts the invalidation listener).
pub fn cache(config: &Config) -> anyhow::Result<cache::Cache> {
    let c = &config.cache;
    Ok(match &config.redis.url {
        Some(url) => {
            let mut l2 =
                cache::L2Config::new(url.expose_secret(), format!("{}cache:", config.redis.key_prefix));
            l2.timeout = Duration::from_millis(c.redis_timeout_ms);
            cache::Cache::with_redis(c.max_entries, l2).context("redis.url is not a valid Redis URL")?
        }
        None => cache::Cache::new(c.max_entries),
    })
}

/// The document blobs under `[documents] storage_root`, encrypted with per-organization data keys
/// that `keys` seals.
pub fn blobs(config: &Config, db: Db, keys: KeyRing) -> documents::Blobs {
    let root = config.documents.storage_root.clone().unwrap_or_else(|| config.state_dir.join("documents"));
    documents::Blobs::new(documents::BlobStore::new(root), db, keys)
}

/// The document service: [`blobs`], `[documents] storage_quota_bytes` per organization, links
/// signed with the configured key or one derived from the encryption keys.
pub fn documents(config: &Config, db: Db, keys: KeyRing) -> anyhow::Result<documents::service::Documents> {
    let link_key = match &config.documents.link_key {
        Some(key) if key.expose_secret().len() >= 32 => key.expose_secret().as_bytes().to_vec(),
        Some(_) => anyhow::bail!("documents.link_key must be at least 32 characters"),
        None => keys.blind_index("documents.links", b"").to_vec(),
    };
    let blobs = blobs(config, db.clone(), keys);
    Ok(documents::service::Documents::new(db, blobs, config.documents.limits.clone(), &link_key)
        .with_storage_quota(config.documents.storage_quota_bytes))
}

/// Stops the start when `[quickbooks]` would call an https URL and this binary has no TLS (built
/// without its `tls` feature), instead of failing on every request later.
fn require_tls_for(qb: &qbo_sync::QuickBooksConfig) -> anyhow::Result<()> {
    if cfg!(feature = "tls") {
        return Ok(());
    }
    // The token URL comes from the discovery document when there is one, else Intuit's by default.
    let intuit_token = quickbooks::Endpoints::production().token.to_string();
    let token = qb.discovery_url.as_ref().or(qb.token_url.as_ref()).unwrap_or(&intuit_token);
    match [&qb.api_base, token].into_iter().find(|url| url.to_ascii_lowercase().starts_with("https:")) {
        Some(url) => anyhow::bail!(
            "[quickbooks] calls {url}, but this binary was built without TLS: build countinghouse with its `tls` feature (on by default)"
        ),
        None => Ok(()),
    }
}

/// The application state; builds the QuickBooks service when `[quickbooks]` is configured (which
/// reads Intuit's discovery document, so an unreachable one stops the start with its address),
/// its realms' circuit breakers shared through `[redis]` (keys `<key_prefix>quickbooks:<realm>:…`).
pub async fn api_state(
    config: &Config,
    db: Db,
    keys: KeyRing,
    identity: Identity,
    cache: cache::Cache,
) -> anyhow::Result<api::AppState> {
    let quickbooks = match &config.quickbooks {
        Some(qb) => Some({
            require_tls_for(qb)?;
            let shared = match &config.redis.url {
                Some(url) => Some(
                    quickbooks::RealmBreakers::shared_states(url.expose_secret(), &config.redis.key_prefix)
                        .context("[quickbooks] with [redis]")?,
                ),
                None => None,
            };
            qbo_sync::QuickBooks::sharing_breakers(qb.clone(), db.clone(), keys.clone(), shared)
                .await
                .context("[quickbooks] is configured but not usable")?
        }),
        None => None,
    };
    let quickbooks = qbo_sync::Integration::new(db.clone(), quickbooks);
    let documents = documents(config, db.clone(), keys.clone())?;
    let reminders =
        workflow_reminders::Reminders::new(db.clone(), keys.clone(), config.server.public_url.clone());
    Ok(api::AppState::new(api::App {
        practice: practice::Practice::new(db.clone(), keys.clone()),
        marketplace: marketplace(config, db.clone(), cache),
        db,
        identity,
        config: api::ApiConfig {
            public_url: config.server.public_url.clone(),
            json_body_limit: config.server.json_body_limit_bytes,
            request_timeout: Duration::from_secs(config.server.request_timeout_secs),
            trust_forwarded_for: config.server.trust_forwarded_for,
            metrics_token: config.server.metrics_token.as_ref().map(|t| t.expose_secret().to_owned()),
        },
        metrics: telemetry::metrics_handle(),
        quickbooks,
        documents,
        operations: api::operations::Operations::new(api::operations::SAMPLE_INTERVAL),
        reminders,
    }))
}

/// Every job kind this deployment runs, for `countinghouse worker` (and `demo`). Each feature
/// crate adds its kinds here, one line each, with what its handlers need from `state`.
pub fn job_registry(config: &Config, state: &api::AppState) -> anyhow::Result<jobs::Registry> {
    let mut registry = jobs::Registry::new();
    if let Some(qb) = state.quickbooks.service() {
        qbo_sync::register(&mut registry, qb.clone());
    }
    documents::jobs::register(&mut registry, pipeline_deps(config, state)?);
    mailer::register(&mut registry, mailer(config)?, key_ring(config)?);
    workflow_recurrence::register(&mut registry, state.practice.clone());
    workflow_automation::register(
        &mut registry,
        workflow_automation::WaitJob { db: state.db.clone() },
        workflow_automation::AutomationJob {
            db: state.db.clone(),
            keys: key_ring(config)?,
            public_url: config.server.public_url.clone(),
            quickbooks: state.quickbooks.service().is_some(),
        },
    );
    workflow_reminders::job::register(&mut registry, state.reminders.clone());
    Ok(registry)
}

/// `[mail]`: SMTP when `smtp_url` is set, else files in the outbox (`state_dir/outbox` by default).
pub fn mailer(config: &Config) -> anyhow::Result<mailer::Mailer> {
    mailer::Mailer::from_config(&config.mail.resolve(&config.state_dir)).context("[mail]")
}

/// The document pipeline's OCR: Azure when `[documents.azure]` is set, else Tesseract in
/// process. Azure's rate limits and breaker are shared by every worker through `[redis]` (keys
/// `<key_prefix>azure:<endpoint>:…`), with the database holding the limits when Redis is absent
/// or down.
fn pipeline_deps(config: &Config, state: &api::AppState) -> anyhow::Result<documents::jobs::PipelineDeps> {
    use documents::ocr::azure::{
        AzureClient, AzureConfig, AzureEngine, AzureGate, GateLimits, GateStores, RedisStore,
    };
    let (db, blobs) = (state.db.clone(), state.documents.blobs().clone());
    let Some(azure) = &config.documents.azure else {
        return Ok(documents::jobs::PipelineDeps::local(db, blobs));
    };
    let limits = GateLimits {
        analyze_per_second: azure.analyze_per_second,
        polls_per_second: azure.polls_per_second,
        ..GateLimits::default()
    };
    let stores = GateStores {
        redis: config.redis.url.as_ref().map(|url| RedisStore {
            url: url.expose_secret().to_owned(),
            key_prefix: config.redis.key_prefix.clone(),
        }),
        postgres: Some(db.pool().clone()),
    };
    let gate = AzureGate::new(&azure.endpoint, limits, stores, resilience::Breakers::process())
        .context("[documents.azure] with [redis]")?;
    let client = AzureClient::new(
        AzureConfig::new(azure.endpoint.clone(), azure.key.clone(), azure.api_version),
        gate,
    )
    .context("[documents.azure]")?;
    Ok(documents::jobs::PipelineDeps {
        db,
        blobs,
        engine: std::sync::Arc::new(AzureEngine::new(client)),
        thresholds: documents::validate::Thresholds::default(),
        // The whole document in one analyze call.
        per_page: false,
    })
}

/// The recurring jobs (cron), run by the scheduler leader among the workers. The list is the
/// truth: schedules missing from it are deleted when a worker starts.
pub fn job_schedules(state: &api::AppState) -> anyhow::Result<Vec<jobs::scheduler::Schedule>> {
    let mut schedules = documents::jobs::schedules().context("document pipeline schedules")?;
    schedules.extend(workflow_recurrence::schedules().context("workflow recurrence schedule")?);
    schedules.extend(workflow_reminders::job::schedules().context("workflow reminder schedules")?);
    if state.quickbooks.service().is_some() {
        schedules.extend(qbo_sync::schedules().context("QuickBooks sync schedules")?);
    }
    Ok(schedules)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
