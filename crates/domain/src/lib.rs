//! Countinghouse's domain: the types and rules every other crate shares, with no I/O.
//!
//! # Layout
//! - [`ids`]: newtype ids (UUIDv7) so an organization id can never be passed where a user id is meant.
//! - [`role`] and [`permission`]: the role catalogue, the permission catalogue and the default grants.
//! - [`email`], [`slug`], [`password`]: parsed values (parse, don't validate).
//! - [`audit`]: the tamper-evident hash chain of the audit log.

pub mod audit;
pub mod email;
pub mod ids;
pub mod password;
pub mod permission;
pub mod role;
pub mod slug;
pub mod user;

pub use email::Email;
pub use ids::*;
pub use permission::{Permission, PermissionSet};
pub use role::Role;
pub use slug::OrgSlug;
pub use user::UserStatus;
