//! The application state handed to every handler.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use identity::Identity;
use metrics_exporter_prometheus::PrometheusHandle;
use store::Db;

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Where users reach this deployment (for links in invitations and emails).
    pub public_url: String,
    /// Largest JSON body accepted.
    pub json_body_limit: usize,
    /// Requests running longer are answered 503 `timeout` and their work cancelled.
    pub request_timeout: Duration,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// The bearer token a scraper shows for `/metrics`; without one configured `/metrics` is 404,
    /// so figures about the deployment (routes, queue depths) are not public.
    pub metrics_token: Option<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            public_url: "http://127.0.0.1:8080".to_owned(),
            json_body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            trust_forwarded_for: false,
            metrics_token: None,
        }
    }
}

pub struct App {
    pub db: Db,
    pub identity: Identity,
    pub practice: practice::Practice,
    pub marketplace: marketplace::Marketplace,
    pub config: ApiConfig,
    pub metrics: PrometheusHandle,
    /// QuickBooks Online's use cases; those that talk to Intuit answer 503 unless `[quickbooks]`
    /// is configured.
    pub quickbooks: qbo_sync::Integration,
    /// Document intake, review and signed links (the pipeline runs in the job workers).
    pub documents: documents::service::Documents,
    /// The last hour of this server's figures ([`AppState::spawn_operations_sampler`] fills it).
    pub operations: crate::operations::Operations,
    /// Workflow reminders, stuck work and the firm's holidays (the reminders job runs in the workers).
    pub reminders: workflow_reminders::Reminders,
}

/// Cheap to clone: one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<App>);

impl AppState {
    pub fn new(app: App) -> Self {
        AppState(Arc::new(app))
    }

    /// Starts reading this server's figures into `operations` (until the handle is aborted).
    pub fn spawn_operations_sampler(&self) -> tokio::task::JoinHandle<()> {
        self.operations.spawn_sampler(crate::operations::Sources {
            db: self.db.clone(),
            metrics: self.metrics.clone(),
            cache: self.marketplace.cache().clone(),
        })
    }
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}
