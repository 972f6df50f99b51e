//! Notes on clients and engagements: internal to the firm (portal users never see them).

use api_types::Page;
use api_types::engagements::{CreateNoteRequest, NoteResponse, UpdateNoteRequest};
use domain::{NoteId, NoteType, Permission};
use identity::Caller;
use store::AuditRecord;
pub use store::notes::NoteSubject;
use store::notes::{self, NewNote, Note, NotePatch};

use crate::error::NotFoundAs;
use crate::{Practice, PracticeError, PracticeResult};
use domain::validate::Problems;

fn response(n: Note) -> NoteResponse {
    NoteResponse {
        id: n.id,
        client_id: n.client_id,
        engagement_id: n.engagement_id,
        title: n.title,
        body: n.body,
        note_type: n.note_type,
        is_private: n.is_private,
        remind_at: n.remind_at,
        author_id: n.author_id,
        created_at: n.created_at,
        updated_at: n.updated_at,
    }
}

fn staff_only(caller: &Caller) -> PracticeResult<()> {
    caller.require(Permission::ClientsRead)?;
    if !caller.role.is_staff() {
        return Err(PracticeError::Forbidden(Permission::ClientsUpdate));
    }
    Ok(())
}

impl Practice {
    pub async fn create_note(
        &self,
        caller: &Caller,
        subject: NoteSubject,
        req: CreateNoteRequest,
    ) -> PracticeResult<NoteResponse> {
        staff_only(caller)?;
        let mut p = Problems::default();
        let title = p.text("title", req.title.as_deref(), 300);
        let body = p.required("body", &req.body, 20_000);
        p.into_result()?;
        let mut tx = self.tx(caller).await?;
        let note = notes::create(
            &mut tx,
            NewNote {
                id: NoteId::new(),
                subject,
                title: title.as_deref(),
                body: &body,
                note_type: req.note_type.unwrap_or(NoteType::General),
                is_private: req.is_private,
                remind_at: req.remind_at,
                author: caller.user_id(),
            },
        )
        .await
        .or_not_found(match subject {
            NoteSubject::Client(_) => "client",
            NoteSubject::Engagement(_) => "engagement",
        })?;
        tx.audit(AuditRecord::new("note.create", "note", note.id).after(&note));
        tx.commit().await?;
        Ok(response(note))
    }

    pub async fn list_notes(
        &self,
        caller: &Caller,
        subject: NoteSubject,
        cursor: Option<&str>,
        limit: usize,
    ) -> PracticeResult<Page<NoteResponse>> {
        staff_only(caller)?;
        let mut tx = self.tx(caller).await?;
        let exists = match subject {
            NoteSubject::Client(c) => store::clients::existing(&mut tx, &[c]).await?.len() == 1,
            NoteSubject::Engagement(e) => {
                store::engagements::get(&mut tx, e, &domain::ClientScope::All).await.is_ok()
            }
        };
        if !exists {
            return Err(PracticeError::NotFound(match subject {
                NoteSubject::Client(_) => "client",
                NoteSubject::Engagement(_) => "engagement",
            }));
        }
        let page = notes::list(&mut tx, subject, caller.user_id(), cursor, limit).await?;
        tx.commit().await?;
        Ok(Page { items: page.items.into_iter().map(response).collect(), next_cursor: page.next_cursor })
    }

    /// Edits a note; only its author may.
    pub async fn update_note(
        &self,
        caller: &Caller,
        id: NoteId,
        req: UpdateNoteRequest,
    ) -> PracticeResult<NoteResponse> {
        staff_only(caller)?;
        let mut p = Problems::default();
        let title = req.title.as_ref().map(|t| p.text("title", t.as_deref(), 300));
        let body = req.body.as_deref().map(|b| p.required("body", b, 20_000));
        p.into_result()?;
        let mut tx = self.tx(caller).await?;
        let change = notes::update(
            &mut tx,
            id,
            caller.user_id(),
            NotePatch {
                title: title.as_ref().map(|t| t.as_deref()),
                body: body.as_deref(),
                note_type: req.note_type,
                remind_at: req.remind_at,
            },
        )
        .await
        .or_not_found("note")?;
        tx.audit(AuditRecord::new("note.update", "note", id).before(&change.before).after(&change.after));
        tx.commit().await?;
        Ok(response(change.after))
    }

    pub async fn delete_note(&self, caller: &Caller, id: NoteId) -> PracticeResult<()> {
        staff_only(caller)?;
        let mut tx = self.tx(caller).await?;
        let before = notes::delete(&mut tx, id, caller.user_id()).await.or_not_found("note")?;
        tx.audit(AuditRecord::new("note.delete", "note", id).before(&before));
        tx.commit().await?;
        Ok(())
    }
}
