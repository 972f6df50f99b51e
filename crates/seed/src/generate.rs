//! The generator: one RNG stream per firm (so firms can be reproduced independently), rows
//! written straight into COPY buffers.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use domain::invoice::{LineInput, compute_totals};
use domain::{ClientId, OrganizationId, TaxId, TaxIdKind};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use store::sqlx::postgres::PgConnection;
use uuid::Uuid;
use vault::KeyRing;

use crate::words::*;
use crate::writers::{Writers, anchor, pick, user_row, v7};
use crate::{Scale, SeedError, SeedReport};

pub const BENCH_SLUG: &str = "bench-cpa";
/// The password of every seeded user (printed by `countinghouse seed`).
pub const SEED_PASSWORD: &str = "seed-password-2026";
const SEED: u64 = 0x00C0_FFEE_2026;

pub(crate) async fn load(
    conn: &mut PgConnection,
    keys: &KeyRing,
    scale: Scale,
    password_hash: &str,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<SeedReport, SeedError> {
    let (firms, clients) = scale.size();
    // The benchmark firm holds a fifth of all clients; the others share the rest.
    let big = clients / 5;
    let rest = clients - big;
    let mut w = Writers::new();
    let mut report = SeedReport { firms: firms as u64, ..SeedReport::default() };
    let mut reviewers = Vec::with_capacity(firms);
    for f in 0..firms {
        let n = if f == 0 {
            big
        } else if f == firms - 1 {
            rest - (rest / (firms - 1)) * (firms - 2)
        } else {
            rest / (firms - 1)
        };
        let slug = if f == 0 { BENCH_SLUG.to_owned() } else { format!("seed-firm-{f:03}") };
        if let Some(bar) = bar {
            bar.set_message(slug.clone());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ (f as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        reviewers.push(firm(&mut w, &mut rng, keys, &slug, n, password_hash, conn, bar, &mut report).await?);
    }
    if let Some(bar) = bar {
        bar.set_prefix("advisors");
        bar.set_message("advisory firms");
        bar.set_length(scale.advisors() as u64);
        bar.set_position(0);
    }
    crate::marketplace::load(&mut w, conn, scale.advisors(), &reviewers, password_hash, bar).await?;
    for wr in w.all() {
        wr.flush(conn).await?;
    }
    report.users = w.users.rows();
    report.clients = w.clients.rows();
    report.engagements = w.engagements.rows();
    report.invoices = w.invoices.rows();
    report.invoice_lines = w.lines.rows();
    report.payments = w.payments.rows();
    report.portal_grants = w.portal.rows();
    report.advisors = w.market.profiles.rows();
    report.reviews = w.market.reviews.rows();
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn firm(
    w: &mut Writers,
    rng: &mut ChaCha8Rng,
    keys: &KeyRing,
    slug: &str,
    clients: usize,
    password_hash: &str,
    conn: &mut PgConnection,
    bar: Option<&indicatif::ProgressBar>,
    report: &mut SeedReport,
) -> Result<OrganizationId, SeedError> {
    let founded = anchor() - TimeDelta::days(rng.random_range(2000..4000));
    let org = OrganizationId::from_uuid(v7(rng, founded));
    let name = format!(
        "{} {} CPA {}",
        NAME_A.choose(rng).unwrap_or(&"Blue"),
        LAST.choose(rng).unwrap_or(&"Smith"),
        "LLP"
    );
    w.orgs.raw(org).text(&name).raw(founded).raw(founded).end_row();
    w.directory.text(slug).raw(org).raw(founded).end_row();

    // Staff sized to the book of business: a person per ~100 clients, 5 to 200.
    let staff_n = (clients / 100).clamp(5, 200);
    let mut staff: Vec<Uuid> = Vec::with_capacity(staff_n);
    for i in 0..staff_n {
        let role = match i {
            0 => "owner",
            1 => "admin",
            2 => "manager",
            i if i % 10 == 3 => "senior_cpa",
            i if i % 3 == 0 => "cpa",
            i if i % 17 == 5 => "intern",
            _ => "staff",
        };
        let email = if i < 3 { format!("{role}@{slug}.test") } else { format!("{role}{i}@{slug}.test") };
        let user = user_row(w, rng, org, &email, role, password_hash, founded);
        if !matches!(role, "owner" | "admin" | "intern") {
            staff.push(user);
        }
    }

    let mut invoice_number = 0u64;
    for i in 0..clients {
        let created = anchor() - TimeDelta::minutes(rng.random_range(0..5 * 365 * 24 * 60));
        let client = ClientId::from_uuid(v7(rng, created));
        let assigned = rng.random_bool(0.85).then(|| *staff.choose(rng).unwrap_or(&staff[0]));
        client_row(w, rng, keys, org, client, assigned, created);
        for _ in 0..rng.random_range(0..=10) {
            let e = engagement_row(w, rng, org, client, &staff, created);
            let _ = e;
        }
        for _ in 0..rng.random_range(0..=6) {
            invoice_number += 1;
            invoice_rows(w, rng, org, client, invoice_number, created);
        }
        // One portal user for every 200 clients.
        if i % 200 == 7 {
            let email = format!("portal{i}@{slug}.test");
            let user = user_row(w, rng, org, &email, "client", password_hash, created);
            let id = v7(rng, created);
            w.portal.raw(id).raw(org).raw(user).raw(client).text("view").raw(created).raw(created).end_row();
        }
        if i % 1000 == 999 {
            w.flush_full(conn).await?;
            if let Some(bar) = bar {
                bar.inc(1000);
            }
        }
    }
    if let Some(bar) = bar {
        bar.inc((clients % 1000) as u64);
    }
    w.sequences.raw(org).raw(invoice_number + 1).end_row();
    report.firms = report.firms.max(1);
    Ok(org)
}

fn client_row(
    w: &mut Writers,
    rng: &mut ChaCha8Rng,
    keys: &KeyRing,
    org: OrganizationId,
    client: ClientId,
    assigned: Option<Uuid>,
    created: DateTime<Utc>,
) {
    let a = NAME_A.choose(rng).unwrap_or(&"Blue");
    let b = NAME_B.choose(rng).unwrap_or(&"Fern");
    let business_type = pick(
        rng,
        &[
            ("llc", 35),
            ("s_corporation", 20),
            ("corporation", 10),
            ("sole_proprietorship", 15),
            ("partnership", 8),
            ("individual", 8),
            ("nonprofit", 3),
            ("trust", 1),
        ],
    );
    let person = matches!(business_type, "individual" | "sole_proprietorship");
    let contact_first = FIRST.choose(rng).unwrap_or(&"Ava");
    let contact_last = LAST.choose(rng).unwrap_or(&"Smith");
    let business_name = if business_type == "individual" {
        format!("{contact_first} {contact_last}")
    } else {
        format!("{a} {b} {}", SUFFIX.choose(rng).unwrap_or(&"LLC"))
    };
    w.clients.raw(client).raw(org).text(&business_name);
    w.clients.opt(
        rng.random_bool(0.5)
            .then(|| format!("{business_name} of {}", CITIES.choose(rng).unwrap_or(&"Austin, TX")))
            .as_deref(),
    );
    // Tax ids: SSNs for people, EINs for entities; 10% not on file yet.
    if rng.random_bool(0.9) {
        let raw = if person {
            format!(
                "{:03}-{:02}-{:04}",
                rng.random_range(1..666),
                rng.random_range(1..100),
                rng.random_range(1..10000)
            )
        } else {
            const PREFIXES: &[u32] =
                &[10, 12, 20, 23, 26, 27, 30, 33, 36, 38, 45, 46, 47, 52, 54, 56, 61, 65, 74, 81, 84, 87, 93];
            format!("{:02}-{:07}", PREFIXES.choose(rng).unwrap_or(&12), rng.random_range(0..10_000_000))
        };
        let kind = if person { TaxIdKind::Ssn } else { TaxIdKind::Ein };
        match TaxId::parse(&raw, Some(kind)) {
            Ok(t) => {
                let sealed = practice::tax::seal(keys, org, client, &t);
                w.clients
                    .text(if person { "ssn" } else { "ein" })
                    .bytea(&sealed.sealed)
                    .bytea(&sealed.index)
                    .text(&sealed.last4);
            }
            Err(_) => {
                w.clients.null().null().null().null();
            }
        }
    } else {
        w.clients.null().null().null().null();
    }
    w.clients.text(&format!("{contact_first} {contact_last}"));
    w.clients.text(&format!(
        "{}.{}@{}.test",
        contact_first.to_lowercase(),
        contact_last.to_lowercase().replace(['\'', 'ü'], ""),
        b.to_lowercase()
    ));
    w.clients.text(&format!("+1 ({}) 555-{:04}", rng.random_range(201..990), rng.random_range(0..10000)));
    w.clients.text(business_type);
    w.clients.text(INDUSTRY.choose(rng).unwrap_or(&"retail"));
    w.clients.opt(
        rng.random_bool(0.4)
            .then(|| format!("https://{}{}.test", a.to_lowercase(), b.to_lowercase()))
            .as_deref(),
    );
    let status = pick(rng, &[("active", 80), ("inactive", 8), ("prospect", 10), ("archived", 2)]);
    w.clients.text(status).opt((status == "archived").then_some("active"));
    w.clients.text(pick(rng, &[("low", 70), ("medium", 22), ("high", 8)]));
    let revenue = rng.random_bool(0.9).then(|| {
        let dollars = 10f64.powf(rng.random_range(4.5..8.0));
        Decimal::from(dollars as i64) + Decimal::new(rng.random_range(0..100), 2)
    });
    w.clients.opt_raw(revenue).opt_raw(assigned);
    let mut tags: Vec<&str> =
        (0..rng.random_range(0..=3)).filter_map(|_| TAGS.choose(rng).copied()).collect();
    tags.sort_unstable();
    tags.dedup();
    w.clients.words(&tags);
    w.clients.text(&format!(
        "{} {}, {}",
        rng.random_range(1..9999),
        STREETS.choose(rng).unwrap_or(&"Main St"),
        CITIES.choose(rng).unwrap_or(&"Austin, TX")
    ));
    w.clients.raw(created).raw(created).end_row();
}

fn engagement_row(
    w: &mut Writers,
    rng: &mut ChaCha8Rng,
    org: OrganizationId,
    client: ClientId,
    staff: &[Uuid],
    client_created: DateTime<Utc>,
) -> Uuid {
    let span = (anchor() - client_created).num_minutes().max(1);
    let created = client_created + TimeDelta::minutes(rng.random_range(0..span));
    let id = v7(rng, created);
    let kind = pick(
        rng,
        &[
            ("tax_preparation", 40),
            ("bookkeeping", 25),
            ("advisory", 12),
            ("cfo_services", 8),
            ("audit", 5),
            ("review", 10),
        ],
    );
    let year = created.year();
    let status = pick(
        rng,
        &[
            ("completed", 55),
            ("in_progress", 18),
            ("planning", 10),
            ("review", 7),
            ("on_hold", 5),
            ("cancelled", 5),
        ],
    );
    let start = created.date_naive();
    let due = start + TimeDelta::days(rng.random_range(14..180));
    let est = Decimal::new(rng.random_range(200..8000), 2);
    let actual =
        if status == "planning" { Decimal::ZERO } else { Decimal::new(rng.random_range(100..9000), 2) };
    let name = match kind {
        "tax_preparation" => format!("{} tax return", year),
        "bookkeeping" => format!("{} bookkeeping", year),
        "advisory" => "Advisory".to_owned(),
        "cfo_services" => "Fractional CFO retainer".to_owned(),
        "audit" => format!("{} audit", year),
        _ => format!("{} financial review", year),
    };
    w.engagements.raw(id).raw(org).raw(client).text(&name).text(kind).text(status);
    w.engagements.text(pick(rng, &[("normal", 60), ("high", 20), ("low", 15), ("urgent", 5)]));
    w.engagements.raw(start).raw(due);
    w.engagements
        .opt_raw((status == "completed").then(|| created + TimeDelta::days(rng.random_range(10..120))));
    w.engagements.raw(est).raw(actual).raw(Decimal::new(rng.random_range(120..400) * 100, 2));
    w.engagements.opt_raw(rng.random_bool(0.2).then(|| Decimal::new(rng.random_range(500..20000) * 100, 2)));
    w.engagements.opt_raw((kind == "tax_preparation").then_some(year));
    w.engagements.opt_raw(staff.choose(rng));
    w.engagements.raw(created).raw(created).end_row();
    id
}

fn invoice_rows(
    w: &mut Writers,
    rng: &mut ChaCha8Rng,
    org: OrganizationId,
    client: ClientId,
    number: u64,
    client_created: DateTime<Utc>,
) {
    let earliest = client_created.max(anchor() - TimeDelta::days(730));
    let span = (anchor() - earliest).num_days().max(1);
    let issue: NaiveDate = (earliest + TimeDelta::days(rng.random_range(0..span))).date_naive();
    let due = issue + TimeDelta::days(30);
    let lines: Vec<LineInput> = (0..rng.random_range(1..=4))
        .map(|_| LineInput {
            description: (*LINE_ITEMS.choose(rng).unwrap_or(&"Advisory session")).to_owned(),
            quantity: Decimal::from(rng.random_range(1..=10)),
            unit_price: Decimal::new(rng.random_range(50..2000) * 100, 2),
        })
        .collect();
    let tax_rate = if rng.random_bool(0.3) { Decimal::new(725, 4) } else { Decimal::ZERO };
    let Ok(totals) = compute_totals(&lines, tax_rate, Decimal::ZERO) else {
        return;
    };
    let past_due = due < anchor().date_naive();
    let status = if past_due {
        pick(rng, &[("paid", 75), ("overdue", 12), ("partial", 5), ("cancelled", 5), ("sent", 3)])
    } else {
        pick(rng, &[("sent", 45), ("viewed", 15), ("draft", 20), ("paid", 15), ("partial", 5)])
    };
    let paid = match status {
        "paid" => totals.total,
        "partial" => domain::invoice::cents(totals.total * Decimal::new(rng.random_range(20..80), 2)),
        _ => Decimal::ZERO,
    };
    let issued_at = Utc.from_utc_datetime(&issue.and_hms_opt(9, 0, 0).unwrap_or_default());
    let id = v7(rng, issued_at);
    let sent_at = (status != "draft").then_some(issued_at);
    let paid_at = (status == "paid").then(|| issued_at + TimeDelta::days(rng.random_range(1..45)));
    w.invoices.raw(id).raw(org).raw(client).null().text(&format!("INV-{number:06}")).text(status);
    w.invoices.raw(issue).raw(due).raw(tax_rate).raw(totals.subtotal).raw(totals.tax_amount);
    w.invoices.raw(totals.discount_amount).raw(totals.total).raw(paid).opt_raw(sent_at).opt_raw(paid_at);
    w.invoices.raw(issued_at).raw(issued_at).end_row();
    for (pos, (line, amount)) in lines.iter().zip(&totals.line_amounts).enumerate() {
        w.lines.raw(v7(rng, issued_at)).raw(org).raw(id).raw(pos + 1).text(&line.description);
        w.lines.raw(line.quantity).raw(line.unit_price).raw(amount).end_row();
    }
    if paid > Decimal::ZERO {
        let on = paid_at.unwrap_or(issued_at + TimeDelta::days(10));
        w.payments.raw(v7(rng, on)).raw(org).raw(id).raw(paid).raw(on.date_naive());
        w.payments.text(pick(rng, &[("ach", 50), ("card", 30), ("check", 20)])).raw(on).end_row();
    }
}
