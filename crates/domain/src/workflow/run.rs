//! A workflow run's state machine: what each action does to a step, which steps it releases,
//! when the run is finished, its progress and its critical path.
//!
//! The store keeps a run's steps as rows; a use case loads them into a [`RunState`], applies one
//! action and writes back exactly the steps in the [`Outcome`] — in the same transaction, so a
//! step's completion and its dependants becoming ready are one fact.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::firm::text_enum;

text_enum!(
    /// A run step's status.
    StepStatus {
        /// Waiting for its dependencies.
        Pending = "pending",
        /// Its dependencies are done or skipped: work can start.
        Ready = "ready",
        InProgress = "in_progress",
        Done = "done",
        Skipped = "skipped",
        /// Held up by something outside the run (the client, a third party); releases nothing.
        Blocked = "blocked",
        Cancelled = "cancelled",
    }
);

text_enum!(
    /// A run's status.
    RunStatus { Active = "active", Paused = "paused", Done = "done", Cancelled = "cancelled" }
);

text_enum!(
    /// What a person does to one step.
    StepAction { Start = "start", Complete = "complete", Skip = "skip", Block = "block", Unblock = "unblock" }
);

impl StepStatus {
    /// Nothing more will happen to the step.
    pub const fn is_finished(self) -> bool {
        matches!(self, StepStatus::Done | StepStatus::Skipped | StepStatus::Cancelled)
    }

    /// Counts as met for the steps that depend on it.
    const fn releases(self) -> bool {
        matches!(self, StepStatus::Done | StepStatus::Skipped)
    }

    /// The status `action` moves a step in this status to, if it may.
    pub const fn after(self, action: StepAction) -> Option<StepStatus> {
        use StepStatus::*;
        match (action, self) {
            (StepAction::Start, Ready) => Some(InProgress),
            (StepAction::Complete, Ready | InProgress) => Some(Done),
            (StepAction::Skip, Pending | Ready | InProgress | Blocked) => Some(Skipped),
            (StepAction::Block, Ready | InProgress) => Some(Blocked),
            (StepAction::Unblock, Blocked) => Some(Ready),
            _ => None,
        }
    }
}

impl RunStatus {
    pub const fn is_finished(self) -> bool {
        matches!(self, RunStatus::Done | RunStatus::Cancelled)
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("the run is {0}; only an active run's steps move")]
    RunNotActive(RunStatus),
    #[error("a {from} step cannot be given `{action}`")]
    StepTransition { from: StepStatus, action: StepAction },
    #[error("the run is {from}; it cannot be {to}")]
    RunTransition { from: RunStatus, to: &'static str },
    #[error("the run has no step {0}")]
    NoSuchStep(usize),
}

/// One step as the state machine sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepState {
    pub status: StepStatus,
    /// Indices (into the run's steps) of the steps this one needs.
    pub depends_on: Vec<usize>,
    pub estimated_hours: Decimal,
}

/// A run: its status and its steps, in template order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunState {
    pub status: RunStatus,
    pub steps: Vec<StepState>,
}

/// What one change did: every step whose status changed (with its new status) and the run's
/// status afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Outcome {
    pub changed: Vec<(usize, StepStatus)>,
    pub run: Option<RunStatus>,
}

impl RunState {
    /// A new run: steps with no dependencies are ready, the rest pending.
    pub fn start(steps: impl IntoIterator<Item = (Vec<usize>, Decimal)>) -> Self {
        let steps = steps
            .into_iter()
            .map(|(depends_on, estimated_hours)| StepState {
                status: if depends_on.is_empty() { StepStatus::Ready } else { StepStatus::Pending },
                depends_on,
                estimated_hours,
            })
            .collect();
        RunState { status: RunStatus::Active, steps }
    }

    /// Applies `action` to step `index`; a step that becomes done or skipped releases each
    /// dependant whose dependencies are now all met, and the run is done when every step is.
    pub fn act(&mut self, index: usize, action: StepAction) -> Result<Outcome, RunError> {
        if self.status != RunStatus::Active {
            return Err(RunError::RunNotActive(self.status));
        }
        let from = self.steps.get(index).ok_or(RunError::NoSuchStep(index))?.status;
        let mut to = from.after(action).ok_or(RunError::StepTransition { from, action })?;
        if to == StepStatus::Ready && !self.met(index) {
            // Unblocking a step whose dependencies are not all met puts it back to waiting.
            to = StepStatus::Pending;
        }
        self.steps[index].status = to;
        let mut out = Outcome { changed: vec![(index, to)], run: None };
        if to.releases() {
            for j in 0..self.steps.len() {
                if self.steps[j].status == StepStatus::Pending
                    && self.steps[j].depends_on.contains(&index)
                    && self.met(j)
                {
                    self.steps[j].status = StepStatus::Ready;
                    out.changed.push((j, StepStatus::Ready));
                }
            }
        }
        if self.steps.iter().all(|s| s.status.is_finished()) {
            self.status = RunStatus::Done;
            out.run = Some(RunStatus::Done);
        }
        Ok(out)
    }

    pub fn pause(&mut self) -> Result<Outcome, RunError> {
        self.move_run(RunStatus::Active, RunStatus::Paused, "paused")
    }

    pub fn resume(&mut self) -> Result<Outcome, RunError> {
        self.move_run(RunStatus::Paused, RunStatus::Active, "resumed")
    }

    /// Cancels an active or paused run and every step not yet finished.
    pub fn cancel(&mut self) -> Result<Outcome, RunError> {
        if self.status.is_finished() {
            return Err(RunError::RunTransition { from: self.status, to: "cancelled" });
        }
        self.status = RunStatus::Cancelled;
        let mut out = Outcome { changed: Vec::new(), run: Some(RunStatus::Cancelled) };
        for (i, s) in self.steps.iter_mut().enumerate() {
            if !s.status.is_finished() {
                s.status = StepStatus::Cancelled;
                out.changed.push((i, StepStatus::Cancelled));
            }
        }
        Ok(out)
    }

    /// Percent of steps done or skipped (0–100, rounded down).
    pub fn progress(&self) -> u8 {
        let finished = self.steps.iter().filter(|s| s.status.releases()).count();
        (finished * 100).checked_div(self.steps.len()).unwrap_or(0) as u8
    }

    /// The chain of unfinished steps with the most estimated hours between now and the end of the
    /// run — the work that decides when it can finish — and those hours. Finished steps count
    /// zero hours, so the path moves as work gets done.
    pub fn critical_path(&self) -> (Vec<usize>, Decimal) {
        let deps: Vec<Vec<usize>> = self.steps.iter().map(|s| s.depends_on.clone()).collect();
        let Some(order) = super::template::topological_order(&deps) else {
            return (Vec::new(), Decimal::ZERO);
        };
        let mut longest = vec![Decimal::ZERO; self.steps.len()];
        let mut via: Vec<Option<usize>> = vec![None; self.steps.len()];
        for &i in &order {
            let own = if self.steps[i].status.is_finished() {
                Decimal::ZERO
            } else {
                self.steps[i].estimated_hours
            };
            let best =
                self.steps[i].depends_on.iter().copied().max_by_key(|&d| (longest[d], std::cmp::Reverse(d)));
            longest[i] = own + best.map_or(Decimal::ZERO, |d| longest[d]);
            via[i] = best;
        }
        let Some(end) = (0..self.steps.len()).max_by_key(|&i| (longest[i], std::cmp::Reverse(i))) else {
            return (Vec::new(), Decimal::ZERO);
        };
        let mut path = vec![end];
        while let Some(prev) = via[*path.last().unwrap_or(&end)] {
            path.push(prev);
        }
        path.reverse();
        path.retain(|&i| !self.steps[i].status.is_finished());
        (path, longest[end])
    }

    fn met(&self, index: usize) -> bool {
        self.steps[index].depends_on.iter().all(|&d| self.steps[d].status.releases())
    }

    fn move_run(&mut self, from: RunStatus, to: RunStatus, verb: &'static str) -> Result<Outcome, RunError> {
        if self.status != from {
            return Err(RunError::RunTransition { from: self.status, to: verb });
        }
        self.status = to;
        Ok(Outcome { changed: Vec::new(), run: Some(to) })
    }
}

#[cfg(test)]
mod tests {
    use super::StepAction::*;
    use super::StepStatus::*;
    use super::*;

    /// a → {b, c} → d, with b 3 h and c 5 h.
    fn diamond() -> RunState {
        RunState::start([
            (vec![], Decimal::ONE),
            (vec![0], Decimal::from(3)),
            (vec![0], Decimal::from(5)),
            (vec![1, 2], Decimal::ONE),
        ])
    }

    fn statuses(r: &RunState) -> Vec<StepStatus> {
        r.steps.iter().map(|s| s.status).collect()
    }

    #[test]
    fn completing_a_step_readies_its_parallel_dependants_together() {
        let mut r = diamond();
        assert_eq!(statuses(&r), vec![Ready, Pending, Pending, Pending]);
        let out = r.act(0, Complete).unwrap();
        assert_eq!(out.changed, vec![(0, Done), (1, Ready), (2, Ready)]);
        assert_eq!(r.act(1, Start).unwrap().changed, vec![(1, InProgress)]);
        // d needs c as well.
        assert_eq!(r.act(1, Complete).unwrap().changed, vec![(1, Done)]);
        assert_eq!(r.act(2, Complete).unwrap().changed, vec![(2, Done), (3, Ready)]);
        assert_eq!(r.progress(), 75);
        let out = r.act(3, Complete).unwrap();
        assert_eq!(out.run, Some(RunStatus::Done));
        assert_eq!(r.progress(), 100);
    }

    #[test]
    fn a_skipped_step_releases_its_dependants_and_a_blocked_one_does_not() {
        let mut r = diamond();
        r.act(0, Complete).unwrap();
        assert_eq!(r.act(1, Skip).unwrap().changed, vec![(1, Skipped)]);
        assert_eq!(r.act(2, Block).unwrap().changed, vec![(2, Blocked)]);
        assert_eq!(r.steps[3].status, Pending);
        assert_eq!(r.act(2, Unblock).unwrap().changed, vec![(2, Ready)]);
        assert_eq!(r.act(2, Complete).unwrap().changed, vec![(2, Done), (3, Ready)]);
    }

    #[test]
    fn a_pending_step_can_be_skipped_but_not_started() {
        let mut r = diamond();
        assert_eq!(r.act(3, Start), Err(RunError::StepTransition { from: Pending, action: Start }));
        assert_eq!(r.act(3, Skip).unwrap().changed, vec![(3, Skipped)]);
        assert_eq!(r.act(9, Start), Err(RunError::NoSuchStep(9)));
    }

    #[test]
    fn a_paused_run_moves_no_step_until_resumed_and_cancel_finishes_everything() {
        let mut r = diamond();
        r.pause().unwrap();
        assert_eq!(r.act(0, Start), Err(RunError::RunNotActive(RunStatus::Paused)));
        assert_eq!(r.pause(), Err(RunError::RunTransition { from: RunStatus::Paused, to: "paused" }));
        r.resume().unwrap();
        r.act(0, Complete).unwrap();
        let out = r.cancel().unwrap();
        assert_eq!(out.changed, vec![(1, Cancelled), (2, Cancelled), (3, Cancelled)]);
        assert_eq!(r.status, RunStatus::Cancelled);
        assert!(r.cancel().is_err() && r.resume().is_err());
    }

    #[test]
    fn the_critical_path_follows_the_longest_remaining_chain() {
        let mut r = diamond();
        assert_eq!(r.critical_path(), (vec![0, 2, 3], Decimal::from(7)));
        r.act(0, Complete).unwrap();
        r.act(2, Complete).unwrap();
        // c is done: b (3 h) now decides the end.
        assert_eq!(r.critical_path(), (vec![1, 3], Decimal::from(4)));
    }
}
