//! Metric names (Prometheus via the `metrics` facade). Counters and histograms are recorded by
//! each worker process (`countinghouse worker --metrics-listen` serves them); the depth, age and
//! throughput gauges come from the database ([`crate::admin::queue_stats`]): the scheduler leader
//! sets them every maintenance round and the API's `/metrics` at every scrape, so they read the
//! same whichever process is scraped (aggregate them with `max`, not `sum`).
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `jobs_completed_total` | queue, kind | attempts that completed the job |
//! | `jobs_failed_total` | queue, kind | attempts that failed (retried or dead) |
//! | `jobs_dead_total` | queue, kind | jobs dead-lettered by a failed attempt |
//! | `jobs_attempts_total` | queue, kind | attempts started |
//! | `jobs_lease_lost_total` | queue | attempts abandoned because their lease moved on |
//! | `jobs_rescued_total` | queue | expired leases taken back by this process |
//! | `jobs_pickup_delay_seconds` | queue | due (`run_at`) → claimed |
//! | `jobs_run_seconds` | queue, kind | handler duration |
//! | `jobs_depth` | queue, state | jobs per state (`ready` and `scheduled` split `available`) |
//! | `jobs_oldest_ready_age_seconds` | queue | how long the oldest ready job has waited |
//! | `jobs_throughput_per_second` | queue | completions per second over the stats window |

pub(crate) const COMPLETED: &str = "jobs_completed_total";
pub(crate) const FAILED: &str = "jobs_failed_total";
pub(crate) const DEAD: &str = "jobs_dead_total";
pub(crate) const ATTEMPTS: &str = "jobs_attempts_total";
pub(crate) const LEASE_LOST: &str = "jobs_lease_lost_total";
pub(crate) const RESCUED: &str = "jobs_rescued_total";
pub(crate) const PICKUP_DELAY: &str = "jobs_pickup_delay_seconds";
pub(crate) const RUN_SECONDS: &str = "jobs_run_seconds";
pub(crate) const DEPTH: &str = "jobs_depth";
pub(crate) const OLDEST_READY_AGE: &str = "jobs_oldest_ready_age_seconds";
pub(crate) const THROUGHPUT: &str = "jobs_throughput_per_second";
