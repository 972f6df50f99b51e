//! Who should take a ready task: a score over workload, skill, availability and priority (the
//! reference's proposed weights, 0.4 / 0.3 / 0.2 / 0.1), with the reasons kept beside it so a
//! manager can see why the system chose someone.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::firm::{Priority, text_enum};
use crate::{Role, UserId};

text_enum!(
    /// How a firm routes ready steps.
    Routing { Off = "off", RoundRobin = "round_robin", Scored = "scored" }
);

/// A firm's routing: its strategy, and optionally a share of steps routed by another, so the
/// two can be compared on the same work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoutingSettings {
    pub routing: Routing,
    pub ab_routing: Option<Routing>,
    /// 0–100: the share of steps routed by `ab_routing`.
    pub ab_percent: u8,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings { routing: Routing::Off, ab_routing: None, ab_percent: 0 }
    }
}

impl RoutingSettings {
    /// The strategy for one step: the same step always lands in the same arm (its id decides).
    pub fn strategy_for(&self, step: uuid::Uuid) -> Routing {
        match self.ab_routing {
            Some(b) if self.ab_percent > 0 && self.routing != Routing::Off => {
                let bucket = u128::from_le_bytes(*step.as_bytes()) % 100;
                if bucket < u128::from(self.ab_percent) { b } else { self.routing }
            }
            _ => self.routing,
        }
    }
}

/// What the task needs.
#[derive(Clone, Debug)]
pub struct TaskNeeds {
    pub role: Option<Role>,
    pub skill: Option<String>,
    pub estimated_hours: Decimal,
    pub priority: Priority,
}

/// One member as routing sees them.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub user: UserId,
    pub role: Role,
    /// Estimated hours of the member's open tasks.
    pub open_hours: Decimal,
    pub weekly_capacity: Decimal,
    pub skills: Vec<String>,
    /// The member's average actual hours on this kind of task, when they have done it before.
    pub past_hours: Option<Decimal>,
    /// On time off today.
    pub away: bool,
    /// When the member was last given a step (round robin goes to the longest-waiting).
    pub last_assigned_at: Option<DateTime<Utc>>,
}

/// A candidate's score (0–100) and its parts, rounded to whole points.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    pub user: UserId,
    pub score: f64,
    pub reasons: Vec<String>,
}

/// The eligible candidates, best first. Equal scores go to the least loaded for their capacity
/// (once everyone is over capacity, workload and availability score 0 for all, and the tie must
/// still spread the work), then by user id, so the order is stable. Eligible: not away, and
/// holding the task's role or a more senior firm role below administrator (owners and
/// administrators run the firm; they take work only when the step asks for their role).
pub fn rank(task: &TaskNeeds, candidates: &[Candidate]) -> Vec<Scored> {
    let load = |c: &Candidate| {
        c.open_hours.to_f64().unwrap_or(0.0) / c.weekly_capacity.to_f64().unwrap_or(0.0).max(1.0)
    };
    let mut out: Vec<(Scored, f64)> =
        candidates.iter().filter(|c| eligible(task, c)).map(|c| (score(task, c), load(c))).collect();
    out.sort_by(|(a, a_load), (b, b_load)| {
        b.score.total_cmp(&a.score).then(a_load.total_cmp(b_load)).then(a.user.cmp(&b.user))
    });
    out.into_iter().map(|(scored, _)| scored).collect()
}

/// Round robin among the eligible: the member whose last assignment is oldest (never first).
pub fn round_robin(task: &TaskNeeds, candidates: &[Candidate]) -> Option<Scored> {
    candidates.iter().filter(|c| eligible(task, c)).min_by_key(|c| (c.last_assigned_at, c.user)).map(|c| {
        Scored {
            user: c.user,
            score: 0.0,
            reasons: vec![match c.last_assigned_at {
                Some(t) => format!("round robin: last given a step {}", t.format("%Y-%m-%d %H:%M UTC")),
                None => "round robin: not given a step before".to_owned(),
            }],
        }
    })
}

fn eligible(task: &TaskNeeds, c: &Candidate) -> bool {
    if c.away || c.role == Role::Client {
        return false;
    }
    match task.role {
        Some(needed) => {
            c.role == needed || (c.role.rank() > needed.rank() && c.role.rank() < Role::Admin.rank())
        }
        None => c.role.rank() < Role::Admin.rank(),
    }
}

fn score(task: &TaskNeeds, c: &Candidate) -> Scored {
    let f = |d: Decimal| d.to_f64().unwrap_or(0.0);
    let capacity = f(c.weekly_capacity).max(1.0);
    let open = f(c.open_hours);
    let estimate = f(task.estimated_hours).max(0.25);
    let workload = (100.0 * (1.0 - open / capacity)).clamp(0.0, 100.0);
    let free = (capacity - open).max(0.0);
    let availability = (100.0 * free / estimate).min(100.0);
    let tag = match &task.skill {
        Some(s) if c.skills.iter().any(|t| t.eq_ignore_ascii_case(s)) => 60.0,
        Some(_) => 0.0,
        None => 60.0,
    };
    let history = c.past_hours.map_or(20.0, |p| 40.0 * (estimate / f(p).max(0.25)).min(1.0));
    let skill = tag + history;
    // Urgent and high-priority work goes to the most senior eligible people; the rest to the
    // least senior, keeping seniors free.
    let senior = task.role.is_none_or(|r| c.role.rank() > r.rank());
    let priority = match (task.priority, senior) {
        (Priority::Urgent | Priority::High, true) | (Priority::Normal | Priority::Low, false) => 100.0,
        _ => 50.0,
    };
    let total = 0.4 * workload + 0.3 * skill + 0.2 * availability + 0.1 * priority;
    let reasons = vec![
        format!("workload {:.0}: {open:.1} of {capacity:.0} weekly hours open", workload),
        format!(
            "skill {skill:.0}: {}{}",
            match &task.skill {
                Some(s) if tag > 0.0 => format!("has `{s}`"),
                Some(s) => format!("lacks `{s}`"),
                None => "no skill needed".to_owned(),
            },
            c.past_hours
                .map_or(", no history on this task type".to_owned(), |p| format!(", averages {p} h on it")),
        ),
        format!("availability {availability:.0}: {free:.1} h free for a {estimate:.1} h task"),
        format!("priority {priority:.0}: {} task, {} role", task.priority, c.role),
    ];
    Scored { user: c.user, score: (total * 10.0).round() / 10.0, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: Role, open: i64, skills: &[&str], past: Option<i64>) -> Candidate {
        Candidate {
            user: UserId::new(),
            role,
            open_hours: Decimal::from(open),
            weekly_capacity: Decimal::from(40),
            skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            past_hours: past.map(Decimal::from),
            away: false,
            last_assigned_at: None,
        }
    }

    fn needs(role: Role, skill: Option<&str>, hours: i64, priority: Priority) -> TaskNeeds {
        TaskNeeds {
            role: Some(role),
            skill: skill.map(str::to_owned),
            estimated_hours: Decimal::from(hours),
            priority,
        }
    }

    #[test]
    fn scores_match_the_hand_computed_figures() {
        // Staff task, 2 h, normal priority, needs `payroll`.
        let task = needs(Role::Staff, Some("payroll"), 2, Priority::Normal);
        // A: staff, 30 h open, has payroll, did it in 4 h on average.
        //   workload 100·(1−30/40)=25; skill 60+40·min(1,2/4)=80; availability min(100,100·10/2)=100;
        //   priority: not senior, normal → 100. 0.4·25+0.3·80+0.2·100+0.1·100 = 10+24+20+10 = 64.
        let a = member(Role::Staff, 30, &["payroll"], Some(4));
        // B: cpa (more senior), 10 h open, no payroll, no history.
        //   workload 75; skill 0+20=20; availability 100; priority: senior, normal → 50.
        //   30+6+20+5 = 61.
        let b = member(Role::Cpa, 10, &[], None);
        // C: staff, away. D: owner (not routed staff work).
        let mut c = member(Role::Staff, 0, &["payroll"], None);
        c.away = true;
        let d = member(Role::Owner, 0, &["payroll"], None);
        let ranked = rank(&task, &[b.clone(), a.clone(), c, d]);
        let got: Vec<(UserId, f64)> = ranked.iter().map(|s| (s.user, s.score)).collect();
        assert_eq!(got, vec![(a.user, 64.0), (b.user, 61.0)]);
        assert_eq!(ranked[0].reasons[0], "workload 25: 30.0 of 40 weekly hours open");
        assert_eq!(ranked[1].reasons[1], "skill 20: lacks `payroll`, no history on this task type");
    }

    #[test]
    fn urgent_work_prefers_the_senior_and_a_full_week_scores_no_availability() {
        let task = needs(Role::Staff, None, 8, Priority::Urgent);
        let junior = member(Role::Staff, 0, &[], None);
        // cpa: workload 100·(1−36/40)=10; skill 60+20=80; availability 100·4/8=50; priority 100.
        //   4+24+10+10 = 48. staff: 40+24+20+5 = 89.
        let senior = member(Role::Cpa, 36, &[], None);
        let ranked = rank(&task, &[senior.clone(), junior.clone()]);
        assert_eq!(ranked.iter().map(|s| s.score).collect::<Vec<_>>(), vec![89.0, 48.0]);
        assert_eq!(ranked[0].user, junior.user);
    }

    #[test]
    fn when_everyone_is_over_capacity_the_least_loaded_wins_the_tie() {
        let task = needs(Role::Staff, None, 2, Priority::Normal);
        // Both over their 40 h: workload 0, availability 0, skill 80, priority 100 → 34 each.
        let busier = member(Role::Staff, 90, &[], None);
        let lighter = member(Role::Staff, 50, &[], None);
        for order in [[busier.clone(), lighter.clone()], [lighter.clone(), busier.clone()]] {
            let ranked = rank(&task, &order);
            assert_eq!(ranked.iter().map(|s| s.score).collect::<Vec<_>>(), vec![34.0, 34.0]);
            assert_eq!(ranked[0].user, lighter.user);
        }
    }

    #[test]
    fn round_robin_goes_to_the_longest_waiting_eligible_member() {
        let task = needs(Role::Staff, None, 1, Priority::Normal);
        let mut a = member(Role::Staff, 0, &[], None);
        let mut b = member(Role::Staff, 0, &[], None);
        let c = member(Role::Owner, 0, &[], None);
        a.last_assigned_at = Some(Utc::now());
        b.last_assigned_at = Some(Utc::now() - chrono::Duration::hours(1));
        assert_eq!(round_robin(&task, &[a.clone(), b.clone(), c.clone()]).unwrap().user, b.user);
        b.last_assigned_at = None;
        assert_eq!(round_robin(&task, &[a, b.clone(), c]).unwrap().user, b.user, "never assigned goes first");
    }

    #[test]
    fn an_ab_split_sends_about_its_share_to_the_second_strategy_and_a_step_always_to_the_same_arm() {
        let s = RoutingSettings {
            routing: Routing::Scored,
            ab_routing: Some(Routing::RoundRobin),
            ab_percent: 30,
        };
        let ids: Vec<uuid::Uuid> = (0..2000).map(|_| uuid::Uuid::now_v7()).collect();
        let b = ids.iter().filter(|id| s.strategy_for(**id) == Routing::RoundRobin).count();
        assert!((500..700).contains(&b), "{b} of 2000 in the 30% arm");
        assert!(ids.iter().all(|id| s.strategy_for(*id) == s.strategy_for(*id)));
        let off = RoutingSettings { routing: Routing::Off, ..s };
        assert!(ids.iter().all(|id| off.strategy_for(*id) == Routing::Off), "off means off");
    }
}
