//! Charts drawn on the server as SVG: lines over time, stacked bars over time and sparklines.
//! Colours come from classes in `app.css` (so dark mode follows the tokens), never inline styles
//! (the CSP allows none). Each chart is an image with a text alternative naming its latest values,
//! and its series are named in a legend beside it.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 180.0;
/// Room for the value axis on the left and the time axis below.
const LEFT: f64 = 52.0;
const BOTTOM: f64 = 20.0;
const TOP: f64 = 8.0;
const RIGHT: f64 = 8.0;

/// One line of a chart: a value per point (`None` where there is none).
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<Option<f64>>,
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `max` (so the axis reads in round numbers).
fn nice_max(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|v| *v >= max).unwrap_or(10.0 * magnitude)
}

fn x_of(i: usize, n: usize) -> f64 {
    let plot = WIDTH - LEFT - RIGHT;
    if n <= 1 { LEFT + plot } else { LEFT + plot * i as f64 / (n - 1) as f64 }
}

fn y_of(v: f64, max: f64) -> f64 {
    let plot = HEIGHT - TOP - BOTTOM;
    TOP + plot * (1.0 - (v / max).clamp(0.0, 1.0))
}

fn clock(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

/// Gridlines at 0, half and the top with their values, and the first and last times.
fn axes(max: f64, times: &[DateTime<Utc>], fmt: &dyn Fn(f64) -> String) -> Markup {
    html! {
        g class="axis" {
            @for v in [0.0, max / 2.0, max] {
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y_of(v, max)) y2=(y_of(v, max)) {}
                text x=(LEFT - 6.0) y=(y_of(v, max) + 3.0) text-anchor="end" { (fmt(v)) }
            }
            @if let (Some(first), Some(last)) = (times.first(), times.last()) {
                text x=(LEFT) y=(HEIGHT - 4.0) { (clock(*first)) " UTC" }
                text x=(WIDTH - RIGHT) y=(HEIGHT - 4.0) text-anchor="end" { (clock(*last)) }
            }
        }
    }
}

fn legend(items: &[(&str, String)]) -> Markup {
    html! {
        ul class="legend" {
            @for (name, class) in items {
                li { span class={ "swatch " (class) } aria-hidden="true" {} (name) }
            }
        }
    }
}

fn figure(title: &str, svg: Markup, legend_items: &[(&str, String)]) -> Markup {
    html! {
        figure class="chart" {
            figcaption { (title) }
            (svg)
            @if legend_items.len() > 1 { (legend(legend_items)) }
        }
    }
}

fn series_class(i: usize) -> String {
    format!("s{}", i % 6 + 1)
}

/// The latest value of each series, for the text alternative.
fn latest(series: &[Series<'_>], fmt: &dyn Fn(f64) -> String) -> String {
    let parts: Vec<String> = series
        .iter()
        .map(|s| match s.points.iter().rev().find_map(|p| *p) {
            Some(v) => format!("{} {}", s.name, fmt(v)),
            None => format!("{} none", s.name),
        })
        .collect();
    format!("Latest: {}.", parts.join(", "))
}

/// Lines over time; `fmt` writes a value as the axis shows it.
pub fn lines(
    title: &str,
    series: &[Series<'_>],
    times: &[DateTime<Utc>],
    fmt: &dyn Fn(f64) -> String,
) -> Markup {
    let n = times.len();
    let max = nice_max(series.iter().flat_map(|s| s.points.iter().flatten()).copied().fold(0.0, f64::max));
    let alt = format!("{title}. {}", latest(series, fmt));
    let svg = html! {
        svg class="plot" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(alt) {
            (axes(max, times, fmt))
            @for (i, s) in series.iter().enumerate() {
                @let path = path(&s.points, n, max);
                @if !path.is_empty() {
                    path class={ "line " (series_class(i)) } d=(path) fill="none" stroke-width="2" stroke-linejoin="round" {}
                }
                // A lone point has no line through it: a dot shows it.
                @for (j, v) in s.points.iter().enumerate() {
                    @if let Some(v) = v && is_lone(&s.points, j) {
                        circle class={ "dot " (series_class(i)) } cx=(x_of(j, n)) cy=(y_of(*v, max)) r="3" {}
                    }
                }
            }
        }
    };
    let items: Vec<(&str, String)> =
        series.iter().enumerate().map(|(i, s)| (s.name, series_class(i))).collect();
    figure(title, svg, &items)
}

fn is_lone(points: &[Option<f64>], j: usize) -> bool {
    let before = j > 0 && points[j - 1].is_some();
    let after = points.get(j + 1).is_some_and(Option::is_some);
    !before && !after
}

/// An SVG path through the points, broken where a point is missing.
fn path(points: &[Option<f64>], n: usize, max: f64) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p {
            Some(v) => {
                d.push_str(&format!(
                    "{}{:.1},{:.1} ",
                    if pen_down { "L" } else { "M" },
                    x_of(i, n),
                    y_of(*v, max)
                ));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d.trim_end().to_owned()
}

/// Bars over time, each split into a part (say, errors) at its base and the rest above it.
pub fn stacked_bars(
    title: &str,
    names: [&str; 2],
    bars: &[(f64, f64)],
    times: &[DateTime<Utc>],
    fmt: &dyn Fn(f64) -> String,
) -> Markup {
    let n = bars.len().max(1);
    let max = nice_max(bars.iter().map(|(total, _)| *total).fold(0.0, f64::max));
    let slot = (WIDTH - LEFT - RIGHT) / n as f64;
    let width = (slot * 0.7).max(1.0);
    let (last_total, last_part) = bars.last().copied().unwrap_or_default();
    let alt = format!("{title}. Latest: {} {}, {} {}.", names[0], fmt(last_total), names[1], fmt(last_part));
    let svg = html! {
        svg class="plot" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(alt) {
            (axes(max, times, fmt))
            @for (i, (total, part)) in bars.iter().enumerate() {
                @let x = LEFT + slot * i as f64 + (slot - width) / 2.0;
                @if *total > 0.0 {
                    rect class="bar" x=(format!("{x:.1}")) y=(format!("{:.1}", y_of(*total, max))) width=(format!("{width:.1}"))
                        height=(format!("{:.1}", y_of(0.0, max) - y_of(*total, max))) {}
                }
                @if *part > 0.0 {
                    rect class="bar very-late" x=(format!("{x:.1}")) y=(format!("{:.1}", y_of(*part, max))) width=(format!("{width:.1}"))
                        height=(format!("{:.1}", (y_of(0.0, max) - y_of(*part, max)).max(1.0))) {}
                }
            }
        }
    };
    figure(title, svg, &[(names[0], series_class(0)), (names[1], "bad".to_owned())])
}

/// A small line in a table cell: the shape of a trend, its values in the row beside it.
pub fn sparkline(label: &str, points: &[Option<f64>]) -> Markup {
    const W: f64 = 120.0;
    const H: f64 = 24.0;
    let max = points.iter().flatten().copied().fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let n = points.len();
    let mut d = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p {
            Some(v) => {
                let x = if n <= 1 { W } else { W * i as f64 / (n - 1) as f64 };
                let y = 2.0 + (H - 4.0) * (1.0 - v / max);
                d.push_str(&format!("{}{x:.1},{y:.1} ", if pen_down { "L" } else { "M" }));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    html! {
        svg class="spark" viewBox={ "0 0 " (W) " " (H) } width=(W) height=(H) role="img" aria-label=(label) {
            @if !d.is_empty() { path class="line s1" d=(d.trim_end()) fill="none" stroke-width="1.5" {} }
        }
    }
}

/// One step in a workflow graph.
pub struct Node<'a> {
    pub label: &'a str,
    /// Classes for its box: its status, and `critical` when it is on the critical path.
    pub class: String,
}

/// A workflow as a graph: one column per stage (a step sits one column right of its deepest
/// dependency), an arrow from each step to each step that needs it. Steps of one column can run
/// in parallel.
pub fn dag(title: &str, nodes: &[Node<'_>], deps: &[Vec<usize>], stages: &[Vec<usize>]) -> Markup {
    const COL: f64 = 190.0;
    const NODE_W: f64 = 160.0;
    const NODE_H: f64 = 36.0;
    const ROW: f64 = 50.0;
    const PAD: f64 = 8.0;
    let mut at = vec![(0.0, 0.0); nodes.len()];
    for (c, stage) in stages.iter().enumerate() {
        for (r, &i) in stage.iter().enumerate() {
            if let Some(slot) = at.get_mut(i) {
                *slot = (PAD + COL * c as f64, PAD + ROW * r as f64);
            }
        }
    }
    let rows = stages.iter().map(Vec::len).max().unwrap_or(1) as f64;
    let width = PAD * 2.0 + COL * stages.len().max(1) as f64 - (COL - NODE_W);
    let height = PAD * 2.0 + ROW * rows - (ROW - NODE_H);
    let short = |s: &str| {
        if s.chars().count() > 24 {
            format!("{}…", s.chars().take(23).collect::<String>())
        } else {
            s.to_owned()
        }
    };
    let alt = format!("{title}: {} steps in {} stages", nodes.len(), stages.len());
    html! {
        div class="table-wrap" tabindex="0" role="region" aria-label="Graph (scrolls)" {
            svg class="dag" width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } role="img" aria-label=(alt) {
                @for (i, ds) in deps.iter().enumerate() {
                    @for &d in ds {
                        @let (x1, y1) = (at[d].0 + NODE_W, at[d].1 + NODE_H / 2.0);
                        @let (x2, y2) = (at[i].0, at[i].1 + NODE_H / 2.0);
                        @let mid = (x1 + x2) / 2.0;
                        path class="edge" d=(format!("M{x1:.0},{y1:.0} C{mid:.0},{y1:.0} {mid:.0},{y2:.0} {x2:.0},{y2:.0}")) {}
                    }
                }
                @for (i, n) in nodes.iter().enumerate() {
                    g class={ "node " (n.class) } {
                        title { (n.label) }
                        rect x=(at[i].0) y=(at[i].1) width=(NODE_W) height=(NODE_H) rx="5" {}
                        text x=(at[i].0 + 8.0) y=(at[i].1 + NODE_H / 2.0 + 4.0) { (short(n.label)) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_chart_axis_rounds_up_to_1_2_or_5() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(3.2), 5.0);
        assert_eq!(nice_max(17.0), 20.0);
        assert_eq!(nice_max(0.0004), 0.0005);
        assert_eq!(nice_max(100.0), 100.0);
    }

    #[test]
    fn the_console_chart_path_breaks_where_points_are_missing() {
        let d = path(&[Some(1.0), Some(1.0), None, Some(0.0)], 4, 1.0);
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
    }
}
