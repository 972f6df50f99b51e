//! The permission catalogue and the default grant of each role.
//!
//! The catalogue is the one in `reference/advisoros.md` (Tenancy & security), plus the few a later
//! capability needs (each marked). `countinghouse migrate` writes this catalogue and the grants to the
//! `permissions` and `role_permissions` tables, so SQL and reports see the same truth as the code.

use std::fmt;
use std::str::FromStr;

use crate::role::Role;

macro_rules! permissions {
    ($($variant:ident = $name:literal : $desc:literal,)*) => {
        /// One permission of the catalogue, named `resource:action` on the wire.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Permission { $($variant,)* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            pub const fn description(self) -> &'static str {
                match self { $(Permission::$variant => $desc,)* }
            }
        }
    };
}

permissions! {
    UsersCreate = "users:create": "Create members directly",
    UsersRead = "users:read": "List members and read their profiles",
    UsersUpdate = "users:update": "Change a member's role or status",
    UsersDelete = "users:delete": "Remove members",
    UsersInvite = "users:invite": "Invite staff and client users",
    ClientsCreate = "clients:create": "Create clients",
    ClientsRead = "clients:read": "Read clients",
    ClientsUpdate = "clients:update": "Update clients",
    ClientsDelete = "clients:delete": "Delete clients",
    ClientsExport = "clients:export": "Export clients to CSV",
    // Added: full tax ids are shown only with this; everyone else sees the last four digits.
    ClientsTaxId = "clients:tax_id": "See clients' full tax ids (EIN/SSN)",
    // Added: engagements are not in the reference catalogue, which had no engagement API at all.
    EngagementsCreate = "engagements:create": "Create engagements",
    EngagementsRead = "engagements:read": "Read engagements",
    EngagementsUpdate = "engagements:update": "Update engagements: status, hours, assignee",
    EngagementsDelete = "engagements:delete": "Delete engagements",
    DocumentsCreate = "documents:create": "Upload documents",
    DocumentsRead = "documents:read": "Read documents and their extracted data",
    DocumentsUpdate = "documents:update": "Correct, review and re-process documents",
    DocumentsDelete = "documents:delete": "Delete documents",
    DocumentsDownload = "documents:download": "Download original files",
    DocumentsShare = "documents:share": "Share documents outside the firm",
    FinancialCreate = "financial:create": "Create financial records",
    FinancialRead = "financial:read": "Read financial data (books, tax ids, W-2 SSNs)",
    FinancialUpdate = "financial:update": "Update financial records",
    FinancialDelete = "financial:delete": "Delete financial records",
    FinancialExport = "financial:export": "Export financial data",
    BillingCreate = "billing:create": "Create invoices",
    BillingRead = "billing:read": "Read invoices and AR",
    BillingUpdate = "billing:update": "Update and send invoices",
    BillingDelete = "billing:delete": "Delete invoices",
    ReportsCreate = "reports:create": "Create reports",
    ReportsRead = "reports:read": "Read reports and dashboards",
    ReportsUpdate = "reports:update": "Update reports",
    ReportsDelete = "reports:delete": "Delete reports",
    ReportsExport = "reports:export": "Export reports",
    ReportsSchedule = "reports:schedule": "Schedule recurring reports",
    WorkflowsCreate = "workflows:create": "Create workflow templates and runs",
    WorkflowsRead = "workflows:read": "Read workflows and tasks",
    WorkflowsUpdate = "workflows:update": "Update workflows and tasks",
    WorkflowsDelete = "workflows:delete": "Delete workflows",
    WorkflowsExecute = "workflows:execute": "Start, pause and resume workflow runs",
    SystemAdmin = "system:admin": "Operate the platform: jobs, caches, health",
    SystemAudit = "system:audit": "Read the audit log",
    SystemSettings = "system:settings": "Change organization settings (MFA policy, limits)",
    ApiAccess = "api:access": "Use the API with an API key",
    ApiKeys = "api:keys": "Create and revoke API keys",
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown permission `{0}`")]
pub struct UnknownPermission(pub String);

impl FromStr for Permission {
    type Err = UnknownPermission;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPermission(s.to_owned()))
    }
}

impl serde::Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// As the names of its permissions (not the bits, whose order is an implementation detail), so a set
/// stored by one build (say, in a shared cache) reads the same in another.
impl serde::Serialize for PermissionSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> serde::Deserialize<'de> for PermissionSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Permission>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Permission {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Permission::ALL.iter().map(|p| p.as_str())))
            .description(Some("A permission of the catalogue, `resource:action`"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Permission {}

/// A set of permissions as a bitset: checking one is a single AND on the request path.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u64);

const _: () = assert!(Permission::ALL.len() <= 64, "PermissionSet is a u64");

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub const fn all() -> Self {
        let mut bits = 0u64;
        let mut i = 0;
        while i < Permission::ALL.len() {
            bits |= 1 << (Permission::ALL[i] as u8);
            i += 1;
        }
        PermissionSet(bits)
    }

    pub const fn of(perms: &[Permission]) -> Self {
        let mut bits = 0u64;
        let mut i = 0;
        while i < perms.len() {
            bits |= 1 << (perms[i] as u8);
            i += 1;
        }
        PermissionSet(bits)
    }

    pub const fn contains(self, p: Permission) -> bool {
        self.0 & (1 << (p as u8)) != 0
    }

    pub const fn with(self, p: Permission) -> Self {
        PermissionSet(self.0 | (1 << (p as u8)))
    }

    pub const fn without(self, p: Permission) -> Self {
        PermissionSet(self.0 & !(1 << (p as u8)))
    }

    pub const fn intersect(self, other: Self) -> Self {
        PermissionSet(self.0 & other.0)
    }

    pub const fn is_subset_of(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.iter().copied().filter(move |p| self.contains(*p))
    }

    /// The default grant of a role (`reference/advisoros.md`, "Default role grants").
    pub const fn for_role(role: Role) -> Self {
        use Permission::*;
        match role {
            Role::Owner => PermissionSet::all(),
            Role::Admin => PermissionSet::all()
                .without(UsersDelete)
                .without(SystemAdmin)
                .without(SystemSettings)
                .without(ApiKeys),
            Role::Manager => PermissionSet::of(&[
                UsersRead,
                ClientsCreate,
                ClientsRead,
                ClientsUpdate,
                ClientsExport,
                ClientsTaxId,
                EngagementsCreate,
                EngagementsRead,
                EngagementsUpdate,
                DocumentsCreate,
                DocumentsRead,
                DocumentsUpdate,
                DocumentsDownload,
                DocumentsShare,
                FinancialRead,
                FinancialUpdate,
                BillingCreate,
                BillingRead,
                BillingUpdate,
                ReportsCreate,
                ReportsRead,
                ReportsUpdate,
                ReportsExport,
                ReportsSchedule,
                WorkflowsRead,
                WorkflowsExecute,
                ApiAccess,
            ]),
            Role::SeniorCpa => PermissionSet::of(&[
                ClientsRead,
                ClientsUpdate,
                ClientsTaxId,
                EngagementsCreate,
                EngagementsRead,
                EngagementsUpdate,
                DocumentsCreate,
                DocumentsRead,
                DocumentsUpdate,
                DocumentsDownload,
                FinancialRead,
                FinancialUpdate,
                BillingRead,
                BillingUpdate,
                ReportsCreate,
                ReportsRead,
                ReportsExport,
                WorkflowsRead,
                WorkflowsExecute,
            ]),
            Role::Cpa => PermissionSet::of(&[
                ClientsRead,
                EngagementsRead,
                EngagementsUpdate,
                DocumentsCreate,
                DocumentsRead,
                DocumentsDownload,
                FinancialRead,
                BillingRead,
                ReportsRead,
                WorkflowsRead,
                ApiAccess,
            ]),
            Role::Staff => PermissionSet::of(&[
                ClientsRead,
                EngagementsRead,
                EngagementsUpdate,
                DocumentsCreate,
                DocumentsRead,
                DocumentsDownload,
                FinancialRead,
                ReportsRead,
                WorkflowsRead,
            ]),
            Role::Intern => PermissionSet::of(&[DocumentsRead, ReportsRead, EngagementsRead]),
            // Portal users: always narrowed to their own client by the portal-access grant.
            Role::Client => PermissionSet::of(&[
                ClientsRead,
                EngagementsRead,
                DocumentsCreate,
                DocumentsRead,
                DocumentsDownload,
                BillingRead,
                ReportsRead,
            ]),
        }
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(|p| p.as_str())).finish()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        iter.into_iter().fold(PermissionSet::EMPTY, PermissionSet::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_serializes_as_names_and_reads_back() {
        let set = PermissionSet::for_role(Role::Staff);
        let json = serde_json::to_value(set).unwrap();
        assert!(json.as_array().unwrap().iter().all(|p| p.as_str().is_some_and(|n| n.contains(':'))));
        assert_eq!(serde_json::from_value::<PermissionSet>(json).unwrap(), set);
        assert!(serde_json::from_str::<PermissionSet>(r#"["clients:fly"]"#).is_err());
    }

    #[test]
    fn catalogue_names_are_unique_and_parse_back() {
        let mut names: Vec<_> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Permission::ALL.len());
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>().unwrap(), *p);
        }
    }

    #[test]
    fn grants_match_the_reference_table() {
        let admin = PermissionSet::for_role(Role::Admin);
        assert!(admin.contains(Permission::SystemAudit));
        assert!(!admin.contains(Permission::UsersDelete));
        assert!(!admin.contains(Permission::ApiKeys));
        let intern = PermissionSet::for_role(Role::Intern);
        assert_eq!(intern.iter().count(), 3);
        assert!(!PermissionSet::for_role(Role::Staff).contains(Permission::ClientsUpdate));
        assert!(PermissionSet::for_role(Role::Cpa).contains(Permission::ApiAccess));
    }

    #[test]
    fn every_role_grant_is_within_the_owner_grant() {
        let owner = PermissionSet::for_role(Role::Owner);
        for role in Role::ALL {
            assert!(PermissionSet::for_role(role).is_subset_of(owner));
        }
    }
}
