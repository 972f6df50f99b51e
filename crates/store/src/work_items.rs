//! Work items — a run's steps and ad-hoc tasks alike: resolving an id to one, their checklists,
//! comments and attachments, and the open-work lists over both (keyset-paged by due date).
//!
//! Children name their item by `task_id` or `step_id` (exactly one set); each query binds both,
//! one of them null, so one statement serves either kind.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workflow::StepStatus;
use domain::workflow::task::{TaskStatus, WorkItemKind, WorkItemRef, WorkView};
use domain::{
    AttachmentId, ChecklistItemId, ClientId, CommentId, DocumentId, Priority, TaskId, UserId, WorkflowRunId,
    WorkflowStepId,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::cursor::{self, Page};
use crate::{Change, StoreResult, TenantTx};

/// What a work item id names, with what the use cases check against.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Target {
    pub kind: WorkItemKind,
    pub id: uuid::Uuid,
    pub name: String,
    pub client_id: Option<ClientId>,
    pub run_id: Option<WorkflowRunId>,
    pub step_key: Option<String>,
    pub assignee_id: Option<UserId>,
    pub reviewer_id: Option<UserId>,
    pub due_date: NaiveDate,
    /// Done, skipped or cancelled.
    pub finished: bool,
}

impl Target {
    pub fn item(&self) -> WorkItemRef {
        match self.kind {
            WorkItemKind::Step => WorkItemRef::Step(WorkflowStepId::from_uuid(self.id)),
            WorkItemKind::Task => WorkItemRef::Task(TaskId::from_uuid(self.id)),
        }
    }
}

/// The steps and tasks among `ids`; an id of neither is left out.
pub async fn resolve(tx: &mut TenantTx, ids: &[uuid::Uuid]) -> StoreResult<Vec<Target>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select 'task' as kind, t.id, t.title as name, t.client_id, null::uuid as run_id, null::text as step_key,
                t.assignee_id, t.reviewer_id, t.due_date, t.status in ('done', 'cancelled') as finished
           from tasks t where t.organization_id = $1 and t.id = any($2)
         union all
         select 'step', s.id, s.name, r.client_id, s.run_id, s.key, s.assignee_id, null, s.due_date,
                s.status in ('done', 'skipped', 'cancelled') or r.status in ('done', 'cancelled')
           from workflow_steps s join workflow_runs r on r.organization_id = s.organization_id and r.id = s.run_id
          where s.organization_id = $1 and s.id = any($2)",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChecklistRow {
    pub id: ChecklistItemId,
    pub position: i32,
    pub text: String,
    pub done: bool,
    pub done_by: Option<UserId>,
    pub done_at: Option<DateTime<Utc>>,
}

macro_rules! checklist_columns {
    () => {
        "id, position, text, done, done_by, done_at"
    };
}

pub async fn checklist(tx: &mut TenantTx, item: WorkItemRef) -> StoreResult<Vec<ChecklistRow>> {
    let org = tx.org_uuid();
    let sql = concat!(
        "select ",
        checklist_columns!(),
        " from work_item_checklist where organization_id = $1 and (task_id = $2 or step_id = $3)
          order by position, id"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(item.task()).bind(item.step()).fetch_all(tx.conn()).await?)
}

/// Adds an item at the end of the checklist.
pub async fn add_checklist_item(
    tx: &mut TenantTx,
    item: WorkItemRef,
    id: ChecklistItemId,
    text: &str,
) -> StoreResult<ChecklistRow> {
    let org = tx.org_uuid();
    let sql = concat!(
        "insert into work_item_checklist (id, organization_id, task_id, step_id, position, text)
         select $1, $2, $3, $4, coalesce(max(position) + 1, 0), $5 from work_item_checklist
          where organization_id = $2 and (task_id = $3 or step_id = $4)
         returning ",
        checklist_columns!()
    );
    Ok(sqlx::query_as(sql)
        .bind(id)
        .bind(org)
        .bind(item.task())
        .bind(item.step())
        .bind(text)
        .fetch_one(tx.conn())
        .await?)
}

/// Renames and/or ticks (unticks) one item of the item's checklist.
pub async fn update_checklist_item(
    tx: &mut TenantTx,
    item: WorkItemRef,
    id: ChecklistItemId,
    text: Option<&str>,
    done: Option<bool>,
    by: UserId,
) -> StoreResult<Change<ChecklistRow>> {
    let org = tx.org_uuid();
    let sql = concat!(
        "select ",
        checklist_columns!(),
        " from work_item_checklist where organization_id = $1 and (task_id = $2 or step_id = $3) and id = $4
          for update"
    );
    let before: ChecklistRow = sqlx::query_as(sql)
        .bind(org)
        .bind(item.task())
        .bind(item.step())
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    let sql = concat!(
        "update work_item_checklist set text = coalesce($3, text), done = coalesce($4, done),
                done_by = case when coalesce($4, done) then case when done then done_by else $5 end end,
                done_at = case when coalesce($4, done) then case when done then done_at else now() end end
          where organization_id = $1 and id = $2 returning ",
        checklist_columns!()
    );
    let after =
        sqlx::query_as(sql).bind(org).bind(id).bind(text).bind(done).bind(by).fetch_one(tx.conn()).await?;
    Ok(Change { before, after })
}

pub async fn remove_checklist_item(
    tx: &mut TenantTx,
    item: WorkItemRef,
    id: ChecklistItemId,
) -> StoreResult<ChecklistRow> {
    let org = tx.org_uuid();
    let sql = concat!(
        "delete from work_item_checklist where organization_id = $1 and (task_id = $2 or step_id = $3) and id = $4
         returning ",
        checklist_columns!()
    );
    Ok(sqlx::query_as(sql)
        .bind(org)
        .bind(item.task())
        .bind(item.step())
        .bind(id)
        .fetch_one(tx.conn())
        .await?)
}

/// Numbers the checklist in the order of `ids` (the caller checked they are exactly its items).
pub async fn reorder_checklist(
    tx: &mut TenantTx,
    item: WorkItemRef,
    ids: &[ChecklistItemId],
) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update work_item_checklist w set position = (o.n - 1)::integer
           from unnest($4::uuid[]) with ordinality as o(id, n)
          where w.organization_id = $1 and (w.task_id = $2 or w.step_id = $3) and w.id = o.id",
    )
    .bind(org)
    .bind(item.task())
    .bind(item.step())
    .bind(ids)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CommentRow {
    pub id: CommentId,
    pub author_id: Option<UserId>,
    pub author_name: Option<String>,
    pub body: String,
    pub mentions: Vec<UserId>,
    pub created_at: DateTime<Utc>,
    /// When the author last changed the body; `None` if never.
    pub edited_at: Option<DateTime<Utc>>,
}

/// The columns of a [`CommentRow`] over `c` (a comment) left-joined to `u` (its author).
macro_rules! comment_columns {
    () => {
        "c.id, c.author_id, u.name as author_name, c.body, c.mentions, c.created_at, c.edited_at"
    };
}

/// An item's comments, oldest first (a thread reads top down; at most the latest 500).
pub async fn comments(tx: &mut TenantTx, item: WorkItemRef) -> StoreResult<Vec<CommentRow>> {
    let org = tx.org_uuid();
    let sql = concat!(
        "select * from (select ",
        comment_columns!(),
        " from work_item_comments c left join users u on u.id = c.author_id
              where c.organization_id = $1 and (c.task_id = $2 or c.step_id = $3)
              order by c.created_at desc, c.id desc limit 500) x
         order by created_at, id"
    );
    Ok(sqlx::query_as(sql).bind(org).bind(item.task()).bind(item.step()).fetch_all(tx.conn()).await?)
}

/// The sort key of a comment page: (created_at, id).
#[derive(Serialize, Deserialize)]
struct CommentKey(DateTime<Utc>, CommentId);

/// One page of an item's comments, newest first: the first page is the latest `limit`, each
/// next page (`after`, the previous page's cursor) the ones written before it.
pub async fn comment_page(
    tx: &mut TenantTx,
    item: WorkItemRef,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<CommentRow>> {
    let org = tx.org_uuid();
    let after: Option<CommentKey> = after.map(cursor::decode).transpose()?;
    let sql = concat!(
        "select ",
        comment_columns!(),
        " from work_item_comments c left join users u on u.id = c.author_id
          where c.organization_id = $1 and (c.task_id = $2 or c.step_id = $3)
            and ($4::timestamptz is null or (c.created_at, c.id) < ($4, $5))
          order by c.created_at desc, c.id desc
          limit $6"
    );
    let rows: Vec<CommentRow> = sqlx::query_as(sql)
        .bind(org)
        .bind(item.task())
        .bind(item.step())
        .bind(after.as_ref().map(|k| k.0))
        .bind(after.as_ref().map(|k| k.1))
        .bind(limit as i64 + 1)
        .fetch_all(tx.conn())
        .await?;
    Ok(Page::from_overfetch(rows, limit, |c| CommentKey(c.created_at, c.id)))
}

/// One comment of the item, locked until the transaction ends (`NotFound` if the item has none
/// by that id).
pub async fn comment_for_update(
    tx: &mut TenantTx,
    item: WorkItemRef,
    id: CommentId,
) -> StoreResult<CommentRow> {
    let org = tx.org_uuid();
    let sql = concat!(
        "select ",
        comment_columns!(),
        " from work_item_comments c left join users u on u.id = c.author_id
          where c.organization_id = $1 and (c.task_id = $2 or c.step_id = $3) and c.id = $4
          for update of c"
    );
    Ok(sqlx::query_as(sql)
        .bind(org)
        .bind(item.task())
        .bind(item.step())
        .bind(id)
        .fetch_one(tx.conn())
        .await?)
}

pub async fn add_comment(
    tx: &mut TenantTx,
    item: WorkItemRef,
    id: CommentId,
    author: UserId,
    body: &str,
    mentions: &[UserId],
) -> StoreResult<CommentRow> {
    let org = tx.org_uuid();
    let sql = concat!(
        "with c as (
             insert into work_item_comments (id, organization_id, task_id, step_id, author_id, body, mentions)
             values ($1, $2, $3, $4, $5, $6, $7) returning *)
         select ",
        comment_columns!(),
        " from c left join users u on u.id = c.author_id"
    );
    Ok(sqlx::query_as(sql)
        .bind(id)
        .bind(org)
        .bind(item.task())
        .bind(item.step())
        .bind(author)
        .bind(body)
        .bind(mentions)
        .fetch_one(tx.conn())
        .await?)
}

/// Replaces a comment's body and mentions and stamps `edited_at`.
pub async fn update_comment(
    tx: &mut TenantTx,
    item: WorkItemRef,
    id: CommentId,
    body: &str,
    mentions: &[UserId],
) -> StoreResult<CommentRow> {
    let org = tx.org_uuid();
    let sql = concat!(
        "with c as (
             update work_item_comments set body = $5, mentions = $6, edited_at = now()
              where organization_id = $1 and (task_id = $2 or step_id = $3) and id = $4
             returning *)
         select ",
        comment_columns!(),
        " from c left join users u on u.id = c.author_id"
    );
    Ok(sqlx::query_as(sql)
        .bind(org)
        .bind(item.task())
        .bind(item.step())
        .bind(id)
        .bind(body)
        .bind(mentions)
        .fetch_one(tx.conn())
        .await?)
}

/// Deletes one comment of the item.
pub async fn delete_comment(tx: &mut TenantTx, item: WorkItemRef, id: CommentId) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "delete from work_item_comments where organization_id = $1 and (task_id = $2 or step_id = $3) and id = $4",
    )
    .bind(org)
    .bind(item.task())
    .bind(item.step())
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: AttachmentId,
    pub document_id: DocumentId,
    pub file_name: String,
    pub added_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

pub async fn attachments(tx: &mut TenantTx, item: WorkItemRef) -> StoreResult<Vec<AttachmentRow>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select a.id, a.document_id, d.file_name, a.added_by, a.created_at
           from work_item_attachments a
           join documents d on d.organization_id = a.organization_id and d.id = a.document_id
          where a.organization_id = $1 and (a.task_id = $2 or a.step_id = $3) and d.deleted_at is null
          order by a.created_at, a.id",
    )
    .bind(org)
    .bind(item.task())
    .bind(item.step())
    .fetch_all(tx.conn())
    .await?)
}

/// Links a document to the item; `false` when it already was.
pub async fn attach(
    tx: &mut TenantTx,
    item: WorkItemRef,
    document: DocumentId,
    by: UserId,
) -> StoreResult<bool> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "insert into work_item_attachments (id, organization_id, task_id, step_id, document_id, added_by)
         values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
    )
    .bind(AttachmentId::new())
    .bind(org)
    .bind(item.task())
    .bind(item.step())
    .bind(document)
    .bind(by)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Unlinks a document; `false` when it was not attached.
pub async fn detach(tx: &mut TenantTx, item: WorkItemRef, document: DocumentId) -> StoreResult<bool> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "delete from work_item_attachments
          where organization_id = $1 and (task_id = $2 or step_id = $3) and document_id = $4",
    )
    .bind(org)
    .bind(item.task())
    .bind(item.step())
    .bind(document)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One open work item in a list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ListedItem {
    pub kind: WorkItemKind,
    pub id: uuid::Uuid,
    pub name: String,
    pub client_id: Option<ClientId>,
    pub client_name: Option<String>,
    pub run_id: Option<WorkflowRunId>,
    pub run_name: Option<String>,
    pub step_key: Option<String>,
    pub step_status: Option<StepStatus>,
    pub task_status: Option<TaskStatus>,
    pub assignee_id: Option<UserId>,
    pub assignee_name: Option<String>,
    pub reviewer_id: Option<UserId>,
    pub priority: Option<Priority>,
    pub estimated_hours: Option<Decimal>,
    pub due_date: NaiveDate,
    pub blocked: bool,
}

#[derive(Serialize, Deserialize)]
struct ByDue(NaiveDate, uuid::Uuid);

/// Open steps (of active runs) and open tasks matching the predicates, merged in (due date, id)
/// order. Each branch walks its own partial index in that order and stops at the page size, so
/// a page costs two short index scans whatever the list's length.
///
/// Parameters: $1 organization, $2 the view's subject (member or client), $3/$4 the cursor,
/// $5 the page size + 1, $6 today, $7 the end of this week.
macro_rules! work_list {
    ($step_where:literal, $task_where:literal) => {
        concat!(
            "(select 'step' as kind, s.id, s.name, r.client_id, c.business_name as client_name, s.run_id,
                     r.name as run_name, s.key as step_key, s.status as step_status, null::text as task_status,
                     s.assignee_id, u.name as assignee_name, null::uuid as reviewer_id, null::text as priority,
                     s.estimated_hours, s.due_date, s.status = 'blocked' as blocked
                from workflow_steps s
                join workflow_runs r on r.organization_id = s.organization_id and r.id = s.run_id
                join clients c on c.organization_id = r.organization_id and c.id = r.client_id
                left join users u on u.id = s.assignee_id
               where s.organization_id = $1 and s.status in ('ready', 'in_progress', 'blocked')
                 and r.status = 'active' and ($3::date is null or (s.due_date, s.id) > ($3, $4)) and ",
            $step_where,
            "
               order by s.due_date, s.id limit $5)
             union all
             (select 'task', t.id, t.title, t.client_id, c.business_name, null, null, null, null, t.status,
                     t.assignee_id, u.name, t.reviewer_id, t.priority, t.estimated_hours, t.due_date,
                     exists (select 1 from task_dependencies d
                               join tasks x on x.organization_id = d.organization_id and x.id = d.depends_on_id
                              where d.organization_id = t.organization_id and d.task_id = t.id and x.status <> 'done')
                from tasks t
                left join clients c on c.organization_id = t.organization_id and c.id = t.client_id
                left join users u on u.id = t.assignee_id
               where t.organization_id = $1 and t.status in ('open', 'in_progress')
                 and ($3::date is null or (t.due_date, t.id) > ($3, $4)) and ",
            $task_where,
            "
               order by t.due_date, t.id limit $5)
             order by due_date, id limit $5"
        )
    };
}

/// One page of a work list. `subject` is the member (mine, review; for overdue and week an
/// optional narrowing to one member) or the client (client).
pub async fn list(
    tx: &mut TenantTx,
    view: WorkView,
    subject: Option<uuid::Uuid>,
    today: NaiveDate,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<ListedItem>> {
    let org = tx.org_uuid();
    let after: Option<ByDue> = after.map(cursor::decode).transpose()?;
    let sql = match view {
        WorkView::Mine => work_list!("s.assignee_id = $2", "t.assignee_id = $2"),
        WorkView::Review => work_list!("s.assignee_id = $2 and s.kind = 'approval'", "t.reviewer_id = $2"),
        WorkView::Client => work_list!("r.client_id = $2", "t.client_id = $2"),
        // Narrowed to a member, the member's index; firm-wide, the one by due date. (One statement
        // with `$2 is null or …` gets a generic plan that walks every open step of the firm.)
        WorkView::Overdue if subject.is_some() => {
            work_list!("s.due_date < $6 and s.assignee_id = $2", "t.due_date < $6 and t.assignee_id = $2")
        }
        WorkView::Overdue => {
            work_list!("s.due_date < $6 and $2::uuid is null", "t.due_date < $6 and $2::uuid is null")
        }
        WorkView::Week if subject.is_some() => work_list!(
            "s.due_date between $6 and $7 and s.assignee_id = $2",
            "t.due_date between $6 and $7 and t.assignee_id = $2"
        ),
        WorkView::Week => work_list!(
            "s.due_date between $6 and $7 and $2::uuid is null",
            "t.due_date between $6 and $7 and $2::uuid is null"
        ),
    };
    let rows: Vec<ListedItem> = sqlx::query_as(sql)
        .bind(org)
        .bind(subject)
        .bind(after.as_ref().map(|a| a.0))
        .bind(after.as_ref().map(|a| a.1))
        .bind(limit as i64 + 1)
        .bind(today)
        .bind(domain::workflow::task::week_end(today))
        .fetch_all(tx.conn())
        .await?;
    Ok(Page::from_overfetch(rows, limit, |w| ByDue(w.due_date, w.id)))
}
