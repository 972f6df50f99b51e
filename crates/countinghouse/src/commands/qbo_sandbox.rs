//! `countinghouse qbo-sandbox`: the local QuickBooks Online stand-in (crate `qbo-sandbox`) as a
//! process of its own, until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use domain::{ClientId, OrganizationId, UserId};
use qbo_sandbox::{CompanySpec, Faults, Sandbox, SandboxConfig};
use qbo_sync::connections::Connection;
use store::{Actor, TenantTx};

use crate::cli::QboSandboxArgs;
use crate::runtime;

pub async fn run(args: QboSandboxArgs) -> anyhow::Result<ExitCode> {
    let config = sandbox_config(&args)?;
    let (client_id, client_secret) = config
        .apps
        .first()
        .map(|a| (a.client_id.clone(), a.client_secret.clone()))
        .context("the sandbox configuration names no app")?;
    let mut sandbox = Sandbox::start(config).await.context("starting the QuickBooks sandbox")?;
    sandbox.start_drift(args.changes_per_minute);
    let base = sandbox.base_url().to_owned();
    println!("QuickBooks sandbox on {base}");
    for realm in sandbox.realm_ids() {
        let records: usize = sandbox.counts(&realm)?.values().sum();
        println!("  company {realm}: {records} records");
    }
    println!();
    println!("Point countinghouse at it (countinghouse.toml):");
    println!();
    println!("[quickbooks]");
    println!("client_id = {client_id:?}");
    println!("client_secret = {client_secret:?}");
    println!("api_base = {base:?}");
    println!("discovery_url = {:?}", sandbox.discovery_url());
    println!("redirect_uri = {:?}", args.redirect_uri);
    println!("webhook_verifier_token = \"sandbox-verifier-token\"");
    println!();
    println!("Connect links consent at once and redirect to redirect_uri. Ctrl-C stops the sandbox.");
    runtime::shutdown_signal().await;
    Ok(ExitCode::SUCCESS)
}

fn sandbox_config(args: &QboSandboxArgs) -> anyhow::Result<SandboxConfig> {
    let mut config = match &args.sandbox_config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("{} is not a sandbox configuration", path.display()))?
        }
        None => {
            anyhow::ensure!(args.companies >= 1 && args.companies <= 99, "--companies must be 1 to 99");
            for (name, rate) in
                [("server-error-rate", args.server_error_rate), ("throttle-rate", args.throttle_rate)]
            {
                anyhow::ensure!((0.0..=1.0).contains(&rate), "--{name} must be between 0 and 1");
            }
            SandboxConfig {
                companies: (1..=args.companies)
                    .map(|n| CompanySpec {
                        realm_id: format!("91303500000000{n:02}"),
                        name: format!("Sandbox Company US {n}"),
                        entities: args.entities,
                        seed: u64::from(n),
                        as_of: None,
                    })
                    .collect(),
                faults: Faults {
                    latency_ms: args.latency_ms,
                    server_error_rate: args.server_error_rate,
                    throttle_rate: args.throttle_rate,
                    ..Faults::default()
                },
                ..SandboxConfig::default()
            }
        }
    };
    if args.sandbox_config.is_none() || config.bind.port() == 0 {
        config.bind = args.listen;
    }
    Ok(config)
}

/// Connects `client` as `user` through the whole OAuth flow against a sandbox: connect link,
/// consent at "Intuit" (the sandbox consents at once and redirects), callback. The connection's
/// first full sync is queued with it.
pub async fn connect(
    qb: &qbo_sync::QuickBooks,
    org: OrganizationId,
    user: UserId,
    client: ClientId,
) -> anyhow::Result<Connection> {
    let mut tx = TenantTx::begin(qb.db(), org, Actor::user(user)).await?;
    let link = qbo_sync::connect::start_connect(qb, &mut tx, client, user).await?;
    tx.commit().await?;
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let consent = browser.get(&link.authorization_url).send().await?;
    let callback = consent
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| reqwest::Url::parse(l).ok())
        .context("the sandbox did not redirect to the callback")?;
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .with_context(|| format!("the callback has no {name}"))
    };
    let (_, connection) =
        qbo_sync::connect::complete_connect(qb, &param("state")?, &param("code")?, &param("realmId")?)
            .await?;
    Ok(connection)
}
