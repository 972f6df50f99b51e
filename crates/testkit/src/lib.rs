//! Test support: real PostgreSQL and the real HTTP app on a random port.
//!
//! - [`TestDb`]: a fresh database per test, cloned from a migrated template (`CREATE DATABASE …
//!   TEMPLATE`, milliseconds), dropped afterwards. The template is keyed by the migrations'
//!   fingerprint and built once per machine under an advisory lock.
//! - [`TestApp`]: the app served on 127.0.0.1:0 over a `TestDb`, with an HTTP client and personas,
//!   and a mail outbox of its own.
//! - [`SmtpSink`]: an SMTP server on 127.0.0.1:0 that keeps what it receives (see its module).
//!
//! The server comes from `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! connecting as a superuser that can create databases.

mod app;
pub mod smtp;

pub use app::{PASSWORD, PLATFORM_SLUG, Persona, Tenant, TestApp, TestConfig, TestResponse};
pub use private_redis::PrivateRedis;
pub use smtp::SmtpSink;
pub use test_db::TestDb;
