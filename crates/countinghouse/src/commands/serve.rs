//! `countinghouse serve` and `countinghouse demo`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::commands::demo;
use crate::commands::worker::JobRunner;
use crate::config::Config;
use crate::runtime::{self, Database};

pub async fn run(mut config: Config, args: ServeArgs, demo: bool) -> anyhow::Result<ExitCode> {
    if let Some(listen) = args.listen {
        config.server.listen = listen;
        if config.server.public_url == crate::config::Config::default().server.public_url {
            config.server.public_url = format!("http://{listen}");
        }
    }
    let database = Database::open(&config).await?;
    let result = serve(&config, &database, !args.no_migrate && config.database.migrate_on_start, demo).await;
    database.close().await;
    result.map(|()| ExitCode::SUCCESS)
}

async fn serve(config: &Config, database: &Database, migrate: bool, demo: bool) -> anyhow::Result<()> {
    if migrate {
        let report = database.migrate().await?;
        for m in &report.applied {
            tracing::info!(migration = %m, "applied");
        }
    }
    let db = database.connect().await?;
    let keys = runtime::key_ring(config)?;
    let cache = runtime::cache(config)?;
    let mut config = config.clone();
    if demo && config.platform.organization.is_none() {
        // The demo firm's owner also runs the demo platform (verifies marketplace advisors).
        config.platform.organization = Some(demo::DEMO_SLUG.to_owned());
    }
    let identity = runtime::identity(&config, db.clone(), keys.clone(), cache.clone())?;
    let listener = TcpListener::bind(config.server.listen).await.with_context(|| {
        format!(
            "cannot listen on {}: is another countinghouse running? choose another address with --listen",
            config.server.listen
        )
    })?;
    let bound = listener.local_addr()?;
    if config.server.listen.port() == 0 {
        // `--listen 127.0.0.1:0` takes any free port; links and callbacks must name the one taken.
        config.server.public_url = format!("http://{bound}");
    }
    // The demo's QuickBooks is a sandbox in this process, unless `[quickbooks]` names a real one.
    let sandbox = if demo && config.quickbooks.is_none() {
        let sandbox = demo::start_quickbooks_sandbox().await?;
        let public_url = config.server.public_url.trim_end_matches('/');
        let callback = format!("{public_url}/v1/quickbooks/callback");
        // A connect started in the console comes back to it (the client's QuickBooks tab).
        let after_connect_url = Some(format!("{public_url}{}", web_console::AFTER_CONNECT_PATH));
        config.quickbooks = Some(qbo_sync::QuickBooksConfig {
            after_connect_url,
            ..qbo_sync::QuickBooksConfig::for_sandbox(sandbox.base_url(), callback)
        });
        Some(sandbox)
    } else {
        None
    };
    let state = runtime::api_state(&config, db.clone(), keys.clone(), identity.clone(), cache).await?;
    let creds = if demo {
        let creds = demo::prepare(&identity, &state.practice, &database.config.owner, &keys).await?;
        demo::print(&creds, &config.server.public_url);
        demo::print_mail(&runtime::mailer(&config)?);
        Some(creds)
    } else {
        None
    };

    let housekeeping = tokio::spawn(housekeeping(db.clone(), identity));
    let sampler = state.spawn_operations_sampler();
    // The demo is everything in one process: job workers and the scheduler too.
    let jobs = if demo { Some(JobRunner::start(&config, &state, &[], true).await?) } else { None };
    if let (Some(creds), Some(qb), Some(_)) = (&creds, state.quickbooks.service(), &sandbox)
        && let Some(client) = creds.books_client
    {
        match demo::connect_quickbooks(qb, creds, client).await {
            Ok(realm) => demo::print_quickbooks(&config.server.public_url, client, &realm),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "the demo could not connect QuickBooks"),
        }
    }
    tracing::info!(address = %bound, docs = %format!("{}/docs", config.server.public_url), "listening");
    let served =
        api::serve(listener, api::router_with(state, web_console::router()), runtime::shutdown_signal())
            .await;
    if let Some(jobs) = jobs {
        jobs.shutdown(Duration::from_secs(config.jobs.shutdown_grace_secs)).await;
    }
    served?;
    housekeeping.abort();
    sampler.abort();
    db.close().await;
    Ok(())
}

/// Periodic upkeep: idle rate-limit keys dropped every minute; audit partitions kept three
/// months ahead (checked hourly, so a long-running server never runs out); idempotency keys
/// older than 24 hours deleted hourly.
async fn housekeeping(db: store::Db, identity: identity::Identity) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    let mut minutes = 0u64;
    loop {
        tick.tick().await;
        identity.housekeeping();
        if minutes.is_multiple_of(60)
            && let Err(e) = store::audit::ensure_partitions(&db, 3).await
        {
            tracing::warn!(error = %e, "could not create audit log partitions ahead");
        }
        if minutes.is_multiple_of(60)
            && let Err(e) = store::idempotency::expire(&db).await
        {
            tracing::warn!(error = %e, "could not expire idempotency keys");
        }
        minutes += 1;
    }
}
