//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::LazyLock;

use bench::scenarios::LoadScenario;
use clap::builder::PossibleValue;
use clap::{Parser, Subcommand, ValueEnum};

/// Countinghouse: the operating system of a CPA firm.
///
/// Configuration comes from built-in defaults, then a TOML file (`--config`, or ./countinghouse.toml),
/// then environment variables: DATABASE_URL (unset: a private PostgreSQL under .countinghouse/pg),
/// REDIS_URL (optional), COUNTINGHOUSE_ENCRYPTION_KEYS, and COUNTINGHOUSE_<SECTION>__<KEY> for any
/// other key. `countinghouse config` prints what is in effect. https endpoints (Azure Document
/// Intelligence, Intuit) need the build's `tls` feature, on by default.
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
    /// Run background jobs (documents, QuickBooks sync, ...) and the cron scheduler until SIGTERM
    /// or Ctrl-C, then finish in-flight jobs for `jobs.shutdown_grace_secs` and give the rest back
    /// to the queue. Run as many as you like; one of them leads the scheduler.
    Worker(WorkerArgs),
    /// Operate the job queue: figures per queue, job lists, dead letters, retry and cancel.
    ///
    /// Reads the database directly (DATABASE_URL). Jobs that succeeded are deleted; dead ones are
    /// kept 30 days, cancelled ones 7. Retry and cancel are recorded in the audit log of the
    /// platform organization, so `platform.organization` (COUNTINGHOUSE_PLATFORM__ORGANIZATION)
    /// must name it.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Apply pending database migrations (idempotent) and exit.
    Migrate {
        /// Apply nothing: list every migration this binary knows as applied (with when) or
        /// pending, and any applied one it does not know.
        #[arg(long)]
        status: bool,
    },
    /// Load deterministic demo/benchmark data: `small` (3 firms, 2,000 clients), `seed` (the
    /// performance plan's scale: 100 firms, 100,000 clients, ~500,000 engagements, ~300,000
    /// invoices) or `10x`. Bulk-loaded with COPY; needs a superuser connection (the embedded
    /// database's owner is one).
    Seed {
        #[arg(long, value_parser = ["small", "seed", "10x"], default_value = "small")]
        scale: String,
        /// Delete previously seeded organizations first.
        #[arg(long)]
        replace: bool,
    },
    /// Measure a running system with an open-loop load (constant arrival rate, HDR histograms)
    /// and print a BENCHMARKS.md table: median (min–max) of repeated runs, interleaved across the
    /// scenarios given, with the machine, its load before each run, and whether p99 was stable.
    Bench(Box<BenchArgs>),
    /// Run a local stand-in for QuickBooks Online, for development, demos and load tests: Intuit's
    /// OAuth endpoints and discovery document (consent is automatic), the accounting API (query,
    /// CDC, reads by id, companyinfo) over deterministic generated companies, Intuit's per-realm
    /// throttling, and injected faults. Prints the `[quickbooks]` section that points
    /// countinghouse at it. The published client libraries work against it unmodified.
    QboSandbox(QboSandboxArgs),
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Audit log tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Document blob store housekeeping.
    #[command(subcommand)]
    Blobs(BlobsCommand),
    /// Encryption key rotation. To rotate: put a new key first in COUNTINGHOUSE_ENCRYPTION_KEYS
    /// (keeping the old ones after it), restart, run `keys reseal`, then drop the old keys.
    #[command(subcommand)]
    Keys(KeysCommand),
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

#[derive(Debug, clap::Args)]
pub struct QboSandboxArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8095")]
    pub listen: SocketAddr,
    /// Companies (realms) to generate, with ids 9130350000000001, 9130350000000002, ...
    #[arg(long, default_value_t = 1)]
    pub companies: u32,
    /// Records per company (accounts, customers, vendors, items, invoices, bills, payments, ...).
    #[arg(long, default_value_t = 5_000)]
    pub entities: usize,
    /// Random changes a minute to every company (creates, updates, deletes), so incremental syncs
    /// find something.
    #[arg(long, default_value_t = 0)]
    pub changes_per_minute: usize,
    /// Added latency per API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Fraction of API requests answered with a 5xx (0.0-1.0).
    #[arg(long, default_value_t = 0.0)]
    pub server_error_rate: f64,
    /// Fraction of API requests answered 429 ThrottleExceeded although no limit was reached.
    #[arg(long, default_value_t = 0.0)]
    pub throttle_rate: f64,
    /// A TOML file with the whole sandbox configuration (apps, companies, limits, token lifetimes,
    /// faults, seed); the company and fault flags are then ignored.
    #[arg(long)]
    pub sandbox_config: Option<PathBuf>,
    /// Our OAuth callback, for the printed `[quickbooks]` section.
    #[arg(long, default_value = "http://127.0.0.1:8080/v1/quickbooks/callback")]
    pub redirect_uri: String,
}

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Serve only these queues (comma-separated); all queues of the registered job kinds by default.
    /// Jobs per queue at once come from `[jobs.concurrency]` (default `jobs.default_concurrency`).
    #[arg(long, value_delimiter = ',')]
    pub queues: Vec<String>,
    /// Do not stand for scheduler leader (cron jobs are enqueued by another worker).
    #[arg(long)]
    pub no_scheduler: bool,
    /// Serve this process's job metrics at http://ADDRESS/metrics (overrides jobs.metrics_listen).
    #[arg(long)]
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Per queue: jobs ready, scheduled, running, retrying, dead and cancelled; age of the oldest
    /// ready job; completions, failures, dead letters and rescues over the window.
    Stats {
        /// Minutes of outcomes to count.
        #[arg(long, default_value_t = 5)]
        window_minutes: u64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Jobs newest first, with filters.
    List {
        /// Only jobs in this state.
        #[arg(long, value_enum)]
        state: Option<JobStateArg>,
        #[command(flatten)]
        filter: JobListArgs,
    },
    /// Dead-lettered jobs with their last error (`list --state dead`).
    Dead(JobListArgs),
    /// Run a dead, cancelled or retrying job again now, with one more attempt allowed.
    Retry {
        /// The job's id (from `jobs list`).
        id: i64,
    },
    /// Cancel a job that has not finished; a running job's worker can record nothing more.
    Cancel {
        /// The job's id (from `jobs list`).
        id: i64,
    },
}

/// The states `jobs list` filters by (every state a job row can be in; `dead` has its own
/// command, which takes no state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JobStateArg {
    Available,
    Running,
    Retrying,
    Dead,
    Cancelled,
}

impl From<JobStateArg> for ::jobs::JobState {
    fn from(state: JobStateArg) -> Self {
        match state {
            JobStateArg::Available => ::jobs::JobState::Available,
            JobStateArg::Running => ::jobs::JobState::Running,
            JobStateArg::Retrying => ::jobs::JobState::Retrying,
            JobStateArg::Dead => ::jobs::JobState::Dead,
            JobStateArg::Cancelled => ::jobs::JobState::Cancelled,
        }
    }
}

/// The filters `jobs list` and `jobs dead` share.
#[derive(Debug, clap::Args)]
pub struct JobListArgs {
    /// Only this queue.
    #[arg(long)]
    pub queue: Option<String>,
    /// The job kind, e.g. `documents.extract`.
    #[arg(long)]
    pub kind: Option<String>,
    /// Only jobs older than this id (the last id of the previous page).
    #[arg(long)]
    pub before: Option<i64>,
    /// At most this many (1..=500).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Print JSON (with payloads) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The scenario, or several load scenarios (`countinghouse bench list` shows them). The load
    /// scenarios request `--url`; `queue`, `qbo-sync`, `documents` and `documents-http` run in
    /// this process against DATABASE_URL (e.g. `countinghouse bench queue --rate 1000`), one at a
    /// time. Several load scenarios may be
    /// given, comma-separated or one after another (`bench clients-list,invoices,clients-search`):
    /// their runs are interleaved — run 1 of each, then run 2 of each, … — and reported together.
    #[arg(required = true, value_delimiter = ',', num_args = 1..)]
    pub scenarios: Vec<BenchScenario>,
    /// The system under test.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// A second configuration to compare with, run in alternation with `--url`.
    #[arg(long)]
    pub compare_url: Option<String>,
    /// Names of the two configurations in the report.
    #[arg(long, default_value = "A")]
    pub label: String,
    #[arg(long, default_value = "B")]
    pub compare_label: String,
    /// Requests per second (constant arrival rate).
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Seconds at the same rate before measuring.
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Runs of each scenario (and configuration), interleaved: run 1 of every one, then run 2, ….
    /// The report gives each figure's median (min–max) with the 1-minute load average read before
    /// each run, and marks p99 unstable when its max over runs is more than twice its median
    /// (which takes at least 3 runs).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// A p99 target in ms for the load scenarios: the report says per scenario whether it was
    /// met (median p99 within it, no errors), missed, or unstable (within it, but p99's max over
    /// the runs is more than twice its median) — an unstable figure never counts as met.
    #[arg(long)]
    pub target_p99: Option<f64>,
    /// Organization to sign in to (the seeded benchmark firm by default).
    #[arg(long, default_value = "bench-cpa")]
    pub organization: String,
    /// Users to sign in as (requests rotate among their sessions).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "owner@bench-cpa.test,admin@bench-cpa.test,manager@bench-cpa.test"
    )]
    pub emails: Vec<String>,
    #[arg(long, default_value = "seed-password-2026")]
    pub password: String,
    /// Also write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Rows per import (`clients-import`).
    #[arg(long, default_value_t = 10_000)]
    pub rows: usize,
    /// No-op jobs per throughput run (`queue`).
    #[arg(long, default_value_t = 200_000)]
    pub jobs: usize,
    /// How the pickup-latency producers' transactions commit (`queue`): waiting for the WAL
    /// flush, with `synchronous_commit = off`, or each run once each way.
    #[arg(long, value_enum, default_value_t = EnqueueCommit::Durable)]
    pub enqueue_commit: EnqueueCommit,
    /// Clients per run, each given one workflow (`workflows`).
    #[arg(long, default_value_t = 200)]
    pub clients: usize,
    /// Staff members the steps are routed among (`workflows`).
    #[arg(long, default_value_t = 12)]
    pub members: usize,
    /// Records in the sandbox company (`qbo-sync`).
    #[arg(long, default_value_t = 100_000)]
    pub entities: usize,
    /// Random changes before the incremental sync (`qbo-sync`).
    #[arg(long, default_value_t = 500)]
    pub changes: usize,
    /// Documents per type and layout of the generated corpus (`documents`).
    #[arg(long, default_value_t = 10)]
    pub per_layout: usize,
    /// Also print every wrong field of the dev split (`documents-real`); the held-out split's are
    /// never printed, so no rule is tuned on them.
    #[arg(long)]
    pub dev_misses: bool,
}

/// How `bench queue`'s latency producers commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnqueueCommit {
    Durable,
    Async,
    Both,
}

impl EnqueueCommit {
    /// The `async_commit` settings to run, in order.
    pub fn modes(self) -> &'static [bool] {
        match self {
            EnqueueCommit::Durable => &[false],
            EnqueueCommit::Async => &[true],
            EnqueueCommit::Both => &[false, true],
        }
    }
}

/// What `countinghouse bench` runs: the list of scenarios, a load scenario of the `bench` crate,
/// or a measurement with a runner of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchScenario {
    List,
    Load(LoadScenario),
    Measure(Measurement),
}

/// The scenarios that are not a constant request rate against `--url`: each has its own runner
/// and report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Measurement {
    /// one CSV import of --rows clients into a fresh firm, --runs times
    ClientsImport,
    /// the job queue in this process against DATABASE_URL: --jobs no-op jobs enqueued and
    /// completed, then pickup latency at --rate jobs/s, --runs times
    Queue,
    /// QuickBooks sync in this process against DATABASE_URL and a local sandbox company of
    /// --entities records: full sync, then one incremental sync after --changes random changes,
    /// --runs times
    QboSync,
    /// the document pipeline in this process with local OCR over a generated corpus
    /// (--per-layout documents per type and layout, digital and scan-like), --runs times
    Documents,
    /// the document pipeline in this process with local OCR over the real-world set (invoices we
    /// did not generate, crates/doc-corpus/real): accuracy per split, language and field
    DocumentsReal,
    /// the workflow engine in this process against DATABASE_URL: a firm of --members staff with
    /// scored routing, the 1040 template started for --clients clients, then every step worked
    /// through (each completion readies and routes the next), --runs times
    Workflows,
    /// upload to extracted fields through the HTTP API and the documents worker in this process
    /// against DATABASE_URL: one document at a time (latency), then all at once (throughput), over
    /// a corpus of --per-layout documents per type and layout, --runs times
    DocumentsHttp,
}

/// Written out because the load scenarios are the `bench` crate's own enums: the values are
/// `list`, then theirs, then the measurements', each with its help.
impl ValueEnum for BenchScenario {
    fn value_variants<'a>() -> &'a [Self] {
        static ALL: LazyLock<Vec<BenchScenario>> = LazyLock::new(|| {
            let load = LoadScenario::all().map(BenchScenario::Load);
            let measure = Measurement::value_variants().iter().copied().map(BenchScenario::Measure);
            std::iter::once(BenchScenario::List).chain(load).chain(measure).collect()
        });
        &ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        match self {
            BenchScenario::List => {
                Some(PossibleValue::new("list").help("print every scenario with what it measures"))
            }
            BenchScenario::Load(s) => Some(s.possible_value()),
            BenchScenario::Measure(m) => m.to_possible_value(),
        }
    }
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

#[derive(Debug, Subcommand)]
pub enum BlobsCommand {
    /// Delete blobs no live document holds (refused or failed uploads, deleted documents) and
    /// leftover temporary files, when older than the grace period; encrypt legacy plaintext
    /// blobs in place. The workers' scheduler runs this hourly.
    Sweep {
        /// Keep unreferenced files younger than this.
        #[arg(long, default_value_t = 60)]
        grace_minutes: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-seal every organization's document data key with the active (first) encryption key;
    /// blob files are not rewritten. Run after putting a new key first.
    Reseal,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    /// Every scenario is chosen by its name, and no two share one.
    #[test]
    fn bench_scenarios_parse_by_name() {
        use clap::ValueEnum;

        use super::BenchScenario;
        let names: Vec<String> = BenchScenario::value_variants()
            .iter()
            .map(|s| s.to_possible_value().expect("listed").get_name().to_owned())
            .collect();
        for (scenario, name) in BenchScenario::value_variants().iter().zip(&names) {
            assert_eq!(BenchScenario::from_str(name, false).as_ref(), Ok(scenario), "{name}");
        }
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert!(names.iter().any(|n| n == "marketplace-mix") && names.iter().any(|n| n == "documents-http"));
    }

    /// Several scenarios, comma-separated or one after another, keep their order.
    #[test]
    fn bench_takes_several_scenarios() {
        use clap::Parser;

        use super::{BenchScenario, Cli, Command};
        use bench::scenarios::{FirmScenario, LoadScenario};
        let scenarios = |args: &[&str]| match Cli::try_parse_from(args).map(|c| c.command) {
            Ok(Command::Bench(b)) => b.scenarios.clone(),
            other => panic!("{args:?}: {other:?}"),
        };
        let firm = |s| BenchScenario::Load(LoadScenario::Firm(s));
        let want = vec![
            firm(FirmScenario::ClientsList),
            firm(FirmScenario::Invoices),
            firm(FirmScenario::ClientsSearch),
        ];
        assert_eq!(
            scenarios(&["countinghouse", "bench", "clients-list,invoices,clients-search", "--runs", "3"]),
            want
        );
        assert_eq!(
            scenarios(&["countinghouse", "bench", "clients-list", "invoices", "clients-search"]),
            want
        );
        assert_eq!(
            scenarios(&["countinghouse", "bench", "queue"]),
            vec![BenchScenario::Measure(super::Measurement::Queue)]
        );
        assert!(Cli::try_parse_from(["countinghouse", "bench"]).is_err(), "a scenario is required");
    }
}
