//! The signed-in user's notifications: read, mark read. Any member may; each sees only their own
//! (the recipient is always the caller, never a parameter).

use api_types::Page;
use api_types::notifications::NotificationResponse;
use domain::NotificationId;
use identity::Caller;
use store::AuditRecord;
use store::notifications::{self, Notification};

use crate::error::NotFoundAs;
use crate::{Practice, PracticeResult};

fn response(n: Notification) -> NotificationResponse {
    NotificationResponse {
        id: n.id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        payload: n.payload,
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

impl Practice {
    /// The caller's notifications, newest first (`unread_only`: those not read yet).
    pub async fn list_notifications(
        &self,
        caller: &Caller,
        unread_only: bool,
        cursor: Option<&str>,
        limit: usize,
    ) -> PracticeResult<Page<NotificationResponse>> {
        let mut tx = self.tx(caller).await?;
        let page = notifications::list(&mut tx, caller.user_id(), unread_only, cursor, limit).await?;
        tx.commit().await?;
        Ok(Page { items: page.items.into_iter().map(response).collect(), next_cursor: page.next_cursor })
    }

    pub async fn mark_notification_read(
        &self,
        caller: &Caller,
        id: NotificationId,
    ) -> PracticeResult<NotificationResponse> {
        let mut tx = self.tx(caller).await?;
        let n = notifications::mark_read(&mut tx, caller.user_id(), id).await.or_not_found("notification")?;
        tx.audit(AuditRecord::new("notification.read", "notification", id));
        tx.commit().await?;
        Ok(response(n))
    }

    /// Marks all the caller's unread notifications read; returns how many.
    pub async fn mark_all_notifications_read(&self, caller: &Caller) -> PracticeResult<u64> {
        let mut tx = self.tx(caller).await?;
        let marked = notifications::mark_all_read(&mut tx, caller.user_id()).await?;
        if marked > 0 {
            tx.audit(
                AuditRecord::new("notification.read_all", "user", caller.user_id())
                    .after(serde_json::json!({ "marked": marked })),
            );
        }
        tx.commit().await?;
        Ok(marked)
    }
}
