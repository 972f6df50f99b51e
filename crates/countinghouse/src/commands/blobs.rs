//! `countinghouse blobs sweep` and `countinghouse keys reseal`: the document blob store's
//! housekeeping and its part of a key rotation ([`documents::Blobs`]).

use std::process::ExitCode;
use std::time::Duration;

use crate::config::Config;
use crate::runtime::{self, Database};

pub async fn sweep(config: Config, grace_minutes: u64) -> anyhow::Result<ExitCode> {
    with_blobs(&config, async |blobs| {
        let report = blobs.sweep(Duration::from_secs(grace_minutes * 60)).await?;
        println!(
            "removed {} unreferenced blob(s) and {} leftover temporary file(s); encrypted {} legacy blob(s)",
            report.removed, report.leftovers_removed, report.encrypted
        );
        Ok(())
    })
    .await
}

pub async fn reseal(config: Config) -> anyhow::Result<ExitCode> {
    with_blobs(&config, async |blobs| {
        let resealed = blobs.reseal_keys().await?;
        println!("re-sealed {resealed} organization data key(s) with the active encryption key");
        Ok(())
    })
    .await
}

async fn with_blobs(
    config: &Config,
    action: impl AsyncFnOnce(&documents::Blobs) -> anyhow::Result<()>,
) -> anyhow::Result<ExitCode> {
    let database = Database::open(config).await?;
    let result = async {
        let db = database.connect().await?;
        let blobs = runtime::blobs(config, db.clone(), runtime::key_ring(config)?);
        let r = action(&blobs).await;
        db.close().await;
        r
    }
    .await;
    database.close().await;
    result.map(|()| ExitCode::SUCCESS)
}
