//! The vocabulary of a firm's everyday work: clients, engagements, notes, portal access, upload
//! batches and notifications.

use std::fmt;
use std::str::FromStr;

/// Declares a closed set of text values: serde, sqlx (as text), OpenAPI, `as_str`, parsing.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "text"))]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            // Each variant's text is its name in JSON and in the database (not always its name in
            // snake case: `1099_nec`).
            $($(#[$vmeta])* #[serde(rename = $text)] #[cfg_attr(feature = "sqlx", sqlx(rename = $text))] $variant),*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
                $name::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("`{s}` is not one of {}", names.join(", "))
                })
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// Where a client stands with the firm. `archived` keeps the record out of working lists.
    ClientStatus { Prospect = "prospect", Active = "active", Inactive = "inactive", Archived = "archived" }
);

text_enum!(BusinessType {
    Individual = "individual",
    SoleProprietorship = "sole_proprietorship",
    Llc = "llc",
    Partnership = "partnership",
    Corporation = "corporation",
    SCorporation = "s_corporation",
    Nonprofit = "nonprofit",
    Trust = "trust",
});

text_enum!(RiskLevel { Low = "low", Medium = "medium", High = "high" });

text_enum!(EngagementType {
    TaxPreparation = "tax_preparation",
    Bookkeeping = "bookkeeping",
    Advisory = "advisory",
    CfoServices = "cfo_services",
    Audit = "audit",
    Review = "review",
});

text_enum!(EngagementStatus {
    Planning = "planning",
    InProgress = "in_progress",
    Review = "review",
    Completed = "completed",
    OnHold = "on_hold",
    Cancelled = "cancelled",
});

text_enum!(Priority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" });

text_enum!(NoteType { General = "general", Meeting = "meeting", Reminder = "reminder", FollowUp = "follow_up" });

text_enum!(
    /// How a batch of documents was uploaded: files in one request, or the entries of a zip.
    BatchSource { Files = "files", Zip = "zip" }
);

text_enum!(
    /// What a notification tells its recipient.
    NotificationKind {
        DocumentBatchFinished = "document_batch_finished",
        WorkflowStepAssigned = "workflow_step_assigned",
        TaskAssigned = "task_assigned",
        WorkItemMentioned = "work_item_mentioned",
        WorkflowStepDueSoon = "workflow_step_due_soon",
        WorkflowStepOverdue = "workflow_step_overdue",
        WorkflowRunStuck = "workflow_run_stuck",
        WorkflowStepOverEstimate = "workflow_step_over_estimate",
    }
);

text_enum!(
    /// How much of a client a portal user may do.
    AccessLevel { View = "view", Edit = "edit", Admin = "admin" }
);

/// Which clients a caller may reach: all of the organization's (staff), or only those a portal
/// user was granted. Every client-scoped query takes one, so a portal user's reach cannot be
/// forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientScope {
    All,
    Only(Vec<crate::ClientId>),
}

impl ClientScope {
    /// The ids to filter by, `None` for no restriction (bound as `$n::uuid[]`, null = all).
    pub fn ids(&self) -> Option<Vec<uuid::Uuid>> {
        match self {
            ClientScope::All => None,
            ClientScope::Only(ids) => Some(ids.iter().map(|c| c.as_uuid()).collect()),
        }
    }

    pub fn allows(&self, client: crate::ClientId) -> bool {
        match self {
            ClientScope::All => true,
            ClientScope::Only(ids) => ids.contains(&client),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_leniently_and_print_canonically() {
        assert_eq!("S Corporation".parse::<BusinessType>().unwrap(), BusinessType::SCorporation);
        assert_eq!("in-progress".parse::<EngagementStatus>().unwrap(), EngagementStatus::InProgress);
        assert!("maybe".parse::<RiskLevel>().unwrap_err().contains("low, medium, high"));
        assert_eq!(ClientStatus::Archived.to_string(), "archived");
    }

    #[test]
    fn scope_restricts_portal_users() {
        let a = crate::ClientId::new();
        let b = crate::ClientId::new();
        assert!(ClientScope::All.allows(a));
        assert!(ClientScope::Only(vec![a]).allows(a));
        assert!(!ClientScope::Only(vec![a]).allows(b));
        assert_eq!(ClientScope::All.ids(), None);
    }
}
