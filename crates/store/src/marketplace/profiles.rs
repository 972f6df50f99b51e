//! Advisor profiles: the advisor organization's own rows (row-level security), their edits,
//! availability and verification lifecycle.

use chrono::{DateTime, Utc};
use domain::marketplace::ProfileStatus;
use domain::{AdvisorId, OrganizationId, UserId};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::{Change, StoreError, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Profile {
    pub id: AdvisorId,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    pub display_name: String,
    pub title: String,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub years_experience: i32,
    pub certifications: Vec<String>,
    pub industries: Vec<String>,
    pub services: Vec<String>,
    pub business_sizes: Vec<String>,
    pub languages: Vec<String>,
    pub timezone: Option<String>,
    pub remote_only: bool,
    pub hourly_rate: Option<Decimal>,
    pub retainer_min: Option<Decimal>,
    pub retainer_max: Option<Decimal>,
    pub project_rate_min: Option<Decimal>,
    pub pricing_models: Vec<String>,
    pub max_clients: i32,
    pub current_clients: i32,
    pub is_available: bool,
    pub status: ProfileStatus,
    pub status_reason: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! profile_columns {
    () => {
        "id, organization_id, user_id, display_name, title, headline, bio, years_experience, certifications,
         industries, services, business_sizes, languages, timezone, remote_only, hourly_rate, retainer_min,
         retainer_max, project_rate_min, pricing_models, max_clients, current_clients, is_available, status,
         status_reason, verified_at, created_at, updated_at"
    };
}

/// The editable fields of a profile (all set on create; `None` leaves a field on update).
#[derive(Debug, Clone, Default)]
pub struct ProfileFields {
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub headline: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub years_experience: Option<i32>,
    pub certifications: Option<Vec<String>>,
    pub industries: Option<Vec<String>>,
    pub services: Option<Vec<String>>,
    pub business_sizes: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub timezone: Option<Option<String>>,
    pub remote_only: Option<bool>,
    pub hourly_rate: Option<Option<Decimal>>,
    pub retainer_min: Option<Option<Decimal>>,
    pub retainer_max: Option<Option<Decimal>>,
    pub project_rate_min: Option<Option<Decimal>>,
    pub pricing_models: Option<Vec<String>>,
    pub max_clients: Option<i32>,
}

/// Creates the caller's profile (status `pending`). A second profile for one user is
/// `Conflict("advisor_profiles_user_id_key")`.
pub async fn create_profile(
    tx: &mut TenantTx,
    id: AdvisorId,
    user: UserId,
    f: &ProfileFields,
) -> StoreResult<Profile> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "insert into advisor_profiles (id, organization_id, user_id, display_name, title, headline, bio,
             years_experience, certifications, industries, services, business_sizes, languages, timezone,
             remote_only, hourly_rate, retainer_min, retainer_max, project_rate_min, pricing_models, max_clients)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
         returning ",
        profile_columns!()
    ))
    .bind(id)
    .bind(org)
    .bind(user)
    .bind(&f.display_name)
    .bind(&f.title)
    .bind(f.headline.clone().flatten())
    .bind(f.bio.clone().flatten())
    .bind(f.years_experience.unwrap_or(0))
    .bind(f.certifications.clone().unwrap_or_default())
    .bind(f.industries.clone().unwrap_or_default())
    .bind(f.services.clone().unwrap_or_default())
    .bind(f.business_sizes.clone().unwrap_or_default())
    .bind(f.languages.clone().unwrap_or_else(|| vec!["en".to_owned()]))
    .bind(f.timezone.clone().flatten())
    .bind(f.remote_only.unwrap_or(false))
    .bind(f.hourly_rate.flatten())
    .bind(f.retainer_min.flatten())
    .bind(f.retainer_max.flatten())
    .bind(f.project_rate_min.flatten())
    .bind(f.pricing_models.clone().unwrap_or_default())
    .bind(f.max_clients.unwrap_or(15))
    .fetch_one(tx.conn())
    .await?)
}

pub async fn profile_of_user(tx: &mut TenantTx, user: UserId) -> StoreResult<Option<Profile>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        profile_columns!(),
        " from advisor_profiles where organization_id = $1 and user_id = $2"
    ))
    .bind(org)
    .bind(user)
    .fetch_optional(tx.conn())
    .await?)
}

/// A profile by id, locked for a status change. Without the platform flag only the caller's
/// organization's profiles are visible (row-level security).
pub async fn profile_for_update(tx: &mut TenantTx, id: AdvisorId) -> StoreResult<Profile> {
    Ok(sqlx::query_as(concat!(
        "select ",
        profile_columns!(),
        " from advisor_profiles where id = $1 for update"
    ))
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

/// Applies a patch; returns the profile before and after.
pub async fn update_profile(
    tx: &mut TenantTx,
    id: AdvisorId,
    f: &ProfileFields,
) -> StoreResult<Change<Profile>> {
    let before = profile_for_update(tx, id).await?;
    let after: Profile = sqlx::query_as(concat!(
        "update advisor_profiles set
             display_name = coalesce($2, display_name), title = coalesce($3, title),
             headline = case when $4 then $5 else headline end, bio = case when $6 then $7 else bio end,
             years_experience = coalesce($8, years_experience), certifications = coalesce($9, certifications),
             industries = coalesce($10, industries), services = coalesce($11, services),
             business_sizes = coalesce($12, business_sizes), languages = coalesce($13, languages),
             timezone = case when $14 then $15 else timezone end, remote_only = coalesce($16, remote_only),
             hourly_rate = case when $17 then $18 else hourly_rate end,
             retainer_min = case when $19 then $20 else retainer_min end,
             retainer_max = case when $21 then $22 else retainer_max end,
             project_rate_min = case when $23 then $24 else project_rate_min end,
             pricing_models = coalesce($25, pricing_models), max_clients = coalesce($26, max_clients)
         where id = $1 returning ",
        profile_columns!()
    ))
    .bind(id)
    .bind(&f.display_name)
    .bind(&f.title)
    .bind(f.headline.is_some())
    .bind(f.headline.clone().flatten())
    .bind(f.bio.is_some())
    .bind(f.bio.clone().flatten())
    .bind(f.years_experience)
    .bind(&f.certifications)
    .bind(&f.industries)
    .bind(&f.services)
    .bind(&f.business_sizes)
    .bind(&f.languages)
    .bind(f.timezone.is_some())
    .bind(f.timezone.clone().flatten())
    .bind(f.remote_only)
    .bind(f.hourly_rate.is_some())
    .bind(f.hourly_rate.flatten())
    .bind(f.retainer_min.is_some())
    .bind(f.retainer_min.flatten())
    .bind(f.retainer_max.is_some())
    .bind(f.retainer_max.flatten())
    .bind(f.project_rate_min.is_some())
    .bind(f.project_rate_min.flatten())
    .bind(&f.pricing_models)
    .bind(f.max_clients)
    .fetch_one(tx.conn())
    .await?;
    Ok(Change { before, after })
}

/// Sets whether the advisor takes clients and how many they have; returns the profile before and
/// after.
pub async fn set_availability(
    tx: &mut TenantTx,
    id: AdvisorId,
    is_available: Option<bool>,
    current_clients: Option<i32>,
) -> StoreResult<Change<Profile>> {
    let before = profile_for_update(tx, id).await?;
    let after: Profile = sqlx::query_as(concat!(
        "update advisor_profiles set is_available = coalesce($2, is_available),
             current_clients = coalesce($3, current_clients)
         where id = $1 returning ",
        profile_columns!()
    ))
    .bind(id)
    .bind(is_available)
    .bind(current_clients)
    .fetch_one(tx.conn())
    .await?;
    Ok(Change { before, after })
}

/// Moves a profile along its lifecycle (the caller checked the move); approval stamps verification.
pub async fn set_profile_status(
    tx: &mut TenantTx,
    id: AdvisorId,
    from: ProfileStatus,
    to: ProfileStatus,
    reason: Option<&str>,
) -> StoreResult<Profile> {
    let verifier = tx.actor().id;
    let after: Option<Profile> = sqlx::query_as(concat!(
        "update advisor_profiles set status = $3, status_reason = $4,
             verified_at = case when $3 = 'active' and verified_at is null then now() else verified_at end,
             verified_by = case when $3 = 'active' and verified_at is null then $5 else verified_by end
         where id = $1 and status = $2 returning ",
        profile_columns!()
    ))
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(reason)
    .bind(verifier)
    .fetch_optional(tx.conn())
    .await?;
    after.ok_or_else(|| StoreError::Conflict("profile status changed concurrently".into()))
}

/// Profiles waiting for verification, oldest first (platform administrators).
pub async fn review_queue(tx: &mut TenantTx, limit: i64) -> StoreResult<Vec<Profile>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        profile_columns!(),
        " from advisor_profiles where status = 'under_review' order by updated_at limit $1"
    ))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}
