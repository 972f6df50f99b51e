//! Load generation and benchmark scenarios for `countinghouse bench`.
//!
//! The generator is open-loop: requests are scheduled at a constant arrival rate and each one's
//! latency is measured from the moment it was *due*, not from when a connection happened to be
//! free — so a slow server shows up as latency and queueing instead of hiding behind a lower
//! request rate (coordinated omission). Latencies go into HDR histograms.
//!
//! # Layout
//! - [`load`]: the open-loop engine over plain HTTP/1.1 connections (hyper).
//! - [`plan`]: the order of a session's runs, interleaved across scenarios and configurations.
//! - [`report`]: min / median / max of repeated runs, the load before each, the unstable-p99
//!   rule, the machine, Markdown tables for BENCHMARKS.md.
//! - [`machine`]: the machine a figure was measured on, and its 1-minute load average.
//! - [`scenarios`]: what to request: client list, search, detail, invoices with AR aging, …

pub mod import;
pub mod load;
pub mod machine;
pub mod plan;
pub mod report;
pub mod scenarios;

pub use load::{LoadConfig, Request, RunResult};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot reach {url}: {source}")]
    Connect { url: String, source: std::io::Error },
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    #[error("setup: {0}")]
    Setup(String),
}
