//! `countinghouse migrate`.

use std::process::ExitCode;

use crate::config::Config;
use crate::runtime::Database;

pub async fn run(config: Config, status_only: bool) -> anyhow::Result<ExitCode> {
    let database = Database::open(&config).await?;
    let result = if status_only {
        store::migrate::status(&database.config.owner)
            .await
            .map(|migrations| {
                for m in &migrations {
                    let state = match (m.applied_at, m.unknown) {
                        (Some(at), false) => format!("applied {}", at.format("%Y-%m-%d %H:%M:%S UTC")),
                        (Some(at), true) => {
                            format!(
                                "applied {} (not known to this binary)",
                                at.format("%Y-%m-%d %H:%M:%S UTC")
                            )
                        }
                        (None, _) => "pending".to_owned(),
                    };
                    println!("{:04} {:<40} {state}", m.version, m.description);
                }
                let pending = migrations.iter().filter(|m| m.applied_at.is_none()).count();
                println!("pending: {pending} of {}", migrations.iter().filter(|m| !m.unknown).count());
            })
            .map_err(anyhow::Error::from)
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
