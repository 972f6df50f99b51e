//! Summaries of repeated runs (medians), and the tables written to BENCHMARKS.md.

use serde::Serialize;

use crate::RunResult;
use crate::machine::Machine;

/// The figures of one run, in milliseconds and requests per second.
#[derive(Debug, Clone, Serialize)]
pub struct RunFigures {
    pub target_rps: f64,
    pub achieved_rps: f64,
    pub completed: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl From<&RunResult> for RunFigures {
    fn from(r: &RunResult) -> Self {
        RunFigures {
            target_rps: r.target_rate,
            achieved_rps: r.achieved_rate,
            completed: r.completed,
            errors: r.errors,
            p50_ms: r.percentile_ms(50.0),
            p90_ms: r.percentile_ms(90.0),
            p99_ms: r.percentile_ms(99.0),
            p999_ms: r.percentile_ms(99.9),
            max_ms: r.max_ms(),
        }
    }
}

/// Medians over runs (each figure's own median), and the runs themselves.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub label: String,
    pub runs: Vec<RunFigures>,
    pub median: RunFigures,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl Summary {
    pub fn new(scenario: &str, label: &str, runs: Vec<RunFigures>) -> Summary {
        let m = |f: fn(&RunFigures) -> f64| median(runs.iter().map(f).collect());
        let median = RunFigures {
            target_rps: m(|r| r.target_rps),
            achieved_rps: m(|r| r.achieved_rps),
            completed: m(|r| r.completed as f64) as u64,
            errors: runs.iter().map(|r| r.errors).sum(),
            p50_ms: m(|r| r.p50_ms),
            p90_ms: m(|r| r.p90_ms),
            p99_ms: m(|r| r.p99_ms),
            p999_ms: m(|r| r.p999_ms),
            max_ms: m(|r| r.max_ms),
        };
        Summary { scenario: scenario.to_owned(), label: label.to_owned(), runs, median }
    }

    pub fn markdown_header() -> &'static str {
        "| scenario | config | target req/s | achieved req/s | errors | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    }

    pub fn markdown_row(&self) -> String {
        let m = &self.median;
        format!(
            "| {} | {} | {:.0} | {:.0} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            self.scenario,
            self.label,
            m.target_rps,
            m.achieved_rps,
            m.errors,
            m.p50_ms,
            m.p90_ms,
            m.p99_ms,
            m.p999_ms,
            m.max_ms
        )
    }
}

/// Everything a report file holds.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub command: String,
    pub date: String,
    pub summaries: Vec<Summary>,
    /// For comparisons: B's median over A's, per figure.
    pub ratio: Option<Ratio>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub achieved_rps: f64,
    pub p50: f64,
    pub p99: f64,
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("Machine: {}. Date: {}.\n\n", self.machine.describe(), self.date));
        out.push_str(&format!("Command: `{}`\n\n", self.command));
        out.push_str(Summary::markdown_header());
        out.push('\n');
        for s in &self.summaries {
            out.push_str(&s.markdown_row());
            out.push('\n');
        }
        if let Some(r) = &self.ratio {
            out.push_str(&format!(
                "\nRatio {} / {}: throughput ×{:.2}, p50 ×{:.2}, p99 ×{:.2} (below 1 means faster latency).\n",
                self.summaries.get(1).map(|s| s.label.as_str()).unwrap_or("B"),
                self.summaries.first().map(|s| s.label.as_str()).unwrap_or("A"),
                r.achieved_rps,
                r.p50,
                r.p99
            ));
        }
        out.push_str(&format!(
            "\nMedians of {} runs; every latency is measured from the request's scheduled time (open loop).\n",
            self.summaries.first().map(|s| s.runs.len()).unwrap_or(0)
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(p50: f64) -> RunFigures {
        RunFigures {
            target_rps: 100.0,
            achieved_rps: 99.0 + p50,
            completed: 10,
            errors: 1,
            p50_ms: p50,
            p90_ms: p50,
            p99_ms: p50,
            p999_ms: p50,
            max_ms: p50,
        }
    }

    #[test]
    fn medians_each_figure_and_sums_errors() {
        let s = Summary::new("x", "a", vec![fig(3.0), fig(1.0), fig(2.0)]);
        assert_eq!(s.median.p50_ms, 2.0);
        assert_eq!(s.median.errors, 3);
        assert!(s.markdown_row().starts_with("| x | a | 100 | 101 | 3 | 2.00"));
        assert_eq!(median(vec![1.0, 2.0, 3.0, 10.0]), 2.5);
    }
}
