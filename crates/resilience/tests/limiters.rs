//! The limiters against real Redis and PostgreSQL: the quota holds across instances (as across
//! processes), and the distributed limiter keeps answering when Redis is absent or dies.

use private_redis::PrivateRedis;
use std::str::FromStr;
use std::time::Duration;

use resilience::{Decision, DistributedLimiter, LimitBackend, LocalLimiter, PgLimiter, Quota, RedisLimiter};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, PgPool};

const TIMEOUT: Duration = Duration::from_millis(300);

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

/// A database of its own with the rate-limit migration, reached as the app role.
struct Db {
    admin: PgConnectOptions,
    name: String,
    pool: PgPool,
}

impl Db {
    async fn create() -> Db {
        let url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let admin = PgConnectOptions::from_str(&url).expect("TEST_DATABASE_URL");
        let name = format!("ch_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&admin).await.expect("reach PostgreSQL");
        conn.execute(AssertSqlSafe(format!("create database {name}"))).await.expect("create database");
        let mut owner = PgConnection::connect_with(&admin.clone().database(&name)).await.expect("connect");
        let migration = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../migrations/0011_rate_limits.sql"
        ))
        .expect("read the migration");
        owner
            .execute(
                "do $$ begin create role countinghouse_app login; exception when duplicate_object or unique_violation then null; end $$",
            )
            .await
            .expect("app role");
        owner.execute(AssertSqlSafe(migration)).await.expect("apply the migration");
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(admin.clone().database(&name).username("countinghouse_app"))
            .await
            .expect("connect as the app role");
        Db { admin, name, pool }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                if let Ok(mut c) = PgConnection::connect_with(&admin).await {
                    let _ = c
                        .execute(AssertSqlSafe(format!("drop database if exists {name} with (force)")))
                        .await;
                }
            });
        })
        .join();
    }
}

/// Counts the calls allowed out of `n` made alternately on two limiters sharing state.
async fn allowed_of<F, Fut>(n: usize, mut check: F) -> usize
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Decision>,
{
    let mut allowed = 0;
    for i in 0..n {
        if check(i).await.is_allowed() {
            allowed += 1;
        }
    }
    allowed
}

// A quota whose interval (1 h / 5) is far longer than the test: exactly `burst` calls pass.
fn slow_quota() -> Quota {
    Quota::new(5, Duration::from_secs(3600)).with_burst(5)
}

#[test]
fn local_limiter_allows_the_burst_then_says_how_long_to_wait() {
    let limiter = LocalLimiter::new(Quota::per_minute(6).with_burst(3));
    let decisions: Vec<Decision> = (0..4).map(|_| limiter.check("org-1:ocr")).collect();
    assert!(decisions[..3].iter().all(Decision::is_allowed), "{decisions:?}");
    match decisions[3] {
        Decision::Denied { retry_after } => {
            assert!(retry_after <= Duration::from_secs(10), "{retry_after:?}")
        }
        Decision::Allowed => panic!("the fourth call in a burst of three passed"),
    }
    assert!(limiter.check("org-2:ocr").is_allowed(), "keys are limited apart");
}

#[tokio::test]
async fn redis_limiter_shares_one_budget_between_instances() {
    let prefix = prefix();
    let a = RedisLimiter::new(&redis_url(), prefix.clone(), TIMEOUT).expect("client");
    let b = RedisLimiter::new(&redis_url(), prefix, TIMEOUT).expect("client");
    let quota = slow_quota();
    let allowed = allowed_of(20, |i| {
        let l = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { l.check("realm-1", quota).await.expect("redis answers") }
    })
    .await;
    assert_eq!(allowed, 5);
    match a.check("realm-1", quota).await.expect("redis answers") {
        Decision::Denied { retry_after } => {
            assert!(retry_after > Duration::from_secs(600), "{retry_after:?}")
        }
        Decision::Allowed => panic!("over budget"),
    }
    assert!(a.check("realm-2", quota).await.expect("redis answers").is_allowed());
}

#[tokio::test]
async fn postgres_limiter_shares_one_budget_between_instances() {
    let db = Db::create().await;
    let a = PgLimiter::new(db.pool.clone());
    let b = PgLimiter::new(db.pool.clone());
    let quota = slow_quota();
    let allowed = allowed_of(20, |i| {
        let l = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { l.check("realm-1", quota).await.expect("postgres answers") }
    })
    .await;
    assert_eq!(allowed, 5);
    assert!(b.check("realm-2", quota).await.expect("postgres answers").is_allowed());
}

#[tokio::test]
async fn postgres_limiter_is_exact_under_concurrent_callers() {
    let db = Db::create().await;
    let quota = Quota::new(10, Duration::from_secs(3600)).with_burst(10);
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let l = PgLimiter::new(db.pool.clone());
            tokio::spawn(async move { l.check("shared", quota).await.expect("postgres answers") })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        if t.await.expect("task").is_allowed() {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 10);
}

#[tokio::test]
async fn distributed_limiter_uses_postgres_when_redis_is_absent() {
    let db = Db::create().await;
    let closed_port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let redis =
        RedisLimiter::new(&format!("redis://127.0.0.1:{closed_port}"), prefix(), TIMEOUT).expect("client");
    let limiter =
        DistributedLimiter::new("absent", slow_quota(), Some(redis), Some(PgLimiter::new(db.pool.clone())));
    let mut backends = Vec::new();
    let mut allowed = 0;
    for _ in 0..12 {
        let (decision, backend) = limiter.check("realm-1").await;
        allowed += usize::from(decision.is_allowed());
        backends.push(backend);
    }
    assert!(backends.iter().all(|b| *b == LimitBackend::Postgres), "{backends:?}");
    assert_eq!(allowed, 5, "the shared budget still holds without Redis");

    let local_only = DistributedLimiter::new("none", slow_quota(), None, None);
    let (decision, backend) = local_only.check("realm-1").await;
    assert_eq!((decision, backend), (Decision::Allowed, LimitBackend::Local));
}

#[tokio::test]
async fn distributed_limiter_keeps_answering_when_redis_dies() {
    let redis_server = PrivateRedis::start();
    let redis = RedisLimiter::new(&redis_server.url(), prefix(), TIMEOUT).expect("client");
    let limiter =
        DistributedLimiter::new("dies", Quota::per_second(1000).with_burst(1000), Some(redis), None);
    for _ in 0..5 {
        assert_eq!(limiter.check("k").await, (Decision::Allowed, LimitBackend::Redis));
    }
    redis_server.stop();
    let mut backends = Vec::new();
    for _ in 0..10 {
        let (decision, backend) = limiter.check("k").await;
        assert!(decision.is_allowed(), "a dead Redis must not refuse calls");
        backends.push(backend);
    }
    assert!(backends.iter().all(|b| *b == LimitBackend::Local), "{backends:?}");
}
