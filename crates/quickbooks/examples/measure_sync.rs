//! Measures a full read and an incremental (CDC) read of a generated company through the real
//! client, against the local sandbox over HTTP, with the default per-realm limits.
//!
//! Run: `cargo run --release -p quickbooks --example measure_sync -- [entities] [changes] [runs]`
//! (defaults 100000 500 3). Prints each run and the medians: wall time and API calls of the full
//! read (every kind paged in parallel plus CompanyInfo) and of the CDC after `changes` random
//! changes, and the sandbox's view of the traffic (peak requests per second, minute, in flight).

use std::sync::Arc;
use std::time::{Duration, Instant};

use qbo_sandbox::{CompanySpec, Sandbox, SandboxConfig};
use quickbooks::{
    ClientConfig, CompanyClient, Endpoints, EntityKind, EntityPager, LocalRealmLimiter, MemoryTokenStore,
    OAuthClient, OAuthConfig, QboClient, QboError, RealmId, RealmLimits, Scope,
};

struct Run {
    full: Duration,
    full_calls: u64,
    entities: usize,
    cdc: Duration,
    cdc_calls: u64,
    cdc_objects: usize,
    changed: usize,
    peak: (u32, u32, u32),
}

async fn connect(
    base: &str,
    discovery: &str,
) -> Result<(CompanyClient, Arc<MemoryTokenStore>), Box<dyn std::error::Error>> {
    let http = reqwest::Client::new();
    let endpoints = Endpoints::discover(&http, discovery, base).await?;
    let app = qbo_sandbox::AppCredentials::default();
    let redirect = "http://127.0.0.1:9/callback".to_owned();
    let oauth = OAuthClient::new(
        http.clone(),
        OAuthConfig {
            client_id: app.client_id,
            client_secret: app.client_secret.into(),
            redirect_uri: redirect,
        },
        endpoints.clone(),
    );
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let consent = browser.get(oauth.authorization_url("measure", &[Scope::Accounting])).send().await?;
    let location = reqwest::Url::parse(consent.headers()[reqwest::header::LOCATION].to_str()?)?;
    let param = |name: &str| location.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let realm = RealmId::parse(&param("realmId").ok_or("no realmId")?)?;
    let tokens = oauth.exchange_code(&param("code").ok_or("no code")?).await?;
    let store = Arc::new(MemoryTokenStore::new(oauth));
    store.insert(realm.clone(), tokens);
    let config = ClientConfig { api_base: endpoints.api_base, ..ClientConfig::default() };
    let qbo = QboClient::new(http, config, Arc::new(LocalRealmLimiter::new(RealmLimits::default())));
    Ok((qbo.company(realm, store.clone()), store))
}

async fn full_read(
    company: &CompanyClient,
) -> Result<(usize, Option<chrono::DateTime<chrono::Utc>>), QboError> {
    let reads = EntityKind::LISTED.iter().map(|kind| async move {
        let mut pager = EntityPager::new(*kind);
        let (mut read, mut time) = (0, None);
        while let Some(page) = pager.next_page(company).await? {
            read += page.records.len();
            time = time.max(page.time);
        }
        Ok::<_, QboError>((read, time))
    });
    let (info, pages) = tokio::join!(company.company_info(), futures::future::try_join_all(reads));
    info?;
    let pages = pages?;
    Ok((pages.iter().map(|(n, _)| n).sum(), pages.iter().filter_map(|(_, t)| *t).min()))
}

async fn run_once(entities: usize, changes: usize, seed: u64) -> Result<Run, Box<dyn std::error::Error>> {
    let company = CompanySpec { entities, seed, ..CompanySpec::default() };
    let sandbox =
        Sandbox::start(SandboxConfig { companies: vec![company], ..SandboxConfig::default() }).await?;
    let (client, _tokens) = connect(sandbox.base_url(), &sandbox.discovery_url()).await?;
    let realm = client.realm().as_str().to_owned();

    let began = Instant::now();
    let (read, watermark) = full_read(&client).await?;
    let full = began.elapsed();
    let full_calls = client.api_calls();
    let peak = sandbox.counters(&realm);

    // CDC from the full read's watermark (the earliest page time, as a sync would store).
    let watermark = watermark.ok_or("no server time")?;
    let summary = sandbox.apply_random_changes(&realm, changes, seed + 1)?;
    let began = Instant::now();
    let cdc = client.cdc(&EntityKind::LISTED, watermark).await?;
    let cdc_time = began.elapsed();
    sandbox.shutdown().await;
    Ok(Run {
        full,
        full_calls,
        entities: read,
        cdc: cdc_time,
        cdc_calls: client.api_calls() - full_calls,
        cdc_objects: cdc.object_count(),
        changed: summary.changes.len(),
        peak: (peak.max_per_second, peak.max_per_minute, peak.max_in_flight),
    })
}

fn median<T: Ord + Copy>(mut values: Vec<T>) -> T {
    values.sort();
    values[values.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let entities = args.first().copied().unwrap_or(100_000);
    let changes = args.get(1).copied().unwrap_or(500);
    let runs = args.get(2).copied().unwrap_or(3).max(1);
    let limits = RealmLimits::default();
    println!(
        "company of {entities} entities, {changes} changes, {runs} runs; client limits {}/s, {}/min, {} in flight, guard {:?}",
        limits.per_second, limits.per_minute, limits.in_flight, limits.guard
    );
    let mut results = Vec::new();
    for run in 0..runs {
        let r = run_once(entities, changes, 100 + run as u64).await?;
        println!(
            "run {}: full read {:.2} s, {} calls, {} entities | CDC {:.1} ms, {} call(s), {} objects for {} changed records | sandbox peak {}/s {}/min {} in flight",
            run + 1,
            r.full.as_secs_f64(),
            r.full_calls,
            r.entities,
            r.cdc.as_secs_f64() * 1e3,
            r.cdc_calls,
            r.cdc_objects,
            r.changed,
            r.peak.0,
            r.peak.1,
            r.peak.2,
        );
        results.push(r);
    }
    println!(
        "median: full read {:.2} s and {} API calls; incremental (CDC) {:.1} ms and {} API call(s)",
        median(results.iter().map(|r| r.full).collect()).as_secs_f64(),
        median(results.iter().map(|r| r.full_calls).collect()),
        median(results.iter().map(|r| r.cdc).collect()).as_secs_f64() * 1e3,
        median(results.iter().map(|r| r.cdc_calls).collect()),
    );
    Ok(())
}
