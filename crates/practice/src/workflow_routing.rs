//! Routing ready steps to people, and the team's workload.
//!
//! [`route_ready`] runs inside the transaction that made steps ready (a run's start, a step's
//! completion), so a step is never left ready and unrouted by a crash between the two. Each
//! member's workload is read from the open steps themselves (an indexed aggregate per member), so
//! it is exact on every change rather than a cache to keep in step.

use api_types::workflows::{
    CapacityRequest, MemberWorkload, RoutingFiguresResponse, RoutingSettingsBody, StrategyFiguresResponse,
    TeamWorkload,
};
use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate, Utc};
use domain::workflow::recurrence::{Recurrence, parse_time_zone};
use domain::workflow::routing::{self, Candidate, Routing, RoutingSettings, TaskNeeds};
use domain::workflow::{StepKind, TaskType};
use domain::{NotificationKind, Permission, Priority, UserId, WorkflowRunId, WorkflowStepId};
use identity::Caller;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use store::notifications::{self, NewNotification};
use store::workflow_routing::{self as wr, Capacity, MemberLoad};
use store::workflows::StepRow;
use store::{AuditRecord, TenantTx};

use crate::{Practice, PracticeError, PracticeResult};

fn away(m: &MemberLoad, today: NaiveDate) -> bool {
    m.away_from.is_some_and(|f| f <= today) && m.away_until.is_none_or(|u| u >= today)
}

fn candidate(m: &MemberLoad, today: NaiveDate) -> Candidate {
    Candidate {
        user: m.user_id,
        role: m.role,
        open_hours: m.open_hours,
        weekly_capacity: m.weekly_hours,
        skills: m.skills.clone(),
        past_hours: None,
        away: away(m, today),
        last_assigned_at: m.last_assigned_at,
    }
}

/// Assigns each of `ready` (indices into `rows`, which may hold the steps of several runs) that
/// has no assignee and needs a person, by the firm's strategy; notifies the assignees and records
/// why — three reads and two writes however many steps. `run_names` names each run for the notices.
pub(crate) async fn route_ready(
    tx: &mut TenantTx,
    run_names: &HashMap<WorkflowRunId, &str>,
    rows: &[StepRow],
    ready: &[usize],
) -> PracticeResult<Vec<(WorkflowStepId, UserId)>> {
    let wanted: Vec<&StepRow> = ready
        .iter()
        .filter_map(|&i| rows.get(i))
        .filter(|s| s.assignee_id.is_none() && !matches!(s.kind, StepKind::Wait | StepKind::Automation))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let settings = wr::settings(tx).await?;
    if settings.routing == Routing::Off {
        return Ok(Vec::new());
    }
    let today = Utc::now().date_naive();
    let mut candidates: Vec<Candidate> = wr::loads(tx).await?.iter().map(|m| candidate(m, today)).collect();
    let mut task_types: Vec<TaskType> = wanted.iter().map(|s| s.task_type).collect();
    task_types.sort_unstable();
    task_types.dedup();
    let history = wr::past_hours(tx, &task_types).await?;
    let decisions = decide(&settings, &mut candidates, &history, &wanted);
    let routed: Vec<wr::Routed> = decisions
        .iter()
        .map(|(step, chosen, strategy)| wr::Routed {
            run: step.run_id,
            position: step.position,
            user: chosen.user,
            strategy: *strategy,
            reasons: chosen.reasons.clone(),
        })
        .collect();
    wr::route_steps(tx, &routed).await?;
    let texts: Vec<(String, String, String)> = decisions
        .iter()
        .map(|(step, _, _)| {
            let run_name = run_names.get(&step.run_id).copied().unwrap_or_default();
            (
                format!("New step: {}", step.name),
                format!("{run_name}: “{}” is yours, due {}.", step.name, step.due_date),
                format!("workflow_step:{}", step.id),
            )
        })
        .collect();
    let notices: Vec<NewNotification<'_>> = decisions
        .iter()
        .zip(&texts)
        .map(|((step, chosen, _), (title, body, key))| NewNotification {
            user_id: chosen.user,
            kind: NotificationKind::WorkflowStepAssigned,
            title,
            body,
            payload: serde_json::json!({"run_id": step.run_id, "step": step.key,
                "link": format!("/workflows/runs/{}", step.run_id)}),
            dedupe_key: key,
        })
        .collect();
    notifications::insert_many(tx, &notices).await?;
    for (step, chosen, strategy) in &decisions {
        tx.audit(AuditRecord::new("workflow_step.route", "workflow_step", step.id).after(
            serde_json::json!({"assignee": chosen.user, "strategy": strategy, "reasons": chosen.reasons}),
        ));
    }
    Ok(decisions.iter().map(|(step, chosen, _)| (step.id, chosen.user)).collect())
}

/// The routing decisions for `wanted`, in order, each seeing the hours the earlier ones gave out.
fn decide<'s>(
    settings: &RoutingSettings,
    candidates: &mut [Candidate],
    history: &[wr::PastHours],
    wanted: &[&'s StepRow],
) -> Vec<(&'s StepRow, routing::Scored, Routing)> {
    let mut out = Vec::with_capacity(wanted.len());
    for &step in wanted {
        for c in candidates.iter_mut() {
            c.past_hours = history
                .iter()
                .find(|h| h.task_type == step.task_type && h.user_id == c.user)
                .map(|h| h.hours);
        }
        let strategy = settings.strategy_for(step.id.as_uuid());
        let needs = TaskNeeds {
            role: step.role,
            skill: step.skill.clone(),
            estimated_hours: step.estimated_hours,
            priority: Priority::Normal,
        };
        let chosen = match strategy {
            Routing::Scored => routing::rank(&needs, candidates).into_iter().next(),
            Routing::RoundRobin => routing::round_robin(&needs, candidates),
            Routing::Off => None,
        };
        let Some(chosen) = chosen else { continue };
        // The next step sees this one's hours.
        if let Some(c) = candidates.iter_mut().find(|c| c.user == chosen.user) {
            c.open_hours += step.estimated_hours;
            c.last_assigned_at = Some(Utc::now());
        }
        out.push((step, chosen, strategy));
    }
    out
}

/// A new time zone moves every active schedule's next period to its next occurrence in that zone.
async fn recompute_cursors(tx: &mut TenantTx, zone: &str) -> PracticeResult<()> {
    let Ok(tz) = parse_time_zone(zone) else { return Ok(()) };
    let now = Utc::now();
    for s in store::workflow_recurrence::all_schedules(tx).await? {
        if let Some(next) = Recurrence::stored(&s.cron, tz).and_then(|r| r.next_after(now)) {
            store::workflow_recurrence::set_cursor(tx, s.id, next).await?;
        }
    }
    Ok(())
}

fn settings_body(s: RoutingSettings, time_zone: &str) -> RoutingSettingsBody {
    RoutingSettingsBody {
        routing: s.routing,
        ab_routing: s.ab_routing,
        ab_percent: s.ab_percent,
        time_zone: Some(time_zone.to_owned()),
    }
}

/// Weeks the team view shows.
const WEEKS: i32 = 4;

fn workload(m: MemberLoad, today: NaiveDate) -> MemberWorkload {
    let utilisation = if m.weekly_hours > Decimal::ZERO {
        (m.open_hours * Decimal::from(100) / m.weekly_hours).round().to_u32().unwrap_or(u32::MAX)
    } else {
        0
    };
    MemberWorkload {
        away_today: away(&m, today),
        utilisation,
        user_id: m.user_id,
        name: m.name,
        role: m.role,
        weekly_hours: m.weekly_hours,
        skills: m.skills,
        away_from: m.away_from,
        away_until: m.away_until,
        open_steps: m.open_steps,
        open_hours: m.open_hours,
        hours_by_week: Vec::new(),
    }
}

impl Practice {
    pub async fn workflow_settings(&self, caller: &Caller) -> PracticeResult<RoutingSettingsBody> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let s = wr::settings(&mut tx).await?;
        let zone = store::workflow_recurrence::time_zone(&mut tx).await?;
        tx.commit().await?;
        Ok(settings_body(s, &zone))
    }

    pub async fn save_workflow_settings(
        &self,
        caller: &Caller,
        req: RoutingSettingsBody,
    ) -> PracticeResult<RoutingSettingsBody> {
        caller.require(Permission::WorkflowsUpdate)?;
        if req.ab_percent > 100 {
            return Err(PracticeError::invalid("ab_percent", "must be 0 to 100"));
        }
        if req.ab_percent > 0 && (req.ab_routing.is_none() || req.ab_routing == Some(Routing::Off)) {
            return Err(PracticeError::invalid("ab_routing", "an A/B split names the second strategy"));
        }
        if req.ab_routing == Some(req.routing) {
            return Err(PracticeError::invalid("ab_routing", "must differ from the main strategy"));
        }
        let zone = match req.time_zone.as_deref().map(str::trim) {
            Some(name) => Some(
                parse_time_zone(name)
                    .map_err(|e| PracticeError::invalid("time_zone", e.to_string()))?
                    .name()
                    .to_owned(),
            ),
            None => None,
        };
        let s =
            RoutingSettings { routing: req.routing, ab_routing: req.ab_routing, ab_percent: req.ab_percent };
        let mut tx = self.tx(caller).await?;
        let change = wr::save_settings(&mut tx, s).await?;
        let before_zone = store::workflow_recurrence::time_zone(&mut tx).await?;
        let after_zone = zone.unwrap_or_else(|| before_zone.clone());
        if after_zone != before_zone {
            store::workflow_recurrence::save_time_zone(&mut tx, &after_zone).await?;
            recompute_cursors(&mut tx, &after_zone).await?;
        }
        tx.audit(
            AuditRecord::new("workflow_settings.update", "organization", tx.organization_id())
                .before(settings_body(change.before, &before_zone))
                .after(settings_body(change.after, &after_zone)),
        );
        tx.commit().await?;
        Ok(settings_body(s, &after_zone))
    }

    /// Every active staff member's open work against their weekly capacity, and by the week it
    /// is due over the next four weeks.
    pub async fn team_workload(&self, caller: &Caller) -> PracticeResult<TeamWorkload> {
        caller.require(Permission::WorkflowsRead)?;
        let today = Utc::now().date_naive();
        let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
        let mut tx = self.tx(caller).await?;
        let loads = wr::loads(&mut tx).await?;
        let by_week = wr::hours_by_week(&mut tx, monday, WEEKS).await?;
        tx.commit().await?;
        let members = loads
            .into_iter()
            .map(|m| {
                let mut w = workload(m, today);
                w.hours_by_week = (0..WEEKS)
                    .map(|k| {
                        by_week
                            .iter()
                            .filter(|(u, wk, _)| *u == w.user_id && *wk == k)
                            .map(|(_, _, h)| *h)
                            .sum()
                    })
                    .collect();
                w
            })
            .collect();
        Ok(TeamWorkload { weeks: (0..WEEKS).map(|k| monday + Days::new(7 * k as u64)).collect(), members })
    }

    /// A member's capacity, skills and time off: their own, or anyone's with `workflows:update`.
    pub async fn save_member_capacity(
        &self,
        caller: &Caller,
        user: UserId,
        req: CapacityRequest,
    ) -> PracticeResult<MemberWorkload> {
        if user != caller.user_id() {
            caller.require(Permission::WorkflowsUpdate)?;
        } else {
            caller.require(Permission::WorkflowsRead)?;
        }
        let mut p = domain::validate::Problems::default();
        if req.weekly_hours < Decimal::ZERO
            || req.weekly_hours > Decimal::from(168)
            || req.weekly_hours.scale() > 2
        {
            p.add("weekly_hours", "must be 0 to 168 hours with at most 2 decimals");
        }
        let skills = p.tags("skills", &req.skills);
        if let (Some(f), Some(u)) = (req.away_from, req.away_until)
            && u < f
        {
            p.add("away_until", "must not be before away_from");
        }
        p.into_result()?;
        let mut tx = self.tx(caller).await?;
        let before = wr::loads(&mut tx)
            .await?
            .into_iter()
            .find(|m| m.user_id == user)
            .ok_or(PracticeError::NotFound("member"))?;
        let capacity = Capacity {
            weekly_hours: req.weekly_hours,
            skills,
            away_from: req.away_from,
            away_until: req.away_until,
        };
        wr::save_capacity(&mut tx, user, &capacity).await?;
        tx.audit(AuditRecord::new("member.capacity_update", "user", user).before(&before).after(&capacity));
        let after = wr::loads(&mut tx)
            .await?
            .into_iter()
            .find(|m| m.user_id == user)
            .ok_or(PracticeError::NotFound("member"))?;
        tx.commit().await?;
        Ok(workload(after, Utc::now().date_naive()))
    }

    /// Time to assignment and reassignment rate per strategy, and today's utilisation spread.
    pub async fn routing_figures(&self, caller: &Caller) -> PracticeResult<RoutingFiguresResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let today = Utc::now().date_naive();
        let mut tx = self.tx(caller).await?;
        let settings = wr::settings(&mut tx).await?;
        let figures = wr::figures(&mut tx).await?;
        let loads = wr::loads(&mut tx).await?;
        let zone = store::workflow_recurrence::time_zone(&mut tx).await?;
        tx.commit().await?;
        let utilisation: Vec<f64> = loads
            .into_iter()
            .filter(|m| m.weekly_hours > Decimal::ZERO && !away(m, today))
            .map(|m| f64::from(workload(m, today).utilisation))
            .collect();
        let n = utilisation.len() as f64;
        let mean = utilisation.iter().sum::<f64>() / n.max(1.0);
        let spread = (utilisation.iter().map(|u| (u - mean).powi(2)).sum::<f64>() / n.max(1.0)).sqrt();
        Ok(RoutingFiguresResponse {
            settings: settings_body(settings, &zone),
            strategies: figures
                .into_iter()
                .map(|f| StrategyFiguresResponse {
                    reassignment_rate: if f.routed > 0 {
                        100.0 * f.reassigned as f64 / f.routed as f64
                    } else {
                        0.0
                    },
                    strategy: f.strategy,
                    routed: f.routed,
                    median_seconds_to_assign: f.median_seconds_to_assign,
                    reassigned: f.reassigned,
                })
                .collect(),
            utilisation_spread: (spread * 10.0).round() / 10.0,
            members: utilisation.len(),
        })
    }
}
