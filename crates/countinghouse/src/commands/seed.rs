//! `countinghouse seed`.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use seed::{BENCH_SLUG, SEED_PASSWORD, Scale};

use crate::config::Config;
use crate::runtime::{self, Database};

pub async fn run(config: Config, scale: &str, replace: bool) -> anyhow::Result<ExitCode> {
    let scale = Scale::parse(scale).context("scale must be small, seed or 10x")?;
    let database = Database::open(&config).await?;
    let result = async {
        database.migrate().await?;
        let keys = runtime::key_ring(&config)?;
        let progress = std::io::stderr().is_terminal();
        seed::seed(&database.config.owner, &keys, scale, replace, progress).await.map_err(anyhow::Error::from)
    }
    .await;
    database.close().await;
    let report = result?;
    let secs = report.load_time.as_secs_f64();
    println!(
        "seeded {} firms, {} users, {} clients, {} engagements, {} invoices ({} lines, {} payments), {} portal grants, \
         {} marketplace advisors with {} reviews",
        report.firms,
        report.users,
        report.clients,
        report.engagements,
        report.invoices,
        report.invoice_lines,
        report.payments,
        report.portal_grants,
        report.advisors,
        report.reviews
    );
    println!(
        "loaded {} rows in {secs:.1} s ({:.0} rows/s: copy {:.1} s, index builds {:.1} s), then vacuumed and analyzed in {:.1} s",
        report.rows(),
        report.rows() as f64 / secs,
        report.copy_time.as_secs_f64(),
        secs - report.copy_time.as_secs_f64(),
        report.analyze_time.as_secs_f64()
    );
    println!("sign in: organization {BENCH_SLUG}, owner@{BENCH_SLUG}.test, password {SEED_PASSWORD}");
    Ok(ExitCode::SUCCESS)
}
