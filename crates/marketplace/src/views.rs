//! The response shapes of profiles and listings, from their rows.

use api_types::marketplace::{AdvisorSummary, ProfileResponse};
use store::marketplace::{ListingSummary, Profile};

pub(crate) fn profile_response(p: Profile) -> ProfileResponse {
    ProfileResponse {
        id: p.id,
        user_id: p.user_id,
        display_name: p.display_name,
        title: p.title,
        headline: p.headline,
        bio: p.bio,
        years_experience: p.years_experience,
        certifications: p.certifications,
        industries: p.industries,
        services: p.services,
        business_sizes: p.business_sizes,
        languages: p.languages,
        timezone: p.timezone,
        remote_only: p.remote_only,
        hourly_rate: p.hourly_rate,
        retainer_min: p.retainer_min,
        retainer_max: p.retainer_max,
        project_rate_min: p.project_rate_min,
        pricing_models: p.pricing_models,
        max_clients: p.max_clients,
        current_clients: p.current_clients,
        is_available: p.is_available,
        status: p.status,
        status_reason: p.status_reason,
        verified_at: p.verified_at,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

pub(crate) fn summary_response(l: ListingSummary) -> AdvisorSummary {
    AdvisorSummary {
        advisor_id: l.advisor_id,
        display_name: l.display_name,
        title: l.title,
        headline: l.headline,
        years_experience: l.years_experience,
        certifications: l.certifications,
        industries: l.industries,
        services: l.services,
        languages: l.languages,
        remote_only: l.remote_only,
        hourly_rate: l.hourly_rate,
        retainer_min: l.retainer_min,
        retainer_max: l.retainer_max,
        rating: l.rating,
        review_count: l.review_count,
        available_now: l.available_now,
        listed_at: l.listed_at,
    }
}
