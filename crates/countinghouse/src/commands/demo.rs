//! The demo firm: created on first start (idempotently), its sign-ins printed at every start.

use anyhow::Context;
use api_types::clients::{ClientListParams, CreateClientRequest};
use api_types::engagements::CreateEngagementRequest;
use api_types::invoices::{CreateInvoiceRequest, InvoiceLineInput, RecordPaymentRequest};
use chrono::Datelike;
use domain::{BusinessType, ClientId, Email, EngagementType, OrganizationId, Role, UserId};
use identity::Caller;
use identity::{Identity, IdentityError, LoginRequest, RequestMeta, SignupRequest};
use practice::Practice;
use rust_decimal::Decimal;
use std::fmt::Write as _;
use store::sqlx::postgres::PgConnectOptions;
use store::users::NewUser;
use store::{Actor, AuditRecord, TenantTx, organizations, users};
use vault::KeyRing;

pub const DEMO_SLUG: &str = "demo-cpa";
/// A demo password, printed at start; the demo is for a laptop, not the internet.
pub const DEMO_PASSWORD: &str = "demo-password-2026";

/// The demo client whose QuickBooks company is the sandbox's.
const BOOKS_CLIENT: &str = "Blue Fern Landscaping LLC";
/// Records in the sandbox company: a small firm's few years of books; synced in seconds.
const SANDBOX_ENTITIES: usize = 2_000;

const DEMO_USERS: &[(&str, &str, Role)] = &[
    ("owner@demo-cpa.test", "Olivia Owner", Role::Owner),
    ("admin@demo-cpa.test", "Adam Admin", Role::Admin),
    ("manager@demo-cpa.test", "Mona Manager", Role::Manager),
    ("cpa@demo-cpa.test", "Carl Cpa", Role::Cpa),
    ("staff@demo-cpa.test", "Sara Staff", Role::Staff),
];

pub struct DemoCredentials {
    pub organization: OrganizationId,
    pub owner: UserId,
    /// The client whose books the demo connects to the QuickBooks sandbox.
    pub books_client: Option<ClientId>,
    pub users: Vec<(String, Role)>,
    pub invitation_token: String,
    /// Advisors listed in the marketplace.
    pub advisors: i64,
}

pub async fn prepare(
    identity: &Identity,
    practice: &Practice,
    owner_db: &PgConnectOptions,
    keys: &KeyRing,
) -> anyhow::Result<DemoCredentials> {
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
            let id = UserId::new();
            let user = users::create(
                &mut tx,
                NewUser { id, email: &email, name, password_hash: &hash, role: *role },
            )
            .await?;
            tx.audit(AuditRecord::new("user.create", "user", id).after(&user));
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
    let caller = Caller::new(identity.authenticate(&owner.token, &meta).await?, meta.clone());
    loop {
        let open = identity.list_invitations(&caller, true, None, 200).await?;
        for invitation in &open.items {
            identity.revoke_invitation(&caller, invitation.id).await?;
        }
        if open.next_cursor.is_none() {
            break;
        }
    }
    let invite = identity.invite(&caller, "newhire@demo-cpa.test", Some("Nina Newhire"), Role::Staff).await?;
    demo_book(identity, practice, &caller).await?;
    let books_query = ClientListParams { q: Some(BOOKS_CLIENT.to_owned()), ..Default::default() };
    let books_client = practice.list_clients(&caller, &books_query, 1).await?.items.first().map(|c| c.id);
    identity.logout(&caller).await?;
    let advisors = demo_marketplace(identity.db(), owner_db, keys).await?;

    Ok(DemoCredentials {
        organization: org,
        owner: caller.user_id(),
        books_client,
        users: DEMO_USERS.iter().map(|(e, _, r)| ((*e).to_owned(), *r)).collect(),
        invitation_token: invite.token,
        advisors,
    })
}

/// A marketplace to search: the small seed (advisory firms with 300 advisors, their reviews from a
/// few seeded CPA firms), loaded once. Returns how many advisors are listed.
async fn demo_marketplace(
    db: &store::Db,
    owner_db: &PgConnectOptions,
    keys: &KeyRing,
) -> anyhow::Result<i64> {
    if organizations::find_id_by_slug(db, seed::BENCH_SLUG).await?.is_none() {
        seed::seed(owner_db, keys, seed::Scale::Small, false, false).await?;
    }
    // Listings are public (no tenant), readable by the app role.
    Ok(store::sqlx::query_scalar("select count(*) from marketplace_listings").fetch_one(db.pool()).await?)
}

/// A small book of business for the tour: clients with engagements, invoices in every state
/// of the flow, and a portal user. Added once (when the firm has no clients yet).
async fn demo_book(identity: &Identity, practice: &Practice, caller: &Caller) -> anyhow::Result<()> {
    let existing = practice.list_clients(caller, &ClientListParams::default(), 1).await?;
    if !existing.items.is_empty() {
        return Ok(());
    }
    let members = identity.list_members(caller, &Default::default(), None, 50).await?;
    let cpa = members.items.iter().find(|m| m.role == Role::Cpa).map(|m| m.id);
    let book: &[(&str, &str, BusinessType, &str, &str)] = &[
        ("Blue Fern Landscaping LLC", "12-3456789", BusinessType::Llc, "construction", "Ana Okafor"),
        ("Riverside Dental Group", "23-4567890", BusinessType::SCorporation, "dental", "Dr. Maria Reyes"),
        ("Hillcrest Bakery", "26-1234567", BusinessType::SoleProprietorship, "restaurants", "Tom Walsh"),
        ("Northstar Analytics Inc.", "45-7654321", BusinessType::Corporation, "technology", "Priya Singh"),
        ("Harbor Street Partners", "47-1112223", BusinessType::Partnership, "real_estate", "Jonas Larsen"),
        ("Grace Chen", "123-45-6789", BusinessType::Individual, "professional_services", "Grace Chen"),
    ];
    let today = chrono::Utc::now().date_naive();
    for (i, (name, tax_id, business_type, industry, contact)) in book.iter().enumerate() {
        let client = practice
            .create_client(
                caller,
                CreateClientRequest {
                    business_name: (*name).to_owned(),
                    tax_id: Some((*tax_id).to_owned()),
                    business_type: Some(*business_type),
                    industry: Some((*industry).to_owned()),
                    primary_contact_name: Some((*contact).to_owned()),
                    primary_contact_email: Some(format!("books{i}@client.test")),
                    annual_revenue: Some(Decimal::from(150_000 * (i as i64 + 1))),
                    assigned_to: cpa,
                    tags: if i % 2 == 0 { vec!["vip".into()] } else { vec![] },
                    ..Default::default()
                },
            )
            .await?;
        practice
            .create_engagement(
                caller,
                CreateEngagementRequest {
                    client_id: client.id,
                    name: format!("{} tax return", today.year()),
                    engagement_type: EngagementType::TaxPreparation,
                    status: None,
                    priority: None,
                    description: None,
                    start_date: Some(today),
                    due_date: Some(today + chrono::TimeDelta::days(45)),
                    estimated_hours: Some(Decimal::from(12)),
                    hourly_rate: Some(Decimal::from(185)),
                    fixed_fee: None,
                    tax_year: Some(today.year() - 1),
                    assigned_to: cpa,
                },
            )
            .await?;
        let issue = today - chrono::TimeDelta::days(20 * i as i64);
        let invoice = practice
            .create_invoice(
                caller,
                CreateInvoiceRequest {
                    client_id: client.id,
                    engagement_id: None,
                    number: None,
                    title: Some("Professional services".into()),
                    issue_date: Some(issue),
                    due_date: Some(issue + chrono::TimeDelta::days(30)),
                    currency: None,
                    tax_rate: None,
                    discount: None,
                    lines: vec![InvoiceLineInput {
                        description: "Bookkeeping and tax preparation".into(),
                        quantity: Decimal::from(3),
                        unit_price: Decimal::from(450 + 50 * i as i64),
                    }],
                    notes: None,
                    total: None,
                },
            )
            .await?;
        // Leave the first as a draft; send the rest; pay some in full or in part.
        if i > 0 {
            practice.send_invoice(caller, invoice.id).await?;
        }
        if i == 2 || i == 4 {
            let amount = if i == 2 { invoice.total } else { Decimal::from(500) };
            practice
                .record_payment(
                    caller,
                    invoice.id,
                    RecordPaymentRequest {
                        amount,
                        paid_on: None,
                        method: Some("ach".into()),
                        reference: None,
                    },
                )
                .await?;
        }
    }
    Ok(())
}

pub fn print(creds: &DemoCredentials, public_url: &str) {
    let mut out = String::new();
    let _ = writeln!(out);
    let _ = writeln!(out, "  Countinghouse demo is starting: open {public_url} in a browser and sign in");
    let _ = writeln!(out, "  API docs: {public_url}/docs");
    let _ = writeln!(out);
    let _ = writeln!(out, "  Organization: {DEMO_SLUG}    Password for every demo user: {DEMO_PASSWORD}");
    for (email, role) in &creds.users {
        let _ = writeln!(out, "    {role:<10} {email}");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "  Sign in to the API:");
    let _ = writeln!(
        out,
        "    curl -s -X POST {public_url}/v1/sessions -H 'content-type: application/json' \\\n      \
         -d '{{\"organization\":\"{DEMO_SLUG}\",\"email\":\"owner@demo-cpa.test\",\"password\":\"{DEMO_PASSWORD}\"}}'"
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "  A pending invitation (staff, newhire@demo-cpa.test); the invitee opens:");
    let _ = writeln!(out, "    {public_url}/invitations/accept?token={}", creds.invitation_token);
    let _ = writeln!(out);
    let _ = writeln!(out, "  The marketplace lists {} advisors (no sign-in needed):", creds.advisors);
    let _ = writeln!(
        out,
        "    curl -s '{public_url}/v1/marketplace/advisors?q=controller&available_now=true&limit=5'"
    );
    let _ = writeln!(out);
    show(&out);
}

/// Where the demo's mail goes (password-reset links): the outbox, unless `[mail]` names a relay.
pub fn print_mail(mailer: &mailer::Mailer) {
    match mailer.outbox_dir() {
        Some(dir) => {
            println!("  Mail (\"Forgot your password?\" links) is not sent: each one is written to");
            println!("    {}/<id>.eml", dir.display());
        }
        None => println!("  Mail goes to the SMTP relay of [mail] smtp_url."),
    }
    println!();
}

/// Further sandbox companies, for the other clients the demo invites you to connect (a company
/// feeds one client of a firm). The sandbox's consent picks the first one not yet connected.
const SPARE_COMPANIES: &[&str] =
    &["Harbor Point Dental PLLC", "Copperline Logistics Inc", "Maple & Rye Bakery LLC"];

/// The demo's QuickBooks Online: sandbox companies in this process, on a free port; the first is
/// the books client's.
pub async fn start_quickbooks_sandbox() -> anyhow::Result<qbo_sandbox::SandboxHandle> {
    let books = std::iter::once((BOOKS_CLIENT, SANDBOX_ENTITIES));
    let spares = SPARE_COMPANIES.iter().map(|name| (*name, SANDBOX_ENTITIES / 4));
    let companies = books
        .chain(spares)
        .zip(1u64..)
        .map(|((name, entities), n)| qbo_sandbox::CompanySpec {
            realm_id: format!("91303500000000{n:02}"),
            name: format!("{name} (QuickBooks sandbox)"),
            entities,
            seed: n,
            as_of: None,
        })
        .collect();
    let config = qbo_sandbox::SandboxConfig { companies, ..Default::default() };
    qbo_sandbox::Sandbox::start(config).await.context("starting the QuickBooks sandbox")
}

/// Connects the demo's books client to the sandbox company as its owner would; the first full
/// sync is queued with the connection. A connection left by an earlier start (whose sandbox, and
/// so whose tokens, are gone) is disconnected first. Returns the realm id.
pub async fn connect_quickbooks(
    qb: &qbo_sync::QuickBooks,
    creds: &DemoCredentials,
    client: ClientId,
) -> anyhow::Result<String> {
    use qbo_sync::connections;
    let mut tx = TenantTx::begin(qb.db(), creds.organization, Actor::user(creds.owner)).await?;
    if connections::for_client(&mut tx, client)
        .await?
        .is_some_and(|c| c.status == domain::ConnectionStatus::Connected)
    {
        qbo_sync::connect::disconnect(qb, &mut tx, client).await?;
        tx.commit().await?;
    }
    let connection = super::qbo_sandbox::connect(qb, creds.organization, creds.owner, client).await?;
    Ok(connection.realm_id)
}

pub fn print_quickbooks(public_url: &str, client: ClientId, realm: &str) {
    let mut out = String::new();
    let _ =
        writeln!(out, "  QuickBooks: {BOOKS_CLIENT} is connected to a local sandbox company (realm {realm},");
    let _ = writeln!(
        out,
        "  {SANDBOX_ENTITIES} records); its first full sync is running. With the owner's token:"
    );
    let _ = writeln!(
        out,
        "    curl -s {public_url}/v1/clients/{client}/quickbooks/sync-runs -H \"authorization: Bearer $TOKEN\""
    );
    let _ = writeln!(
        out,
        "    curl -s {public_url}/v1/clients/{client}/quickbooks/summary -H \"authorization: Bearer $TOKEN\""
    );
    let _ =
        writeln!(out, "  Connect another client: POST /v1/clients/{{id}}/quickbooks/connect, then open its");
    let _ = writeln!(
        out,
        "  authorization_url: the sandbox consents at once with the next of its {} other companies",
        SPARE_COMPANIES.len()
    );
    let _ = writeln!(
        out,
        "  not connected yet (or the one named by an added &realm_id=) and returns to the callback."
    );
    let _ = writeln!(
        out,
        "  A company feeds one client: connecting one already connected to another client is refused."
    );
    let _ = writeln!(out);
    show(&out);
}

/// Writes the demo's instructions to stdout. A terminal that went away (a closed pipe) must not
/// stop the demo, so a failed write is ignored rather than panicking as `println!` would.
fn show(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}
