//! The marketplace's advisors: advisory firms of fifty advisors each, their profiles (most
//! active, some still in review, rejected or suspended), the public listing of the active ones,
//! and reviews written by the seeded CPA firms.
//!
//! The copy runs with triggers off, so the listing and its rating are written here exactly as
//! the migration's triggers would have computed them (the plans test checks they agree).

use chrono::{DateTime, TimeDelta, Utc};
use domain::OrganizationId;
use domain::marketplace::{BUSINESS_SIZES, CERTIFICATIONS, INDUSTRIES, LANGUAGES, PRICING_MODELS, SERVICES};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, RoundingStrategy};
use store::sqlx::postgres::PgConnection;
use uuid::Uuid;

use crate::SeedError;
use crate::words::{FIRST, LAST, NAME_A, NAME_B};
use crate::writers::{Writers, anchor, pick, user_row, v7};

/// Advisors per advisory firm.
const PER_FIRM: usize = 50;
const SEED: u64 = 0x00AD_0150_2026;

const TITLES: &[&str] = &[
    "Fractional CFO",
    "Outsourced Controller",
    "Interim CFO",
    "FP&A Lead",
    "Tax Strategist",
    "Finance Transformation Advisor",
    "Startup CFO",
    "Bookkeeping Lead",
    "Audit Readiness Advisor",
    "Controller",
];

const FOCUS: &[&str] = &[
    "Cash flow forecasting",
    "Fundraising readiness",
    "Board reporting",
    "Margin improvement",
    "Month-end close",
    "Multi-entity consolidation",
    "Tax planning",
    "ERP selection",
    "Pricing strategy",
    "Exit planning",
];

const BIO: &[&str] = &[
    "Former public-company controller.",
    "Built the finance function at three venture-backed startups.",
    "Big Four audit background.",
    "Led two acquisitions from diligence to integration.",
    "Turns messy books into a reliable monthly close.",
    "Builds driver-based forecasts owners actually use.",
    "Works closely with founders and boards.",
    "Specialises in inventory-heavy businesses.",
    "Has taken companies through SOC 2 and first audits.",
    "Focused on profitability and cash conversion.",
];

const TIMEZONES: &[&str] =
    &["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London"];

/// Up to `max` distinct values of `from`, at least one, in vocabulary order.
fn some<'a>(rng: &mut ChaCha8Rng, from: &[&'a str], max: usize) -> Vec<&'a str> {
    let n = rng.random_range(1..=max.min(from.len()));
    let mut v: Vec<&str> = from.choose_multiple(rng, n).copied().collect();
    v.sort_by_key(|x| from.iter().position(|f| f == x));
    v
}

fn money(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> Decimal {
    Decimal::new(rng.random_range(lo..hi) * 100, 2)
}

/// Writes `advisors` advisors in firms named `seed-advisory-NNN`, reviewed by `reviewers`.
pub(crate) async fn load(
    w: &mut Writers,
    conn: &mut PgConnection,
    advisors: usize,
    reviewers: &[OrganizationId],
    password_hash: &str,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<(), SeedError> {
    let firms = advisors.div_ceil(PER_FIRM);
    for f in 0..firms {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ (f as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let founded = anchor() - TimeDelta::days(rng.random_range(800..3000));
        let org = OrganizationId::from_uuid(v7(&mut rng, founded));
        let slug = format!("seed-advisory-{f:03}");
        let name = format!(
            "{} {} Advisory",
            NAME_A.choose(&mut rng).unwrap_or(&"Blue"),
            NAME_B.choose(&mut rng).unwrap_or(&"Fern")
        );
        w.orgs.raw(org).text(&name).raw(founded).raw(founded).end_row();
        w.directory.text(&slug).raw(org).raw(founded).end_row();
        user_row(w, &mut rng, org, &format!("owner@{slug}.test"), "owner", password_hash, founded);
        let n = PER_FIRM.min(advisors - f * PER_FIRM);
        for i in 0..n {
            let joined = founded + TimeDelta::days(rng.random_range(0..700));
            let user =
                user_row(w, &mut rng, org, &format!("advisor{i}@{slug}.test"), "cpa", password_hash, joined);
            advisor(w, &mut rng, org, user, joined, reviewers);
        }
        if w.needs_flush() {
            w.flush_full(conn).await?;
        }
        if let Some(bar) = bar {
            bar.inc(n as u64);
        }
    }
    Ok(())
}

fn advisor(
    w: &mut Writers,
    rng: &mut ChaCha8Rng,
    org: OrganizationId,
    user: Uuid,
    joined: DateTime<Utc>,
    reviewers: &[OrganizationId],
) {
    let id = v7(rng, joined);
    let name = format!("{} {}", FIRST.choose(rng).unwrap_or(&"Ava"), LAST.choose(rng).unwrap_or(&"Smith"));
    let title = *TITLES.choose(rng).unwrap_or(&"Fractional CFO");
    let industries = some(rng, INDUSTRIES, 4);
    let services = some(rng, SERVICES, 5);
    let headline = format!(
        "{} for {} companies",
        FOCUS.choose(rng).unwrap_or(&"Cash flow forecasting"),
        industries[0].replace('_', " ")
    );
    let bio =
        (0..rng.random_range(2..=4)).filter_map(|_| BIO.choose(rng).copied()).collect::<Vec<_>>().join(" ");
    let spans = [(rng.random_range(1..5), 20), (rng.random_range(5..15), 50), (rng.random_range(15..40), 30)];
    let years: i32 = pick(rng, &spans);
    let certifications: Vec<&str> = if rng.random_bool(0.65) {
        let mut c = vec!["cpa"];
        let more = rng.random_range(0..=2);
        c.extend(some(rng, &CERTIFICATIONS[1..], 2).into_iter().take(more));
        c
    } else if rng.random_bool(0.5) {
        some(rng, &CERTIFICATIONS[1..], 2)
    } else {
        Vec::new()
    };
    let sizes = some(rng, BUSINESS_SIZES, 3);
    let mut languages = vec!["en"];
    if rng.random_bool(0.2) {
        languages.push(LANGUAGES[rng.random_range(1..LANGUAGES.len())]);
    }
    let timezone = *TIMEZONES.choose(rng).unwrap_or(&"America/New_York");
    let remote_only = rng.random_bool(0.4);
    let hourly = rng.random_bool(0.9).then(|| money(rng, 75, 450));
    let (retainer_min, retainer_max) = if rng.random_bool(0.7) {
        let lo = money(rng, 15, 100) * Decimal::from(100);
        (Some(lo), Some((lo * Decimal::new(rng.random_range(15..30), 1)).round_dp(2)))
    } else {
        (None, None)
    };
    let project = rng.random_bool(0.5).then(|| money(rng, 20, 250) * Decimal::from(100));
    let pricing = some(rng, PRICING_MODELS, 3);
    let max_clients: i32 = rng.random_range(5..=30);
    let current: i32 = if rng.random_bool(0.2) { max_clients } else { rng.random_range(0..max_clients) };
    let available = rng.random_bool(0.9);
    let status =
        pick(rng, &[("active", 85), ("under_review", 5), ("pending", 5), ("rejected", 3), ("suspended", 2)]);
    let verified =
        matches!(status, "active" | "suspended").then(|| joined + TimeDelta::days(rng.random_range(1..10)));
    let reason = match status {
        "rejected" => Some("Add your licence number to the bio"),
        "suspended" => Some("Licence lapsed"),
        _ => None,
    };

    let p = &mut w.market.profiles;
    p.raw(id).raw(org).raw(user).text(&name).text(title).text(&headline).text(&bio).raw(years);
    p.words(&certifications)
        .words(&industries)
        .words(&services)
        .words(&sizes)
        .words(&languages)
        .text(timezone);
    p.raw(remote_only).opt_raw(hourly).opt_raw(retainer_min).opt_raw(retainer_max).opt_raw(project);
    p.words(&pricing).raw(max_clients).raw(current).raw(available).text(status).opt(reason).opt_raw(verified);
    p.raw(joined).raw(verified.unwrap_or(joined)).end_row();
    if status != "active" {
        return;
    }

    // Reviews: a third of advisors have none yet; the rest a long tail, mostly good.
    let counts =
        [(rng.random_range(1..5), 50), (rng.random_range(5..20), 40), (rng.random_range(20..60), 10)];
    let reviews: u32 = if rng.random_bool(0.3) { 0 } else { pick(rng, &counts) };
    let (mut published, mut sum) = (0i64, 0i64);
    let listed = verified.unwrap_or(joined);
    for _ in 0..reviews {
        let at = listed + TimeDelta::days(rng.random_range(1..400));
        let overall: i16 = pick(rng, &[(10, 25), (9, 30), (8, 20), (7, 10), (6, 6), (5, 4), (3, 3), (1, 2)]);
        let near = |rng: &mut ChaCha8Rng| (overall + rng.random_range(-1..=1)).clamp(1, 10);
        let is_published = rng.random_bool(0.9);
        if is_published {
            published += 1;
            sum += i64::from(overall);
        }
        let r = &mut w.market.reviews;
        let reviewer = reviewers.choose(rng).copied().unwrap_or(org);
        r.raw(v7(rng, at)).raw(id).raw(reviewer).raw(v7(rng, at)).raw(overall);
        r.raw(near(rng)).raw(near(rng)).raw(near(rng)).opt_raw(rng.random_bool(0.7).then(|| near(rng)));
        r.opt_raw(rng.random_bool(0.7).then(|| near(rng)));
        r.opt(rng.random_bool(0.5).then_some("Clear monthly reporting and always reachable."))
            .raw(is_published);
        r.raw(at).end_row();
    }
    // As the trigger computes it: round(avg(overall) / 2.0, 2) over published reviews.
    let rating = if published == 0 {
        Decimal::ZERO
    } else {
        (Decimal::from(sum) / Decimal::from(published) / Decimal::from(2))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    };
    let l = &mut w.market.listings;
    l.raw(id).raw(org).text(&name).text(title).text(&headline).text(&bio).raw(years);
    l.words(&certifications)
        .words(&industries)
        .words(&services)
        .words(&sizes)
        .words(&languages)
        .text(timezone);
    l.raw(remote_only).opt_raw(hourly).opt_raw(retainer_min).opt_raw(retainer_max).opt_raw(project);
    l.words(&pricing).raw(max_clients).raw(current).raw(available).raw(rating).raw(published).raw(listed);
    l.end_row();
}
