//! Typed ids. Every id is a UUIDv7 (time-ordered, so b-tree inserts stay at the right edge).

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
            pub const fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }
            pub const fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for uuid::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

id_type!(
    /// A firm: the tenant. Every tenant-owned row carries one.
    OrganizationId
);
id_type!(UserId);
id_type!(MembershipId);
id_type!(SessionId);
id_type!(ApiKeyId);
id_type!(InvitationId);
id_type!(PasswordResetId);
id_type!(AuditEntryId);
id_type!(ClientId);
id_type!(EngagementId);
id_type!(InvoiceId);
id_type!(NoteId);
id_type!(PortalAccessId);
id_type!(AdvisorId);
id_type!(AssessmentId);
id_type!(MatchId);
id_type!(ReviewId);
id_type!(
    /// One upload request's documents.
    DocumentBatchId
);
id_type!(DocumentId);
id_type!(
    /// What a firm learnt of one vendor from corrections (`documents::vendor_memory`).
    VendorMemoryId
);
id_type!(NotificationId);
id_type!(
    /// A workflow template: a firm's own, or one of the system templates (whose ids are fixed,
    /// see `workflow::system`).
    WorkflowTemplateId
);
id_type!(WorkflowRunId);
id_type!(
    /// One step of one run: the task a member works on.
    WorkflowStepId
);
id_type!(
    /// Time a member logged, on a workflow step or an engagement (a running timer, or finished).
    TimeEntryId
);
id_type!(
    /// A client's recurring schedule: a template started at every occurrence of a cron expression.
    WorkflowScheduleId
);
id_type!(
    /// One bulk start of a template for many clients, run as a job with progress.
    WorkflowBulkId
);
id_type!(
    /// An ad-hoc task: work outside any run.
    TaskId
);
id_type!(ChecklistItemId);
id_type!(CommentId);
id_type!(AttachmentId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings_and_are_time_ordered() {
        let a = UserId::new();
        let b = UserId::new();
        assert!(a < b, "v7 ids sort by creation time");
        assert_eq!(a.to_string().parse::<UserId>().unwrap(), a);
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
