//! Roles a member holds in a firm, and what follows from a role alone.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A member's role in an organization. Ordered from most to least authority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "text", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    Owner,
    Admin,
    Manager,
    SeniorCpa,
    Cpa,
    Staff,
    Intern,
    /// A user of a client business, reaching the firm through the portal.
    Client,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Owner,
        Role::Admin,
        Role::Manager,
        Role::SeniorCpa,
        Role::Cpa,
        Role::Staff,
        Role::Intern,
        Role::Client,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::SeniorCpa => "senior_cpa",
            Role::Cpa => "cpa",
            Role::Staff => "staff",
            Role::Intern => "intern",
            Role::Client => "client",
        }
    }

    /// Authority rank: a member may only hand out roles at or below their own.
    pub const fn rank(self) -> u8 {
        match self {
            Role::Owner => 7,
            Role::Admin => 6,
            Role::Manager => 5,
            Role::SeniorCpa => 4,
            Role::Cpa => 3,
            Role::Staff => 2,
            Role::Intern => 1,
            Role::Client => 0,
        }
    }

    pub const fn is_staff(self) -> bool {
        !matches!(self, Role::Client)
    }

    /// Whether a member with this role may grant `other` (invite or promote to it).
    pub fn may_grant(self, other: Role) -> bool {
        self.rank() >= other.rank() && matches!(self, Role::Owner | Role::Admin)
    }

    /// Idle timeout of a session: the more a role can do, the longer a workday it covers;
    /// portal users, on shared and home machines, get the shortest.
    pub const fn session_timeout(self) -> Duration {
        const MIN: u64 = 60;
        Duration::from_secs(match self {
            Role::Client => 15 * MIN,
            Role::Intern | Role::Staff => 60 * MIN,
            Role::Cpa | Role::SeniorCpa => 4 * 60 * MIN,
            Role::Manager | Role::Admin => 8 * 60 * MIN,
            Role::Owner => 24 * 60 * MIN,
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role `{0}`; expected one of owner, admin, manager, senior_cpa, cpa, staff, intern, client")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("superuser".parse::<Role>().is_err());
    }

    #[test]
    fn only_owners_and_admins_grant_and_never_above_themselves() {
        assert!(Role::Owner.may_grant(Role::Owner));
        assert!(Role::Admin.may_grant(Role::Staff));
        assert!(!Role::Admin.may_grant(Role::Owner));
        assert!(!Role::Manager.may_grant(Role::Intern));
    }

    #[test]
    fn session_timeouts_follow_the_reference() {
        assert_eq!(Role::Client.session_timeout().as_secs(), 15 * 60);
        assert_eq!(Role::Staff.session_timeout().as_secs(), 3600);
        assert_eq!(Role::Cpa.session_timeout().as_secs(), 4 * 3600);
        assert_eq!(Role::Admin.session_timeout().as_secs(), 8 * 3600);
        assert_eq!(Role::Owner.session_timeout().as_secs(), 24 * 3600);
    }
}
