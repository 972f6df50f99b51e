//! "My work": the board of open run steps and ad-hoc tasks, soonest due first, filtered as a
//! member looks at it (mine, to review, overdue, due this week, one client's), with bulk
//! selection and "Reassign to…" for those who run work.

use api_types::tasks::{WorkItemSummary, WorkListParams};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::workflow::StepAction;
use domain::workflow::task::{TaskAction, WorkItemKind, WorkView};
use domain::{ClientId, Permission, UserId};
use maud::{Markup, html};
use serde::Deserialize;

use api::AppState;

use crate::error::{PageError, PageResult};
use crate::layout::{self, Nav, csrf};
use crate::pages::engagement::assignees;
use crate::session::{CsrfForm, Viewer, safe_next, see_other};
use crate::ui::{self, PageQuery};

const ROWS: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct BoardQuery {
    view: Option<String>,
    client_id: Option<String>,
    cursor: Option<String>,
}

const TABS: [(WorkView, &str); 4] = [
    (WorkView::Mine, "Mine"),
    (WorkView::Review, "To review"),
    (WorkView::Overdue, "Overdue"),
    (WorkView::Week, "Due this week"),
];

/// The page of an item: a task's own page, or a step's.
pub(crate) fn item_href(w: &WorkItemSummary) -> String {
    match w.kind {
        WorkItemKind::Task => format!("/tasks/{}", w.id),
        WorkItemKind::Step => format!("/work/steps/{}", w.id),
    }
}

fn status(w: &WorkItemSummary) -> String {
    match (w.step_status, w.task_status) {
        (Some(s), _) => ui::label(&s),
        (_, Some(t)) => ui::label(&t),
        _ => String::new(),
    }
}

/// `GET /work`.
pub async fn board(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(q): PageQuery<BoardQuery>,
) -> PageResult<Response> {
    let client: Option<ClientId> = q
        .client_id
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| c.parse())
        .transpose()
        .map_err(|_| PageError::BadForm("the client is not valid".into()))?;
    let view = match (q.view.as_deref(), client) {
        (_, Some(_)) => WorkView::Client,
        (Some(v), None) => v.parse().map_err(PageError::BadForm)?,
        (None, None) => WorkView::Mine,
    };
    let params = WorkListParams {
        view: Some(view),
        client_id: client,
        cursor: q.cursor.clone(),
        ..Default::default()
    };
    let page = state.practice.work_list(&viewer.caller, &params, ROWS, Utc::now()).await?;
    let executes = viewer.caller.has(Permission::WorkflowsExecute);
    let staff = if executes { assignees(&state, &viewer).await? } else { Vec::new() };
    let clients = if viewer.caller.has(Permission::ClientsRead) {
        state.practice.list_clients(&viewer.caller, &Default::default(), 200).await?.items
    } else {
        Vec::new()
    };
    let here = ui::href("/work", &view_params(view, client));
    let head_actions = html! {
        @if executes {
            a class="btn primary" href={ "/tasks/new" @if let Some(c) = client { "?client_id=" (c) } } { "New task" }
        }
    };
    let body = html! {
        (layout::head_row("My work", Some(html! { a href="/workflows" { "Workflows" } }), Some(head_actions)))
        nav class="tabs" aria-label="Work lists" {
            @for (v, label) in TABS {
                a href={ "/work?view=" (v) } aria-current=[(view == v).then_some("page")] { (label) }
            }
            form class="inline" method="get" action="/work" {
                label { "By client "
                    select name="client_id" aria-label="Client" {
                        option value="" { "Choose…" }
                        @for c in &clients { option value=(c.id) selected[client == Some(c.id)] { (c.business_name) } }
                    }
                }
                " " button class="btn small" type="submit" { "Show" }
            }
        }
        @if page.items.is_empty() {
            (ui::empty(empty_title(view), "Run steps and tasks appear here, soonest due first.",
                executes.then(|| html! { a class="btn" href="/tasks/new" { "New task" } })))
        } @else {
            form method="post" action="/work/reassign" id="bulk-form" {
                (csrf(&viewer))
                input type="hidden" name="back" value=(here);
                @if executes {
                    div class="bulkbar" data-bulkbar {
                        span data-selected-count { "0 selected" }
                        label { "Reassign to "
                            select name="assignee" aria-label="Reassign to" {
                                @for m in &staff { option value=(m.id) { (m.name) " (" (ui::label(&m.role)) ")" } }
                            }
                        }
                        " " button class="btn" type="submit" { "Reassign" }
                    }
                }
                div class="table-wrap" tabindex="0" role="region" aria-label="Work (scrolls)" {
                    table class="data" {
                        caption class="visually-hidden" { "Open work" }
                        thead { tr {
                            @if executes { th scope="col" { input type="checkbox" data-select-all aria-label="Select all items on this page"; } }
                            th scope="col" { "Item" } th scope="col" { "Client" } th scope="col" { "Status" }
                            th scope="col" { "Assignee" } th scope="col" { "Due" } th scope="col" class="num" { "Hours" }
                            th scope="col" { "Actions" }
                        } }
                        tbody {
                            @for (i, w) in page.items.iter().enumerate() {
                                tr {
                                    @if executes { td { input type="checkbox" name="ids" value=(w.id) aria-label={ "Select " (w.name) }; } }
                                    td {
                                        a href=(item_href(w)) { (w.name) }
                                        br;
                                        span class="muted small" {
                                            @match w.kind {
                                                WorkItemKind::Step => { "Step of " @if let (Some(r), Some(n)) = (w.run_id, &w.run_name) { a href={ "/workflows/runs/" (r) } { (n) } } }
                                                WorkItemKind::Task => { "Task" @if let Some(p) = w.priority { " · " (ui::label(&p)) } }
                                            }
                                        }
                                    }
                                    td { @if let (Some(c), Some(n)) = (w.client_id, &w.client_name) { a href={ "/clients/" (c) } { (n) } } @else { span class="muted" { "—" } } }
                                    td { (ui::badge(&status(w))) @if w.blocked { " " span class="badge warn" { "blocked" } } }
                                    td { @if let Some(n) = &w.assignee_name { (n) } @else { span class="muted" { "Unassigned" } } }
                                    td { (ui::date(w.due_date)) @if w.overdue { " " span class="badge bad" { "overdue" } } }
                                    td class="num" { @if let Some(h) = w.estimated_hours { (h.normalize()) } }
                                    td class="actions" { (actions(i, w)) }
                                }
                            }
                        }
                    }
                }
            }
            // The rows' action buttons submit these (a form cannot sit inside the bulk form).
            @for (i, w) in page.items.iter().enumerate() {
                form id={ "act-" (i) } method="post" action=(action_path(w)) hidden {
                    (csrf(&viewer))
                    input type="hidden" name="back" value=(here);
                }
            }
            (ui::pager("/work", &view_params(view, client), page.next_cursor.as_deref(), page.items.len()))
        }
    };
    Ok(layout::page(&viewer, Nav::Workflows, "My work", body).into_response())
}

/// Where a row's Start and Done go: the step's action, or the task's.
fn action_path(w: &WorkItemSummary) -> String {
    match (w.kind, w.run_id, &w.key) {
        (WorkItemKind::Step, Some(run), Some(key)) => format!("/workflows/runs/{run}/steps/{key}"),
        _ => format!("/tasks/{}/action", w.id),
    }
}

/// Start and Done for a row, where its status allows them and nothing blocks it.
fn actions(i: usize, w: &WorkItemSummary) -> Markup {
    let allowed = |start: bool| match (w.step_status, w.task_status) {
        (Some(s), _) => s.after(if start { StepAction::Start } else { StepAction::Complete }).is_some(),
        (_, Some(t)) => t.after(if start { TaskAction::Start } else { TaskAction::Complete }).is_some(),
        _ => false,
    };
    html! {
        @if !w.blocked {
            @for (start, label) in [(true, "Start"), (false, "Done")] {
                @if allowed(start) {
                    button class={ "btn small" @if !start { " primary" } } type="submit" form={ "act-" (i) } name="action"
                        value=(if start { "start" } else { "complete" }) aria-label={ (label) ": " (w.name) } { (label) }
                }
            }
        }
    }
}

fn view_params(view: WorkView, client: Option<ClientId>) -> Vec<(&'static str, String)> {
    match client {
        Some(c) => vec![("client_id", c.to_string())],
        None => vec![("view", view.to_string())],
    }
}

fn empty_title(view: WorkView) -> &'static str {
    match view {
        WorkView::Mine => "Nothing assigned to you",
        WorkView::Review => "Nothing to review",
        WorkView::Overdue => "Nothing overdue",
        WorkView::Week => "Nothing due this week",
        WorkView::Client => "No open work for this client",
    }
}

/// `POST /work/reassign`: gives the ticked items to the chosen member.
pub async fn reassign(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let field = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let assignee: UserId = field("assignee")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| PageError::BadForm("choose a member".into()))?;
    let items: Vec<uuid::Uuid> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.parse().map_err(|_| PageError::BadForm("a selected item is not valid".into())))
        .collect::<Result<_, _>>()?;
    if items.is_empty() {
        return Err(PageError::BadForm("tick at least one item first".into()));
    }
    state.practice.reassign_work_items(&viewer.caller, &items, assignee).await?;
    Ok(see_other(&safe_next(field("back"))))
}
