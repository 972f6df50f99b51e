//! Typed, layered configuration: built-in defaults, then a TOML file, then environment variables.
//! Built once at startup; nothing reads the environment afterwards.
//!
//! Environment: `DATABASE_URL`, `DATABASE_APP_PASSWORD`, `REDIS_URL`, `COUNTINGHOUSE_ENCRYPTION_KEYS`
//! (comma-separated `<id>:<base64>`), and any key as `COUNTINGHOUSE_<SECTION>__<KEY>`
//! (e.g. `COUNTINGHOUSE_SERVER__LISTEN=0.0.0.0:8080`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where local state lives: the embedded database, the generated encryption key.
    pub state_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub cache: CacheConfig,
    pub security: SecurityConfig,
    pub platform: PlatformConfig,
    pub jobs: JobsConfig,
    pub documents: DocumentsConfig,
    pub mail: MailSettings,
    pub log: LogConfig,
    /// QuickBooks Online (`[quickbooks]`): the Intuit app's credentials and endpoints. Absent: the
    /// QuickBooks routes answer 503 and no sync runs. `countinghouse qbo-sandbox` prints a section
    /// that points at a local sandbox; `demo` starts one in process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quickbooks: Option<qbo_sync::QuickBooksConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The address users reach (links in invitations and password-reset mails).
    pub public_url: String,
    pub request_timeout_secs: u64,
    pub json_body_limit_bytes: usize,
    /// Trust `X-Forwarded-For` for the client address (only behind your own proxy).
    pub trust_forwarded_for: bool,
    /// A bearer token that opens `/metrics` to a scraper. Unset (the default): `/metrics` is not
    /// served on this public listener at all (404).
    #[serde(default, serialize_with = "redact")]
    pub metrics_token: Option<SecretString>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// The owner's connection URL (migrations). Unset: a private cluster under `state_dir/pg`.
    #[serde(serialize_with = "redact_url")]
    pub url: Option<SecretString>,
    /// Password of the `countinghouse_app` role, where the server requires one.
    #[serde(serialize_with = "redact")]
    pub app_password: Option<SecretString>,
    pub max_connections: u32,
    pub statement_timeout_secs: u64,
    /// Apply pending migrations when `serve`/`demo` start.
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// Optional everywhere: without it, caches and limits stay in process.
    #[serde(serialize_with = "redact_url")]
    pub url: Option<SecretString>,
    pub key_prefix: String,
}

/// The query-result cache: in process, shared through Redis when `[redis]` has a URL.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Every use at once (`COUNTINGHOUSE_CACHE__ENABLED=false` to compare with the cache off).
    pub enabled: bool,
    /// Values held in process.
    pub max_entries: u64,
    pub ttl_secs: u64,
    /// How long past its TTL a value may still be served while one refresh runs (0: never).
    pub stale_secs: u64,
    /// Longest one Redis call may take before the cache gives up on it and reads the database.
    pub redis_timeout_ms: u64,
    /// Per use, by name (`marketplace.search`, `.facets`, `.detail`, `.featured`, `.matches`, and
    /// `auth`: resolved sessions and API keys, 30 s by default, never served stale):
    /// `[cache.uses."marketplace.detail"]` `ttl_secs = 300`, `enabled = false`, `stale_secs = 0`.
    pub uses: BTreeMap<String, CacheUseConfig>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheUseConfig {
    pub enabled: Option<bool>,
    pub ttl_secs: Option<u64>,
    pub stale_secs: Option<u64>,
}

impl CacheConfig {
    /// One use's settings: its own where given, else the section's.
    pub fn settings(&self, name: &str) -> marketplace::UseSettings {
        self.settings_or(name, Duration::from_secs(self.ttl_secs))
    }

    /// Like [`CacheConfig::settings`], for a use whose TTL defaults to `ttl` rather than the section's.
    pub fn settings_or(&self, name: &str, ttl: Duration) -> marketplace::UseSettings {
        let own = self.uses.get(name).cloned().unwrap_or_default();
        marketplace::UseSettings {
            enabled: self.enabled && own.enabled.unwrap_or(true),
            ttl: own.ttl_secs.map_or(ttl, Duration::from_secs),
            stale_for: Duration::from_secs(own.stale_secs.unwrap_or(self.stale_secs)),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// Keys sealing secrets at rest, `<id>:<base64 of 32 bytes>`, active key first. Empty: a key
    /// is generated once into `state_dir/encryption.key`.
    #[serde(serialize_with = "redact_list")]
    pub encryption_keys: Vec<SecretString>,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub login_per_ip_per_minute: u32,
    pub login_per_account_per_minute: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    /// Slug of the organization that runs the platform: its owners (who hold `system:admin`)
    /// verify marketplace advisors. Unset: nobody can (the demo names its own firm).
    pub organization: Option<String>,
}

/// Job workers (`countinghouse worker`, and `demo` in process).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    /// Jobs of a queue running at once in one worker process, by queue name
    /// (`[jobs.concurrency]` `documents = 4`); queues not named get `default_concurrency`.
    pub concurrency: BTreeMap<String, usize>,
    pub default_concurrency: usize,
    /// At shutdown, how long in-flight jobs may finish before they are given back to the queue
    /// (attempt not counted) for another worker.
    pub shutdown_grace_secs: u64,
    /// Where `countinghouse worker` serves `/metrics` (its attempts, failures, rescues); unset: nowhere.
    pub metrics_listen: Option<SocketAddr>,
}

impl JobsConfig {
    pub fn concurrency_of(&self, queue: &str) -> usize {
        self.concurrency.get(queue).copied().unwrap_or(self.default_concurrency).max(1)
    }
}

/// Document intake (`[documents]`, limits under `[documents.limits]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentsConfig {
    /// Where uploaded files are kept (content-addressed, per tenant). Unset: `state_dir/documents`.
    pub storage_root: Option<PathBuf>,
    /// Signs download links (the same on every instance). Unset: derived from the encryption keys.
    #[serde(serialize_with = "redact")]
    pub link_key: Option<SecretString>,
    /// The most bytes of distinct file content one organization may store (10 GiB); an upload
    /// past it is refused (413 `storage-quota-exceeded`).
    pub storage_quota_bytes: u64,
    pub limits: documents::UploadLimits,
    /// OCR by Azure AI Document Intelligence (`[documents.azure]`). Absent: Tesseract in process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureOcrConfig>,
}

/// The Azure Document Intelligence resource the document workers call instead of Tesseract.
/// Its rate limits and circuit breaker hold across all workers: shared through `[redis]` when it
/// has a URL, else through the database (limits; each worker then has its own breaker).
/// An `https` endpoint needs the binary's `tls` feature (on by default).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureOcrConfig {
    /// `https://<resource>.cognitiveservices.azure.com`.
    pub endpoint: String,
    #[serde(serialize_with = "redact_required")]
    pub key: SecretString,
    /// `2023-07-31` (v3.1) or `2024-11-30` (v4.0).
    pub api_version: documents::ocr::azure::ApiVersion,
    /// The resource's analyze calls per second, all workers together (S0: 15, F0: 1).
    #[serde(default = "default_analyze_per_second")]
    pub analyze_per_second: u32,
    /// Its result polls per second, all workers together (S0: 50, F0: 1).
    #[serde(default = "default_polls_per_second")]
    pub polls_per_second: u32,
}

fn default_analyze_per_second() -> u32 {
    documents::ocr::azure::GateLimits::default().analyze_per_second
}

fn default_polls_per_second() -> u32 {
    documents::ocr::azure::GateLimits::default().polls_per_second
}

/// Outgoing mail (`[mail]`): password-reset links, sent by the job `mail.send`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The SMTP relay: `smtp://[user:password@]host[:port]` (plain), `smtp://…?tls=required`
    /// (STARTTLS) or `smtps://…` (TLS; both need the `tls` feature). Unset (the demo's default):
    /// each mail is written to `outbox` as `<id>.eml` instead of being sent.
    #[serde(serialize_with = "redact_url")]
    pub smtp_url: Option<SecretString>,
    /// The sender: `Name <address>` or an address.
    pub from: String,
    /// Where mail goes without a relay. Unset: `state_dir/outbox`.
    pub outbox: Option<PathBuf>,
}

impl MailSettings {
    /// The mailer's settings, the outbox resolved under `state_dir`.
    pub fn resolve(&self, state_dir: &Path) -> mailer::MailConfig {
        mailer::MailConfig {
            smtp_url: self.smtp_url.as_ref().map(|u| u.expose_secret().to_owned()),
            from: self.from.clone(),
            outbox: self.outbox.clone().unwrap_or_else(|| state_dir.join("outbox")),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// An `EnvFilter` directive; `RUST_LOG` overrides it.
    pub filter: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            state_dir: PathBuf::from(".countinghouse"),
            server: ServerConfig {
                listen: "127.0.0.1:8080".parse().expect("valid default address"),
                public_url: "http://127.0.0.1:8080".to_owned(),
                request_timeout_secs: 30,
                json_body_limit_bytes: 1024 * 1024,
                trust_forwarded_for: false,
                metrics_token: None,
            },
            database: DatabaseConfig {
                url: None,
                app_password: None,
                max_connections: 32,
                statement_timeout_secs: 30,
                migrate_on_start: true,
            },
            redis: RedisConfig { url: None, key_prefix: "ch:".to_owned() },
            cache: CacheConfig {
                enabled: true,
                max_entries: 100_000,
                ttl_secs: 60,
                stale_secs: 30,
                redis_timeout_ms: 50,
                uses: BTreeMap::new(),
            },
            security: SecurityConfig {
                encryption_keys: Vec::new(),
                argon2_memory_kib: 19 * 1024,
                argon2_iterations: 2,
                login_per_ip_per_minute: 30,
                login_per_account_per_minute: 10,
            },
            platform: PlatformConfig { organization: None },
            jobs: JobsConfig {
                concurrency: BTreeMap::new(),
                default_concurrency: 10,
                shutdown_grace_secs: 25,
                metrics_listen: None,
            },
            documents: DocumentsConfig {
                storage_root: None,
                link_key: None,
                storage_quota_bytes: documents::service::DEFAULT_STORAGE_QUOTA,
                limits: documents::UploadLimits::default(),
                azure: None,
            },
            mail: MailSettings {
                smtp_url: None,
                from: "Countinghouse <no-reply@countinghouse.localhost>".to_owned(),
                outbox: None,
            },
            log: LogConfig { format: "text".to_owned(), filter: "info".to_owned() },
            quickbooks: None,
        }
    }
}

impl Config {
    /// Defaults, then `file` (or `./countinghouse.toml` if present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => fig = fig.merge(Toml::file_exact(path)),
            None if Path::new("countinghouse.toml").exists() => {
                fig = fig.merge(Toml::file("countinghouse.toml"))
            }
            None => {}
        }
        fig = fig
            .merge(Env::prefixed("COUNTINGHOUSE_").split("__").ignore(&["config", "encryption_keys"]))
            .merge(Env::raw().only(&["database_url"]).map(|_| "database.url".into()))
            .merge(Env::raw().only(&["database_app_password"]).map(|_| "database.app_password".into()))
            .merge(Env::raw().only(&["redis_url"]).map(|_| "redis.url".into()));
        let mut config: Config = fig.extract().map_err(Box::new)?;
        if let Ok(keys) = std::env::var("COUNTINGHOUSE_ENCRYPTION_KEYS") {
            config.security.encryption_keys = keys
                .split(',')
                .filter(|k| !k.trim().is_empty())
                .map(|k| SecretString::from(k.trim()))
                .collect();
        }
        // Empty variables mean unset (a common way to switch a setting off in a shell).
        for url in [&mut config.database.url, &mut config.redis.url, &mut config.mail.smtp_url] {
            if url.as_ref().is_some_and(|u| u.expose_secret().trim().is_empty()) {
                *url = None;
            }
        }
        Ok(config)
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }
}

fn redact<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_str("[redacted]"),
        None => s.serialize_none(),
    }
}

fn redact_required<S: serde::Serializer>(_: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("[redacted]")
}

/// Shows scheme, host and database of a URL but never its password.
fn redact_url<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(url) => s.serialize_str(&redacted_url(url.expose_secret())),
        None => s.serialize_none(),
    }
}

fn redact_list<S: serde::Serializer>(v: &[SecretString], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for key in v {
        let id = key.expose_secret().split(':').next().unwrap_or("?");
        seq.serialize_element(&format!("{id}:[redacted]"))?;
    }
    seq.end()
}

/// The URL without its secrets: the password of its user part, and any query parameter that names a
/// secret (`password`, `passwd`, `sslpassword`, `secret`, `token`, `key`…), as libpq and redis-rs accept.
pub fn redacted_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &base[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') { format!("{user}:[redacted]") } else { user.to_owned() };
            format!("{}{}{}", &base[..scheme_end + 3], masked, &base[at..])
        }
        _ => base.to_owned(),
    };
    let Some(query) = query else { return base };
    let secret = |name: &str| {
        let name = name.to_ascii_lowercase();
        ["pass", "secret", "token", "key"].iter().any(|s| name.contains(s))
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if secret(name) => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(redacted_url("postgres://app:s3cret@db:5432/x"), "postgres://app:[redacted]@db:5432/x");
        assert_eq!(redacted_url("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redacted_url("redis://127.0.0.1"), "redis://127.0.0.1");
        assert_eq!(
            redacted_url("postgres://app@db/x?sslmode=require&password=s3cret&PassWord=x"),
            "postgres://app@db/x?sslmode=require&password=[redacted]&PassWord=[redacted]"
        );
        assert_eq!(
            redacted_url("postgres://db/x?user=app&sslpassword=k"),
            "postgres://db/x?user=app&sslpassword=[redacted]"
        );
    }

    #[test]
    fn rendered_config_shows_no_secret() {
        let mut c = Config::default();
        c.database.url = Some("postgres://o:topsecret@h/d".into());
        c.database.app_password = Some("alsosecret".into());
        c.mail.smtp_url = Some("smtp://mailer:smtpsecret@relay.example.com:587?tls=required".into());
        c.security.encryption_keys = vec!["1:c2VjcmV0a2V5".into()];
        let out = c.to_redacted_toml();
        assert!(!out.contains("topsecret") && !out.contains("alsosecret") && !out.contains("c2VjcmV0a2V5"));
        assert!(
            !out.contains("smtpsecret") && out.contains("smtp://mailer:[redacted]@relay.example.com"),
            "{out}"
        );
        assert!(out.contains("1:[redacted]"));
    }

    #[test]
    fn quickbooks_section_is_optional_and_its_secrets_are_redacted() {
        assert!(!Config::default().to_redacted_toml().contains("[quickbooks]"));
        let c = Config {
            quickbooks: Some(qbo_sync::QuickBooksConfig {
                client_id: "app-id".into(),
                client_secret: "app-secret-value".into(),
                webhook_verifier_token: Some("verifier-value".into()),
                ..Default::default()
            }),
            ..Config::default()
        };
        let out = c.to_redacted_toml();
        assert!(out.contains("[quickbooks]") && out.contains("app-id"), "{out}");
        assert!(!out.contains("app-secret-value") && !out.contains("verifier-value"), "{out}");
        // The rendered file loads back.
        let back: Config = toml::from_str(&out).unwrap();
        assert_eq!(back.quickbooks.unwrap().client_id, "app-id");
    }

    #[test]
    fn azure_ocr_section_is_optional_round_trips_and_hides_its_key() {
        assert!(!Config::default().to_redacted_toml().contains("[documents.azure]"));
        let file = r#"
            [documents.azure]
            endpoint = "https://example.cognitiveservices.azure.com"
            key = "azure-key-value"
            api_version = "2024-11-30"
        "#;
        let loaded: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(file))
            .extract()
            .unwrap();
        let azure = loaded.documents.azure.as_ref().expect("the section was read");
        assert_eq!(azure.endpoint, "https://example.cognitiveservices.azure.com");
        assert_eq!(azure.key.expose_secret(), "azure-key-value");
        assert_eq!(azure.api_version, documents::ocr::azure::ApiVersion::V2024_11_30);
        assert_eq!((azure.analyze_per_second, azure.polls_per_second), (15, 50), "S0's quotas by default");
        let out = loaded.to_redacted_toml();
        assert!(out.contains("[documents.azure]") && out.contains("2024-11-30"), "{out}");
        assert!(!out.contains("azure-key-value"), "{out}");
        // The rendered file loads back, with the placeholder in place of the key.
        let back: Config = toml::from_str(&out).unwrap();
        let back = back.documents.azure.unwrap();
        assert_eq!(back.endpoint, azure.endpoint);
        assert_eq!(back.api_version, azure.api_version);
        assert_eq!(back.key.expose_secret(), "[redacted]");
        let f0 = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(&format!("{file}\nanalyze_per_second = 1\npolls_per_second = 1")))
            .extract::<Config>()
            .unwrap();
        let f0 = f0.documents.azure.unwrap();
        assert_eq!((f0.analyze_per_second, f0.polls_per_second), (1, 1));
        let bad = file.replace("2024-11-30", "2023-02-28-preview");
        let refused = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(&bad))
            .extract::<Config>();
        assert!(refused.is_err(), "only the API versions the client speaks are accepted");
    }
}
