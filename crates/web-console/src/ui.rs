//! Small pieces every page uses: money, dates, status badges, empty states, pagers, and the query
//! extractor that treats a form's empty fields as absent.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{PageError, url_encode};

/// Query parameters, with the empty fields a GET form sends left out (so `?status=&q=` is "no
/// filter", not an invalid status); an invalid one is a 400 page naming it.
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, PageError> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| PageError::BadForm("the address's query could not be read".into()))?;
        let kept: Vec<_> = pairs.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
        let encoded = serde_urlencoded::to_string(&kept).unwrap_or_default();
        serde_urlencoded::from_str(&encoded)
            .map(PageQuery)
            .map_err(|e| PageError::BadForm(format!("a filter is not valid: {e}")))
    }
}

/// An enum's wire name (`in_progress`), which is also how pages show it, spaced.
pub fn label<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s.replace('_', " "),
        _ => String::new(),
    }
}

/// A status badge, coloured by what the status means for the person reading it.
pub fn badge(text: &str) -> Markup {
    let tone = match text {
        "active" | "on" | "paid" | "approved" | "completed" | "processed" | "verified" | "succeeded"
        | "connected" | "done" => "ok",
        "overdue" | "failed" | "rejected" | "cancelled" | "dead" | "reconnect needed" | "high"
        | "critical" | "blocked" => "danger",
        "needs review" | "pending" | "draft" | "prospect" | "on hold" | "medium" | "retrying" | "running"
        | "queued" | "processing" | "sent" | "submitted" => "warn",
        "in progress" | "viewed" | "partially paid" | "ready" => "info",
        _ => "",
    };
    html! { span class={ "badge " (tone) } { (text) } }
}

/// An amount with its currency, grouped by thousands (`USD 12,345.60`).
pub fn money(amount: Decimal, currency: &str) -> String {
    let mut a = amount;
    a.rescale(2);
    let s = a.abs().to_string();
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if a.is_sign_negative() && !a.is_zero() { "-" } else { "" };
    format!("{currency} {sign}{grouped}.{frac}")
}

pub fn date(d: NaiveDate) -> String {
    d.format("%b %-d, %Y").to_string()
}

pub fn datetime(t: DateTime<Utc>) -> String {
    t.format("%b %-d, %Y %H:%M UTC").to_string()
}

/// `<time>` with the machine-readable instant.
pub fn time(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (datetime(t)) } }
}

/// What a list shows when it has nothing: what would be here, and how to get some.
pub fn empty(title: &str, text: &str, action: Option<Markup>) -> Markup {
    html! {
        div class="empty" {
            h3 { (title) }
            p { (text) }
            @if let Some(a) = action { (a) }
        }
    }
}

/// "First page" and "Next page" links keeping the list's other parameters.
pub fn pager(path: &str, params: &[(&str, String)], next_cursor: Option<&str>, shown: usize) -> Markup {
    let mut rest: Vec<(&str, String)> = params.iter().filter(|(k, _)| *k != "cursor").cloned().collect();
    let paged = params.iter().any(|(k, v)| *k == "cursor" && !v.is_empty());
    let first = href(path, &rest);
    let next = next_cursor.map(|c| {
        rest.push(("cursor", c.to_owned()));
        href(path, &rest)
    });
    html! {
        div class="table-foot" {
            span { (shown) " shown" }
            div class="pager" {
                @if paged { a class="btn" href=(first) { "First page" } }
                @if let Some(next) = next { a class="btn" rel="next" href=(next) { "Next page →" } }
            }
        }
    }
}

/// `path?k=v&…` with the empty values left out.
pub fn href(path: &str, params: &[(&str, String)]) -> String {
    let q: Vec<String> =
        params.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", url_encode(v))).collect();
    if q.is_empty() { path.to_owned() } else { format!("{path}?{}", q.join("&")) }
}

/// A confidence as a percentage.
pub fn percent(c: f32) -> String {
    format!("{:.0}%", c * 100.0)
}

/// Horizontal bars of amounts (label, amount, tone: "", "late" or "very-late"), scaled to the
/// largest, drawn as SVG: sizes are attributes, which the CSP allows (inline styles it does not).
pub fn bars(rows: &[(&str, Decimal, &str)], currency: &str) -> Markup {
    let max = rows.iter().map(|(_, v, _)| *v).max().unwrap_or_default();
    html! {
        div class="bars" {
            @for (name, value, tone) in rows {
                @let share = if max.is_zero() { 0.0 } else { (value / max).to_f64().unwrap_or(0.0) };
                div class="bar-row" {
                    span { (name) }
                    svg viewBox="0 0 100 6" preserveAspectRatio="none" height="10" width="100%" role="img" aria-label={ (name) ": " (money(*value, currency)) } {
                        rect class={ "bar " (tone) } x="0" y="0" height="6" width=(format!("{:.2}", (share * 100.0).max(0.5))) {}
                    }
                    span class="num" { (money(*value, currency)) }
                }
            }
        }
    }
}

/// Receivables by age as bars: current, 1–30, 31–60, 61–90 and over 90 days past due.
pub fn aging_bars(buckets: [Decimal; 5], currency: &str) -> Markup {
    let [current, d30, d60, d90, over] = buckets;
    bars(
        &[
            ("Current", current, ""),
            ("1–30 days", d30, "late"),
            ("31–60 days", d60, "late"),
            ("61–90 days", d90, "very-late"),
            ("Over 90", over, "very-late"),
        ],
        currency,
    )
}

/// A form's fields as sent, for forms with repeated names (checkbox groups), which a struct cannot
/// take: read with `CsrfForm<Vec<(String, String)>>`.
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// Every non-empty value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The first non-empty value of `name`.
    pub fn one(&self, name: &str) -> Option<String> {
        self.all(name).into_iter().next()
    }

    /// A comma-separated list field.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.one(name)
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.one(name).is_some()
    }
}

/// A group of checkboxes over a vocabulary, with `chosen` ticked.
pub fn checkboxes(legend: &str, name: &str, options: &[String], chosen: &[String]) -> Markup {
    html! {
        fieldset class="checks" {
            legend { (legend) }
            @for o in options {
                label class="inline" { input type="checkbox" name=(name) value=(o) checked[chosen.contains(o)]; " " (o.replace('_', " ")) }
            }
        }
    }
}
