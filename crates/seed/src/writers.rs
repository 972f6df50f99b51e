//! What every generator writes with: the COPY buffers of the seeded tables, the anchor day, UUIDv7s
//! from a firm's RNG, weighted picks, and the user rows both firms and advisory firms have.

use chrono::{DateTime, TimeZone, Utc};
use domain::OrganizationId;
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use store::sqlx::postgres::PgConnection;
use uuid::Uuid;

use crate::SeedError;
use crate::copy::CopyWriter;
use crate::words::{FIRST, LAST};

/// Everything is dated relative to this day, not "now", so the data is the same on every run.
pub(crate) fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).single().expect("valid anchor date")
}

/// A UUIDv7 for a moment, with random bits from the firm's RNG (deterministic and time-ordered).
pub(crate) fn v7(rng: &mut ChaCha8Rng, at: DateTime<Utc>) -> Uuid {
    let mut rand_bytes = [0u8; 10];
    rng.fill(&mut rand_bytes);
    uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis().max(0) as u64, &rand_bytes).into_uuid()
}

pub(crate) struct Writers {
    pub orgs: CopyWriter,
    pub directory: CopyWriter,
    pub users: CopyWriter,
    pub memberships: CopyWriter,
    pub clients: CopyWriter,
    pub engagements: CopyWriter,
    pub sequences: CopyWriter,
    pub invoices: CopyWriter,
    pub lines: CopyWriter,
    pub payments: CopyWriter,
    pub portal: CopyWriter,
    pub market: MarketWriters,
}

impl Writers {
    pub fn new() -> Self {
        Writers {
            orgs: CopyWriter::new("organizations", "id, name, created_at, updated_at"),
            directory: CopyWriter::new("organization_directory", "slug, organization_id, created_at"),
            users: CopyWriter::new(
                "users",
                "id, organization_id, email, name, password_hash, status, created_at, updated_at",
            ),
            memberships: CopyWriter::new(
                "memberships",
                "id, organization_id, user_id, role, created_at, updated_at",
            ),
            clients: CopyWriter::new(
                "clients",
                "id, organization_id, business_name, legal_name, tax_id_kind, tax_id_sealed, tax_id_index, \
                 tax_id_last4, primary_contact_name, primary_contact_email, primary_contact_phone, business_type, \
                 industry, website, status, archived_from, risk_level, annual_revenue, assigned_to, tags, \
                 business_address, created_at, updated_at",
            ),
            engagements: CopyWriter::new(
                "engagements",
                "id, organization_id, client_id, name, engagement_type, status, priority, start_date, due_date, \
                 completed_at, estimated_hours, actual_hours, hourly_rate, fixed_fee, tax_year, assigned_to, \
                 created_at, updated_at",
            ),
            sequences: CopyWriter::new("invoice_sequences", "organization_id, next_number"),
            invoices: CopyWriter::new(
                "invoices",
                "id, organization_id, client_id, engagement_id, number, status, issue_date, due_date, tax_rate, \
                 subtotal, tax_amount, discount_amount, total, paid_amount, sent_at, paid_at, created_at, updated_at",
            ),
            lines: CopyWriter::new(
                "invoice_lines",
                "id, organization_id, invoice_id, position, description, quantity, unit_price, amount",
            ),
            payments: CopyWriter::new(
                "invoice_payments",
                "id, organization_id, invoice_id, amount, paid_on, method, created_at",
            ),
            portal: CopyWriter::new(
                "client_portal_access",
                "id, organization_id, user_id, client_id, access_level, created_at, updated_at",
            ),
            market: MarketWriters::new(),
        }
    }

    pub fn all(&mut self) -> impl Iterator<Item = &mut CopyWriter> {
        [
            &mut self.orgs,
            &mut self.directory,
            &mut self.users,
            &mut self.memberships,
            &mut self.clients,
            &mut self.engagements,
            &mut self.sequences,
            &mut self.invoices,
            &mut self.lines,
            &mut self.payments,
            &mut self.portal,
        ]
        .into_iter()
        .chain(self.market.all())
    }

    pub fn needs_flush(&mut self) -> bool {
        self.all().any(|w| w.needs_flush())
    }

    pub async fn flush_full(&mut self, conn: &mut PgConnection) -> Result<(), SeedError> {
        for w in self.all() {
            if w.needs_flush() {
                w.flush(conn).await?;
            }
        }
        Ok(())
    }
}

pub(crate) struct MarketWriters {
    pub profiles: CopyWriter,
    pub listings: CopyWriter,
    pub reviews: CopyWriter,
}

impl MarketWriters {
    pub fn new() -> Self {
        MarketWriters {
            profiles: CopyWriter::new(
                "advisor_profiles",
                "id, organization_id, user_id, display_name, title, headline, bio, years_experience, certifications, \
                 industries, services, business_sizes, languages, timezone, remote_only, hourly_rate, retainer_min, \
                 retainer_max, project_rate_min, pricing_models, max_clients, current_clients, is_available, status, \
                 status_reason, verified_at, created_at, updated_at",
            ),
            listings: CopyWriter::new(
                "marketplace_listings",
                "advisor_id, advisor_organization_id, display_name, title, headline, bio, years_experience, \
                 certifications, industries, services, business_sizes, languages, timezone, remote_only, hourly_rate, \
                 retainer_min, retainer_max, project_rate_min, pricing_models, max_clients, current_clients, \
                 is_available, rating, review_count, listed_at",
            ),
            reviews: CopyWriter::new(
                "marketplace_reviews",
                "id, advisor_id, reviewer_organization_id, match_id, overall, communication, responsiveness, \
                 expertise, value, professionalism, testimonial, is_published, created_at",
            ),
        }
    }

    pub fn all(&mut self) -> [&mut CopyWriter; 3] {
        [&mut self.profiles, &mut self.listings, &mut self.reviews]
    }
}

pub(crate) fn user_row(
    w: &mut Writers,
    rng: &mut ChaCha8Rng,
    org: OrganizationId,
    email: &str,
    role: &str,
    password_hash: &str,
    at: DateTime<Utc>,
) -> Uuid {
    let id = v7(rng, at);
    let name = format!("{} {}", FIRST.choose(rng).unwrap_or(&"Ava"), LAST.choose(rng).unwrap_or(&"Smith"));
    w.users
        .raw(id)
        .raw(org)
        .text(email)
        .text(&name)
        .text(password_hash)
        .text("active")
        .raw(at)
        .raw(at)
        .end_row();
    w.memberships.raw(v7(rng, at)).raw(org).raw(id).text(role).raw(at).raw(at).end_row();
    id
}

pub(crate) fn pick<T: Copy>(rng: &mut ChaCha8Rng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (v, w) in weighted {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    weighted[0].0
}
