//! Work items: what a run's step and an ad-hoc task have alike — a checklist, comments with
//! @mentions (each mentioned member notified once), attachments (links to the client's
//! documents) — the open-work lists over both, and bulk reassignment.
//!
//! An item is named by its id alone (steps and tasks have distinct UUIDs); [`target`] finds
//! which it is, so every route and use case here serves both kinds once.
//!
//! Who may do what: any member who reads workflows reads items and comments; the item's
//! assignee or reviewer, or anyone with `workflows:execute`, edits its checklist and
//! attachments; reassigning needs `workflows:execute`. Portal users have no `workflows:read`:
//! they never see a task, a step's checklist or a comment.

use std::collections::BTreeMap;

use api_types::Page;
use api_types::tasks::{
    AttachmentResponse, ChecklistItemResponse, CommentResponse, ReassignResponse, UpdateChecklistItemRequest,
    WorkItemDetail, WorkItemSummary, WorkListParams,
};
use chrono::{DateTime, Utc};
use domain::workflow::recurrence::firm_today;
use domain::workflow::task::{WorkItemKind, WorkItemRef, WorkView, mentions};
use domain::{ChecklistItemId, CommentId, DocumentId, NotificationKind, Permission, UserId};
use identity::Caller;
use store::notifications::{self, NewNotification};
use store::work_items::{self as wi, ChecklistRow, Target};
use store::{AuditRecord, TenantTx};

use crate::engagements::check_staff;
use crate::error::NotFoundAs;
use crate::tasks::notify_assigned;
use crate::{Practice, PracticeError, PracticeResult};

/// Items per bulk reassignment.
const MAX_REASSIGN: usize = 500;
/// Items per checklist.
const MAX_CHECKLIST: usize = 200;

impl Practice {
    pub async fn work_item(&self, caller: &Caller, id: uuid::Uuid) -> PracticeResult<WorkItemDetail> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let t = target(&mut tx, id).await?;
        let item = t.item();
        let checklist = wi::checklist(&mut tx, item).await?;
        let comments = wi::comments(&mut tx, item).await?;
        let attachments = wi::attachments(&mut tx, item).await?;
        tx.commit().await?;
        Ok(WorkItemDetail {
            kind: t.kind,
            id: t.id,
            name: t.name,
            client_id: t.client_id,
            run_id: t.run_id,
            checklist: checklist.into_iter().map(checklist_item).collect(),
            comments: comments.into_iter().map(comment_response).collect(),
            attachments: attachments
                .into_iter()
                .map(|a| AttachmentResponse {
                    document_id: a.document_id,
                    file_name: a.file_name,
                    added_by: a.added_by,
                    created_at: a.created_at,
                })
                .collect(),
        })
    }

    pub async fn add_checklist_item(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        text: &str,
    ) -> PracticeResult<Vec<ChecklistItemResponse>> {
        let text = checklist_text(text)?;
        let (mut tx, t) = self.editable(caller, id).await?;
        let item = t.item();
        if wi::checklist(&mut tx, item).await?.len() >= MAX_CHECKLIST {
            return Err(PracticeError::Conflict(format!("a checklist has at most {MAX_CHECKLIST} items")));
        }
        let row = wi::add_checklist_item(&mut tx, item, ChecklistItemId::new(), &text).await?;
        tx.audit(AuditRecord::new("checklist.add", item.entity(), item.id()).after(&row));
        finish_checklist(tx, item).await
    }

    pub async fn update_checklist_item(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        entry: ChecklistItemId,
        req: UpdateChecklistItemRequest,
    ) -> PracticeResult<Vec<ChecklistItemResponse>> {
        let text = req.text.as_deref().map(checklist_text).transpose()?;
        if text.is_none() && req.done.is_none() {
            return Err(PracticeError::invalid("done", "give `done`, `text` or both"));
        }
        let (mut tx, t) = self.editable(caller, id).await?;
        let item = t.item();
        let change =
            wi::update_checklist_item(&mut tx, item, entry, text.as_deref(), req.done, caller.user_id())
                .await
                .or_not_found("checklist item")?;
        let verb = match (change.before.done, change.after.done) {
            (false, true) => "checklist.tick",
            (true, false) => "checklist.untick",
            _ => "checklist.update",
        };
        tx.audit(
            AuditRecord::new(verb, item.entity(), item.id()).before(&change.before).after(&change.after),
        );
        finish_checklist(tx, item).await
    }

    pub async fn remove_checklist_item(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        entry: ChecklistItemId,
    ) -> PracticeResult<Vec<ChecklistItemResponse>> {
        let (mut tx, t) = self.editable(caller, id).await?;
        let item = t.item();
        let row = wi::remove_checklist_item(&mut tx, item, entry).await.or_not_found("checklist item")?;
        tx.audit(AuditRecord::new("checklist.remove", item.entity(), item.id()).before(&row));
        finish_checklist(tx, item).await
    }

    /// Puts the checklist in the given order; `items` must name each of its items exactly once.
    pub async fn reorder_checklist(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        items: Vec<ChecklistItemId>,
    ) -> PracticeResult<Vec<ChecklistItemResponse>> {
        let (mut tx, t) = self.editable(caller, id).await?;
        let item = t.item();
        let current: Vec<ChecklistItemId> =
            wi::checklist(&mut tx, item).await?.iter().map(|c| c.id).collect();
        let (mut a, mut b) = (current.clone(), items.clone());
        a.sort();
        b.sort();
        if a != b {
            return Err(PracticeError::invalid(
                "items",
                "must name every item of the checklist exactly once",
            ));
        }
        wi::reorder_checklist(&mut tx, item, &items).await?;
        tx.audit(
            AuditRecord::new("checklist.reorder", item.entity(), item.id())
                .before(serde_json::json!({"order": current}))
                .after(serde_json::json!({"order": items})),
        );
        finish_checklist(tx, item).await
    }

    /// Writes a comment; each staff member it mentions (`@email`) is notified once.
    pub async fn comment_on_work_item(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        body: &str,
    ) -> PracticeResult<CommentResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let body = comment_body(body)?;
        let mut tx = self.tx(caller).await?;
        let t = target(&mut tx, id).await?;
        let item = t.item();
        let mentioned = mentioned_staff(&mut tx, body).await?;
        let row =
            wi::add_comment(&mut tx, item, CommentId::new(), caller.user_id(), body, &mentioned).await?;
        notify_mentioned(&mut tx, &t, &row, mentioned.iter().filter(|&&u| u != caller.user_id())).await?;
        tx.audit(AuditRecord::new("comment.create", item.entity(), item.id()).after(&row));
        tx.commit().await?;
        Ok(comment_response(row))
    }

    /// Replaces the body of a comment; only its author may. Members the new body mentions that
    /// the comment did not mention before are notified (each member once per comment, ever). The
    /// same body again changes nothing.
    pub async fn edit_work_item_comment(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        comment: CommentId,
        body: &str,
    ) -> PracticeResult<CommentResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let body = comment_body(body)?;
        let mut tx = self.tx(caller).await?;
        let (t, before) = own_comment(&mut tx, caller, id, comment, "edit").await?;
        let item = t.item();
        if before.body == body {
            // Saved unchanged: not an edit (no stamp, no audit entry).
            return Ok(comment_response(before));
        }
        let mentioned = mentioned_staff(&mut tx, body).await?;
        let row = wi::update_comment(&mut tx, item, comment, body, &mentioned).await?;
        let new = mentioned.iter().filter(|&&u| u != caller.user_id() && !before.mentions.contains(&u));
        notify_mentioned(&mut tx, &t, &row, new).await?;
        tx.audit(
            AuditRecord::new("comment.update", item.entity(), item.id())
                .before(comment_snapshot(&before))
                .after(comment_snapshot(&row)),
        );
        tx.commit().await?;
        Ok(comment_response(row))
    }

    /// Deletes a comment; only its author may. The audit entry keeps what it said.
    pub async fn delete_work_item_comment(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        comment: CommentId,
    ) -> PracticeResult<()> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let (t, before) = own_comment(&mut tx, caller, id, comment, "delete").await?;
        let item = t.item();
        wi::delete_comment(&mut tx, item, comment).await?;
        tx.audit(
            AuditRecord::new("comment.delete", item.entity(), item.id()).before(comment_snapshot(&before)),
        );
        tx.commit().await?;
        Ok(())
    }

    /// A page of an item's comments, newest first; the next page holds the ones written before.
    pub async fn work_item_comments(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        cursor: Option<&str>,
        limit: usize,
    ) -> PracticeResult<Page<CommentResponse>> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let t = target(&mut tx, id).await?;
        let page = wi::comment_page(&mut tx, t.item(), cursor, limit).await?;
        tx.commit().await?;
        let page = page.map(comment_response);
        Ok(Page { items: page.items, next_cursor: page.next_cursor })
    }

    /// Links one of the item's client's documents; a document of another client or firm is refused.
    pub async fn attach_document(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        document: DocumentId,
    ) -> PracticeResult<Vec<AttachmentResponse>> {
        caller.require(Permission::DocumentsRead)?;
        let (mut tx, t) = self.editable(caller, id).await?;
        let item = t.item();
        let Some(client) = t.client_id else {
            return Err(PracticeError::invalid(
                "document_id",
                "the task has no client; give it one to attach its documents",
            ));
        };
        let doc = store::documents::get(&mut tx, document, &caller.client_scope())
            .await
            .map_err(|_| PracticeError::invalid("document_id", "is not a document of this firm"))?;
        if doc.client_id != client {
            return Err(PracticeError::invalid("document_id", "is a document of another client"));
        }
        if wi::attach(&mut tx, item, document, caller.user_id()).await? {
            tx.audit(
                AuditRecord::new("attachment.add", item.entity(), item.id())
                    .after(serde_json::json!({"document_id": document, "file_name": doc.file_name})),
            );
        }
        let rows = wi::attachments(&mut tx, item).await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|a| AttachmentResponse {
                document_id: a.document_id,
                file_name: a.file_name,
                added_by: a.added_by,
                created_at: a.created_at,
            })
            .collect())
    }

    pub async fn detach_document(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
        document: DocumentId,
    ) -> PracticeResult<()> {
        let (mut tx, t) = self.editable(caller, id).await?;
        let item = t.item();
        if !wi::detach(&mut tx, item, document).await? {
            return Err(PracticeError::NotFound("attachment"));
        }
        tx.audit(
            AuditRecord::new("attachment.remove", item.entity(), item.id())
                .before(serde_json::json!({"document_id": document})),
        );
        tx.commit().await?;
        Ok(())
    }

    /// One page of an open-work list, soonest due first; overdue and "this week" are counted
    /// from the date it is at `now` in the firm's time zone.
    pub async fn work_list(
        &self,
        caller: &Caller,
        q: &WorkListParams,
        limit: usize,
        now: DateTime<Utc>,
    ) -> PracticeResult<Page<WorkItemSummary>> {
        caller.require(Permission::WorkflowsRead)?;
        let view = q.view.unwrap_or(WorkView::Mine);
        let mut tx = self.tx(caller).await?;
        let today = firm_today(&store::workflow_recurrence::time_zone(&mut tx).await?, now);
        let subject = match view {
            WorkView::Mine | WorkView::Review => Some(caller.user_id().as_uuid()),
            WorkView::Overdue | WorkView::Week => q.assignee.map(|a| a.as_uuid()),
            WorkView::Client => {
                let Some(c) = q.client_id else {
                    return Err(PracticeError::invalid("client_id", "is required for view=client"));
                };
                store::clients::get(&mut tx, c, &caller.client_scope()).await.or_not_found("client")?;
                Some(c.as_uuid())
            }
        };
        let page = wi::list(&mut tx, view, subject, today, q.cursor.as_deref(), limit).await?;
        tx.commit().await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|w| WorkItemSummary {
                    overdue: w.due_date < today,
                    kind: w.kind,
                    id: w.id,
                    name: w.name,
                    client_id: w.client_id,
                    client_name: w.client_name,
                    run_id: w.run_id,
                    run_name: w.run_name,
                    key: w.step_key,
                    step_status: w.step_status,
                    task_status: w.task_status,
                    priority: w.priority,
                    reviewer: w.reviewer_id,
                    assignee: w.assignee_id,
                    assignee_name: w.assignee_name,
                    estimated_hours: w.estimated_hours,
                    due_date: w.due_date,
                    blocked: w.blocked,
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Gives every item of `items` to `assignee` in one transaction: all or nothing. Each change
    /// is audited and notified; items already theirs are left alone.
    pub async fn reassign_work_items(
        &self,
        caller: &Caller,
        items: &[uuid::Uuid],
        assignee: UserId,
    ) -> PracticeResult<ReassignResponse> {
        caller.require(Permission::WorkflowsExecute)?;
        let mut ids = items.to_vec();
        ids.sort();
        ids.dedup();
        if ids.is_empty() || ids.len() > MAX_REASSIGN {
            return Err(PracticeError::invalid(
                "items",
                format!("give 1 to {MAX_REASSIGN} step or task ids"),
            ));
        }
        let mut tx = self.tx(caller).await?;
        check_staff(&mut tx, assignee)
            .await
            .map_err(|_| PracticeError::invalid("assignee", "must be a staff member of this firm"))?;
        // Runs locked in id order, so two bulk changes over the same runs cannot deadlock.
        let mut runs: Vec<_> = wi::resolve(&mut tx, &ids).await?.iter().filter_map(|t| t.run_id).collect();
        runs.sort();
        runs.dedup();
        for run in &runs {
            store::workflows::lock_run(&mut tx, *run, &caller.client_scope()).await?;
        }
        let mut found = wi::resolve(&mut tx, &ids).await?;
        if let Some(missing) = ids.iter().find(|id| !found.iter().any(|t| t.id == **id)) {
            return Err(PracticeError::Missing(format!("work item {missing} not found")));
        }
        if let Some(done) = found.iter().find(|t| t.finished) {
            return Err(PracticeError::invalid(
                "items",
                format!("“{}” is finished; only open work is reassigned", done.name),
            ));
        }
        found.sort_by_key(|t| t.id);
        let mut changed = 0u32;
        for t in found.iter().filter(|t| t.assignee_id != Some(assignee)) {
            match t.item() {
                WorkItemRef::Task(task) => {
                    let before = store::tasks::set_assignee(&mut tx, task, assignee).await?;
                    let row = store::tasks::get(&mut tx, task).await?;
                    notify_assigned(&mut tx, &row, assignee).await?;
                    tx.audit(
                        AuditRecord::new("task.reassign", "task", task)
                            .before(serde_json::json!({"assignee": before}))
                            .after(serde_json::json!({"assignee": assignee, "bulk": true})),
                    );
                }
                WorkItemRef::Step(step) => {
                    let (Some(run), Some(key)) = (t.run_id, t.step_key.as_deref()) else { continue };
                    let change = store::workflows::assign_step(&mut tx, run, key, Some(assignee)).await?;
                    notifications::insert(
                        &mut tx,
                        NewNotification {
                            user_id: assignee,
                            kind: NotificationKind::WorkflowStepAssigned,
                            title: &format!("New step: {}", t.name),
                            body: &format!("“{}” is yours, due {}.", t.name, t.due_date),
                            payload: serde_json::json!({"run_id": run, "step": key, "link": link(t)}),
                            dedupe_key: &format!("workflow_step:{step}:{}", uuid::Uuid::now_v7()),
                        },
                    )
                    .await?;
                    tx.audit(
                        AuditRecord::new("workflow_step.assign", "workflow_step", step)
                            .before(serde_json::json!({"assignee": change.before.assignee_id}))
                            .after(serde_json::json!({"assignee": assignee, "bulk": true})),
                    );
                }
            }
            changed += 1;
        }
        tx.commit().await?;
        Ok(ReassignResponse { reassigned: changed })
    }

    /// The item, in a transaction, if the caller may change its checklist and attachments.
    async fn editable(&self, caller: &Caller, id: uuid::Uuid) -> PracticeResult<(TenantTx, Target)> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let t = target(&mut tx, id).await?;
        let me = Some(caller.user_id());
        if t.assignee_id != me && t.reviewer_id != me {
            caller.require(Permission::WorkflowsExecute)?;
        }
        Ok((tx, t))
    }
}

async fn target(tx: &mut TenantTx, id: uuid::Uuid) -> PracticeResult<Target> {
    wi::resolve(tx, &[id]).await?.into_iter().next().ok_or(PracticeError::NotFound("work item"))
}

/// The item and one of its comments, locked, when the caller wrote it; `verb` names the refused
/// change ("edit", "delete").
async fn own_comment(
    tx: &mut TenantTx,
    caller: &Caller,
    id: uuid::Uuid,
    comment: CommentId,
    verb: &str,
) -> PracticeResult<(Target, wi::CommentRow)> {
    let t = target(tx, id).await?;
    let row = wi::comment_for_update(tx, t.item(), comment).await.or_not_found("comment")?;
    if row.author_id != Some(caller.user_id()) {
        return Err(PracticeError::NotAllowed(format!("only the comment's author may {verb} it")));
    }
    Ok((t, row))
}

/// What the audit log keeps of a comment.
fn comment_snapshot(c: &wi::CommentRow) -> serde_json::Value {
    serde_json::json!({"comment_id": c.id, "body": c.body, "mentions": c.mentions})
}

fn checklist_text(text: &str) -> PracticeResult<String> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 500 {
        return Err(PracticeError::invalid("text", "must be 1 to 500 characters"));
    }
    Ok(t.to_owned())
}

fn checklist_item(c: ChecklistRow) -> ChecklistItemResponse {
    ChecklistItemResponse { id: c.id, text: c.text, done: c.done, done_by: c.done_by, done_at: c.done_at }
}

async fn finish_checklist(mut tx: TenantTx, item: WorkItemRef) -> PracticeResult<Vec<ChecklistItemResponse>> {
    let rows = wi::checklist(&mut tx, item).await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(checklist_item).collect())
}

/// The console page of an item.
fn link(t: &Target) -> String {
    match t.kind {
        WorkItemKind::Task => format!("/tasks/{}", t.id),
        WorkItemKind::Step => format!("/work/steps/{}", t.id),
    }
}

fn excerpt(body: &str) -> String {
    let mut s: String = body.chars().take(200).collect();
    if body.chars().count() > 200 {
        s.push('…');
    }
    s
}

/// A comment's body, trimmed: 1 to 5000 characters.
fn comment_body(body: &str) -> PracticeResult<&str> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 5000 {
        return Err(PracticeError::invalid("body", "must be 1 to 5000 characters"));
    }
    Ok(body)
}

/// The staff members `body` mentions (`@email`), in order of first mention.
async fn mentioned_staff(tx: &mut TenantTx, body: &str) -> PracticeResult<Vec<UserId>> {
    let wanted = mentions(body);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let staff: BTreeMap<String, UserId> = store::users::staff_emails(tx).await?.into_iter().collect();
    Ok(wanted.iter().filter_map(|e| staff.get(e).copied()).collect())
}

/// Tells each of `users` that the comment mentions them; once per member and comment (the
/// dedupe key is the comment), so an edit never repeats a notification.
async fn notify_mentioned<'a>(
    tx: &mut TenantTx,
    t: &Target,
    row: &wi::CommentRow,
    users: impl Iterator<Item = &'a UserId>,
) -> PracticeResult<()> {
    let who = row.author_name.as_deref().unwrap_or("Someone");
    for &user in users {
        notifications::insert(
            tx,
            NewNotification {
                user_id: user,
                kind: NotificationKind::WorkItemMentioned,
                title: &format!("{who} mentioned you on “{}”", t.name),
                body: &excerpt(&row.body),
                payload: serde_json::json!({"item": t.item(), "comment_id": row.id, "link": link(t)}),
                dedupe_key: &format!("mention:{}", row.id),
            },
        )
        .await?;
    }
    Ok(())
}

fn comment_response(c: wi::CommentRow) -> CommentResponse {
    CommentResponse {
        id: c.id,
        author: c.author_id,
        author_name: c.author_name,
        body: c.body,
        mentions: c.mentions,
        created_at: c.created_at,
        edited_at: c.edited_at,
    }
}
