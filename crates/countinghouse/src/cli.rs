//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Countinghouse: the operating system of a CPA firm.
///
/// Configuration comes from built-in defaults, then a TOML file (`--config`, or ./countinghouse.toml),
/// then environment variables: DATABASE_URL (unset: a private PostgreSQL under .countinghouse/pg),
/// REDIS_URL (optional), COUNTINGHOUSE_ENCRYPTION_KEYS, and COUNTINGHOUSE_<SECTION>__<KEY> for any
/// other key. `countinghouse config` prints what is in effect.
#[derive(Debug, Parser)]
#[command(name = "countinghouse", version, propagate_version = true)]
pub struct Cli {
    /// A TOML configuration file.
    #[arg(long, global = true, env = "COUNTINGHOUSE_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything in one process on embedded defaults, with a demo firm and users printed at start.
    Demo(ServeArgs),
    /// Serve the HTTP API (stateless; run as many as you like behind a load balancer).
    Serve(ServeArgs),
    /// Apply pending database migrations (idempotent) and exit.
    Migrate {
        /// Only list known and applied migrations.
        #[arg(long)]
        status: bool,
    },
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Audit log tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print the OpenAPI 3.1 document of the HTTP API.
    Openapi,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides server.listen).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Do not apply pending migrations at start.
    #[arg(long)]
    pub no_migrate: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-hash every organization's audit chain; exits 1 if any chain is broken.
    Verify {
        /// Only this organization (its slug).
        #[arg(long)]
        organization: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
