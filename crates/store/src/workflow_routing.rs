//! Routing data: the firm's routing setting, members' capacity, skills and time off, each
//! member's open workload, and the figures the A/B comparison reads.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workflow::TaskType;
use domain::workflow::routing::{Routing, RoutingSettings};
use domain::{Role, UserId, WorkflowRunId};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::{Change, StoreResult, TenantTx};

/// The firm's setting (off when never saved).
pub async fn settings(tx: &mut TenantTx) -> StoreResult<RoutingSettings> {
    let org = tx.org_uuid();
    let row: Option<(Routing, Option<Routing>, i16)> = sqlx::query_as(
        "select routing, ab_routing, ab_percent from workflow_settings where organization_id = $1",
    )
    .bind(org)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row
        .map(|(routing, ab_routing, ab_percent)| RoutingSettings {
            routing,
            ab_routing,
            ab_percent: ab_percent.clamp(0, 100) as u8,
        })
        .unwrap_or_default())
}

pub async fn save_settings(tx: &mut TenantTx, s: RoutingSettings) -> StoreResult<Change<RoutingSettings>> {
    let before = settings(tx).await?;
    let org = tx.org_uuid();
    sqlx::query(
        "insert into workflow_settings (organization_id, routing, ab_routing, ab_percent) values ($1, $2, $3, $4)
         on conflict (organization_id) do update set routing = excluded.routing, ab_routing = excluded.ab_routing,
             ab_percent = excluded.ab_percent",
    )
    .bind(org)
    .bind(s.routing)
    .bind(s.ab_routing)
    .bind(i16::from(s.ab_percent))
    .execute(tx.conn())
    .await?;
    Ok(Change { before, after: s })
}

/// One member's routing facts: role, capacity, skills, time off, open work and last assignment.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MemberLoad {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub weekly_hours: Decimal,
    pub skills: Vec<String>,
    pub away_from: Option<NaiveDate>,
    pub away_until: Option<NaiveDate>,
    /// Estimated hours of the member's open steps.
    pub open_hours: Decimal,
    pub open_steps: i64,
    pub last_assigned_at: Option<DateTime<Utc>>,
}

/// Every active staff member with their load (a firm has tens of members, not thousands), the
/// load as the `member_workloads` triggers keep it.
pub async fn loads(tx: &mut TenantTx) -> StoreResult<Vec<MemberLoad>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select u.id as user_id, u.name, m.role, coalesce(c.weekly_hours, 40) as weekly_hours,
                coalesce(c.skills, '{}') as skills, c.away_from, c.away_until,
                coalesce(w.open_hours, 0) as open_hours, coalesce(w.open_steps, 0) as open_steps,
                w.last_assigned_at
           from users u
           join memberships m on m.organization_id = u.organization_id and m.user_id = u.id
           left join member_capacity c on c.organization_id = u.organization_id and c.user_id = u.id
           left join (
                select user_id, sum(open_hours) as open_hours, sum(open_steps) as open_steps,
                       max(last_assigned_at) as last_assigned_at
                  from member_workloads
                 where organization_id = $1
                 group by user_id
           ) w on w.user_id = u.id
          where u.organization_id = $1 and u.status = 'active' and m.role <> 'client'
          order by u.name, u.id
          limit 1000",
    )
    .bind(org)
    .fetch_all(tx.conn())
    .await?)
}

/// Open estimated hours per member and week of the due date, for the `weeks` weeks from
/// `monday`; work due earlier (overdue) counts in the first week.
pub async fn hours_by_week(
    tx: &mut TenantTx,
    monday: NaiveDate,
    weeks: i32,
) -> StoreResult<Vec<(UserId, i32, Decimal)>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select assignee_id, greatest(0, (due_date - $2) / 7)::int4 as week, sum(estimated_hours)
           from workflow_steps
          where organization_id = $1 and assignee_id is not null and status in ('ready', 'in_progress', 'blocked')
            and due_date < $2 + 7 * $3
          group by 1, 2",
    )
    .bind(org)
    .bind(monday)
    .bind(weeks)
    .fetch_all(tx.conn())
    .await?)
}

/// A member's capacity, skills and time off.
#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    pub weekly_hours: Decimal,
    pub skills: Vec<String>,
    pub away_from: Option<NaiveDate>,
    pub away_until: Option<NaiveDate>,
}

pub async fn save_capacity(tx: &mut TenantTx, user: UserId, c: &Capacity) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "insert into member_capacity (organization_id, user_id, weekly_hours, skills, away_from, away_until)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (organization_id, user_id) do update set weekly_hours = excluded.weekly_hours,
             skills = excluded.skills, away_from = excluded.away_from, away_until = excluded.away_until",
    )
    .bind(org)
    .bind(user)
    .bind(c.weekly_hours)
    .bind(&c.skills)
    .bind(c.away_from)
    .bind(c.away_until)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Gives a step to a member by a strategy, keeping why.
/// One routing decision to write.
#[derive(Debug, Clone)]
pub struct Routed {
    pub run: WorkflowRunId,
    pub position: i16,
    pub user: UserId,
    pub strategy: Routing,
    pub reasons: Vec<String>,
}

/// Writes routing decisions in one statement; a step someone was given meanwhile keeps its person.
pub async fn route_steps(tx: &mut TenantTx, routed: &[Routed]) -> StoreResult<()> {
    if routed.is_empty() {
        return Ok(());
    }
    let org = tx.org_uuid();
    sqlx::query(
        "update workflow_steps s set assignee_id = r.user_id, assigned_at = now(), routed_by = r.strategy,
                routing_reasons = r.reasons
           from unnest($2::uuid[], $3::smallint[], $4::uuid[], $5::text[], $6::jsonb[])
                as r(run_id, position, user_id, strategy, reasons)
          where s.organization_id = $1 and s.run_id = r.run_id and s.position = r.position
            and s.assignee_id is null",
    )
    .bind(org)
    .bind(routed.iter().map(|r| r.run).collect::<Vec<_>>())
    .bind(routed.iter().map(|r| r.position).collect::<Vec<_>>())
    .bind(routed.iter().map(|r| r.user).collect::<Vec<_>>())
    .bind(routed.iter().map(|r| r.strategy).collect::<Vec<_>>())
    .bind(routed.iter().map(|r| serde_json::json!(r.reasons)).collect::<Vec<_>>())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One strategy's figures over the steps it routed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StrategyFigures {
    pub strategy: Routing,
    pub routed: i64,
    /// Median seconds from ready to assigned.
    pub median_seconds_to_assign: Option<f64>,
    /// Routed steps later given to someone else.
    pub reassigned: i64,
}

pub async fn figures(tx: &mut TenantTx) -> StoreResult<Vec<StrategyFigures>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select routed_by as strategy, count(*) as routed,
                percentile_cont(0.5) within group (order by extract(epoch from assigned_at - ready_at))::float8
                    as median_seconds_to_assign,
                count(*) filter (where reassignments > 0) as reassigned
           from workflow_steps
          where organization_id = $1 and routed_by is not null
          group by routed_by order by routed_by",
    )
    .bind(org)
    .fetch_all(tx.conn())
    .await?)
}

/// A member's average logged hours on done steps of one task type.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PastHours {
    pub task_type: TaskType,
    pub user_id: UserId,
    pub hours: Decimal,
}

/// How long each member took, on average, on the done steps of these task types completed in
/// the last year — a step's hours being the finished time entries the member logged on it.
pub async fn past_hours(tx: &mut TenantTx, task_types: &[TaskType]) -> StoreResult<Vec<PastHours>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select task_type, user_id, round(avg(hours), 2) as hours
           from (select s.task_type, t.user_id, sum(t.minutes) / 60.0 as hours
                   from workflow_steps s
                   join time_entries t on t.organization_id = s.organization_id and t.step_id = s.id
                  where s.organization_id = $1 and s.status = 'done' and s.task_type = any($2)
                    and s.completed_at > now() - interval '1 year' and t.minutes is not null
                  group by s.task_type, t.user_id, s.id) per_step
          group by task_type, user_id",
    )
    .bind(org)
    .bind(task_types)
    .fetch_all(tx.conn())
    .await?)
}
