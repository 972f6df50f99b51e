//! The advisor marketplace, a module per aggregate:
//! - `profiles`: the advisor organization's profiles (row-level security) and their lifecycle;
//! - `listing`: the public listing and its search (public by design, no tenant needed to read);
//! - `reviews`: reviews written by the client organization of an accepted match;
//! - `assessments`: needs assessments and matches (the client organization's; a match is also
//!   its advisor's).
//!
//! Their items are re-exported here, so callers name `store::marketplace::…`.

mod assessments;
mod listing;
mod profiles;
mod reviews;

pub use assessments::*;
pub use listing::*;
pub use profiles::*;
pub use reviews::*;
