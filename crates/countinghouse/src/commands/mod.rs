//! One module per subcommand.

mod audit;
mod bench;
mod blobs;
mod demo;
mod jobs;
mod migrate;
mod qbo_sandbox;
mod seed;
mod serve;
mod worker;

use std::process::ExitCode;

use crate::cli::{AuditCommand, BlobsCommand, Command, KeysCommand};
use crate::config::Config;

pub async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo(args) => serve::run(config, args, true).await,
        Command::Serve(args) => serve::run(config, args, false).await,
        Command::Worker(args) => worker::run(config, args).await,
        Command::Jobs(command) => jobs::run(config, command).await,
        Command::Migrate { status } => migrate::run(config, status).await,
        Command::Seed { scale, replace } => seed::run(config, &scale, replace).await,
        Command::Bench(args) => bench::run(*args, config).await,
        Command::QboSandbox(args) => qbo_sandbox::run(args).await,
        Command::Config => {
            print!("{}", config.to_redacted_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Verify { organization }) => audit::verify(config, organization).await,
        Command::Blobs(BlobsCommand::Sweep { grace_minutes }) => blobs::sweep(config, grace_minutes).await,
        Command::Keys(KeysCommand::Reseal) => blobs::reseal(config).await,
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&api::openapi())?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
