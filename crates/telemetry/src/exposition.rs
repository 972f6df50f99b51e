//! Reading this process's histograms back out of its own Prometheus recorder, so in-process views
//! (the console's operations page) show exactly the figures `/metrics` serves.
//!
//! The exporter offers no typed snapshot (only the text exposition, or protobuf behind a feature
//! that needs `protoc` at build time), so this reads the text format's histogram lines:
//! `name_bucket{labels,le="…"} n`, `name_count{labels} n`. Quantiles are estimated from bucket
//! counts the way Prometheus's `histogram_quantile` does (linear within the bucket).

use std::collections::BTreeMap;

/// One labelled series of a histogram, cumulative since the process started.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSeries {
    /// The labels other than `le`, sorted by name.
    pub labels: BTreeMap<String, String>,
    /// Cumulative counts at each finite upper bound, in the exporter's order, then `+Inf`.
    pub cumulative: Vec<(f64, u64)>,
}

impl HistogramSeries {
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }

    /// Observations in total (the `+Inf` bucket).
    pub fn count(&self) -> u64 {
        self.cumulative.last().map_or(0, |(_, c)| *c)
    }
}

/// Every series of the histogram `name` in an exposition text.
pub fn histograms(text: &str, name: &str) -> Vec<HistogramSeries> {
    let prefix = format!("{name}_bucket{{");
    // Keyed by the labels other than `le`: (upper bound, cumulative count) per bucket.
    type Buckets = Vec<(f64, u64)>;
    let mut series: BTreeMap<Vec<(String, String)>, Buckets> = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(&prefix) else { continue };
        let Some((labels, value)) = labels_and_value(rest) else { continue };
        let Ok(count) = value.trim().parse::<f64>() else { continue };
        let mut le = None;
        let mut others = Vec::new();
        for (k, v) in labels {
            if k == "le" {
                le = Some(if v == "+Inf" { f64::INFINITY } else { v.parse().unwrap_or(f64::NAN) });
            } else {
                others.push((k, v));
            }
        }
        let Some(le) = le.filter(|b| !b.is_nan()) else { continue };
        others.sort();
        series.entry(others).or_default().push((le, count as u64));
    }
    series
        .into_iter()
        .map(|(labels, mut cumulative)| {
            cumulative.sort_by(|a, b| a.0.total_cmp(&b.0));
            HistogramSeries { labels: labels.into_iter().collect(), cumulative }
        })
        .collect()
}

/// `k="v",…}` then the value: the labels (with `\"`, `\\` and `\n` unescaped) and the rest of
/// the line. Label values may hold braces (`/v1/clients/{id}`), so this follows the quotes.
fn labels_and_value(s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    let mut chars = s.char_indices().peekable();
    loop {
        let (start, c) = chars.next()?;
        if c == '}' {
            return Some((labels, &s[start + 1..]));
        }
        if c == ',' {
            continue;
        }
        let eq = s[start..].find('=')? + start;
        let key = s[start..eq].to_owned();
        while chars.peek().is_some_and(|(i, _)| *i <= eq) {
            chars.next();
        }
        if chars.next()?.1 != '"' {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()?.1 {
                '"' => break,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                other => value.push(other),
            }
        }
        labels.push((key, value));
    }
}

/// The `q` quantile (0–1) of observations counted per bucket: `counts[i]` fell at or below
/// `bounds[i]` and above the bound before it; one more count than bounds is the `+Inf` bucket.
/// Linear within the bucket; a rank in the `+Inf` bucket answers the highest finite bound.
/// `None` without observations.
pub fn quantile(bounds: &[f64], counts: &[u64], q: f64) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total as f64;
    let mut below = 0u64;
    for (i, &n) in counts.iter().enumerate() {
        if n > 0 && (below + n) as f64 >= rank {
            let Some(&upper) = bounds.get(i) else { return bounds.last().copied() };
            let lower = if i == 0 { 0.0 } else { bounds[i - 1] };
            let within = (rank - below as f64) / n as f64;
            return Some(lower + (upper - lower) * within);
        }
        below += n;
    }
    bounds.last().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{method="GET",route="/v1/clients/{id}",status="200",le="0.005"} 3
http_request_duration_seconds_bucket{method="GET",route="/v1/clients/{id}",status="200",le="0.01"} 7
http_request_duration_seconds_bucket{method="GET",route="/v1/clients/{id}",status="200",le="+Inf"} 8
http_request_duration_seconds_sum{method="GET",route="/v1/clients/{id}",status="200"} 0.05
http_request_duration_seconds_count{method="GET",route="/v1/clients/{id}",status="200"} 8
http_request_duration_seconds_bucket{method="POST",route="/say \"hi\"",status="500",le="0.005"} 0
http_request_duration_seconds_bucket{method="POST",route="/say \"hi\"",status="500",le="0.01"} 1
http_request_duration_seconds_bucket{method="POST",route="/say \"hi\"",status="500",le="+Inf"} 1
other_bucket{le="1"} 4
"#;

    #[test]
    fn histogram_series_are_read_with_braces_and_escapes_in_label_values() {
        let series = histograms(TEXT, "http_request_duration_seconds");
        assert_eq!(series.len(), 2);
        let get = &series[0];
        assert_eq!(get.label("route"), "/v1/clients/{id}");
        assert_eq!(get.label("status"), "200");
        assert_eq!(get.cumulative, vec![(0.005, 3), (0.01, 7), (f64::INFINITY, 8)]);
        assert_eq!(get.count(), 8);
        assert_eq!(series[1].label("route"), "/say \"hi\"");
        assert_eq!(series[1].count(), 1);
    }

    #[test]
    fn quantiles_interpolate_within_the_bucket_like_prometheus() {
        let bounds = [0.01, 0.1, 1.0];
        // 10 at or below 10 ms, 10 in (10 ms, 100 ms], none slower.
        let counts = [10, 10, 0, 0];
        assert_eq!(quantile(&bounds, &counts, 0.5), Some(0.01));
        let p75 = quantile(&bounds, &counts, 0.75).unwrap();
        assert!((p75 - 0.055).abs() < 1e-9, "{p75}");
        assert_eq!(quantile(&bounds, &[0, 0, 0, 0], 0.5), None);
        // Everything beyond the last bound: the last bound is the best estimate.
        assert_eq!(quantile(&bounds, &[0, 0, 0, 5], 0.99), Some(1.0));
    }
}
