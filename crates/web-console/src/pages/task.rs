//! A task's page and a run step's work page, each with the work item's panel — checklist
//! (add, tick, move, remove), comments (`@email` mentions a member; the author edits or deletes
//! their own; paged, "Show earlier comments") and attachments (the client's documents) — and the
//! "New task" form (from /work and from a client's page).

use api_types::tasks::{
    CreateTaskRequest, TaskResponse, UpdateChecklistItemRequest, UpdateTaskRequest, WorkItemDetail,
    WorkListParams,
};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::workflow::task::{TaskAction, WorkItemKind, WorkView};
use domain::{
    ChecklistItemId, ClientId, CommentId, DocumentId, Permission, Priority, TaskId, UserId, WorkflowStepId,
};
use maud::{Markup, html};
use serde::Deserialize;
use store::documents::DocumentFilter;

use api::AppState;

use crate::error::{PageError, PageResult, fixable};
use crate::form::{self, Refusal};
use crate::layout::{self, Nav, csrf};
use crate::pages::engagement::assignees;
use crate::session::{CsrfForm, Viewer, see_other};
use crate::ui::{self, PageQuery};

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    client_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TaskForm {
    title: Option<String>,
    description: Option<String>,
    client_id: Option<String>,
    assignee: Option<String>,
    reviewer: Option<String>,
    due_date: Option<String>,
    priority: Option<String>,
    estimated_hours: Option<String>,
}

/// The new-task form (`editing` none) or a task's edit form.
async fn task_form(
    state: &AppState,
    viewer: &Viewer,
    f: &TaskForm,
    editing: Option<TaskId>,
    error: Option<&api::ApiError>,
) -> PageResult<Markup> {
    let refusal = Refusal(error);
    let staff = assignees(state, viewer).await?;
    let clients = if viewer.caller.has(Permission::ClientsRead) {
        state.practice.list_clients(&viewer.caller, &Default::default(), 200).await?.items
    } else {
        Vec::new()
    };
    let chosen = |v: &Option<String>| v.clone().unwrap_or_default();
    let member_select = |name: &str, label: &str, value: &Option<String>| {
        html! {
            label { (label)
                select name=(name) {
                    option value="" { "Nobody yet" }
                    @for m in &staff { option value=(m.id) selected[chosen(value) == m.id.to_string()] { (m.name) " (" (ui::label(&m.role)) ")" } }
                }
                (refusal.problem(name))
            }
        }
    };
    Ok(html! {
        form class="card form" method="post"
            action={ @if let Some(id) = editing { "/tasks/" (id) "/edit" } @else { "/tasks" } } aria-labelledby="task-h" {
            h2 id="task-h" { @if editing.is_some() { "Task details" } @else { "New task" } }
            (csrf(viewer))
            (refusal.alert())
            (form::input(refusal, "title", "Title", f.title.as_deref().unwrap_or(""), "text"))
            label { "Description" textarea name="description" rows="3" { (f.description.as_deref().unwrap_or("")) } (refusal.problem("description")) }
            div class="grid-2" {
                label { "Client (optional)"
                    select name="client_id" {
                        option value="" { "No client" }
                        @for c in &clients { option value=(c.id) selected[chosen(&f.client_id) == c.id.to_string()] { (c.business_name) } }
                    }
                    (refusal.problem("client_id"))
                }
                (form::input(refusal, "due_date", "Due", f.due_date.as_deref().unwrap_or(""), "date"))
                (member_select("assignee", "Assignee", &f.assignee))
                (member_select("reviewer", "Reviewer", &f.reviewer))
                (form::select(refusal, "priority", "Priority", Priority::ALL, form::chosen(&f.priority).or(Some(Priority::Normal)), None))
                (form::input(refusal, "estimated_hours", "Estimated hours", f.estimated_hours.as_deref().unwrap_or(""), "text"))
            }
            div {
                button class="btn primary" type="submit" { @if editing.is_some() { "Save" } @else { "Create task" } }
                @if let Some(id) = editing { " " a class="btn" href={ "/tasks/" (id) } { "Cancel" } }
            }
        }
    })
}

/// `GET /tasks/new`.
pub async fn new(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(q): PageQuery<NewQuery>,
) -> PageResult<Response> {
    if !viewer.caller.has(Permission::WorkflowsExecute) {
        return Err(PageError::Api(api::ApiError::from(practice::PracticeError::Forbidden(
            Permission::WorkflowsExecute,
        ))));
    }
    let f = TaskForm { client_id: q.client_id, ..Default::default() };
    let body = html! {
        (layout::head_row("New task", Some(html! { a href="/work" { "My work" } }), None))
        (task_form(&state, &viewer, &f, None, None).await?)
    };
    Ok(layout::page(&viewer, Nav::Workflows, "New task", body).into_response())
}

fn parse<T: std::str::FromStr>(field: &str, v: &Option<String>) -> PageResult<Option<T>> {
    form::text(v)
        .map(|s| s.parse().map_err(|_| PageError::BadForm(format!("{field} is not valid"))))
        .transpose()
}

/// `POST /tasks`: creates the task and shows it, or the form again with the problems.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<TaskForm>,
) -> PageResult<Response> {
    let due_date = form::chosen(&f.due_date)
        .ok_or_else(|| PageError::BadForm("give the date the task is due".into()))?;
    let req = CreateTaskRequest {
        title: f.title.clone().unwrap_or_default(),
        description: form::text(&f.description),
        client_id: parse::<ClientId>("client", &f.client_id)?,
        engagement_id: None,
        assignee: parse::<UserId>("assignee", &f.assignee)?,
        reviewer: parse::<UserId>("reviewer", &f.reviewer)?,
        due_date,
        priority: parse::<Priority>("priority", &f.priority)?,
        estimated_hours: parse("estimated hours", &f.estimated_hours)?,
        depends_on: Vec::new(),
    };
    match state.practice.create_task(&viewer.caller, req).await {
        Ok(t) => Ok(see_other(&format!("/tasks/{}", t.id))),
        Err(e) => {
            let e = fixable(e)?;
            let body = html! {
                (layout::head_row("New task", Some(html! { a href="/work" { "My work" } }), None))
                (task_form(&state, &viewer, &f, None, Some(&e)).await?)
            };
            Ok((e.status(), layout::page(&viewer, Nav::Workflows, "New task", body)).into_response())
        }
    }
}

const TASK_ACTIONS: [(TaskAction, &str); 4] = [
    (TaskAction::Start, "Start"),
    (TaskAction::Complete, "Done"),
    (TaskAction::Reopen, "Reopen"),
    (TaskAction::Cancel, "Cancel task"),
];

fn task_header(viewer: &Viewer, t: &TaskResponse) -> Markup {
    let me = Some(viewer.caller.user_id());
    let executes = viewer.caller.has(Permission::WorkflowsExecute);
    let involved = t.assignee == me || t.reviewer == me;
    let actions = html! {
        @if executes { a class="btn" href={ "/tasks/" (t.id) "/edit" } { "Edit" } " " }
        @for (action, label) in TASK_ACTIONS {
            @if t.status.after(action).is_some() && (executes || (involved && action != TaskAction::Cancel))
                && !(t.blocked && action.needs_dependencies()) {
                form class="inline" method="post" action={ "/tasks/" (t.id) "/action" } {
                    (csrf(viewer))
                    input type="hidden" name="action" value=(action);
                    button class={ "btn" @if action == TaskAction::Complete { " primary" } } type="submit" { (label) }
                }
                " "
            }
        }
    };
    html! {
        (layout::head_row(&t.title, Some(html! { a href="/work" { "My work" } @if let (Some(c), Some(n)) = (t.client_id, &t.client_name) { " · " a href={ "/clients/" (c) } { (n) } } }), Some(actions)))
        div {
            (ui::badge(&ui::label(&t.status))) " " (ui::badge(&ui::label(&t.priority)))
            @if t.blocked { " " span class="badge warn" { "blocked" } }
            " " span class="muted" { "Due " (ui::date(t.due_date)) } @if t.overdue { " " span class="badge bad" { "overdue" } }
        }
        section class="card" aria-labelledby="about-h" {
            h2 id="about-h" { "About" }
            dl class="facts" {
                dt { "Assignee" } dd { @if let Some(n) = &t.assignee_name { (n) } @else { span class="muted" { "Unassigned" } } }
                dt { "Reviewer" } dd { @if let Some(n) = &t.reviewer_name { (n) } @else { span class="muted" { "—" } } }
                dt { "Estimated hours" } dd { @if let Some(h) = t.estimated_hours { (h.normalize()) } @else { span class="muted" { "—" } } }
                dt { "Waits for" } dd {
                    @if t.depends_on.is_empty() { span class="muted" { "Nothing" } }
                    @for d in &t.depends_on {
                        a href={ "/tasks/" (d.id) } { (d.title) } " " (ui::badge(&ui::label(&d.status))) " "
                        @if executes {
                            form class="inline" method="post" action={ "/tasks/" (t.id) "/dependencies" } {
                                (csrf(viewer))
                                @for other in t.depends_on.iter().filter(|o| o.id != d.id) {
                                    input type="hidden" name="depends_on" value=(other.id);
                                }
                                button class="btn small" type="submit" aria-label={ "Stop waiting for " (d.title) } { "Remove" }
                            }
                        }
                        " "
                    }
                }
            }
            @if let Some(d) = &t.description { p class="wrap" { (d) } }
        }
    }
}

/// "Wait for another task": the open tasks of the task's client (or, without one, of the viewer's
/// own list) it could wait for. A cycle is refused by the use case, with its reason shown.
async fn dependency_adder(state: &AppState, viewer: &Viewer, t: &TaskResponse) -> PageResult<Markup> {
    let params = WorkListParams {
        view: Some(if t.client_id.is_some() { WorkView::Client } else { WorkView::Mine }),
        client_id: t.client_id,
        ..Default::default()
    };
    let open = state.practice.work_list(&viewer.caller, &params, 200, Utc::now()).await?.items;
    let candidates: Vec<_> = open
        .iter()
        .filter(|w| w.kind == WorkItemKind::Task && w.id != t.id.as_uuid())
        .filter(|w| !t.depends_on.iter().any(|d| d.id.as_uuid() == w.id))
        .collect();
    if candidates.is_empty() {
        return Ok(html! {});
    }
    Ok(html! {
        form class="inline card" method="post" action={ "/tasks/" (t.id) "/dependencies" } {
            (csrf(viewer))
            @for d in &t.depends_on { input type="hidden" name="depends_on" value=(d.id); }
            label { "Wait for "
                select name="depends_on" {
                    @for w in &candidates { option value=(w.id) { (w.name) " · due " (ui::date(w.due_date)) } }
                }
            }
            " " button class="btn" type="submit" { "Add dependency" }
        }
    })
}

/// `GET /tasks/{id}/edit`: the task's details in the task form.
pub async fn edit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<TaskId>,
) -> PageResult<Response> {
    let t = state.practice.get_task(&viewer.caller, id).await?;
    if !viewer.caller.has(Permission::WorkflowsExecute) {
        return Err(PageError::Api(api::ApiError::from(practice::PracticeError::Forbidden(
            Permission::WorkflowsExecute,
        ))));
    }
    let f = TaskForm {
        title: Some(t.title.clone()),
        description: t.description.clone(),
        client_id: t.client_id.map(|c| c.to_string()),
        assignee: t.assignee.map(|u| u.to_string()),
        reviewer: t.reviewer.map(|u| u.to_string()),
        due_date: Some(t.due_date.to_string()),
        priority: Some(t.priority.to_string()),
        estimated_hours: t.estimated_hours.map(|h| h.normalize().to_string()),
    };
    edit_page(&state, &viewer, &t.title, id, &f, None).await
}

async fn edit_page(
    state: &AppState,
    viewer: &Viewer,
    title: &str,
    id: TaskId,
    f: &TaskForm,
    error: Option<api::ApiError>,
) -> PageResult<Response> {
    let body = html! {
        (layout::head_row(title, Some(html! { a href={ "/tasks/" (id) } { "Back to the task" } }), None))
        (task_form(state, viewer, f, Some(id), error.as_ref()).await?)
    };
    let page = layout::page(viewer, Nav::Workflows, title, body);
    Ok(match error {
        Some(e) => (e.status(), page).into_response(),
        None => page.into_response(),
    })
}

/// `POST /tasks/{id}/edit`: saves the details (an emptied field is cleared) and shows the task.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<TaskId>,
    CsrfForm(f): CsrfForm<TaskForm>,
) -> PageResult<Response> {
    let req = UpdateTaskRequest {
        title: Some(f.title.clone().unwrap_or_default()),
        description: Some(form::text(&f.description)),
        client_id: Some(parse::<ClientId>("client", &f.client_id)?),
        engagement_id: None,
        assignee: Some(parse::<UserId>("assignee", &f.assignee)?),
        reviewer: Some(parse::<UserId>("reviewer", &f.reviewer)?),
        due_date: Some(
            form::chosen(&f.due_date)
                .ok_or_else(|| PageError::BadForm("give the date the task is due".into()))?,
        ),
        priority: parse::<Priority>("priority", &f.priority)?,
        estimated_hours: Some(parse("estimated hours", &f.estimated_hours)?),
    };
    match state.practice.update_task(&viewer.caller, id, req).await {
        Ok(_) => Ok(see_other(&format!("/tasks/{id}"))),
        Err(e) => {
            let e = fixable(e)?;
            let title = f.title.clone().unwrap_or_default();
            edit_page(&state, &viewer, &title, id, &f, Some(e)).await
        }
    }
}

/// `POST /tasks/{id}/dependencies`: the tasks it waits for, as the form lists them.
pub async fn dependencies(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<TaskId>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let depends_on: Vec<TaskId> = pairs
        .iter()
        .filter(|(k, _)| k == "depends_on")
        .map(|(_, v)| v.parse().map_err(|_| PageError::BadForm("a chosen task is not valid".into())))
        .collect::<Result<_, _>>()?;
    let r = state.practice.set_task_dependencies(&viewer.caller, id, depends_on).await;
    after(&state, &viewer, id.as_uuid(), r).await
}

/// Comments per page of the thread.
const COMMENTS_PER_PAGE: usize = 20;

/// The checklist, comments and attachments of an item, with their forms. The thread shows the
/// latest comments (or, with `comments`, the page before that cursor), oldest at the top.
async fn panel(
    state: &AppState,
    viewer: &Viewer,
    item: &WorkItemDetail,
    editable: bool,
    comments: Option<&str>,
) -> PageResult<Markup> {
    let base = format!("/work/items/{}", item.id);
    let page_path = match item.kind {
        WorkItemKind::Task => format!("/tasks/{}", item.id),
        WorkItemKind::Step => format!("/work/steps/{}", item.id),
    };
    let thread =
        state.practice.work_item_comments(&viewer.caller, item.id, comments, COMMENTS_PER_PAGE).await?;
    let me = Some(viewer.caller.user_id());
    let docs = match (item.client_id, editable && viewer.caller.has(Permission::DocumentsRead)) {
        (Some(c), true) => {
            let filter = DocumentFilter { client_id: Some(c), ..Default::default() };
            state.documents.list(&viewer.caller, &filter, None, 100).await?.items
        }
        _ => Vec::new(),
    };
    let last = item.checklist.len().saturating_sub(1);
    Ok(html! {
        section class="card" aria-labelledby="checklist-h" {
            h2 id="checklist-h" { "Checklist" span class="muted" { " · " (item.checklist.iter().filter(|c| c.done).count()) " of " (item.checklist.len()) " done" } }
            @if item.checklist.is_empty() { p class="muted" { "No checklist items yet." } }
            ul class="checklist" {
                @for (i, c) in item.checklist.iter().enumerate() {
                    li {
                        @if editable {
                            form class="inline" method="post" action={ (base) "/checklist/" (c.id) "/toggle" } {
                                (csrf(viewer))
                                input type="hidden" name="done" value=(!c.done);
                                button class="btn small" type="submit" aria-label={ @if c.done { "Untick: " } @else { "Tick: " } (c.text) } { @if c.done { "☑" } @else { "☐" } }
                            }
                            " "
                        } @else { @if c.done { "☑ " } @else { "☐ " } }
                        span class=[c.done.then_some("done")] { (c.text) }
                        @if editable {
                            " "
                            @if i > 0 { (move_button(viewer, &base, c.id, "up", "↑", &c.text)) }
                            @if i < last { (move_button(viewer, &base, c.id, "down", "↓", &c.text)) }
                            form class="inline" method="post" action={ (base) "/checklist/" (c.id) "/remove" } {
                                (csrf(viewer))
                                button class="btn small" type="submit" aria-label={ "Remove: " (c.text) } { "Remove" }
                            }
                        }
                    }
                }
            }
            @if editable {
                form class="inline" method="post" action={ (base) "/checklist" } {
                    (csrf(viewer))
                    label { "New item " input type="text" name="text" required maxlength="500"; }
                    " " button class="btn small" type="submit" { "Add" }
                }
            }
        }
        section class="card" aria-labelledby="attach-h" {
            h2 id="attach-h" { "Attachments" }
            @if item.attachments.is_empty() { p class="muted" { "No documents attached." } }
            ul {
                @for a in &item.attachments {
                    li {
                        a href={ "/documents/" (a.document_id) } { (a.file_name) }
                        @if editable {
                            " "
                            form class="inline" method="post" action={ (base) "/attachments/" (a.document_id) "/remove" } {
                                (csrf(viewer))
                                button class="btn small" type="submit" aria-label={ "Detach " (a.file_name) } { "Detach" }
                            }
                        }
                    }
                }
            }
            @if editable {
                @if item.client_id.is_none() {
                    p class="muted" { "Give the task a client to attach that client's documents." }
                } @else if docs.is_empty() {
                    p class="muted" { "The client has no documents to attach yet." }
                } @else {
                    form class="inline" method="post" action={ (base) "/attachments" } {
                        (csrf(viewer))
                        label { "Document "
                            select name="document_id" {
                                @for d in &docs { option value=(d.id) { (d.file_name) } }
                            }
                        }
                        " " button class="btn small" type="submit" { "Attach" }
                    }
                }
            }
        }
        section class="card" aria-labelledby="comments-h" {
            h2 id="comments-h" { "Comments" }
            @if let Some(earlier) = &thread.next_cursor {
                p { a href={ (page_path) "?comments=" (earlier) "#comments-h" } { "Show earlier comments" } }
            }
            @if comments.is_some() {
                p { a href={ (page_path) "#comments-h" } { "Show the latest comments" } }
            }
            @if thread.items.is_empty() { p class="muted" { "No comments yet." } }
            @for c in thread.items.iter().rev() {
                article class="comment" {
                    p class="muted small" {
                        (c.author_name.as_deref().unwrap_or("Someone")) " · " (ui::time(c.created_at))
                        @if let Some(at) = c.edited_at { " · " span class="edited" title={ "Edited " (ui::datetime(at)) } { "edited" } }
                    }
                    p class="wrap" { (c.body) }
                    @if c.author.is_some() && c.author == me {
                        details class="comment-edit" {
                            summary { "Edit" }
                            form class="form" method="post" action={ (base) "/comments/" (c.id) "/edit" } {
                                (csrf(viewer))
                                label { "Edit your comment"
                                    textarea name="body" rows="3" required maxlength="5000" { (c.body) }
                                }
                                div { button class="btn small" type="submit" { "Save" } }
                            }
                            form class="inline" method="post" action={ (base) "/comments/" (c.id) "/delete" } {
                                (csrf(viewer))
                                button class="btn small danger" type="submit" aria-label="Delete this comment" { "Delete" }
                            }
                        }
                    }
                }
            }
            form class="form" method="post" action={ (base) "/comments" } {
                (csrf(viewer))
                label { "Comment (mention a member with @their-email)"
                    textarea name="body" rows="3" required maxlength="5000" {}
                }
                div { button class="btn" type="submit" { "Comment" } }
            }
        }
    })
}

fn move_button(
    viewer: &Viewer,
    base: &str,
    id: ChecklistItemId,
    dir: &str,
    arrow: &str,
    text: &str,
) -> Markup {
    html! {
        form class="inline" method="post" action={ (base) "/checklist/" (id) "/move" } {
            (csrf(viewer))
            input type="hidden" name="dir" value=(dir);
            button class="btn small" type="submit" aria-label={ "Move " (dir) ": " (text) } { (arrow) }
        }
    }
}

/// The page of a work item (a task's or a step's), with an error from a refused change.
async fn item_page(
    state: &AppState,
    viewer: &Viewer,
    id: uuid::Uuid,
    error: Option<&api::ApiError>,
    comments: Option<&str>,
) -> PageResult<(String, Markup)> {
    let item = state.practice.work_item(&viewer.caller, id).await?;
    let me = Some(viewer.caller.user_id());
    let executes = viewer.caller.has(Permission::WorkflowsExecute);
    let alert = html! { @if let Some(e) = error { div class="alert error" role="alert" { (e.detail()) } } };
    match item.kind {
        WorkItemKind::Task => {
            let t = state.practice.get_task(&viewer.caller, TaskId::from_uuid(id)).await?;
            let editable = executes || t.assignee == me || t.reviewer == me;
            let adder = if executes {
                dependency_adder(state, viewer, &t).await?
            } else {
                html! {}
            };
            let body = html! {
                (task_header(viewer, &t)) (adder) (alert) (panel(state, viewer, &item, editable, comments).await?)
            };
            Ok((t.title, body))
        }
        WorkItemKind::Step => {
            let run_id = item.run_id.ok_or(PageError::BadForm("the step has no run".into()))?;
            let run = state.practice.get_workflow_run(&viewer.caller, run_id).await?;
            let step_id = WorkflowStepId::from_uuid(id);
            let s = run
                .steps
                .iter()
                .find(|s| s.id == step_id)
                .ok_or(PageError::BadForm("the step is not in its run".into()))?;
            let editable = executes || s.assignee == me;
            let body = html! {
                (layout::head_row(&s.name, Some(html! { a href={ "/workflows/runs/" (run_id) } { (run.summary.name) } " · " a href={ "/clients/" (run.summary.client_id) } { (run.summary.client_name) } }), None))
                div {
                    (ui::badge(&ui::label(&s.status))) " " span class="muted" { "Step of " (run.summary.name) " · due " (ui::date(s.due_date)) }
                    " · " @if let Some(n) = &s.assignee_name { (n) } @else { span class="muted" { "Unassigned" } }
                }
                (alert)
                (panel(state, viewer, &item, editable, comments).await?)
            };
            Ok((s.name.clone(), body))
        }
    }
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    id: uuid::Uuid,
    error: Option<api::ApiError>,
    comments: Option<&str>,
) -> PageResult<Response> {
    let (title, body) = item_page(state, viewer, id, error.as_ref(), comments).await?;
    let page = layout::page(viewer, Nav::Workflows, &title, body);
    Ok(match error {
        Some(e) => (e.status(), page).into_response(),
        None => page.into_response(),
    })
}

/// `?comments=`: the cursor of an earlier page of the thread.
#[derive(Debug, Default, Deserialize)]
pub struct ThreadQuery {
    comments: Option<String>,
}

/// `GET /tasks/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<TaskId>,
    PageQuery(q): PageQuery<ThreadQuery>,
) -> PageResult<Response> {
    render(&state, &viewer, id.as_uuid(), None, q.comments.as_deref()).await
}

/// `GET /work/steps/{id}`: a run step's checklist, comments and attachments.
pub async fn step(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<WorkflowStepId>,
    PageQuery(q): PageQuery<ThreadQuery>,
) -> PageResult<Response> {
    render(&state, &viewer, id.as_uuid(), None, q.comments.as_deref()).await
}

/// After a change: back to the item's page, or the page again with the refusal.
async fn after<T>(
    state: &AppState,
    viewer: &Viewer,
    id: uuid::Uuid,
    r: practice::PracticeResult<T>,
) -> PageResult<Response> {
    match r {
        Ok(_) => {
            let kind = state.practice.work_item(&viewer.caller, id).await?.kind;
            Ok(see_other(&match kind {
                WorkItemKind::Task => format!("/tasks/{id}"),
                WorkItemKind::Step => format!("/work/steps/{id}"),
            }))
        }
        Err(e) => render(state, viewer, id, Some(fixable(e)?), None).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    action: TaskAction,
    back: Option<String>,
}

/// `POST /tasks/{id}/action`: back where it was pressed (the board), or to the task.
pub async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<TaskId>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> PageResult<Response> {
    let r = state.practice.act_on_task(&viewer.caller, id, f.action).await;
    match (&r, f.back.as_deref()) {
        (Ok(_), Some(back)) => Ok(see_other(&crate::session::safe_next(Some(back)))),
        _ => after(&state, &viewer, id.as_uuid(), r).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct TextForm {
    text: String,
}

/// `POST /work/items/{id}/checklist`.
pub async fn add_check(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<uuid::Uuid>,
    CsrfForm(f): CsrfForm<TextForm>,
) -> PageResult<Response> {
    let r = state.practice.add_checklist_item(&viewer.caller, id, &f.text).await;
    after(&state, &viewer, id, r).await
}

#[derive(Debug, Deserialize)]
pub struct ToggleForm {
    done: bool,
}

/// `POST /work/items/{id}/checklist/{item}/toggle`.
pub async fn toggle_check(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, entry)): Path<(uuid::Uuid, ChecklistItemId)>,
    CsrfForm(f): CsrfForm<ToggleForm>,
) -> PageResult<Response> {
    let req = UpdateChecklistItemRequest { text: None, done: Some(f.done) };
    let r = state.practice.update_checklist_item(&viewer.caller, id, entry, req).await;
    after(&state, &viewer, id, r).await
}

/// `POST /work/items/{id}/checklist/{item}/remove`.
pub async fn remove_check(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, entry)): Path<(uuid::Uuid, ChecklistItemId)>,
    CsrfForm(crate::session::NoFields {}): CsrfForm<crate::session::NoFields>,
) -> PageResult<Response> {
    let r = state.practice.remove_checklist_item(&viewer.caller, id, entry).await;
    after(&state, &viewer, id, r).await
}

#[derive(Debug, Deserialize)]
pub struct MoveForm {
    dir: String,
}

/// `POST /work/items/{id}/checklist/{item}/move`: one place up or down.
pub async fn move_check(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, entry)): Path<(uuid::Uuid, ChecklistItemId)>,
    CsrfForm(f): CsrfForm<MoveForm>,
) -> PageResult<Response> {
    let mut order: Vec<ChecklistItemId> =
        state.practice.work_item(&viewer.caller, id).await?.checklist.iter().map(|c| c.id).collect();
    let i = order
        .iter()
        .position(|c| *c == entry)
        .ok_or(PageError::BadForm("the item is not on this checklist".into()))?;
    let j = match f.dir.as_str() {
        "up" => i.checked_sub(1),
        "down" => Some(i + 1).filter(|&j| j < order.len()),
        _ => None,
    }
    .ok_or(PageError::BadForm("the item cannot move that way".into()))?;
    order.swap(i, j);
    let r = state.practice.reorder_checklist(&viewer.caller, id, order).await;
    after(&state, &viewer, id, r).await
}

#[derive(Debug, Deserialize)]
pub struct CommentForm {
    body: String,
}

/// `POST /work/items/{id}/comments`.
pub async fn comment(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<uuid::Uuid>,
    CsrfForm(f): CsrfForm<CommentForm>,
) -> PageResult<Response> {
    let r = state.practice.comment_on_work_item(&viewer.caller, id, &f.body).await;
    after(&state, &viewer, id, r).await
}

/// `POST /work/items/{id}/comments/{comment}/edit`: the author's new body.
pub async fn edit_comment(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, comment)): Path<(uuid::Uuid, CommentId)>,
    CsrfForm(f): CsrfForm<CommentForm>,
) -> PageResult<Response> {
    let r = state.practice.edit_work_item_comment(&viewer.caller, id, comment, &f.body).await;
    after(&state, &viewer, id, r).await
}

/// `POST /work/items/{id}/comments/{comment}/delete`: the author takes their comment back.
pub async fn delete_comment(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, comment)): Path<(uuid::Uuid, CommentId)>,
    CsrfForm(crate::session::NoFields {}): CsrfForm<crate::session::NoFields>,
) -> PageResult<Response> {
    let r = state.practice.delete_work_item_comment(&viewer.caller, id, comment).await;
    after(&state, &viewer, id, r).await
}

#[derive(Debug, Deserialize)]
pub struct AttachForm {
    document_id: DocumentId,
}

/// `POST /work/items/{id}/attachments`.
pub async fn attach(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<uuid::Uuid>,
    CsrfForm(f): CsrfForm<AttachForm>,
) -> PageResult<Response> {
    let r = state.practice.attach_document(&viewer.caller, id, f.document_id).await;
    after(&state, &viewer, id, r).await
}

/// `POST /work/items/{id}/attachments/{document}/remove`.
pub async fn detach(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, document)): Path<(uuid::Uuid, DocumentId)>,
    CsrfForm(crate::session::NoFields {}): CsrfForm<crate::session::NoFields>,
) -> PageResult<Response> {
    let r = state.practice.detach_document(&viewer.caller, id, document).await;
    after(&state, &viewer, id, r).await
}
