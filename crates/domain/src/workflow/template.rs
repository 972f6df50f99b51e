//! A workflow template: named steps joined by dependencies into a directed acyclic graph.
//!
//! Steps are addressed by a `key` that is stable across edits (the reference addressed them by
//! their index, so inserting a step silently rewired every dependency after it). Parallel work
//! needs no separate notion: steps whose dependencies are met at the same time run side by side,
//! and [`Template::stages`] shows them as groups.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::Role;
use crate::firm::text_enum;
use crate::validate::{FieldErrors, Problems};

text_enum!(
    /// What a step asks for.
    StepKind {
        /// Work a member does.
        Task = "task",
        /// A member with the step's role signs off.
        Approval = "approval",
        /// Something the client must provide (documents, answers); reminders follow it.
        ClientRequest = "client_request",
        /// A pause of `wait_days` business days once the step is reached.
        Wait = "wait",
        /// Done by the system: see [`Automation`].
        Automation = "automation",
    }
);

text_enum!(
    /// What an automation step does.
    Automation {
        SendEmail = "send_email",
        RequestDocuments = "request_documents",
        StartQuickbooksSync = "start_quickbooks_sync",
    }
);

text_enum!(
    /// The reference's task types: they name the kind of work (for routing by past completion time)
    /// and decide how long a step's cached result stays valid.
    TaskType {
        DocumentReview = "document_review",
        DataEntry = "data_entry",
        ClientMeeting = "client_meeting",
        Preparation = "preparation",
        Review = "review",
        Custom = "custom",
    }
);

text_enum!(
    /// The reference's template categories.
    TemplateCategory {
        TaxPreparation = "tax_preparation",
        Bookkeeping = "bookkeeping",
        Onboarding = "onboarding",
        YearEnd = "year_end",
        Compliance = "compliance",
        Advisory = "advisory",
    }
);

/// Bounds that keep a template something a person can read and a run something one transaction
/// can create.
pub const MAX_STEPS: usize = 100;
pub const MAX_HOURS_PER_STEP: i64 = 1_000;
pub const MAX_OFFSET_DAYS: u16 = 365;
pub const MAX_KEY_LEN: usize = 40;

/// One step of a template.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepDef {
    /// Unique within the template: lower-case letters, digits and `_`, starting with a letter.
    pub key: String,
    pub name: String,
    pub kind: StepKind,
    pub task_type: TaskType,
    /// Set exactly when `kind` is `automation`.
    pub automation: Option<Automation>,
    /// Keys of the steps that must be done (or skipped) before this one is ready.
    pub depends_on: Vec<String>,
    /// The role the work needs (routing only considers members holding at least it).
    pub role: Option<Role>,
    /// A skill tag the work needs (matched against members' tags).
    pub skill: Option<String>,
    pub estimated_hours: Decimal,
    /// Business days before the run's due date by which this step is due.
    pub due_offset_days: u16,
    /// For `wait` steps: business days to wait once reached.
    pub wait_days: Option<u16>,
}

/// A template's content: what a firm edits and what a version freezes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Template {
    pub name: String,
    pub category: TemplateCategory,
    pub description: Option<String>,
    pub steps: Vec<StepDef>,
}

impl Template {
    /// Checks everything a save must refuse, collecting every problem: names, keys, bounds, the
    /// kind-specific fields, dependencies that name no step, and cycles (naming the steps on one).
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut p = Problems::default();
        p.required("name", &self.name, 120);
        if let Some(d) = &self.description
            && d.chars().count() > 2_000
        {
            p.add("description", "must be at most 2000 characters");
        }
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            p.add("steps", format!("a template has 1 to {MAX_STEPS} steps"));
        }
        let mut seen = BTreeSet::new();
        for (i, s) in self.steps.iter().enumerate() {
            let at = |f: &str| format!("steps[{i}].{f}");
            if !valid_key(&s.key) {
                p.add(
                    at("key"),
                    format!("must be 1 to {MAX_KEY_LEN} of a-z, 0-9 and _, starting with a letter"),
                );
            } else if !seen.insert(s.key.as_str()) {
                p.add(at("key"), format!("`{}` is used by an earlier step", s.key));
            }
            p.required(&at("name"), &s.name, 120);
            match (s.kind, s.automation) {
                (StepKind::Automation, None) => {
                    p.add(at("automation"), "an automation step says what it does")
                }
                (k, Some(_)) if k != StepKind::Automation => {
                    p.add(at("automation"), "only automation steps have an automation")
                }
                _ => {}
            }
            match (s.kind, s.wait_days) {
                (StepKind::Wait, None | Some(0)) => {
                    p.add(at("wait_days"), "a wait step waits 1 to 365 business days")
                }
                (StepKind::Wait, Some(d)) if d > MAX_OFFSET_DAYS => {
                    p.add(at("wait_days"), "a wait step waits 1 to 365 business days")
                }
                (k, Some(_)) if k != StepKind::Wait => {
                    p.add(at("wait_days"), "only wait steps have wait days")
                }
                _ => {}
            }
            if s.estimated_hours < Decimal::ZERO
                || s.estimated_hours > Decimal::from(MAX_HOURS_PER_STEP)
                || s.estimated_hours.scale() > 2
            {
                p.add(
                    at("estimated_hours"),
                    format!("must be 0 to {MAX_HOURS_PER_STEP} with at most 2 decimals"),
                );
            }
            if s.due_offset_days > MAX_OFFSET_DAYS {
                p.add(at("due_offset_days"), format!("must be at most {MAX_OFFSET_DAYS}"));
            }
            if let Some(skill) = &s.skill
                && (skill.trim().is_empty() || skill.chars().count() > 50)
            {
                p.add(at("skill"), "must be 1 to 50 characters");
            }
            if s.role == Some(Role::Client) {
                p.add(at("role"), "client users do not take firm work; use a client_request step");
            }
            let mut deps = BTreeSet::new();
            for d in &s.depends_on {
                if d == &s.key {
                    p.add(at("depends_on"), "a step cannot depend on itself");
                } else if !self.steps.iter().any(|o| &o.key == d) {
                    p.add(at("depends_on"), format!("`{d}` is not a step of this template"));
                } else if !deps.insert(d) {
                    p.add(at("depends_on"), format!("`{d}` is listed twice"));
                }
            }
        }
        if p.0.is_empty()
            && let Some(cycle) = self.cycle()
        {
            p.add("steps", format!("the dependencies form a cycle: {}", cycle.join(" → ")));
        }
        p.into_result()
    }

    /// Index of each step's dependencies (callers have validated, so every key resolves).
    pub fn dependency_indices(&self) -> Vec<Vec<usize>> {
        let index: BTreeMap<&str, usize> =
            self.steps.iter().enumerate().map(|(i, s)| (s.key.as_str(), i)).collect();
        self.steps
            .iter()
            .map(|s| s.depends_on.iter().filter_map(|d| index.get(d.as_str()).copied()).collect())
            .collect()
    }

    /// The steps grouped by depth: a step's stage is one more than its deepest dependency's, so
    /// every step of a stage can run in parallel once the stages before it are done.
    pub fn stages(&self) -> Vec<Vec<usize>> {
        let deps = self.dependency_indices();
        let order = topological_order(&deps).unwrap_or_default();
        let mut depth = vec![0usize; deps.len()];
        for &i in &order {
            depth[i] = deps[i].iter().map(|&d| depth[d] + 1).max().unwrap_or(0);
        }
        let mut stages: Vec<Vec<usize>> = Vec::new();
        for &i in &order {
            if stages.len() <= depth[i] {
                stages.resize_with(depth[i] + 1, Vec::new);
            }
            stages[depth[i]].push(i);
        }
        for s in &mut stages {
            s.sort_unstable();
        }
        stages
    }

    /// Total estimated hours.
    pub fn estimated_hours(&self) -> Decimal {
        self.steps.iter().map(|s| s.estimated_hours).sum()
    }

    /// One cycle's step keys (first repeated at the end), if the dependencies have one.
    fn cycle(&self) -> Option<Vec<String>> {
        let deps = self.dependency_indices();
        if topological_order(&deps).is_some() {
            return None;
        }
        // Walk dependencies from a step left over by Kahn's algorithm until a step repeats.
        // Every step left over still needs another left-over step, so the walk cannot end.
        let left = remaining_after_kahn(&deps);
        let mut on_path: Vec<usize> = Vec::new();
        let mut at = *left.iter().next()?;
        loop {
            if let Some(pos) = on_path.iter().position(|&s| s == at) {
                let mut keys: Vec<String> =
                    on_path[pos..].iter().map(|&i| self.steps[i].key.clone()).collect();
                keys.reverse();
                keys.push(keys[0].clone());
                return Some(keys);
            }
            on_path.push(at);
            at = *deps[at].iter().find(|&&d| left.contains(&d))?;
        }
    }
}

/// Kahn's algorithm over `deps` (step → the steps it needs); `None` when there is a cycle.
pub fn topological_order(deps: &[Vec<usize>]) -> Option<Vec<usize>> {
    let order = kahn(deps);
    (order.len() == deps.len()).then_some(order)
}

fn kahn(deps: &[Vec<usize>]) -> Vec<usize> {
    let n = deps.len();
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependants = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependants[d].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).rev().collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &j in &dependants[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(j);
            }
        }
    }
    order
}

fn remaining_after_kahn(deps: &[Vec<usize>]) -> BTreeSet<usize> {
    let done: BTreeSet<usize> = kahn(deps).into_iter().collect();
    (0..deps.len()).filter(|i| !done.contains(i)).collect()
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some('a'..='z'))
        && key.len() <= MAX_KEY_LEN
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn step(key: &str, deps: &[&str], hours: i64) -> StepDef {
        StepDef {
            key: key.into(),
            name: key.replace('_', " "),
            kind: StepKind::Task,
            task_type: TaskType::Preparation,
            automation: None,
            depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
            role: Some(Role::Staff),
            skill: None,
            estimated_hours: Decimal::from(hours),
            due_offset_days: 0,
            wait_days: None,
        }
    }

    pub(crate) fn template(steps: Vec<StepDef>) -> Template {
        Template { name: "T".into(), category: TemplateCategory::Bookkeeping, description: None, steps }
    }

    fn fields(t: &Template) -> Vec<String> {
        t.validate()
            .err()
            .map(|e| e.0.into_iter().map(|(f, m)| format!("{f}: {m}")).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_diamond_is_valid_and_has_three_stages() {
        let t = template(vec![
            step("a", &[], 1),
            step("b", &["a"], 1),
            step("c", &["a"], 1),
            step("d", &["b", "c"], 1),
        ]);
        assert_eq!(t.validate(), Ok(()));
        assert_eq!(t.stages(), vec![vec![0], vec![1, 2], vec![3]]);
    }

    #[test]
    fn a_cycle_is_refused_naming_its_steps() {
        let t = template(vec![
            step("a", &["c"], 1),
            step("b", &["a"], 1),
            step("c", &["b"], 1),
            step("d", &[], 1),
        ]);
        let errs = fields(&t);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].starts_with("steps: the dependencies form a cycle: "), "{errs:?}");
        let mut cycle: Vec<&str> = errs[0].rsplit(": ").next().unwrap().split(" → ").collect();
        assert_eq!(cycle.first(), cycle.last(), "{errs:?}");
        cycle.pop();
        cycle.sort_unstable();
        assert_eq!(cycle, ["a", "b", "c"], "the cycle, without d: {errs:?}");
    }

    #[test]
    fn dangling_self_and_duplicate_dependencies_are_each_named() {
        let t = template(vec![step("a", &["a"], 1), step("b", &["zz", "a", "a"], 1), step("b", &[], 1)]);
        let errs = fields(&t);
        assert!(errs.contains(&"steps[0].depends_on: a step cannot depend on itself".to_owned()), "{errs:?}");
        assert!(
            errs.contains(&"steps[1].depends_on: `zz` is not a step of this template".to_owned()),
            "{errs:?}"
        );
        assert!(errs.contains(&"steps[1].depends_on: `a` is listed twice".to_owned()), "{errs:?}");
        assert!(errs.contains(&"steps[2].key: `b` is used by an earlier step".to_owned()), "{errs:?}");
    }

    #[test]
    fn kind_specific_fields_are_checked() {
        let mut auto = step("sync", &[], 0);
        auto.kind = StepKind::Automation;
        let mut wait = step("wait", &[], 0);
        wait.kind = StepKind::Wait;
        let mut task = step("task", &[], 0);
        task.automation = Some(Automation::SendEmail);
        task.wait_days = Some(2);
        task.estimated_hours = Decimal::new(1001, 0);
        task.key = "Task".into();
        let errs = fields(&template(vec![auto, wait, task]));
        for want in [
            "steps[0].automation: an automation step says what it does",
            "steps[1].wait_days: a wait step waits 1 to 365 business days",
            "steps[2].automation: only automation steps have an automation",
            "steps[2].wait_days: only wait steps have wait days",
            "steps[2].estimated_hours: must be 0 to 1000 with at most 2 decimals",
            "steps[2].key: must be 1 to 40 of a-z, 0-9 and _, starting with a letter",
        ] {
            assert!(errs.contains(&want.to_owned()), "missing {want}: {errs:?}");
        }
    }

    #[test]
    fn an_empty_template_is_refused() {
        assert_eq!(fields(&template(vec![])), vec!["steps: a template has 1 to 100 steps".to_owned()]);
    }
}
