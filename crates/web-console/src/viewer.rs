//! Who is looking at a page: what the layout and every page need of the signed-in person. The
//! extractors that produce it live in `session`.

use identity::Caller;
use store::organizations::Organization;
use store::users::Member;

/// The form field (or `X-CSRF-Token` header) carrying the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// A signed-in person using the console: the caller every use case takes, who they are, their firm,
/// and the CSRF token their forms carry.
pub struct Viewer {
    pub caller: Caller,
    pub user: Member,
    pub organization: Organization,
    pub csrf: String,
}

/// A signed-in person who may still have to set up MFA (only the profile page takes this).
pub struct PendingViewer(pub Viewer);
