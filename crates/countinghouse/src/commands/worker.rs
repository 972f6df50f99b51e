//! `countinghouse worker`: job workers for the kinds of [`runtime::job_registry`] and a scheduler
//! candidate (one process leads), until SIGTERM or Ctrl-C; `demo` runs the same in process.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use axum::routing::get;
use jobs::scheduler::{Scheduler, SchedulerConfig, SchedulerHandle};
use jobs::{QueueConfig, Worker, WorkerConfig, WorkerHandle};
use tokio::net::TcpListener;

use crate::cli::WorkerArgs;
use crate::config::Config;
use crate::runtime::{self, Database};

pub async fn run(config: Config, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let database = Database::open(&config).await?;
    let result = work(&config, &database, &args).await;
    database.close().await;
    result.map(|()| ExitCode::SUCCESS)
}

async fn work(config: &Config, database: &Database, args: &WorkerArgs) -> anyhow::Result<()> {
    let db = database.connect().await?;
    let keys = runtime::key_ring(config)?;
    let cache = runtime::cache(config)?;
    let identity = runtime::identity(config, db.clone(), keys.clone(), cache.clone())?;
    let state = runtime::api_state(config, db.clone(), keys, identity, cache).await?;
    let metrics = match args.metrics_listen.or(config.jobs.metrics_listen) {
        Some(addr) => Some(serve_metrics(addr, state.metrics.clone()).await?),
        None => None,
    };
    let runner = JobRunner::start(config, &state, &args.queues, !args.no_scheduler).await?;
    runtime::shutdown_signal().await;
    runner.shutdown(Duration::from_secs(config.jobs.shutdown_grace_secs)).await;
    if let Some(task) = metrics {
        task.abort();
    }
    db.close().await;
    Ok(())
}

/// The job worker and scheduler of one process.
pub struct JobRunner {
    worker: WorkerHandle,
    scheduler: Option<SchedulerHandle>,
}

impl JobRunner {
    /// Serves the queues of the registered kinds (only `only`, if not empty) with the configured
    /// concurrency, and, with `schedule`, stands for scheduler leader.
    pub async fn start(
        config: &Config,
        state: &api::AppState,
        only: &[String],
        schedule: bool,
    ) -> anyhow::Result<JobRunner> {
        let registry = runtime::job_registry(config, state)?;
        let served: Vec<&str> = registry
            .queues()
            .into_iter()
            .filter(|q| only.is_empty() || only.iter().any(|o| o == q))
            .collect();
        if let Some(unknown) = only.iter().find(|o| !registry.queues().contains(o.as_str())) {
            anyhow::bail!(
                "no registered job kind uses the queue {unknown:?} (queues: {:?})",
                registry.queues()
            );
        }
        if served.is_empty() {
            tracing::warn!("no job kinds are registered: this worker has nothing to run");
        }
        let queues = served
            .iter()
            .map(|q| {
                let n = config.jobs.concurrency_of(q);
                QueueConfig::new(*q).concurrency(n).batch(n.min(100))
            })
            .collect();
        let pool = state.db.pool().clone();
        let scheduler = if schedule {
            let schedules = runtime::job_schedules(state)?;
            Some(
                Scheduler::new(pool.clone(), schedules, SchedulerConfig::default())
                    .start()
                    .await
                    .context("starting the job scheduler")?,
            )
        } else {
            None
        };
        let worker = Worker::new(pool, registry, WorkerConfig { queues, ..WorkerConfig::default() }).start();
        Ok(JobRunner { worker, scheduler })
    }

    /// Stops claiming, lets in-flight jobs finish for up to `grace`, gives the rest back to the
    /// queue (attempt not counted), and steps down as scheduler leader.
    pub async fn shutdown(self, grace: Duration) {
        tracing::info!(
            in_flight = self.worker.in_flight(),
            grace_secs = grace.as_secs(),
            "stopping job worker"
        );
        let report = self.worker.shutdown(grace).await;
        if let Some(scheduler) = self.scheduler {
            scheduler.shutdown().await;
        }
        tracing::info!(
            finished = report.in_flight - report.released,
            released = report.released,
            "job worker stopped"
        );
    }
}

/// `GET /metrics` of this process (a worker has no API to scrape).
async fn serve_metrics(
    addr: SocketAddr,
    handle: metrics_exporter_prometheus::PrometheusHandle,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener =
        TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr} for /metrics"))?;
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move { ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()) }
        }),
    );
    tracing::info!(address = %addr, "serving worker metrics");
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "worker metrics endpoint stopped");
        }
    }))
}
