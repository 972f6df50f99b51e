//! An advisor's own profile, and its verification by the platform's administrators.

use api_types::marketplace::{AvailabilityRequest, ProfileRequest, ProfileResponse};
use domain::AdvisorId;
use domain::marketplace::{
    BUSINESS_SIZES, CERTIFICATIONS, INDUSTRIES, LANGUAGES, PRICING_MODELS, ProfileAction, ProfileStatus,
    SERVICES, vocabulary,
};
use identity::Caller;
use store::marketplace::{self, Profile, ProfileFields};
use store::{AuditRecord, PlatformAdmin, TenantTx};

use crate::error::NotFoundAs;
use crate::views::profile_response;
use crate::{Marketplace, MarketplaceError, MarketplaceResult};
use domain::validate::Problems;

fn list(
    p: &mut Problems,
    field: &str,
    values: &Option<Vec<String>>,
    allowed: &[&str],
) -> Option<Vec<String>> {
    let values = values.as_ref()?;
    match vocabulary(values, allowed) {
        Ok(v) => Some(v),
        Err(unknown) => {
            p.add(field, format!("unknown: {}; see GET /v1/marketplace/vocabulary", unknown.join(", ")));
            None
        }
    }
}

/// Validates a profile request; `create` requires the name and title.
fn fields(req: &ProfileRequest, create: bool) -> MarketplaceResult<ProfileFields> {
    let mut p = Problems::default();
    let display_name = match (&req.display_name, create) {
        (Some(n), _) => Some(p.required("display_name", n, 200)),
        (None, true) => {
            p.add("display_name", "is required");
            None
        }
        (None, false) => None,
    };
    let title = match (&req.title, create) {
        (Some(t), _) => Some(p.required("title", t, 200)),
        (None, true) => {
            p.add("title", "is required");
            None
        }
        (None, false) => None,
    };
    if let Some(y) = req.years_experience
        && !(0..=70).contains(&y)
    {
        p.add("years_experience", "must be 0 to 70");
    }
    if let Some(m) = req.max_clients
        && !(1..=500).contains(&m)
    {
        p.add("max_clients", "must be 1 to 500");
    }
    let money = |p: &mut Problems, f: &str, v: &Option<Option<rust_decimal::Decimal>>| {
        v.as_ref().map(|v| p.money(f, *v, 10_000_000))
    };
    let f = ProfileFields {
        display_name,
        title,
        headline: req.headline.as_ref().map(|h| p.text("headline", h.as_deref(), 300)),
        bio: req.bio.as_ref().map(|b| p.text("bio", b.as_deref(), 10_000)),
        years_experience: req.years_experience,
        certifications: list(&mut p, "certifications", &req.certifications, CERTIFICATIONS),
        industries: list(&mut p, "industries", &req.industries, INDUSTRIES),
        services: list(&mut p, "services", &req.services, SERVICES),
        business_sizes: list(&mut p, "business_sizes", &req.business_sizes, BUSINESS_SIZES),
        languages: list(&mut p, "languages", &req.languages, LANGUAGES),
        timezone: req.timezone.as_ref().map(|t| p.text("timezone", t.as_deref(), 64)),
        remote_only: req.remote_only,
        hourly_rate: money(&mut p, "hourly_rate", &req.hourly_rate),
        retainer_min: money(&mut p, "retainer_min", &req.retainer_min),
        retainer_max: money(&mut p, "retainer_max", &req.retainer_max),
        project_rate_min: money(&mut p, "project_rate_min", &req.project_rate_min),
        pricing_models: list(&mut p, "pricing_models", &req.pricing_models, PRICING_MODELS),
        max_clients: req.max_clients,
    };
    if let (Some(Some(lo)), Some(Some(hi))) = (&f.retainer_min, &f.retainer_max)
        && lo > hi
    {
        p.add("retainer_max", "must not be below retainer_min");
    }
    p.into_result()?;
    Ok(f)
}

impl Marketplace {
    /// The signed-in member's own advisor profile (advisors are members of a firm).
    fn advisor_user(caller: &Caller) -> MarketplaceResult<domain::UserId> {
        if !caller.role.is_staff() || caller.session_id().is_none() {
            return Err(MarketplaceError::NotAllowed(
                "sign in as the advisor (a staff member) to manage a profile".into(),
            ));
        }
        Ok(caller.user_id())
    }

    pub async fn create_profile(
        &self,
        caller: &Caller,
        req: ProfileRequest,
    ) -> MarketplaceResult<ProfileResponse> {
        let user = Self::advisor_user(caller)?;
        let f = fields(&req, true)?;
        let mut tx = self.tx(caller).await?;
        let id = AdvisorId::new();
        let p = marketplace::create_profile(&mut tx, id, user, &f).await.map_err(|e| {
            if e.is_conflict_on("advisor_profiles_user_id_key") {
                MarketplaceError::Conflict(
                    "you already have a profile; change it with PATCH /v1/marketplace/profile".into(),
                )
            } else {
                e.into()
            }
        })?;
        tx.audit(AuditRecord::new("advisor_profile.create", "advisor_profile", id).after(&p));
        tx.commit().await?;
        self.advisor_changed(p.id).await;
        Ok(profile_response(p))
    }

    pub async fn my_profile(&self, caller: &Caller) -> MarketplaceResult<ProfileResponse> {
        let user = Self::advisor_user(caller)?;
        let mut tx = self.tx(caller).await?;
        let p = marketplace::profile_of_user(&mut tx, user)
            .await?
            .ok_or(MarketplaceError::NotFound("advisor profile"))?;
        tx.commit().await?;
        Ok(profile_response(p))
    }

    /// Edits the profile. An active profile stays listed (the listing follows the edit).
    pub async fn update_profile(
        &self,
        caller: &Caller,
        req: ProfileRequest,
    ) -> MarketplaceResult<ProfileResponse> {
        let user = Self::advisor_user(caller)?;
        let f = fields(&req, false)?;
        let mut tx = self.tx(caller).await?;
        let current = marketplace::profile_of_user(&mut tx, user)
            .await?
            .ok_or(MarketplaceError::NotFound("advisor profile"))?;
        let change = marketplace::update_profile(&mut tx, current.id, &f).await.map_err(|e| match e {
            store::StoreError::Constraint(_) => {
                MarketplaceError::invalid("retainer_max", "must not be below retainer_min")
            }
            other => other.into(),
        })?;
        tx.audit(
            AuditRecord::new("advisor_profile.update", "advisor_profile", current.id)
                .before(&change.before)
                .after(&change.after),
        );
        let p = change.after;
        tx.commit().await?;
        self.advisor_changed(p.id).await;
        Ok(profile_response(p))
    }

    /// Asks for verification (from pending, or after a rejection).
    pub async fn submit_profile(&self, caller: &Caller) -> MarketplaceResult<ProfileResponse> {
        let user = Self::advisor_user(caller)?;
        let mut tx = self.tx(caller).await?;
        let current = marketplace::profile_of_user(&mut tx, user)
            .await?
            .ok_or(MarketplaceError::NotFound("advisor profile"))?;
        if current.services.is_empty() || current.industries.is_empty() {
            return Err(MarketplaceError::invalid(
                "services",
                "list at least one service and one industry before submitting",
            ));
        }
        let to = current.status.after(ProfileAction::Submit).ok_or_else(|| {
            MarketplaceError::Conflict(format!("a profile that is {} cannot be submitted", current.status))
        })?;
        let p = set_status(&mut tx, current.id, current.status, to, None).await?;
        tx.commit().await?;
        self.advisor_changed(p.id).await;
        Ok(profile_response(p))
    }

    pub async fn set_availability(
        &self,
        caller: &Caller,
        req: AvailabilityRequest,
    ) -> MarketplaceResult<ProfileResponse> {
        let user = Self::advisor_user(caller)?;
        if let Some(c) = req.current_clients
            && !(0..=500).contains(&c)
        {
            return Err(MarketplaceError::invalid("current_clients", "must be 0 to 500"));
        }
        let mut tx = self.tx(caller).await?;
        let current = marketplace::profile_of_user(&mut tx, user)
            .await?
            .ok_or(MarketplaceError::NotFound("advisor profile"))?;
        let change =
            marketplace::set_availability(&mut tx, current.id, req.is_available, req.current_clients).await?;
        let (before, p) = (change.before, change.after);
        tx.audit(
            AuditRecord::new("advisor_profile.availability", "advisor_profile", current.id)
                .before(serde_json::json!({
                    "is_available": before.is_available, "current_clients": before.current_clients,
                }))
                .after(serde_json::json!({
                    "is_available": p.is_available, "current_clients": p.current_clients,
                })),
        );
        tx.commit().await?;
        self.advisor_changed(p.id).await;
        Ok(profile_response(p))
    }

    /// Profiles waiting for verification, oldest first (platform administrators).
    pub async fn review_queue(&self, admin: &PlatformAdmin) -> MarketplaceResult<Vec<ProfileResponse>> {
        let mut tx = TenantTx::begin_platform(&self.db, admin).await?;
        let list = marketplace::review_queue(&mut tx, 200).await?;
        tx.commit().await?;
        Ok(list.into_iter().map(profile_response).collect())
    }

    /// Approves, rejects, suspends or reinstates an advisor (platform administrators).
    pub async fn decide_profile(
        &self,
        admin: &PlatformAdmin,
        id: AdvisorId,
        action: ProfileAction,
        reason: Option<String>,
    ) -> MarketplaceResult<ProfileResponse> {
        let mut tx = TenantTx::begin_platform(&self.db, admin).await?;
        if matches!(action, ProfileAction::Reject | ProfileAction::Suspend)
            && reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(MarketplaceError::invalid("reason", "say why, for the advisor"));
        }
        let current = marketplace::profile_for_update(&mut tx, id).await.or_not_found("advisor profile")?;
        let to: ProfileStatus = current.status.after(action).ok_or_else(|| {
            MarketplaceError::Conflict(format!("a profile that is {} cannot be {action:?}d", current.status))
        })?;
        let p = set_status(&mut tx, id, current.status, to, reason.as_deref()).await?;
        tx.commit().await?;
        self.advisor_changed(p.id).await;
        Ok(profile_response(p))
    }
}

/// Moves a profile along its lifecycle and records the move.
async fn set_status(
    tx: &mut TenantTx,
    id: AdvisorId,
    from: ProfileStatus,
    to: ProfileStatus,
    reason: Option<&str>,
) -> MarketplaceResult<Profile> {
    let p = marketplace::set_profile_status(tx, id, from, to, reason).await?;
    tx.audit(
        AuditRecord::new("advisor_profile.status", "advisor_profile", id)
            .before(serde_json::json!({ "status": from }))
            .after(serde_json::json!({ "status": to, "reason": reason })),
    );
    Ok(p)
}
