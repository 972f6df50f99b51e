//! What the scenarios share: the address of the system under test, a migrated database for the
//! in-process ones, a firm of their own, and the table of medians.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use bench::machine::Machine;
use bench::report::Spread;

use crate::config::Config;
use crate::runtime::Database;

/// The address of the system under test (the load engine speaks plain HTTP/1.1 to it).
pub async fn resolve(url: &str) -> anyhow::Result<SocketAddr> {
    let host = url
        .strip_prefix("http://")
        .context("only http:// URLs are supported (benchmark the server directly, not through TLS)")?
        .trim_end_matches('/');
    tokio::net::lookup_host(host)
        .await
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("no address for {host}"))
}

/// Runs an in-process scenario against DATABASE_URL, migrated first; the database is closed after
/// it whether it succeeded or not.
pub async fn with_database(
    config: &Config,
    scenario: impl AsyncFnOnce(&Database) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let database = Database::open(config).await?;
    let result = async {
        database.migrate().await?;
        scenario(&database).await
    }
    .await;
    database.close().await;
    result
}

/// A firm of its own for one in-process benchmark run: signed up, its owner signed in, one client.
pub struct BenchFirm {
    pub token: String,
    pub caller: identity::Caller,
    pub client: domain::ClientId,
}

pub async fn bench_firm(
    identity: &identity::Identity,
    practice: &practice::Practice,
    slug_prefix: &str,
    client_name: &str,
) -> anyhow::Result<BenchFirm> {
    const PASSWORD: &str = "bench-password-2026";
    let meta = identity::RequestMeta::default();
    let slug = format!("{slug_prefix}-{}", uuid::Uuid::now_v7().simple());
    let email = format!("owner@{slug}.test");
    identity
        .signup(
            identity::SignupRequest {
                organization_name: format!("{slug_prefix} firm"),
                slug: slug.clone(),
                name: "Bench Owner".into(),
                email: email.clone(),
                password: PASSWORD.into(),
            },
            &meta,
        )
        .await?;
    let login =
        identity::LoginRequest { organization: slug, email, password: PASSWORD.into(), mfa_code: None };
    let token = identity.login(login, &meta).await?.token;
    let caller = identity::Caller::new(identity.authenticate(&token, &meta).await?, meta);
    let new_client = api_types::clients::CreateClientRequest {
        business_name: client_name.to_owned(),
        ..Default::default()
    };
    let client = practice.create_client(&caller, new_client).await?.id;
    Ok(BenchFirm { token, caller, client })
}

/// The machine's 1-minute load average, read immediately before a run (`None` where there is
/// none); each in-process runner prints it with the run and reports it with [`load_row`].
pub fn load_before() -> Option<f64> {
    bench::machine::load_average()
}

/// As a run's progress line shows it.
pub fn show_load(load: Option<f64>) -> String {
    load.map(|l| format!("{l:.2}")).unwrap_or_else(|| "?".into())
}

/// The report's row of the load before each run.
pub fn load_row(loads: &[Option<f64>]) -> (String, Vec<f64>) {
    ("1-minute load average before each run".into(), loads.iter().flatten().copied().collect())
}

/// The report of the in-process scenarios: the machine, the command, and per figure the median,
/// minimum and maximum of its runs' values. A p99 figure (its name says "p99") whose maximum is
/// more than twice its median is marked unstable ([`bench::report::Spread::unstable`]).
pub fn print_median_table(rows: &[(String, Vec<f64>)]) {
    println!("Machine: {}.", Machine::detect().describe());
    println!("Command: `{}`\n", std::env::args().collect::<Vec<_>>().join(" "));
    println!("| figure | median | min | max | p99 stability |");
    println!("|---|---:|---:|---:|---|");
    for (name, values) in rows {
        let Some(s) = Spread::of(values) else { continue };
        let stability = match (name.contains("p99"), s.unstable()) {
            (false, _) => "",
            (true, false) => "stable",
            (true, true) => "**unstable**",
        };
        println!("| {name} | {:.2} | {:.2} | {:.2} | {stability} |", s.median, s.min, s.max);
    }
    println!(
        "\nMedian, min and max over the runs; a p99 is unstable when its max is more than twice its \
         median, and then does not count as met."
    );
}
