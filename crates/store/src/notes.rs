//! Notes on clients and engagements (with an optional reminder time). Private notes are their
//! author's alone.

use chrono::{DateTime, Utc};
use domain::{ClientId, EngagementId, NoteId, NoteType, UserId};
use serde::{Deserialize, Serialize};

use crate::cursor::{self, Page};
use crate::{Change, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Note {
    pub id: NoteId,
    pub client_id: Option<ClientId>,
    pub engagement_id: Option<EngagementId>,
    pub title: Option<String>,
    pub body: String,
    pub note_type: NoteType,
    pub is_private: bool,
    pub remind_at: Option<DateTime<Utc>>,
    pub author_id: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "id, client_id, engagement_id, title, body, note_type, is_private, remind_at, author_id, created_at,
         updated_at"
    };
}

/// What a note is about.
#[derive(Debug, Clone, Copy)]
pub enum NoteSubject {
    Client(ClientId),
    Engagement(EngagementId),
}

pub struct NewNote<'a> {
    pub id: NoteId,
    pub subject: NoteSubject,
    pub title: Option<&'a str>,
    pub body: &'a str,
    pub note_type: NoteType,
    pub is_private: bool,
    pub remind_at: Option<DateTime<Utc>>,
    pub author: UserId,
}

/// Adds a note; the subject must exist in this organization (else `NotFound`).
pub async fn create(tx: &mut TenantTx, n: NewNote<'_>) -> StoreResult<Note> {
    let org = tx.org_uuid();
    let (client, engagement) = match n.subject {
        NoteSubject::Client(c) => (Some(c), None),
        NoteSubject::Engagement(e) => (None, Some(e)),
    };
    let note: Option<Note> = sqlx::query_as(concat!(
        "insert into notes (id, organization_id, client_id, engagement_id, title, body, note_type, is_private,
             remind_at, author_id)
         select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
         where ($3::uuid is null or exists (select 1 from clients where organization_id = $2 and id = $3
                                             and deleted_at is null))
           and ($4::uuid is null or exists (select 1 from engagements where organization_id = $2 and id = $4))
         returning ",
        columns!()
    ))
    .bind(n.id)
    .bind(org)
    .bind(client)
    .bind(engagement)
    .bind(n.title)
    .bind(n.body)
    .bind(n.note_type)
    .bind(n.is_private)
    .bind(n.remind_at)
    .bind(n.author)
    .fetch_optional(tx.conn())
    .await?;
    let note = note.ok_or(crate::StoreError::NotFound)?;
    Ok(note)
}

/// A note visible to `reader` (their own private notes, and everyone's shared ones).
pub async fn get(tx: &mut TenantTx, id: NoteId, reader: UserId) -> StoreResult<Note> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from notes where organization_id = $1 and id = $2 and deleted_at is null
           and (not is_private or author_id = $3)"
    ))
    .bind(org)
    .bind(id)
    .bind(reader)
    .fetch_one(tx.conn())
    .await?)
}

#[derive(Serialize, Deserialize)]
struct NoteKey(DateTime<Utc>, NoteId);

pub async fn list(
    tx: &mut TenantTx,
    subject: NoteSubject,
    reader: UserId,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<Note>> {
    let org = tx.org_uuid();
    let after: Option<NoteKey> = after.map(cursor::decode).transpose()?;
    let (client, engagement) = match subject {
        NoteSubject::Client(c) => (Some(c), None),
        NoteSubject::Engagement(e) => (None, Some(e)),
    };
    let (t, id) = after.map(|k| (Some(k.0), Some(k.1))).unwrap_or((None, None));
    let rows: Vec<Note> = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from notes where organization_id = $1 and deleted_at is null
           and ($2::uuid is null or client_id = $2) and ($3::uuid is null or engagement_id = $3)
           and (not is_private or author_id = $4)
           and ($5::timestamptz is null or (created_at, id) < ($5, $6))
         order by created_at desc, id desc limit $7"
    ))
    .bind(org)
    .bind(client)
    .bind(engagement)
    .bind(reader)
    .bind(t)
    .bind(id)
    .bind(limit as i64 + 1)
    .fetch_all(tx.conn())
    .await?;
    Ok(Page::from_overfetch(rows, limit, |n| NoteKey(n.created_at, n.id)))
}

pub struct NotePatch<'a> {
    pub title: Option<Option<&'a str>>,
    pub body: Option<&'a str>,
    pub note_type: Option<NoteType>,
    pub remind_at: Option<Option<DateTime<Utc>>>,
}

/// Edits a note; only its author may (else `NotFound`, as for anyone else's private note).
/// Returns the note before and after.
pub async fn update(
    tx: &mut TenantTx,
    id: NoteId,
    author: UserId,
    p: NotePatch<'_>,
) -> StoreResult<Change<Note>> {
    let before = get(tx, id, author).await?;
    if before.author_id != author {
        return Err(crate::StoreError::NotFound);
    }
    let org = tx.org_uuid();
    let note: Note = sqlx::query_as(concat!(
        "update notes set
             title = case when $3 then $4 else title end,
             body = coalesce($5, body),
             note_type = coalesce($6, note_type),
             remind_at = case when $7 then $8 else remind_at end
         where organization_id = $1 and id = $2 returning ",
        columns!()
    ))
    .bind(org)
    .bind(id)
    .bind(p.title.is_some())
    .bind(p.title.flatten())
    .bind(p.body)
    .bind(p.note_type)
    .bind(p.remind_at.is_some())
    .bind(p.remind_at.flatten())
    .fetch_one(tx.conn())
    .await?;
    Ok(Change { before, after: note })
}

/// Soft-deletes a note; only its author may (else `NotFound`). Returns it as it was.
pub async fn delete(tx: &mut TenantTx, id: NoteId, author: UserId) -> StoreResult<Note> {
    let before = get(tx, id, author).await?;
    if before.author_id != author {
        return Err(crate::StoreError::NotFound);
    }
    let org = tx.org_uuid();
    sqlx::query("update notes set deleted_at = now() where organization_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(before)
}
