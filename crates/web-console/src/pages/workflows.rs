//! Workflow templates: the list (the eight system templates and the firm's own), one template's
//! page (its steps as a graph and a table), copying, archiving, and the step editor for the
//! firm's templates (a row per step; dependencies by key; saved as the next version).

use api_types::workflows::{CopyTemplateRequest, TemplateRequest, TemplateResponse, TemplateStep};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use domain::workflow::{Automation, StepKind, TaskType, TemplateCategory};
use domain::{Permission, Role, WorkflowTemplateId};
use maud::{Markup, html};
use rust_decimal::Decimal;
use serde::Deserialize;

use api::AppState;

use crate::charts::{self, Node};
use crate::error::{PageError, PageResult, fixable};
use crate::form::{self, Refusal};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui::{self, Fields, PageQuery};

/// Blank rows the editor adds below the steps, for new ones.
const BLANK_ROWS: usize = 3;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    archived: Option<bool>,
}

/// `GET /workflows`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(q): PageQuery<ListQuery>,
) -> PageResult<Response> {
    let archived = q.archived.unwrap_or(false);
    let templates = state.practice.list_workflow_templates(&viewer.caller, archived).await?;
    let may_create = viewer.caller.has(Permission::WorkflowsCreate);
    let actions = html! {
        a class="btn" href="/work" { "My work" }
        @if may_create { " " a class="btn primary" href="/workflows/templates/new" { "New template" } }
    };
    let body = html! {
        (layout::head_row("Workflows", None, Some(actions)))
        p class="muted" { "Templates are the firm's repeatable work. Start one from a client's Workflows tab; each run keeps the version it started from." }
        div class="filters" {
            @if archived { a href="/workflows" { "Hide archived templates" } } @else { a href="/workflows?archived=true" { "Show archived templates" } }
        }
        div class="table-wrap" tabindex="0" role="region" aria-label="Templates (scrolls)" {
            table class="data" {
                thead { tr { th { "Template" } th { "Category" } th class="num" { "Steps" } th class="num" { "Est. hours" } th { "Kind" } th { span class="visually-hidden" { "Actions" } } } }
                tbody {
                    @for t in &templates {
                        tr {
                            td { a href={ "/workflows/templates/" (t.id) } { (t.name) } }
                            td { (ui::label(&t.category)) }
                            td class="num" { (t.steps.len()) }
                            td class="num" { (t.estimated_hours.normalize()) }
                            td { @if t.system { (ui::badge("system")) } @else { (ui::badge(&format!("version {}", t.version))) } @if t.archived { " " (ui::badge("archived")) } }
                            td class="actions" {
                                @if may_create {
                                    form method="post" action={ "/workflows/templates/" (t.id) "/copy" } {
                                        (csrf(&viewer)) button class="btn small" type="submit" { "Copy" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&viewer, Nav::Workflows, "Workflows", body).into_response())
}

/// A template's steps drawn as a graph.
pub fn graph(title: &str, steps: &[TemplateStep], stages: &[Vec<String>]) -> Markup {
    let index = |key: &str| steps.iter().position(|s| s.key == key);
    let nodes: Vec<Node<'_>> = steps.iter().map(|s| Node { label: &s.name, class: String::new() }).collect();
    let deps: Vec<Vec<usize>> =
        steps.iter().map(|s| s.depends_on.iter().filter_map(|d| index(d)).collect()).collect();
    let stages: Vec<Vec<usize>> =
        stages.iter().map(|st| st.iter().filter_map(|k| index(k)).collect()).collect();
    charts::dag(title, &nodes, &deps, &stages)
}

fn template_page(viewer: &Viewer, t: &TemplateResponse) -> Markup {
    let c = &viewer.caller;
    let actions = html! {
        @if !t.archived && c.has(Permission::WorkflowsExecute) {
            a class="btn" href={ "/workflows/templates/" (t.id) "/bulk" } { "Start for clients…" } " "
        }
        @if c.has(Permission::WorkflowsCreate) {
            form class="inline" method="post" action={ "/workflows/templates/" (t.id) "/copy" } {
                (csrf(viewer)) button class="btn" type="submit" { "Copy" }
            }
        }
        @if !t.system && c.has(Permission::WorkflowsUpdate) {
            " " a class="btn" href={ "/workflows/templates/" (t.id) "/edit" } { "Edit steps" }
            " "
            @if t.archived {
                form class="inline" method="post" action={ "/workflows/templates/" (t.id) "/restore" } {
                    (csrf(viewer)) button class="btn" type="submit" { "Restore" }
                }
            } @else {
                (form::confirm(viewer, &format!("/workflows/templates/{}/archive", t.id), "Archive",
                    "No new runs can start from an archived template; runs under way keep going."))
            }
        }
    };
    html! {
        (layout::head_row(&t.name, Some(html! { a href="/workflows" { "Workflows" } }), Some(actions)))
        div {
            (ui::badge(&ui::label(&t.category)))
            " " @if t.system { (ui::badge("system template · read-only")) } @else { (ui::badge(&format!("version {}", t.version))) }
            @if t.archived { " " (ui::badge("archived")) }
        }
        @if let Some(d) = &t.description { p { (d) } }
        section class="card" aria-labelledby="graph-h" {
            h2 id="graph-h" { "Steps" span class="muted" { " · " (t.estimated_hours.normalize()) " estimated hours; steps in one column can run in parallel" } }
            (graph(&t.name, &t.steps, &t.stages))
        }
        div class="table-wrap" tabindex="0" role="region" aria-label="Steps (scrolls)" {
            table class="data" {
                thead { tr { th { "#" } th { "Step" } th { "Kind" } th { "Role" } th class="num" { "Hours" } th { "Due" } th { "Needs" } } }
                tbody {
                    @for (i, s) in t.steps.iter().enumerate() {
                        tr {
                            td class="num" { (i + 1) }
                            td { (s.name) br; span class="muted mono" { (s.key) } }
                            td { (ui::label(&s.kind)) @if let Some(a) = s.automation { ": " (ui::label(&a)) } }
                            td { @if let Some(r) = s.role { (ui::label(&r)) } @else { span class="muted" { "anyone" } } }
                            td class="num" { (s.estimated_hours.normalize()) }
                            td { @if s.due_offset_days == 0 { "on the due date" } @else { (s.due_offset_days) " business days before" } }
                            td { @if s.depends_on.is_empty() { span class="muted" { "—" } } @else { (s.depends_on.join(", ")) } }
                        }
                    }
                }
            }
        }
        p class="muted" { "To run this for a client, open the client and choose Workflows → Start." }
    }
}

/// `GET /workflows/templates/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowTemplateId>,
) -> PageResult<Response> {
    let t = state.practice.get_workflow_template(&viewer.caller, id).await?;
    Ok(layout::page(&viewer, Nav::Workflows, &t.name, template_page(&viewer, &t)).into_response())
}

/// `POST /workflows/templates/{id}/copy`: the copy's editor.
pub async fn copy(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowTemplateId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    let t = state.practice.copy_workflow_template(&viewer.caller, id, CopyTemplateRequest::default()).await?;
    Ok(see_other(&format!("/workflows/templates/{}/edit", t.id)))
}

/// `POST /workflows/templates/{id}/archive`.
pub async fn archive(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowTemplateId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    state.practice.archive_workflow_template(&viewer.caller, id, true).await?;
    Ok(see_other(&format!("/workflows/templates/{id}")))
}

/// `POST /workflows/templates/{id}/restore`.
pub async fn restore(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowTemplateId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    state.practice.archive_workflow_template(&viewer.caller, id, false).await?;
    Ok(see_other(&format!("/workflows/templates/{id}")))
}

/// A typed value, blank meaning none.
fn opt(v: &str) -> Option<&str> {
    Some(v.trim()).filter(|v| !v.is_empty())
}

/// The editor's rows as typed: kept as text so a refused save shows exactly what was sent.
#[derive(Debug, Default, Clone)]
struct Row {
    key: String,
    name: String,
    kind: String,
    task_type: String,
    automation: String,
    role: String,
    hours: String,
    offset: String,
    wait: String,
    depends_on: String,
}

impl Row {
    fn from_step(s: &TemplateStep) -> Self {
        let text = |v: Option<String>| v.unwrap_or_default();
        Row {
            key: s.key.clone(),
            name: s.name.clone(),
            kind: s.kind.to_string(),
            task_type: text(s.task_type.map(|t| t.to_string())),
            automation: text(s.automation.map(|a| a.to_string())),
            role: text(s.role.map(|r| r.to_string())),
            hours: s.estimated_hours.normalize().to_string(),
            offset: s.due_offset_days.to_string(),
            wait: text(s.wait_days.map(|w| w.to_string())),
            depends_on: s.depends_on.join(", "),
        }
    }

    fn is_blank(&self) -> bool {
        self.key.trim().is_empty() && self.name.trim().is_empty()
    }

    /// The step the row describes; what cannot even be read is named with its row.
    fn step(&self, n: usize) -> Result<TemplateStep, PageError> {
        let bad = |what: &str, v: &str| PageError::BadForm(format!("step {n}: {what} `{v}` is not valid"));
        Ok(TemplateStep {
            key: self.key.trim().to_owned(),
            name: self.name.trim().to_owned(),
            kind: self.kind.parse().map_err(|_| bad("kind", &self.kind))?,
            task_type: opt(&self.task_type)
                .map(|t| t.parse())
                .transpose()
                .map_err(|_| bad("task type", &self.task_type))?,
            automation: opt(&self.automation)
                .map(|a| a.parse())
                .transpose()
                .map_err(|_| bad("automation", &self.automation))?,
            depends_on: self
                .depends_on
                .split(',')
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty())
                .collect(),
            role: opt(&self.role)
                .map(|r| r.parse::<Role>())
                .transpose()
                .map_err(|_| bad("role", &self.role))?,
            skill: None,
            estimated_hours: opt(&self.hours)
                .unwrap_or("0")
                .parse::<Decimal>()
                .map_err(|_| bad("hours", &self.hours))?,
            due_offset_days: opt(&self.offset)
                .unwrap_or("0")
                .parse()
                .map_err(|_| bad("due offset", &self.offset))?,
            wait_days: opt(&self.wait)
                .map(|w| w.parse())
                .transpose()
                .map_err(|_| bad("wait days", &self.wait))?,
        })
    }
}

struct Draft {
    name: String,
    category: String,
    description: String,
    rows: Vec<Row>,
}

impl Draft {
    fn from_template(t: &TemplateResponse) -> Self {
        Draft {
            name: t.name.clone(),
            category: t.category.to_string(),
            description: t.description.clone().unwrap_or_default(),
            rows: t.steps.iter().map(Row::from_step).collect(),
        }
    }

    fn from_fields(f: &Fields) -> Self {
        let get =
            |name: String| f.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let count = f.0.iter().filter(|(k, _)| k.starts_with('s') && k.ends_with("_key")).count();
        let rows = (0..count)
            .map(|i| Row {
                key: get(format!("s{i}_key")),
                name: get(format!("s{i}_name")),
                kind: get(format!("s{i}_kind")),
                task_type: get(format!("s{i}_task_type")),
                automation: get(format!("s{i}_automation")),
                role: get(format!("s{i}_role")),
                hours: get(format!("s{i}_hours")),
                offset: get(format!("s{i}_offset")),
                wait: get(format!("s{i}_wait")),
                depends_on: get(format!("s{i}_depends_on")),
            })
            .filter(|r| !r.is_blank())
            .collect();
        Draft {
            name: get("name".into()),
            category: get("category".into()),
            description: get("description".into()),
            rows,
        }
    }

    fn request(&self) -> Result<TemplateRequest, PageError> {
        Ok(TemplateRequest {
            name: self.name.trim().to_owned(),
            category: self.category.parse().map_err(|_| PageError::BadForm("choose a category".into()))?,
            description: Some(self.description.trim().to_owned()).filter(|d| !d.is_empty()),
            steps: self.rows.iter().enumerate().map(|(i, r)| r.step(i + 1)).collect::<Result<_, _>>()?,
        })
    }
}

/// A select over a vocabulary whose value is kept as text (the editor shows what was sent).
fn choice<T: Copy + serde::Serialize + std::fmt::Display>(
    name: &str,
    label: &str,
    options: &[T],
    value: &str,
    blank: Option<&str>,
) -> Markup {
    html! {
        select name=(name) aria-label=(label) {
            @if let Some(b) = blank { option value="" selected[value.is_empty()] { (b) } }
            @for o in options { option value=(o) selected[value == o.to_string()] { (ui::label(o)) } }
        }
    }
}

/// Field problems as "Step 3 (review): …", the rows numbered as they were sent.
fn problems(error: Option<&api::ApiError>, rows: &[Row]) -> Markup {
    let Some(e) = error else { return html! {} };
    let named = |field: &str| -> String {
        let Some(rest) = field.strip_prefix("steps[") else { return field.replace('_', " ") };
        let (n, what) = rest.split_once("].").unwrap_or((rest.trim_end_matches(']'), ""));
        let i: usize = n.parse().unwrap_or(0);
        let key = rows.get(i).map(|r| r.key.as_str()).unwrap_or("");
        format!("Step {} ({key}) {}", i + 1, what.replace('_', " "))
    };
    html! {
        div class="alert error" role="alert" {
            @if e.field_errors().is_empty() { (e.detail()) } @else {
                "The template was not saved:"
                ul { @for fe in e.field_errors() { li { (named(&fe.field)) ": " (fe.message) } } }
            }
        }
    }
}

fn editor(viewer: &Viewer, action: &str, title: &str, d: &Draft, error: Option<&api::ApiError>) -> Markup {
    let refusal = Refusal(error);
    let rows: Vec<Row> =
        d.rows.iter().cloned().chain(std::iter::repeat_n(Row::default(), BLANK_ROWS)).collect();
    let roles: Vec<Role> = Role::ALL.into_iter().filter(|r| r.is_staff()).collect();
    html! {
        (layout::head_row(title, Some(html! { a href="/workflows" { "Workflows" } }), None))
        form class="card form full" method="post" action=(action) {
            (csrf(viewer))
            (problems(error, &d.rows))
            div class="grid-2 narrow" {
                (form::input(refusal, "name", "Name", &d.name, "text"))
                (form::select(refusal, "category", "Category", TemplateCategory::ALL, d.category.parse().ok(), None))
            }
            label class="narrow" { "Description" textarea name="description" { (d.description) } }
            h2 { "Steps" }
            p class="muted" { "One row per step. A step waits for the steps named under “Needs” (their keys, comma-separated). Leave a row empty to drop it; save to get more empty rows." }
            div class="table-wrap" tabindex="0" role="region" aria-label="Steps (scrolls)" {
                table class="data step-editor" {
                    thead { tr { th { "Key" } th { "Step" } th { "Kind" } th { "Task type" } th { "Automation" } th { "Role" } th { "Hours" } th { "Days before due" } th { "Wait days" } th { "Needs" } } }
                    tbody {
                        @for (i, r) in rows.iter().enumerate() {
                            tr {
                                td { input class="key" name={ "s" (i) "_key" } value=(r.key) aria-label={ "Step " (i + 1) " key" } placeholder="e.g. review"; }
                                td { input name={ "s" (i) "_name" } value=(r.name) aria-label={ "Step " (i + 1) " name" }; }
                                td { (choice(&format!("s{i}_kind"), "Kind", StepKind::ALL, if r.kind.is_empty() { "task" } else { &r.kind }, None)) }
                                td { (choice(&format!("s{i}_task_type"), "Task type", TaskType::ALL, &r.task_type, Some("custom"))) }
                                td { (choice(&format!("s{i}_automation"), "Automation", Automation::ALL, &r.automation, Some("—"))) }
                                td { (choice(&format!("s{i}_role"), "Role", &roles, &r.role, Some("anyone"))) }
                                td { input name={ "s" (i) "_hours" } value=(r.hours) inputmode="decimal" aria-label={ "Step " (i + 1) " estimated hours" }; }
                                td { input name={ "s" (i) "_offset" } value=(r.offset) inputmode="numeric" aria-label={ "Step " (i + 1) " business days before the due date" }; }
                                td { input name={ "s" (i) "_wait" } value=(r.wait) inputmode="numeric" aria-label={ "Step " (i + 1) " wait days" }; }
                                td { input name={ "s" (i) "_depends_on" } value=(r.depends_on) aria-label={ "Step " (i + 1) " needs" }; }
                            }
                        }
                    }
                }
            }
            div { button class="btn primary" type="submit" { "Save template" } " " a class="btn" href="/workflows" { "Cancel" } }
        }
    }
}

/// `GET /workflows/templates/new`.
pub async fn new(viewer: Viewer) -> PageResult<Response> {
    viewer.caller.require(Permission::WorkflowsCreate)?;
    let d = Draft {
        name: String::new(),
        category: TemplateCategory::Bookkeeping.to_string(),
        description: String::new(),
        rows: Vec::new(),
    };
    let body = editor(&viewer, "/workflows/templates/new", "New template", &d, None);
    Ok(layout::page(&viewer, Nav::Workflows, "New template", body).into_response())
}

/// `POST /workflows/templates/new`.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let d = Draft::from_fields(&Fields(fields));
    match state.practice.create_workflow_template(&viewer.caller, d.request()?).await {
        Ok(t) => Ok(see_other(&format!("/workflows/templates/{}", t.id))),
        Err(e) => {
            let e = fixable(e)?;
            let body = editor(&viewer, "/workflows/templates/new", "New template", &d, Some(&e));
            Ok((e.status(), layout::page(&viewer, Nav::Workflows, "New template", body)).into_response())
        }
    }
}

/// `GET /workflows/templates/{id}/edit`.
pub async fn edit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowTemplateId>,
) -> PageResult<Response> {
    viewer.caller.require(Permission::WorkflowsUpdate)?;
    let t = state.practice.get_workflow_template(&viewer.caller, id).await?;
    if t.system {
        return Ok(see_other(&format!("/workflows/templates/{id}")));
    }
    let title = format!("Edit {}", t.name);
    let body =
        editor(&viewer, &format!("/workflows/templates/{id}/edit"), &title, &Draft::from_template(&t), None);
    Ok(layout::page(&viewer, Nav::Workflows, &title, body).into_response())
}

/// `POST /workflows/templates/{id}/edit`: saved as the next version.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowTemplateId>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let d = Draft::from_fields(&Fields(fields));
    match state.practice.update_workflow_template(&viewer.caller, id, d.request()?).await {
        Ok(_) => Ok(see_other(&format!("/workflows/templates/{id}"))),
        Err(e) => {
            let e = fixable(e)?;
            let title = format!("Edit {}", d.name);
            let body = editor(&viewer, &format!("/workflows/templates/{id}/edit"), &title, &d, Some(&e));
            Ok((e.status(), layout::page(&viewer, Nav::Workflows, &title, body)).into_response())
        }
    }
}
