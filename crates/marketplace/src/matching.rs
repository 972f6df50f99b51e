//! Needs assessments, matching, the match lifecycle and reviews.
//!
//! Matching runs the hard filters in SQL (available, offering a needed service, holding every
//! required certification, experienced enough, speaking a needed language, on site if needed),
//! scores the best-rated candidates in Rust (`domain::marketplace::score`, with a reason per
//! component) and saves the top N with the algorithm's version.

use api_types::Page;
use api_types::marketplace::{
    AssessmentResponse, CreateAssessmentRequest, CreateReviewRequest, MatchResponse, ReviewResponse,
};
use chrono::{TimeDelta, Utc};
use domain::marketplace::{
    ALGORITHM_VERSION, CERTIFICATIONS, Candidate, INDUSTRIES, LANGUAGES, MatchSide, MatchStatus, Needs,
    SERVICES, ScoreComponent, score, vocabulary,
};
use domain::{AssessmentId, MatchId, Permission, ReviewId};
use identity::Caller;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use store::AuditRecord;
use store::marketplace::{self, Assessment, Match, NewMatch, NewReview};

use crate::error::NotFoundAs;
use crate::search::review_response;
use crate::views::summary_response;
use crate::{Marketplace, MarketplaceError, MarketplaceResult};
use domain::validate::Problems;

/// How many of the best-rated candidates passing the hard filters are scored.
const CANDIDATES: i64 = 300;
/// Suggestions expire unless acted on.
const MATCH_LIFETIME_DAYS: i64 = 30;

fn assessment_response(a: Assessment) -> AssessmentResponse {
    AssessmentResponse {
        id: a.id,
        client_id: a.client_id,
        business_size: a.business_size,
        annual_revenue: a.annual_revenue,
        industry: a.industry,
        services_needed: a.services_needed,
        budget_type: a.budget_type,
        budget_min: a.budget_min,
        budget_max: a.budget_max,
        urgency: a.urgency,
        engagement_length: a.engagement_length,
        required_certifications: a.required_certifications,
        min_years_experience: a.min_years_experience,
        languages: a.languages,
        remote_ok: a.remote_ok,
        created_at: a.created_at,
    }
}

fn match_response(m: Match, advisor: Option<api_types::marketplace::AdvisorSummary>) -> MatchResponse {
    MatchResponse {
        id: m.id,
        assessment_id: m.assessment_id,
        advisor_id: m.advisor_id,
        score: m.score,
        breakdown: serde_json::from_value::<Vec<ScoreComponent>>(m.breakdown).unwrap_or_default(),
        algorithm_version: m.algorithm_version,
        rank: m.rank,
        status: m.status,
        status_changed_at: m.status_changed_at,
        expires_at: m.expires_at,
        created_at: m.created_at,
        advisor,
    }
}

impl Marketplace {
    pub async fn create_assessment(
        &self,
        caller: &Caller,
        req: CreateAssessmentRequest,
    ) -> MarketplaceResult<AssessmentResponse> {
        caller.require(Permission::ClientsUpdate)?;
        let mut p = Problems::default();
        let mut list = |field: &str, v: &[String], allowed: &[&str]| match vocabulary(v, allowed) {
            Ok(v) => v,
            Err(unknown) => {
                p.add(field, format!("unknown: {}; see GET /v1/marketplace/vocabulary", unknown.join(", ")));
                Vec::new()
            }
        };
        let services = list("services_needed", &req.services_needed, SERVICES);
        let certs = list("required_certifications", &req.required_certifications, CERTIFICATIONS);
        let languages = list("languages", &req.languages, LANGUAGES);
        let industry = req.industry.as_ref().map(|i| i.trim().to_lowercase());
        if industry.as_deref().is_some_and(|i| !INDUSTRIES.contains(&i)) {
            p.add("industry", "unknown industry; see GET /v1/marketplace/vocabulary");
        }
        if services.is_empty() && !req.services_needed.is_empty() {
            // Reported above.
        } else if services.is_empty() {
            p.add("services_needed", "name at least one service");
        }
        if !(0..=70).contains(&req.min_years_experience) {
            p.add("min_years_experience", "must be 0 to 70");
        }
        p.money("budget_min", req.budget_min, 100_000_000);
        p.money("budget_max", req.budget_max, 100_000_000);
        p.money("annual_revenue", req.annual_revenue, 100_000_000_000_000);
        if let (Some(lo), Some(hi)) = (req.budget_min, req.budget_max)
            && lo > hi
        {
            p.add("budget_max", "must not be below budget_min");
        }
        p.into_result()?;
        let a = Assessment {
            id: AssessmentId::new(),
            client_id: req.client_id,
            business_size: req.business_size.as_str().to_owned(),
            annual_revenue: req.annual_revenue,
            industry,
            services_needed: services,
            budget_type: req.budget_type.as_str().to_owned(),
            budget_min: req.budget_min,
            budget_max: req.budget_max,
            urgency: req.urgency.as_str().to_owned(),
            engagement_length: req.engagement_length.as_str().to_owned(),
            required_certifications: certs,
            min_years_experience: req.min_years_experience,
            languages,
            remote_ok: req.remote_ok,
            created_at: Utc::now(),
        };
        let mut tx = self.tx(caller).await?;
        let saved = marketplace::create_assessment(&mut tx, &a).await.or_not_found("client")?;
        tx.audit(AuditRecord::new("needs_assessment.create", "needs_assessment", a.id).after(&saved));
        tx.commit().await?;
        Ok(assessment_response(saved))
    }

    /// The organization's needs assessments, newest first.
    pub async fn list_assessments(
        &self,
        caller: &Caller,
        cursor: Option<&str>,
        limit: usize,
    ) -> MarketplaceResult<Page<AssessmentResponse>> {
        caller.require(Permission::ClientsRead)?;
        let mut tx = self.tx(caller).await?;
        let page = marketplace::list_assessments(&mut tx, cursor, limit).await?;
        tx.commit().await?;
        Ok(Page {
            items: page.items.into_iter().map(assessment_response).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Scores the candidates for an assessment and keeps the best `count` as suggested matches.
    pub async fn request_matches(
        &self,
        caller: &Caller,
        id: AssessmentId,
        count: usize,
    ) -> MarketplaceResult<Vec<MatchResponse>> {
        caller.require(Permission::ClientsUpdate)?;
        if !(1..=20).contains(&count) {
            return Err(MarketplaceError::invalid("count", "must be 1 to 20"));
        }
        let mut tx = self.tx(caller).await?;
        let a = marketplace::assessment(&mut tx, id).await.or_not_found("needs assessment")?;
        let candidates = marketplace::candidates(&self.db, &a, CANDIDATES).await?;
        let needs = Needs {
            industry: a.industry.clone(),
            services: a.services_needed.clone(),
            budget_type: a.budget_type.parse().unwrap_or(domain::marketplace::BudgetType::Flexible),
            budget_min: a.budget_min,
            budget_max: a.budget_max,
            required_certifications: a.required_certifications.clone(),
            min_years_experience: a.min_years_experience,
        };
        let mut scored: Vec<(f64, Vec<ScoreComponent>, domain::AdvisorId)> = candidates
            .into_iter()
            .map(|c| {
                let (total, parts) = score(
                    &needs,
                    &Candidate {
                        industries: c.industries,
                        services: c.services,
                        certifications: c.certifications,
                        years_experience: c.years_experience,
                        rating: c.rating,
                        max_clients: c.max_clients,
                        current_clients: c.current_clients,
                        hourly_rate: c.hourly_rate,
                        retainer_min: c.retainer_min,
                        retainer_max: c.retainer_max,
                        project_rate_min: c.project_rate_min,
                    },
                );
                (total, parts, c.advisor_id)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
        scored.truncate(count);
        let new: Vec<NewMatch> = scored
            .into_iter()
            .enumerate()
            .map(|(i, (total, parts, advisor))| NewMatch {
                id: MatchId::new(),
                advisor,
                score: Decimal::from_f64(total).unwrap_or_default().round_dp(2),
                breakdown: serde_json::to_value(parts).unwrap_or_default(),
                rank: i as i32 + 1,
            })
            .collect();
        let expires = Utc::now() + TimeDelta::days(MATCH_LIFETIME_DAYS);
        let made = marketplace::save_matches(&mut tx, id, &new, ALGORITHM_VERSION, expires).await?;
        tx.audit(AuditRecord::new("advisor_match.create", "needs_assessment", id).after(serde_json::json!({
            "matches": made.iter().map(|m| (m.advisor_id, m.score)).collect::<Vec<_>>(),
            "algorithm_version": ALGORITHM_VERSION,
        })));
        let saved = marketplace::matches_of_assessment(&mut tx, id).await?;
        tx.commit().await?;
        self.matches_changed(caller.organization_id, id).await;
        self.with_advisors(saved).await
    }

    async fn with_advisors(&self, matches: Vec<Match>) -> MarketplaceResult<Vec<MatchResponse>> {
        let ids: Vec<domain::AdvisorId> = matches.iter().map(|m| m.advisor_id).collect();
        let listings = marketplace::listings(&self.db, &ids).await?;
        Ok(matches
            .into_iter()
            .map(|m| {
                let advisor = listings
                    .iter()
                    .find(|l| l.advisor_id == m.advisor_id)
                    .map(|l| summary_response(l.summary()));
                match_response(m, advisor)
            })
            .collect())
    }

    pub async fn assessment_matches(
        &self,
        caller: &Caller,
        id: AssessmentId,
    ) -> MarketplaceResult<Vec<MatchResponse>> {
        caller.require(Permission::ClientsRead)?;
        let (market, owned) = (self.clone(), caller.clone());
        self.cached_matches(caller.organization_id, id, move || async move {
            let mut tx = market.tx(&owned).await?;
            marketplace::assessment(&mut tx, id).await.or_not_found("needs assessment")?;
            let list = marketplace::matches_of_assessment(&mut tx, id).await?;
            tx.commit().await?;
            market.with_advisors(list).await
        })
        .await
    }

    /// Matches addressed to this organization's advisors (once the client has made contact).
    pub async fn incoming_matches(&self, caller: &Caller) -> MarketplaceResult<Vec<MatchResponse>> {
        if !caller.role.is_staff() {
            return Err(MarketplaceError::Forbidden(Permission::ClientsRead));
        }
        let mut tx = self.tx(caller).await?;
        let list = marketplace::matches_for_advisors(&mut tx, 200).await?;
        tx.commit().await?;
        self.with_advisors(list).await
    }

    /// Moves a match: the client side (`clients:update`) views, contacts, schedules a call,
    /// accepts or declines; the advisor (or an admin of the advisor's organization) responds,
    /// schedules a call, proposes or declines.
    pub async fn move_match(
        &self,
        caller: &Caller,
        id: MatchId,
        to: MatchStatus,
    ) -> MarketplaceResult<MatchResponse> {
        let mut tx = self.tx(caller).await?;
        let m = marketplace::match_for_update(&mut tx, id).await.or_not_found("match")?;
        let own_profile = match caller.session_id() {
            Some(_) => marketplace::profile_of_user(&mut tx, caller.user_id()).await?.map(|p| p.id),
            None => None,
        };
        let side = if own_profile == Some(m.advisor_id)
            || (caller.organization_id == m.advisor_organization_id
                && caller.organization_id != m.organization_id
                && caller.has(Permission::UsersUpdate))
        {
            MatchSide::Advisor
        } else if caller.organization_id == m.organization_id && caller.has(Permission::ClientsUpdate) {
            MatchSide::Client
        } else {
            return Err(MarketplaceError::NotAllowed(
                "only the client's firm or the advisor may move this match".into(),
            ));
        };
        if !m.status.may_move(to, side) {
            return Err(MarketplaceError::Conflict(format!(
                "the {} side cannot move a match from {} to {to}",
                if side == MatchSide::Client { "client" } else { "advisor" },
                m.status
            )));
        }
        let moved = marketplace::set_match_status(&mut tx, id, m.status, to).await?;
        tx.audit(
            AuditRecord::new("advisor_match.status", "advisor_match", id)
                .before(serde_json::json!({ "status": m.status }))
                .after(serde_json::json!({ "status": to })),
        );
        tx.commit().await?;
        self.matches_changed(m.organization_id, m.assessment_id).await;
        self.advisor_changed(m.advisor_id).await;
        Ok(self.with_advisors(vec![moved]).await?.remove(0))
    }

    /// The client's review of an accepted match's advisor.
    pub async fn review_match(
        &self,
        caller: &Caller,
        id: MatchId,
        req: CreateReviewRequest,
    ) -> MarketplaceResult<ReviewResponse> {
        caller.require(Permission::ClientsUpdate)?;
        let mut p = Problems::default();
        let scores = [
            Some(req.overall),
            req.communication,
            req.responsiveness,
            req.expertise,
            req.value,
            req.professionalism,
        ];
        for (name, s) in
            ["overall", "communication", "responsiveness", "expertise", "value", "professionalism"]
                .iter()
                .zip(scores)
        {
            if s.is_some_and(|s| !(1..=10).contains(&s)) {
                p.add(*name, "must be 1 to 10");
            }
        }
        let testimonial = p.text("testimonial", req.testimonial.as_deref(), 5000);
        p.into_result()?;
        let mut tx = self.tx(caller).await?;
        let m = marketplace::match_for_update(&mut tx, id).await.or_not_found("match")?;
        if m.organization_id != caller.organization_id {
            return Err(MarketplaceError::NotFound("match"));
        }
        if m.status != MatchStatus::Accepted {
            return Err(MarketplaceError::Conflict(
                "only an accepted match's advisor can be reviewed".into(),
            ));
        }
        let review_id = ReviewId::new();
        let review = marketplace::create_review(
            &mut tx,
            NewReview {
                id: review_id,
                advisor: m.advisor_id,
                match_id: id,
                scores,
                testimonial: testimonial.as_deref(),
                publish: req.publish,
            },
        )
        .await
        .map_err(|e| {
            if e.is_conflict_on("marketplace_reviews_match_id_key") {
                MarketplaceError::Conflict("this match was already reviewed".into())
            } else {
                e.into()
            }
        })?;
        tx.audit(
            AuditRecord::new("marketplace_review.create", "marketplace_review", review_id).after(&review),
        );
        tx.commit().await?;
        self.advisor_changed(m.advisor_id).await;
        Ok(review_response(review))
    }
}
