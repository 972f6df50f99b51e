//! `countinghouse migrate`.

use std::process::ExitCode;

use crate::config::Config;
use crate::runtime::Database;

pub async fn run(config: Config, status_only: bool) -> anyhow::Result<ExitCode> {
    let database = Database::open(&config).await?;
    let result = if status_only {
        for (version, description) in store::migrate::known_migrations() {
            println!("{version:04} {description}");
        }
        Ok(())
    } else {
        database.migrate().await.map(|report| {
            if report.applied.is_empty() {
                println!("database is up to date ({} migrations applied earlier)", report.already_applied);
            }
            for m in &report.applied {
                println!("applied {m}");
            }
        })
    };
    database.close().await;
    result.map(|()| ExitCode::SUCCESS)
}
