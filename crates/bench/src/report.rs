//! Summaries of repeated runs (minimum, median and maximum of each figure, the machine's load
//! before each run, whether p99 held still), and the tables written to BENCHMARKS.md.

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

/// One run as it was made: its place in the session, the machine's 1-minute load average read
/// immediately before it, and what it measured.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// 1-based position in the session (runs are interleaved across scenarios and targets).
    pub seq: usize,
    pub load_1m: Option<f64>,
    pub figures: RunFigures,
}

/// The minimum, median and maximum of one figure over runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Some(Spread { min: *v.first()?, median: median(v.clone()), max: *v.last()? })
    }

    /// The rule for a latency figure: unstable when its maximum over runs is more than twice its
    /// median. One bad run out of three is enough; it needs at least three runs to ever fire (with
    /// two, the median is their mean, which the larger can never double).
    pub fn unstable(&self) -> bool {
        self.max > 2.0 * self.median
    }
}

/// Whether a scenario met a p99 target (`--target-p99`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The median p99 is within the target, p99 held still across runs and nothing failed.
    Met,
    /// The median p99 is over the target, or requests failed.
    Missed,
    /// The median p99 is within the target but its runs disagree (max over twice the median):
    /// reported as such, never as met.
    Unstable,
}

impl Verdict {
    pub fn judge(p99: &Spread, target_ms: f64, errors: u64) -> Verdict {
        if errors > 0 || p99.median > target_ms {
            Verdict::Missed
        } else if p99.unstable() {
            Verdict::Unstable
        } else {
            Verdict::Met
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "missed",
            Verdict::Unstable => "unstable",
        }
    }
}

/// A p99 target and how the scenario fared against it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Target {
    pub p99_ms: f64,
    pub verdict: Verdict,
}

/// One scenario against one configuration over its runs: each figure's minimum, median and
/// maximum, the load before the runs, and whether p99 was stable.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub label: String,
    pub runs: Vec<Run>,
    pub min: RunFigures,
    /// Each figure's own median (errors: the sum over runs).
    pub median: RunFigures,
    pub max: RunFigures,
    /// The 1-minute load average before the runs (`None` where it cannot be read).
    pub load_1m: Option<Spread>,
    /// Max p99 over runs more than twice the median p99 ([`Spread::unstable`]).
    pub p99_unstable: bool,
    pub target: Option<Target>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Each figure of `runs` reduced by `pick` (minimum, median or maximum over the runs' values).
fn reduce(runs: &[Run], pick: fn(Spread) -> f64) -> RunFigures {
    let r = |f: fn(&RunFigures) -> f64| {
        Spread::of(&runs.iter().map(|r| f(&r.figures)).collect::<Vec<_>>()).map(pick).unwrap_or(0.0)
    };
    RunFigures {
        target_rps: r(|f| f.target_rps),
        achieved_rps: r(|f| f.achieved_rps),
        completed: r(|f| f.completed as f64) as u64,
        errors: r(|f| f.errors as f64) as u64,
        p50_ms: r(|f| f.p50_ms),
        p90_ms: r(|f| f.p90_ms),
        p99_ms: r(|f| f.p99_ms),
        p999_ms: r(|f| f.p999_ms),
        max_ms: r(|f| f.max_ms),
    }
}

impl Summary {
    /// `target_p99_ms`: judge the median p99 against it ([`Verdict::judge`]).
    pub fn new(scenario: &str, label: &str, runs: Vec<Run>, target_p99_ms: Option<f64>) -> Summary {
        let min = reduce(&runs, |s| s.min);
        let max = reduce(&runs, |s| s.max);
        let mut median = reduce(&runs, |s| s.median);
        median.errors = runs.iter().map(|r| r.figures.errors).sum();
        let p99 = Spread::of(&runs.iter().map(|r| r.figures.p99_ms).collect::<Vec<_>>());
        let p99_unstable = p99.is_some_and(|s| s.unstable());
        let target = target_p99_ms
            .zip(p99)
            .map(|(t, s)| Target { p99_ms: t, verdict: Verdict::judge(&s, t, median.errors) });
        let load_1m = Spread::of(&runs.iter().filter_map(|r| r.load_1m).collect::<Vec<_>>());
        Summary {
            scenario: scenario.to_owned(),
            label: label.to_owned(),
            runs,
            min,
            median,
            max,
            load_1m,
            p99_unstable,
            target,
        }
    }

    pub fn markdown_header(target_p99_ms: Option<f64>) -> String {
        let (name, align) = match target_p99_ms {
            Some(t) => (format!(" p99 ≤ {t} ms |"), "---|"),
            None => (String::new(), ""),
        };
        format!(
            "| scenario | config | runs | load before | target req/s | achieved req/s | errors | p50 ms | \
             p90 ms | p99 ms | p99.9 ms | max ms | p99 stability |{name}\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|{align}"
        )
    }

    /// Each figure as "median (min–max)"; errors summed over runs.
    pub fn markdown_row(&self) -> String {
        let cell = |f: fn(&RunFigures) -> f64, decimals: usize| {
            spread_cell(&Spread { min: f(&self.min), median: f(&self.median), max: f(&self.max) }, decimals)
        };
        let load = self.load_1m.as_ref().map(|s| spread_cell(s, 2)).unwrap_or_else(|| "?".into());
        let stability = if self.p99_unstable { "**unstable**" } else { "stable" };
        let verdict = match &self.target {
            Some(t) if t.verdict == Verdict::Met => " met |".to_owned(),
            Some(t) => format!(" **{}** |", t.verdict.as_str()),
            None => String::new(),
        };
        format!(
            "| {} | {} | {} | {load} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {stability} |{verdict}",
            self.scenario,
            self.label,
            self.runs.len(),
            self.median.target_rps,
            cell(|f| f.achieved_rps, 0),
            self.median.errors,
            cell(|f| f.p50_ms, 2),
            cell(|f| f.p90_ms, 2),
            cell(|f| f.p99_ms, 2),
            cell(|f| f.p999_ms, 2),
            cell(|f| f.max_ms, 2),
        )
    }
}

/// "median (min–max)", or the one value when they agree (a single run).
pub fn spread_cell(s: &Spread, decimals: usize) -> String {
    if s.min == s.max {
        format!("{:.*}", decimals, s.median)
    } else {
        format!("{:.*} ({:.*}–{:.*})", decimals, s.median, decimals, s.min, decimals, s.max)
    }
}

/// Everything a report file holds.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub command: String,
    pub date: String,
    /// Per scenario, each configuration in turn (`--url` first).
    pub summaries: Vec<Summary>,
    /// For comparisons: per scenario, B's median over A's, per figure.
    pub ratios: Vec<Ratio>,
    pub target_p99_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub scenario: String,
    pub achieved_rps: f64,
    pub p50: f64,
    pub p99: f64,
}

impl Ratio {
    /// `b` against `a`, by their medians.
    pub fn of(a: &Summary, b: &Summary) -> Ratio {
        Ratio {
            scenario: a.scenario.clone(),
            achieved_rps: b.median.achieved_rps / a.median.achieved_rps,
            p50: b.median.p50_ms / a.median.p50_ms,
            p99: b.median.p99_ms / a.median.p99_ms,
        }
    }
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("Machine: {}. Date: {}.\n\n", self.machine.describe(), self.date));
        out.push_str(&format!("Command: `{}`\n\n", self.command));
        out.push_str(&Summary::markdown_header(self.target_p99_ms));
        out.push('\n');
        for s in &self.summaries {
            out.push_str(&s.markdown_row());
            out.push('\n');
        }
        let label = |i: usize, default: &'static str| {
            self.summaries.get(i).map(|s| s.label.clone()).unwrap_or_else(|| default.into())
        };
        for r in &self.ratios {
            out.push_str(&format!(
                "\nRatio {} / {} ({}): throughput ×{:.2}, p50 ×{:.2}, p99 ×{:.2} (below 1 means faster latency).\n",
                label(1, "B"),
                label(0, "A"),
                r.scenario,
                r.achieved_rps,
                r.p50,
                r.p99
            ));
        }
        out.push_str(&format!(
            "\nEach figure: median (min–max) of {} runs, interleaved (run 1 of every scenario and \
             configuration, then run 2, …); load before: the 1-minute load average read just before \
             each run; latency from each request's scheduled time (open loop). p99 is unstable when \
             its max over the runs is more than twice its median; an unstable p99 never counts as met.\n",
            self.summaries.first().map(|s| s.runs.len()).unwrap_or(0)
        ));
        out.push_str(&self.runs_markdown());
        out
    }

    /// Every run in the order it was made, with the load before it.
    pub fn runs_markdown(&self) -> String {
        let mut runs: Vec<(&Summary, &Run)> =
            self.summaries.iter().flat_map(|s| s.runs.iter().map(move |r| (s, r))).collect();
        runs.sort_by_key(|(_, r)| r.seq);
        let mut out = String::from(
            "\nRuns in the order they ran:\n\n\
             | # | scenario | config | load before | achieved req/s | errors | p50 ms | p99 ms | max ms |\n\
             |---:|---|---|---:|---:|---:|---:|---:|---:|\n",
        );
        for (s, r) in runs {
            let f = &r.figures;
            out.push_str(&format!(
                "| {} | {} | {} | {} | {:.0} | {} | {:.2} | {:.2} | {:.2} |\n",
                r.seq,
                s.scenario,
                s.label,
                r.load_1m.map(|l| format!("{l:.2}")).unwrap_or_else(|| "?".into()),
                f.achieved_rps,
                f.errors,
                f.p50_ms,
                f.p99_ms,
                f.max_ms
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seq: usize, p50: f64, p99: f64) -> Run {
        Run {
            seq,
            load_1m: Some(seq as f64),
            figures: RunFigures {
                target_rps: 100.0,
                achieved_rps: 99.0 + p50,
                completed: 10,
                errors: 1,
                p50_ms: p50,
                p90_ms: p50,
                p99_ms: p99,
                p999_ms: p99,
                max_ms: p99,
            },
        }
    }

    #[test]
    fn summarises_each_figure_by_min_median_max_and_sums_errors() {
        let s = Summary::new("x", "a", vec![run(1, 3.0, 3.0), run(2, 1.0, 1.0), run(3, 2.0, 2.0)], None);
        assert_eq!((s.min.p50_ms, s.median.p50_ms, s.max.p50_ms), (1.0, 2.0, 3.0));
        assert_eq!((s.min.achieved_rps, s.median.achieved_rps, s.max.achieved_rps), (100.0, 101.0, 102.0));
        assert_eq!(s.median.errors, 3);
        assert_eq!(s.load_1m, Some(Spread { min: 1.0, median: 2.0, max: 3.0 }));
        assert!(!s.p99_unstable);
        let row = s.markdown_row();
        assert!(
            row.starts_with("| x | a | 3 | 2.00 (1.00–3.00) | 100 | 101 (100–102) | 3 | 2.00 (1.00–3.00)"),
            "{row}"
        );
        assert!(row.ends_with("| stable |"), "{row}");
        assert_eq!(median(vec![1.0, 2.0, 3.0, 10.0]), 2.5);
    }

    #[test]
    fn a_spread_of_one_value_is_that_value_and_of_none_is_none() {
        let one = Spread::of(&[4.0]).unwrap();
        assert_eq!(one, Spread { min: 4.0, median: 4.0, max: 4.0 });
        assert_eq!(spread_cell(&one, 1), "4.0");
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[2.0, 8.0]).map(|s| s.median), Some(5.0));
    }

    #[test]
    fn p99_is_unstable_when_its_max_is_over_twice_its_median() {
        let p99 = |v: &[f64]| Spread::of(v).unwrap();
        assert!(p99(&[6.0, 7.0, 15.0]).unstable());
        assert!(!p99(&[6.0, 7.0, 14.0]).unstable(), "exactly twice is not over twice");
        assert!(!p99(&[6.0, 7.0, 8.0]).unstable());
        // A low outlier does not make it unstable; only a high one does.
        assert!(!p99(&[0.5, 7.0, 8.0]).unstable());
        // Two runs can never be unstable: the median is their mean.
        assert!(!p99(&[1.0, 100.0]).unstable());
        assert!(p99(&[5.0, 6.0, 6.0, 7.0, 40.0]).unstable());
    }

    #[test]
    fn an_unstable_p99_within_target_is_reported_unstable_not_met() {
        let runs = || vec![run(1, 1.0, 6.0), run(2, 1.0, 7.0), run(3, 1.0, 40.0)];
        let mut clean = runs();
        clean.iter_mut().for_each(|r| r.figures.errors = 0);
        let s = Summary::new("client-detail", "A", clean, Some(25.0));
        assert!(s.p99_unstable);
        assert_eq!(s.target.map(|t| t.verdict), Some(Verdict::Unstable));
        assert!(s.markdown_row().ends_with("| **unstable** | **unstable** |"), "{}", s.markdown_row());

        let spread = |v: &[f64]| Spread::of(v).unwrap();
        assert_eq!(Verdict::judge(&spread(&[6.0, 7.0, 8.0]), 25.0, 0), Verdict::Met);
        assert_eq!(Verdict::judge(&spread(&[6.0, 7.0, 40.0]), 25.0, 0), Verdict::Unstable);
        assert_eq!(Verdict::judge(&spread(&[6.0, 30.0, 90.0]), 25.0, 0), Verdict::Missed);
        assert_eq!(Verdict::judge(&spread(&[6.0, 7.0, 8.0]), 25.0, 2), Verdict::Missed, "errors miss");
        // The stable, met row ends in "met".
        let mut stable = vec![run(1, 1.0, 6.0), run(2, 1.0, 7.0), run(3, 1.0, 8.0)];
        stable.iter_mut().for_each(|r| r.figures.errors = 0);
        let met = Summary::new("client-detail", "A", stable, Some(25.0));
        assert!(met.markdown_row().ends_with("| stable | met |"), "{}", met.markdown_row());
    }

    #[test]
    fn the_report_lists_runs_in_the_order_they_ran_with_their_load() {
        let a = Summary::new("a", "A", vec![run(1, 1.0, 1.0), run(3, 1.0, 1.0)], None);
        let b = Summary::new("b", "A", vec![run(2, 2.0, 2.0), run(4, 2.0, 2.0)], None);
        let report = Report {
            machine: Machine::detect(),
            command: "countinghouse bench a,b --runs 2".into(),
            date: "2026-12-07".into(),
            summaries: vec![a, b],
            ratios: Vec::new(),
            target_p99_ms: None,
        };
        let md = report.markdown();
        let order: Vec<&str> = md
            .lines()
            .filter(|l| {
                l.starts_with("| 1 |")
                    || l.starts_with("| 2 |")
                    || l.starts_with("| 3 |")
                    || l.starts_with("| 4 |")
            })
            .collect();
        assert_eq!(order.len(), 4, "{md}");
        assert!(
            order[0].starts_with("| 1 | a | A | 1.00 |") && order[1].starts_with("| 2 | b | A | 2.00 |"),
            "{md}"
        );
        assert!(order[2].starts_with("| 3 | a |") && order[3].starts_with("| 4 | b |"), "{md}");
        assert!(md.contains("| load before |") && md.contains("| p99 stability |"));
    }
}
