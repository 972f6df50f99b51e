//! Operations (platform administrators): the last hour of this server's own figures — route
//! latency and errors, cache hit rates, job queues, circuit breakers and the database pool — as
//! charts and tables, from the in-process sampler (`api::operations`).

use api::operations::{RouteFigures, Slot, Window};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use api::AppState;

use crate::charts::{self, Series};
use crate::error::PageResult;
use crate::layout::{self, Nav};
use crate::session::Viewer;
use crate::ui;

/// Points per chart: a minute each over a full hour.
const POINTS: usize = 60;
/// Routes in the table (the busiest).
const ROUTES_SHOWN: usize = 30;
/// Queues drawn (the deepest now); the table lists them all.
const QUEUES_DRAWN: usize = 6;

fn ms(seconds: f64) -> String {
    let ms = seconds * 1000.0;
    if ms == 0.0 {
        "0".to_owned()
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn opt_ms(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "–".to_owned(), ms)
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 { "–".to_owned() } else { format!("{:.1}%", part as f64 * 100.0 / whole as f64) }
}

fn count(v: f64) -> String {
    if v >= 10.0 || v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

fn age(seconds: f64) -> String {
    match seconds {
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7200.0 => format!("{:.0} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}

fn tile(label: &str, value: String, note: &str) -> Markup {
    html! {
        div class="card stat" {
            span class="label" { (label) }
            span class="value" { (value) }
            span class="muted small" { (note) }
        }
    }
}

fn tiles(window: &Window, slots: &[Slot]) -> Markup {
    let requests: u64 = slots.iter().map(|s| s.requests).sum();
    let errors: u64 = slots.iter().map(|s| s.errors).sum();
    let hits: u64 = slots.iter().map(|s| s.cache_hits).sum();
    let misses: u64 = slots.iter().map(|s| s.cache_misses).sum();
    let latest = window.latest();
    let pool = latest.map(|s| s.pool).unwrap_or_default();
    let open = latest.map_or(0, |s| s.breakers.iter().filter(|b| b.state != "closed").count());
    let p95 = window
        .routes(1)
        .iter()
        .filter_map(|r| r.latency.p95)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    html! {
        section class="tiles" aria-label="Summary" {
            (tile("Requests", requests.to_string(), "in the window"))
            (tile("Error rate", pct(errors, requests), "answered 5xx"))
            (tile("Slowest route p95", opt_ms(p95), "of routes that answered"))
            (tile("Cache hit rate", pct(hits, hits + misses), &format!("{} lookups", hits + misses)))
            (tile("Database pool", format!("{} / {}", pool.in_use(), pool.max), "connections in use / most"))
            (tile("Breakers not closed", open.to_string(), "open or half-open now"))
        }
    }
}

fn traffic_charts(slots: &[Slot]) -> Markup {
    let times: Vec<_> = slots.iter().map(|s| s.at).collect();
    let latency = [
        Series { name: "p50", points: slots.iter().map(|s| s.latency.p50).collect() },
        Series { name: "p95", points: slots.iter().map(|s| s.latency.p95).collect() },
        Series { name: "p99", points: slots.iter().map(|s| s.latency.p99).collect() },
    ];
    let bars: Vec<(f64, f64)> = slots.iter().map(|s| (s.requests as f64, s.errors as f64)).collect();
    let hit_rate = [Series {
        name: "hit rate",
        points: slots
            .iter()
            .map(|s| {
                let all = s.cache_hits + s.cache_misses;
                (all > 0).then(|| s.cache_hits as f64 * 100.0 / all as f64)
            })
            .collect(),
    }];
    let pool = [
        Series { name: "in use", points: slots.iter().map(|s| Some(s.pool.in_use() as f64)).collect() },
        Series { name: "open", points: slots.iter().map(|s| Some(s.pool.size as f64)).collect() },
        Series { name: "most allowed", points: slots.iter().map(|s| Some(s.pool.max as f64)).collect() },
    ];
    html! {
        div class="grid-2" {
            div class="card" { (charts::lines("Latency, all routes", &latency, &times, &ms)) }
            div class="card" { (charts::stacked_bars("Requests and errors", ["requests", "5xx"], &bars, &times, &count)) }
            div class="card" { (charts::lines("Cache hit rate (%)", &hit_rate, &times, &|v| format!("{v:.0}%"))) }
            div class="card" { (charts::lines("Database connections", &pool, &times, &count)) }
        }
    }
}

fn queue_charts(slots: &[Slot]) -> Markup {
    let Some(last) = slots.last() else { return html! {} };
    let mut names: Vec<&str> = last.queues.iter().map(|q| q.queue.as_str()).collect();
    names.sort_by_key(|n| {
        std::cmp::Reverse(last.queues.iter().find(|q| q.queue == *n).map_or(0, |q| q.ready + q.retrying))
    });
    names.truncate(QUEUES_DRAWN);
    let times: Vec<_> = slots.iter().map(|s| s.at).collect();
    let per_queue = |f: &dyn Fn(&api::operations::QueueDepth) -> Option<f64>| -> Vec<Series<'_>> {
        names
            .iter()
            .map(|name| Series {
                name,
                points: slots
                    .iter()
                    .map(|s| s.queues.iter().find(|q| q.queue == *name).and_then(f))
                    .collect(),
            })
            .collect()
    };
    let depth = per_queue(&|q| Some((q.ready + q.retrying) as f64));
    let ages = per_queue(&|q| Some(q.oldest_ready_age_seconds.unwrap_or(0.0)));
    html! {
        @if !names.is_empty() {
            div class="grid-2" {
                div class="card" { (charts::lines("Jobs waiting (ready and retrying)", &depth, &times, &count)) }
                div class="card" { (charts::lines("Oldest waiting job", &ages, &times, &age)) }
            }
        }
    }
}

fn routes_table(routes: &[RouteFigures]) -> Markup {
    html! {
        section class="card flush" aria-labelledby="routes-h" {
            div class="table-foot" { h2 id="routes-h" { "Routes" } span { "busiest first; latency from the request histogram's buckets" } }
            @if routes.is_empty() {
                (ui::empty("No requests in the window", "Routes appear here once they answer a request.", None))
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="Routes (scrolls)" {
                    table class="data" {
                        thead { tr {
                            th scope="col" { "Route" } th scope="col" class="num" { "Requests" } th scope="col" class="num" { "Error rate" }
                            th scope="col" class="num" { "p50" } th scope="col" class="num" { "p95" } th scope="col" class="num" { "p99" }
                            th scope="col" { "p95 over the window" }
                        } }
                        tbody {
                            @for r in routes.iter().take(ROUTES_SHOWN) {
                                tr {
                                    td { code { (r.route) } }
                                    td class="num" { (r.requests) }
                                    td class="num" { @if r.errors > 0 { span class="badge danger" { (pct(r.errors, r.requests)) } } @else { "0%" } }
                                    td class="num" { (opt_ms(r.latency.p50)) }
                                    td class="num" { (opt_ms(r.latency.p95)) }
                                    td class="num" { (opt_ms(r.latency.p99)) }
                                    td { (charts::sparkline(&format!("p95 of {} over the window", r.route), &r.p95_by_slot)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn cache_table(window: &Window) -> Markup {
    let uses = window.cache();
    html! {
        section class="card flush" aria-labelledby="cache-h" {
            div class="table-foot" { h2 id="cache-h" { "Cache" } }
            @if uses.is_empty() {
                (ui::empty("No cache lookups yet", "Cached reads (the marketplace, sign-ins) are counted here.", None))
            } @else {
                table class="data" {
                    thead { tr { th scope="col" { "Use" } th scope="col" class="num" { "Hits" } th scope="col" class="num" { "Misses" } th scope="col" class="num" { "Hit rate" } } }
                    tbody {
                        @for u in &uses {
                            tr {
                                td { code { (u.name) } }
                                td class="num" { (u.hits) }
                                td class="num" { (u.misses) }
                                td class="num" { (u.hit_rate().map_or_else(|| "–".to_owned(), |r| format!("{:.1}%", r * 100.0))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn queues_table(window: &Window) -> Markup {
    let latest = window.latest().map(|s| &s.queues);
    html! {
        section class="card flush" aria-labelledby="queues-h" {
            div class="table-foot" { h2 id="queues-h" { "Job queues now" } }
            @match latest {
                Some(Err(e)) => div class="alert error" role="alert" { "The job queues could not be read: " (e) },
                Some(Ok(queues)) if !queues.is_empty() => {
                    table class="data" {
                        thead { tr {
                            th scope="col" { "Queue" } th scope="col" class="num" { "Ready" } th scope="col" class="num" { "Running" }
                            th scope="col" class="num" { "Retrying" } th scope="col" class="num" { "Scheduled" } th scope="col" class="num" { "Dead" }
                            th scope="col" class="num" { "Oldest waiting" }
                        } }
                        tbody {
                            @for q in queues {
                                tr {
                                    td { code { (q.queue) } }
                                    td class="num" { (q.ready) }
                                    td class="num" { (q.running) }
                                    td class="num" { (q.retrying) }
                                    td class="num" { (q.scheduled) }
                                    td class="num" { @if q.dead > 0 { span class="badge danger" { (q.dead) } } @else { "0" } }
                                    td class="num" { (q.oldest_ready_age_seconds.map_or_else(|| "–".to_owned(), age)) }
                                }
                            }
                        }
                    }
                }
                _ => (ui::empty("No jobs", "Queues appear once jobs are enqueued.", None)),
            }
        }
    }
}

fn breakers_table(window: &Window) -> Markup {
    let breakers = window.latest().map(|s| s.breakers.as_slice()).unwrap_or_default();
    html! {
        section class="card flush" aria-labelledby="breakers-h" {
            div class="table-foot" { h2 id="breakers-h" { "Circuit breakers" } }
            @if breakers.is_empty() {
                (ui::empty("No breakers yet", "A breaker appears once this process calls an outside service (QuickBooks, OCR).", None))
            } @else {
                table class="data" {
                    thead { tr { th scope="col" { "Service" } th scope="col" { "State" } th scope="col" class="num" { "Calls" } th scope="col" class="num" { "Failures" } } }
                    tbody {
                        @for b in breakers {
                            tr {
                                td { code { (b.name) } }
                                td { @match b.state { "closed" => span class="badge ok" { "closed" }, "open" => span class="badge danger" { "open" }, other => span class="badge warn" { (other.replace('_', " ")) } } }
                                td class="num" { (b.calls) }
                                td class="num" { (b.failures) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /operations`.
pub async fn show(State(state): State<AppState>, viewer: Viewer) -> PageResult<Response> {
    let admin = state.identity.platform_admin(&viewer.caller).await?;
    let window = state.operations.window(&admin);
    let every = window.interval.as_secs();
    let actions = html! {
        span class="muted small" { "This process, read every " (every) " s, the last hour" }
        a class="btn" href="/operations" { "Refresh" }
    };
    let body = html! {
        (layout::head_row("Operations", None, Some(actions)))
        @if window.samples.is_empty() {
            div class="card" {
                (ui::empty("No readings yet", &format!("The first reading is taken within {every} s of the server starting; reload then."), Some(html! { a class="btn" href="/operations" { "Reload" } })))
            }
        } @else {
            @let slots = window.slots(POINTS);
            (tiles(&window, &slots))
            (traffic_charts(&slots))
            (queue_charts(&slots))
            (routes_table(&window.routes(POINTS)))
            div class="grid-2" {
                (queues_table(&window))
                (breakers_table(&window))
            }
            (cache_table(&window))
        }
    };
    Ok(layout::page(&viewer, Nav::Operations, "Operations", body).into_response())
}
