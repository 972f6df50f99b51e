//! Workflows: templates as DAGs of steps, the run state machine, business-day due dates, the
//! system templates and routing scores. Storage, jobs and screens build on these in `store`,
//! `practice` and the console.
//!
//! Layering inside the module: `template` ← `run`, `system`; `calendar`, `routing` and `task` stand
//! alone; `recurrence` and `reminders` use `calendar`.

pub mod calendar;
pub mod recurrence;
pub mod reminders;
pub mod routing;
pub mod run;
pub mod system;
pub mod task;
pub mod template;

pub use calendar::BusinessCalendar;
pub use run::{Outcome, RunError, RunState, RunStatus, StepAction, StepState, StepStatus};
pub use template::{Automation, StepDef, StepKind, TaskType, Template, TemplateCategory};
