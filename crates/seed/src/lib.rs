//! Deterministic data at scale for demos and benchmarks: firms with staff, clients (tax ids
//! sealed exactly as the app seals them), engagements, invoices with lines and payments, portal
//! users, and the marketplace's advisors with their listings and reviews — generated from a
//! seeded RNG and bulk-loaded with COPY.
//!
//! Loading runs as the database owner with `session_replication_role = replica`, so foreign-key
//! triggers are skipped (the generator emits consistent rows by construction) and row-level
//! security does not apply; it therefore needs a superuser (the embedded cluster's owner is one).

mod copy;
mod generate;
mod marketplace;
mod words;
mod writers;

use std::time::{Duration, Instant};

use store::sqlx::postgres::{PgConnectOptions, PgConnection};
use store::sqlx::{Connection, Executor};
use vault::KeyRing;

pub use generate::{BENCH_SLUG, SEED_PASSWORD};

/// How much data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// A few firms, a couple of thousand clients: for trying things out.
    Small,
    /// The performance plan's scale: 100,000 clients, ~500,000 engagements.
    Seed,
    /// Ten times the plan.
    Ten,
}

impl Scale {
    pub fn parse(s: &str) -> Option<Scale> {
        match s {
            "small" => Some(Scale::Small),
            "seed" => Some(Scale::Seed),
            "10x" => Some(Scale::Ten),
            _ => None,
        }
    }

    /// Marketplace advisors (the plan's 15,000 at seed scale).
    pub fn advisors(self) -> usize {
        match self {
            Scale::Small => 300,
            Scale::Seed => 15_000,
            Scale::Ten => 150_000,
        }
    }

    /// (firms, clients)
    pub fn size(self) -> (usize, usize) {
        match self {
            Scale::Small => (3, 2_000),
            Scale::Seed => (100, 100_000),
            Scale::Ten => (1_000, 1_000_000),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("database: {0}")]
    Db(#[from] store::sqlx::Error),
    #[error(
        "seeding bulk-loads as the database owner and needs a superuser (it skips row-level security and \
         foreign-key triggers); connect DATABASE_URL as one, or use the embedded database"
    )]
    NotSuperuser,
    #[error(
        "this database already holds seed data (organization `{BENCH_SLUG}`); seed a fresh database, or pass \
         --replace to delete the seeded organizations first"
    )]
    AlreadySeeded,
}

/// What was loaded.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub firms: u64,
    pub users: u64,
    pub clients: u64,
    pub engagements: u64,
    pub invoices: u64,
    pub invoice_lines: u64,
    pub payments: u64,
    pub portal_grants: u64,
    pub advisors: u64,
    pub reviews: u64,
    /// Generating and copying the rows (within `load_time`).
    pub copy_time: Duration,
    /// Everything: copy, index builds, commit.
    pub load_time: Duration,
    pub analyze_time: Duration,
}

impl SeedReport {
    pub fn rows(&self) -> u64 {
        self.firms * 2
            + self.users * 2
            + self.clients
            + self.engagements
            + self.invoices
            + self.invoice_lines
            + self.payments
            + self.portal_grants
            + self.advisors * 3
            + self.reviews
    }
}

/// Seeds `scale` into the database at `owner`. `progress` draws a progress bar on stderr.
pub async fn seed(
    owner: &PgConnectOptions,
    keys: &KeyRing,
    scale: Scale,
    replace: bool,
    progress: bool,
) -> Result<SeedReport, SeedError> {
    let mut conn = PgConnection::connect_with(owner).await?;
    let superuser: bool =
        store::sqlx::query_scalar("select rolsuper from pg_roles where rolname = current_user")
            .fetch_one(&mut conn)
            .await?;
    if !superuser {
        return Err(SeedError::NotSuperuser);
    }
    let seeded: i64 =
        store::sqlx::query_scalar("select count(*) from organization_directory where slug = $1")
            .bind(BENCH_SLUG)
            .fetch_one(&mut conn)
            .await?;
    if seeded > 0 {
        if !replace {
            return Err(SeedError::AlreadySeeded);
        }
        tracing::info!("deleting the previously seeded organizations");
        conn.execute(
            "delete from organizations where id in (select organization_id from organization_directory
             where slug = 'bench-cpa' or slug like 'seed-firm-%' or slug like 'seed-advisory-%')",
        )
        .await?;
    }
    // Every seeded user shares one password: hashing thousands of them would take minutes.
    let hasher = identity::PasswordHasher::new(19 * 1024, 2);
    let password_hash = hasher.hash(SEED_PASSWORD).await;

    let started = Instant::now();
    // One transaction: secondary indexes are dropped, the data copied in, the indexes rebuilt
    // (far faster than maintaining them row by row) — and any failure rolls all of it back.
    conn.execute("begin").await?;
    conn.execute("set local session_replication_role = replica").await?;
    conn.execute("set local maintenance_work_mem = '512MB'").await?;
    let indexes: Vec<(String, String)> = store::sqlx::query_as(
        "select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
         from pg_index i
         where i.indrelid = any(array['clients', 'engagements', 'invoices', 'invoice_lines', 'invoice_payments',
                                      'users', 'memberships', 'client_portal_access', 'advisor_profiles',
                                      'marketplace_listings', 'marketplace_reviews']::regclass[])
           and not i.indisprimary
           and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)",
    )
    .fetch_all(&mut conn)
    .await?;
    for (name, _) in &indexes {
        conn.execute(store::sqlx::AssertSqlSafe(format!("drop index {name}"))).await?;
    }
    let bar = progress.then(|| {
        let bar = indicatif::ProgressBar::new(scale.size().1 as u64).with_prefix("clients");
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg:<28} [{bar:40}] {pos}/{len} {prefix}  {per_sec}  eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    });
    let mut report = generate::load(&mut conn, keys, scale, &password_hash, bar.as_ref()).await?;
    report.copy_time = started.elapsed();
    if let Some(bar) = &bar {
        bar.set_message(format!("building {} indexes", indexes.len()));
    }
    for (_, definition) in &indexes {
        conn.execute(store::sqlx::AssertSqlSafe(definition.clone())).await?;
    }
    // Triggers were off during the copy: build the receivables rollup they would have kept.
    conn.execute(
        "insert into ar_open_by_due (organization_id, due_date, balance, invoices)
         select organization_id, due_date, sum(balance), count(*) from invoices
         where status in ('sent', 'viewed', 'partial', 'overdue')
           and organization_id in (select organization_id from organization_directory
                                   where slug = 'bench-cpa' or slug like 'seed-firm-%')
         group by 1, 2
         on conflict (organization_id, due_date) do update
             set balance = excluded.balance, invoices = excluded.invoices",
    )
    .await?;
    // … and the search vocabulary.
    conn.execute(
        "insert into marketplace_terms (term)
         select distinct lexeme from marketplace_listings, unnest(search) where lexeme ~ '^[[:alnum:]]{1,40}$'
         on conflict do nothing",
    )
    .await?;
    conn.execute("commit").await?;
    report.load_time = started.elapsed();
    if let Some(bar) = &bar {
        bar.set_message("analyzing");
    }
    let analyze = Instant::now();
    // Vacuum as well as analyze: it sets the visibility map, so index-only scans skip the heap,
    // as they would on a database that has been running a while.
    conn.execute(
        "vacuum (analyze) organizations, organization_directory, users, memberships, clients, engagements, \
         invoices, invoice_lines, invoice_payments, client_portal_access, invoice_sequences, ar_open_by_due, \
         advisor_profiles, marketplace_listings, marketplace_reviews, marketplace_terms",
    )
    .await?;
    report.analyze_time = analyze.elapsed();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    conn.close().await?;
    Ok(report)
}
