//! The advisor marketplace's vocabulary and rules: profile and match lifecycles, controlled
//! vocabularies for filtering, and the matching score with per-component reasons.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::firm::text_enum;

text_enum!(
    /// A profile's place in verification: only `active` profiles are listed.
    ProfileStatus {
        Pending = "pending",
        UnderReview = "under_review",
        Active = "active",
        Rejected = "rejected",
        Suspended = "suspended",
    }
);

/// What can happen to a profile's status, and who does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileAction {
    /// The advisor asks for verification.
    Submit,
    /// Platform administrators decide.
    Approve,
    Reject,
    Suspend,
    Reinstate,
}

impl ProfileStatus {
    /// The status after `action`, or `None` if it is not allowed from here.
    pub fn after(self, action: ProfileAction) -> Option<ProfileStatus> {
        use ProfileAction as A;
        use ProfileStatus as S;
        match (self, action) {
            (S::Pending | S::Rejected, A::Submit) => Some(S::UnderReview),
            (S::UnderReview, A::Approve) => Some(S::Active),
            (S::UnderReview, A::Reject) => Some(S::Rejected),
            (S::Active, A::Suspend) => Some(S::Suspended),
            (S::Suspended, A::Reinstate) => Some(S::Active),
            _ => None,
        }
    }
}

text_enum!(MatchStatus {
    Suggested = "suggested",
    Viewed = "viewed",
    Contacted = "contacted",
    Responded = "responded",
    CallScheduled = "call_scheduled",
    Proposal = "proposal",
    Accepted = "accepted",
    Declined = "declined",
    Expired = "expired",
});

/// Which side of a match is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchSide {
    /// The firm that asked for advisors for its client.
    Client,
    /// The advisor (or the advisor's organization).
    Advisor,
    /// Expiry.
    System,
}

impl MatchStatus {
    pub fn is_final(self) -> bool {
        matches!(self, MatchStatus::Accepted | MatchStatus::Declined | MatchStatus::Expired)
    }

    /// Whether `side` may move a match from this status to `to`.
    pub fn may_move(self, to: MatchStatus, side: MatchSide) -> bool {
        use MatchSide as W;
        use MatchStatus as S;
        if self.is_final() {
            return false;
        }
        match (side, self, to) {
            (W::System, _, S::Expired) => true,
            (_, _, S::Declined) if side != W::System => true,
            (W::Client, S::Suggested, S::Viewed) => true,
            (W::Client, S::Suggested | S::Viewed, S::Contacted) => true,
            (W::Advisor, S::Contacted, S::Responded) => true,
            (W::Client | W::Advisor, S::Responded, S::CallScheduled) => true,
            (W::Advisor, S::CallScheduled, S::Proposal) => true,
            (W::Client, S::Proposal, S::Accepted) => true,
            _ => false,
        }
    }
}

text_enum!(BusinessSize { Startup = "startup", Smb = "smb", MidMarket = "mid_market", Enterprise = "enterprise" });
text_enum!(BudgetType {
    Hourly = "hourly",
    MonthlyRetainer = "monthly_retainer",
    ProjectBased = "project_based",
    Flexible = "flexible",
});
text_enum!(Urgency {
    Immediate = "immediate",
    WithinMonth = "within_month",
    WithinQuarter = "within_quarter",
    Exploratory = "exploratory",
});
text_enum!(EngagementLength {
    ShortTerm = "short_term",
    LongTerm = "long_term",
    ProjectBased = "project_based",
    Ongoing = "ongoing",
});

/// The services an advisor offers and a client needs (a controlled vocabulary, so filters match).
pub const SERVICES: &[&str] = &[
    "fractional_cfo",
    "fpa",
    "cash_flow",
    "fundraising",
    "budgeting",
    "kpi_dashboards",
    "bookkeeping",
    "tax_planning",
    "audit_readiness",
    "mergers_acquisitions",
    "erp_implementation",
    "payroll",
    "board_reporting",
    "pricing_strategy",
    "exit_planning",
];

pub const INDUSTRIES: &[&str] = &[
    "construction",
    "healthcare",
    "retail",
    "restaurants",
    "real_estate",
    "professional_services",
    "manufacturing",
    "technology",
    "saas",
    "ecommerce",
    "agriculture",
    "transportation",
    "nonprofit",
    "hospitality",
    "dental",
    "legal",
    "education",
    "biotech",
];

pub const CERTIFICATIONS: &[&str] = &["cpa", "cfa", "cma", "cia", "ea", "cgma", "cfe", "cisa", "cgfm", "cva"];

pub const PRICING_MODELS: &[&str] = &["hourly", "retainer", "project", "value_based"];

pub const BUSINESS_SIZES: &[&str] = &["startup", "smb", "mid_market", "enterprise"];

pub const LANGUAGES: &[&str] =
    &["en", "es", "fr", "de", "zh", "ja", "ko", "pt", "hi", "ar", "vi", "tl", "ru", "it"];

/// Checks each value against a vocabulary; returns the normalized values or the unknown ones.
pub fn vocabulary(values: &[String], allowed: &[&str]) -> Result<Vec<String>, Vec<String>> {
    let mut out = Vec::with_capacity(values.len());
    let mut unknown = Vec::new();
    for v in values {
        let v = v.trim().to_lowercase().replace([' ', '-'], "_");
        if v.is_empty() {
            continue;
        }
        if allowed.contains(&v.as_str()) {
            if !out.contains(&v) {
                out.push(v);
            }
        } else {
            unknown.push(v);
        }
    }
    if unknown.is_empty() { Ok(out) } else { Err(unknown) }
}

/// What a client needs (the matching input).
#[derive(Debug, Clone)]
pub struct Needs {
    pub industry: Option<String>,
    pub services: Vec<String>,
    pub budget_type: BudgetType,
    pub budget_min: Option<Decimal>,
    pub budget_max: Option<Decimal>,
    pub required_certifications: Vec<String>,
    pub min_years_experience: i32,
}

/// What matching knows of an advisor.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub industries: Vec<String>,
    pub services: Vec<String>,
    pub certifications: Vec<String>,
    pub years_experience: i32,
    pub rating: Decimal,
    pub max_clients: i32,
    pub current_clients: i32,
    pub hourly_rate: Option<Decimal>,
    pub retainer_min: Option<Decimal>,
    pub retainer_max: Option<Decimal>,
    pub project_rate_min: Option<Decimal>,
}

/// One part of a score.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoreComponent {
    pub component: String,
    pub points: f64,
    pub max: f64,
    pub reason: String,
}

/// The scoring's version, saved with every match.
pub const ALGORITHM_VERSION: &str = "heuristic-2";

/// Scores a candidate out of 100: industry 30, services 25 × fraction covered, experience 15,
/// rating 15, certifications 10, spare capacity 5 — times a budget fit in [0.6, 1].
pub fn score(needs: &Needs, c: &Candidate) -> (f64, Vec<ScoreComponent>) {
    let mut parts = Vec::with_capacity(7);
    let industry = match &needs.industry {
        Some(i) if c.industries.contains(i) => (30.0, format!("works in {i}")),
        Some(i) => (0.0, format!("no {i} experience listed")),
        None => (15.0, "no industry given: half credit".to_owned()),
    };
    parts.push(component("industry", industry.0, 30.0, industry.1));

    let covered = needs.services.iter().filter(|s| c.services.contains(s)).count();
    let fraction = if needs.services.is_empty() { 1.0 } else { covered as f64 / needs.services.len() as f64 };
    parts.push(component(
        "services",
        25.0 * fraction,
        25.0,
        format!("offers {covered} of {} services needed", needs.services.len()),
    ));

    let years = c.years_experience.max(0) as f64;
    parts.push(component(
        "experience",
        15.0 * (years / 20.0).min(1.0),
        15.0,
        format!("{years} years of experience"),
    ));

    let rating = c.rating.to_f64().unwrap_or(0.0).clamp(0.0, 5.0);
    parts.push(component("rating", 15.0 * rating / 5.0, 15.0, format!("rated {rating:.1} of 5")));

    let certs = if needs.required_certifications.is_empty() {
        (10.0, "no certification required".to_owned())
    } else {
        let held: Vec<&String> =
            needs.required_certifications.iter().filter(|r| c.certifications.contains(r)).collect();
        let share = held.len() as f64 / needs.required_certifications.len() as f64;
        (
            10.0 * share,
            format!(
                "holds {} of {} required certifications",
                held.len(),
                needs.required_certifications.len()
            ),
        )
    };
    parts.push(component("certifications", certs.0, 10.0, certs.1));

    let spare = if c.max_clients > 0 {
        (1.0 - c.current_clients as f64 / c.max_clients as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    parts.push(component(
        "capacity",
        5.0 * spare,
        5.0,
        format!("{} of {} client slots free", (c.max_clients - c.current_clients).max(0), c.max_clients),
    ));

    let (fit, why) = budget_fit(needs, c);
    let subtotal: f64 = parts.iter().map(|p| p.points).sum();
    parts.push(ScoreComponent {
        component: "budget".to_owned(),
        points: subtotal * fit - subtotal,
        max: 0.0,
        reason: why,
    });
    let total = (subtotal * fit * 100.0).round() / 100.0;
    (total, parts)
}

fn component(name: &str, points: f64, max: f64, reason: String) -> ScoreComponent {
    ScoreComponent { component: name.to_owned(), points: (points * 100.0).round() / 100.0, max, reason }
}

/// 1.0 when the advisor's price for the budget type is within the budget, less as it exceeds it
/// (down to 0.6 at double the budget), 0.9 when the advisor gives no price of that kind.
fn budget_fit(needs: &Needs, c: &Candidate) -> (f64, String) {
    let price = match needs.budget_type {
        BudgetType::Hourly => c.hourly_rate,
        BudgetType::MonthlyRetainer => c.retainer_min,
        BudgetType::ProjectBased => c.project_rate_min,
        BudgetType::Flexible => return (1.0, "flexible budget".to_owned()),
    };
    let (Some(price), Some(max)) = (price, needs.budget_max) else {
        return (0.9, "no price or budget to compare".to_owned());
    };
    if price <= max {
        return (1.0, format!("price {price} within budget {max}"));
    }
    let over = ((price - max) / max.max(Decimal::ONE)).to_f64().unwrap_or(1.0);
    ((1.0 - 0.4 * over.min(1.0)).max(0.6), format!("price {price} is {:.0}% over budget {max}", over * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn needs() -> Needs {
        Needs {
            industry: Some("saas".into()),
            services: vec!["fpa".into(), "fundraising".into()],
            budget_type: BudgetType::Hourly,
            budget_min: None,
            budget_max: Some(d("250")),
            required_certifications: vec!["cpa".into()],
            min_years_experience: 5,
        }
    }

    fn ideal() -> Candidate {
        Candidate {
            industries: vec!["saas".into()],
            services: vec!["fpa".into(), "fundraising".into(), "budgeting".into()],
            certifications: vec!["cpa".into()],
            years_experience: 25,
            rating: d("5"),
            max_clients: 10,
            current_clients: 0,
            hourly_rate: Some(d("200")),
            retainer_min: None,
            retainer_max: None,
            project_rate_min: None,
        }
    }

    #[test]
    fn a_perfect_candidate_scores_100_with_a_reason_per_component() {
        let (total, parts) = score(&needs(), &ideal());
        assert_eq!(total, 100.0);
        assert_eq!(parts.len(), 7);
        assert!(parts.iter().all(|p| !p.reason.is_empty()));
    }

    #[test]
    fn each_shortfall_costs_its_share() {
        let mut c = ideal();
        c.industries = vec!["retail".into()];
        c.services = vec!["fpa".into()];
        c.years_experience = 10;
        c.rating = d("4");
        c.certifications.clear();
        c.current_clients = 5;
        let (total, parts) = score(&needs(), &c);
        let get = |n: &str| parts.iter().find(|p| p.component == n).unwrap().points;
        assert_eq!(get("industry"), 0.0);
        assert_eq!(get("services"), 12.5);
        assert_eq!(get("experience"), 7.5);
        assert_eq!(get("rating"), 12.0);
        assert_eq!(get("certifications"), 0.0);
        assert_eq!(get("capacity"), 2.5);
        assert_eq!(total, 34.5);
        c.hourly_rate = Some(d("500"));
        let (over, _) = score(&needs(), &c);
        assert!(over < total && over >= total * 0.6);
    }

    #[test]
    fn lifecycles_allow_only_their_moves() {
        use MatchSide as W;
        use MatchStatus as S;
        assert!(S::Suggested.may_move(S::Contacted, W::Client));
        assert!(!S::Suggested.may_move(S::Responded, W::Advisor));
        assert!(S::Contacted.may_move(S::Responded, W::Advisor));
        assert!(!S::Contacted.may_move(S::Responded, W::Client));
        assert!(S::Proposal.may_move(S::Accepted, W::Client));
        assert!(!S::Proposal.may_move(S::Accepted, W::Advisor));
        assert!(S::Viewed.may_move(S::Declined, W::Advisor));
        assert!(!S::Accepted.may_move(S::Declined, W::Client));
        assert!(!S::Suggested.may_move(S::Declined, W::System));
        assert_eq!(ProfileStatus::Pending.after(ProfileAction::Submit), Some(ProfileStatus::UnderReview));
        assert_eq!(ProfileStatus::Pending.after(ProfileAction::Approve), None);
        assert_eq!(ProfileStatus::Active.after(ProfileAction::Suspend), Some(ProfileStatus::Suspended));
    }

    #[test]
    fn vocabularies_normalise_and_name_the_unknown() {
        assert_eq!(
            vocabulary(&["FPA".into(), "cash flow".into(), "fpa".into()], SERVICES).unwrap(),
            vec!["fpa", "cash_flow"]
        );
        assert_eq!(vocabulary(&["astrology".into()], SERVICES).unwrap_err(), vec!["astrology"]);
    }
}
