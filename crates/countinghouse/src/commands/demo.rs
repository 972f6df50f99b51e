//! The demo firm: created on first start (idempotently), its sign-ins printed at every start.

use domain::{Email, Role, UserId};
use identity::{Identity, IdentityError, LoginRequest, RequestMeta, SignupRequest};
use store::users::NewUser;
use store::{Actor, TenantTx, organizations, users};

pub const DEMO_SLUG: &str = "demo-cpa";
/// A demo password, printed at start; the demo is for a laptop, not the internet.
pub const DEMO_PASSWORD: &str = "demo-password-2026";

const DEMO_USERS: &[(&str, &str, Role)] = &[
    ("owner@demo-cpa.test", "Olivia Owner", Role::Owner),
    ("admin@demo-cpa.test", "Adam Admin", Role::Admin),
    ("manager@demo-cpa.test", "Mona Manager", Role::Manager),
    ("cpa@demo-cpa.test", "Carl Cpa", Role::Cpa),
    ("staff@demo-cpa.test", "Sara Staff", Role::Staff),
];

pub struct DemoCredentials {
    pub users: Vec<(String, Role)>,
    pub invitation_url: String,
}

pub async fn prepare(identity: &Identity, public_url: &str) -> anyhow::Result<DemoCredentials> {
    let meta = RequestMeta::default();
    let (owner_email, owner_name, _) = DEMO_USERS[0];
    match identity
        .signup(
            SignupRequest {
                organization_name: "Demo CPA LLP".to_owned(),
                slug: DEMO_SLUG.to_owned(),
                name: owner_name.to_owned(),
                email: owner_email.to_owned(),
                password: DEMO_PASSWORD.to_owned(),
            },
            &meta,
        )
        .await
    {
        Ok(_) | Err(IdentityError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let org = organizations::find_id_by_slug(identity.db(), DEMO_SLUG)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo organization missing after signup"))?;

    let hash = identity.hasher().hash(DEMO_PASSWORD).await;
    let mut tx = TenantTx::begin(identity.db(), org, Actor::system()).await?;
    for (email, name, role) in &DEMO_USERS[1..] {
        let email = Email::parse(email)?;
        if users::find_for_login(&mut tx, &email).await?.is_none() {
            users::create(
                &mut tx,
                NewUser { id: UserId::new(), email: &email, name, password_hash: &hash, role: *role },
            )
            .await?;
        }
    }
    tx.commit().await?;

    // A fresh invitation link each start (tokens are stored hashed, so old links cannot be shown).
    let owner = identity
        .login(
            LoginRequest {
                organization: DEMO_SLUG.to_owned(),
                email: owner_email.to_owned(),
                password: DEMO_PASSWORD.to_owned(),
                mfa_code: None,
            },
            &meta,
        )
        .await?;
    let ctx = identity.authenticate(&owner.token, &meta).await?;
    for open in identity.list_invitations(&ctx, true, &meta).await? {
        identity.revoke_invitation(&ctx, open.id, &meta).await?;
    }
    let invite =
        identity.invite(&ctx, "newhire@demo-cpa.test", Some("Nina Newhire"), Role::Staff, &meta).await?;
    identity.logout(&ctx, &meta).await?;

    Ok(DemoCredentials {
        users: DEMO_USERS.iter().map(|(e, _, r)| ((*e).to_owned(), *r)).collect(),
        invitation_url: format!(
            "{}/accept-invitation?token={}",
            public_url.trim_end_matches('/'),
            invite.token
        ),
    })
}

pub fn print(creds: &DemoCredentials, public_url: &str) {
    println!();
    println!("  Countinghouse demo is starting on {public_url}");
    println!("  API docs: {public_url}/docs");
    println!();
    println!("  Organization: {DEMO_SLUG}    Password for every demo user: {DEMO_PASSWORD}");
    for (email, role) in &creds.users {
        println!("    {role:<10} {email}");
    }
    println!();
    println!("  Sign in:");
    println!(
        "    curl -s -X POST {public_url}/v1/sessions -H 'content-type: application/json' \\\n      \
         -d '{{\"organization\":\"{DEMO_SLUG}\",\"email\":\"owner@demo-cpa.test\",\"password\":\"{DEMO_PASSWORD}\"}}'"
    );
    println!();
    println!(
        "  A pending invitation (staff, newhire@demo-cpa.test); accept it with POST /v1/invitations/accept:"
    );
    println!("    {}", creds.invitation_url);
    println!();
}
