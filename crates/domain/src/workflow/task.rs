//! Ad-hoc tasks and the "work item" notion they share with run steps: a task's status machine,
//! the lists a member looks at, and the @mentions of a comment.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate};

use crate::firm::text_enum;
use crate::{TaskId, WorkflowStepId};

text_enum!(
    /// An ad-hoc task's status.
    TaskStatus { Open = "open", InProgress = "in_progress", Done = "done", Cancelled = "cancelled" }
);

text_enum!(
    /// What a person does to a task.
    TaskAction { Start = "start", Complete = "complete", Reopen = "reopen", Cancel = "cancel" }
);

text_enum!(
    /// What a work item is: a run's step or an ad-hoc task.
    WorkItemKind { Step = "step", Task = "task" }
);

text_enum!(
    /// The open-work lists: the caller's (steps and tasks assigned to them), what they review
    /// (tasks naming them reviewer, approval steps assigned to them), one client's, and the
    /// firm's overdue and due this week.
    WorkView { Mine = "mine", Review = "review", Client = "client", Overdue = "overdue", Week = "week" }
);

/// A work item: one of a run's steps or an ad-hoc task. Their ids are distinct UUIDs, so the
/// API names either by its id alone; the store resolves which it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum WorkItemRef {
    Step(WorkflowStepId),
    Task(TaskId),
}

impl WorkItemRef {
    pub fn task(self) -> Option<TaskId> {
        match self {
            WorkItemRef::Task(t) => Some(t),
            WorkItemRef::Step(_) => None,
        }
    }

    pub fn step(self) -> Option<WorkflowStepId> {
        match self {
            WorkItemRef::Step(s) => Some(s),
            WorkItemRef::Task(_) => None,
        }
    }

    pub fn id(self) -> uuid::Uuid {
        match self {
            WorkItemRef::Step(s) => s.as_uuid(),
            WorkItemRef::Task(t) => t.as_uuid(),
        }
    }

    pub fn kind(self) -> WorkItemKind {
        match self {
            WorkItemRef::Step(_) => WorkItemKind::Step,
            WorkItemRef::Task(_) => WorkItemKind::Task,
        }
    }

    /// The audit log's entity name.
    pub fn entity(self) -> &'static str {
        match self {
            WorkItemRef::Step(_) => "workflow_step",
            WorkItemRef::Task(_) => "task",
        }
    }
}

impl TaskStatus {
    pub const fn is_finished(self) -> bool {
        matches!(self, TaskStatus::Done | TaskStatus::Cancelled)
    }

    /// The status `action` moves a task in this status to, if it may. Whether its dependencies
    /// allow starting or completing it is the caller's other check.
    pub const fn after(self, action: TaskAction) -> Option<TaskStatus> {
        use TaskStatus::*;
        match (action, self) {
            (TaskAction::Start, Open) => Some(InProgress),
            (TaskAction::Complete, Open | InProgress) => Some(Done),
            (TaskAction::Reopen, Done | Cancelled) => Some(Open),
            (TaskAction::Cancel, Open | InProgress) => Some(Cancelled),
            _ => None,
        }
    }
}

impl TaskAction {
    /// Moves the task's work forward, so it waits for its dependencies.
    pub const fn needs_dependencies(self) -> bool {
        matches!(self, TaskAction::Start | TaskAction::Complete)
    }
}

/// The last day (Sunday) of the ISO week of `today`: "due this week" is today through then.
pub fn week_end(today: NaiveDate) -> NaiveDate {
    today + Days::new(u64::from(6 - today.weekday().num_days_from_monday()))
}

/// The e-mail addresses a comment mentions (`@ana@firm.test`), lower-cased, each once, in order.
/// An `@` counts only at the start of a word, so a plain address in the text is not a mention.
pub fn mentions(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in body.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>' | ',' | ';')) {
        let Some(rest) = word.strip_prefix('@') else { continue };
        let email = rest.trim_end_matches(['.', ':', '!', '?']).to_lowercase();
        let Some((local, domain)) = email.split_once('@') else { continue };
        if local.is_empty() || !domain.contains('.') || domain.contains('@') {
            continue;
        }
        if !out.contains(&email) {
            out.push(email);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_transitions() {
        assert_eq!(TaskStatus::Open.after(TaskAction::Start), Some(TaskStatus::InProgress));
        assert_eq!(TaskStatus::InProgress.after(TaskAction::Complete), Some(TaskStatus::Done));
        assert_eq!(TaskStatus::Done.after(TaskAction::Reopen), Some(TaskStatus::Open));
        assert_eq!(TaskStatus::Done.after(TaskAction::Cancel), None);
        assert_eq!(TaskStatus::Open.after(TaskAction::Reopen), None);
        assert_eq!(TaskStatus::Cancelled.after(TaskAction::Start), None);
    }

    #[test]
    fn week_ends_on_sunday() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(week_end(d("2026-12-07")), d("2026-12-13")); // Monday
        assert_eq!(week_end(d("2026-12-13")), d("2026-12-13")); // Sunday
        assert_eq!(week_end(d("2026-12-10")), d("2026-12-13"));
    }

    #[test]
    fn finds_mentions_once_each() {
        let m = mentions(
            "@Ana@firm.test please check, cc @bo@firm.test. Again @ana@FIRM.test; mail x@y.test @ @x",
        );
        assert_eq!(m, vec!["ana@firm.test", "bo@firm.test"]);
        assert!(mentions("no mentions here").is_empty());
    }
}
