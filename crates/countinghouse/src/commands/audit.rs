//! `countinghouse audit verify`: re-hash each organization's audit chain.

use std::process::ExitCode;

use domain::OrganizationId;
use store::{Actor, TenantTx};

use crate::config::Config;
use crate::runtime::Database;

pub async fn verify(config: Config, only: Option<String>) -> anyhow::Result<ExitCode> {
    let database = Database::open(&config).await?;
    let result = verify_all(&database, only.as_deref()).await;
    database.close().await;
    result
}

async fn verify_all(database: &Database, only: Option<&str>) -> anyhow::Result<ExitCode> {
    let db = database.connect().await?;
    let orgs: Vec<(OrganizationId, String)> = store::organizations::all_ids(&db)
        .await?
        .into_iter()
        .filter(|(_, slug)| only.is_none_or(|o| o == slug))
        .collect();
    if let Some(slug) = only
        && orgs.is_empty()
    {
        anyhow::bail!("no organization with slug `{slug}`");
    }
    let mut broken = 0;
    for (org, slug) in &orgs {
        let mut tx = TenantTx::begin(&db, *org, Actor::system()).await?;
        let report = store::audit::verify(&mut tx).await?;
        tx.commit().await?;
        if report.breaks.is_empty() {
            println!("{slug}: intact ({} entries)", report.entries);
        } else {
            broken += 1;
            println!("{slug}: BROKEN in {} place(s) ({} entries)", report.breaks.len(), report.entries);
            for b in &report.breaks {
                println!("  lane {}, entry {}: {}", b.lane, b.seq, b.reason);
            }
        }
    }
    println!("{} organization(s) checked, {broken} broken", orgs.len());
    db.close().await;
    Ok(if broken == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
