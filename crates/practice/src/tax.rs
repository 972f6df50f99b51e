//! How a client's tax id is kept: sealed (AES-256-GCM, bound to organization and client), a
//! blind index for exact-match search, and the last four digits for display. Shared with the
//! seed loader so seeded rows are indistinguishable from created ones.

use domain::{ClientId, OrganizationId, TaxId, TaxIdKind};
use store::clients::SealedTaxId;
use vault::KeyRing;

/// Associated data binding a sealed tax id to its organization and client.
pub fn aad(org: OrganizationId, client: ClientId) -> String {
    format!("tax_id:{org}:{client}")
}

/// The blind index. EINs and SSNs are separate number spaces: the same nine digits as each are
/// different ids.
pub fn index(keys: &KeyRing, org: OrganizationId, tax_id: &TaxId) -> [u8; 32] {
    let kind = match tax_id.kind() {
        TaxIdKind::Ein => "ein",
        TaxIdKind::Ssn => "ssn",
    };
    keys.blind_index(&format!("tax_id:{org}"), format!("{kind}:{}", tax_id.digits()).as_bytes())
}

pub fn seal(keys: &KeyRing, org: OrganizationId, client: ClientId, tax_id: &TaxId) -> SealedTaxId {
    SealedTaxId {
        kind: tax_id.kind(),
        sealed: keys.seal(tax_id.digits().as_bytes(), aad(org, client).as_bytes()),
        index: index(keys, org, tax_id).to_vec(),
        last4: tax_id.last4().to_owned(),
    }
}
