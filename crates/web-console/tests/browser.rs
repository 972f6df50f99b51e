//! The console in a real browser: headless Chromium (Debian's package) driven by playwright-core
//! (`tests/browser/run.mjs`) against the real app on a random port, with seeded data and a document
//! pipeline and QuickBooks sync worker, and a QuickBooks sandbox (crate `qbo-sandbox`) standing in
//! for Intuit. The script signs in, visits every screen, uploads a document and reviews it,
//! imports a CSV with a bad row, searches the marketplace, connects a client's QuickBooks company
//! through the sandbox's consent and watches its syncs finish, checks what each role may not see
//! or do, refuses a form without its CSRF token, and runs axe-core on every screen.
//!
//! With `CONSOLE_SCREENSHOTS=dir`, it also saves the main screens in light and dark there
//! (`docs/console/` holds the committed ones).

use std::path::{Path, PathBuf};
use std::time::Duration;

use documents::jobs::PipelineDeps;
use domain::Role;
use qbo_sandbox::{CompanySpec, Sandbox, SandboxConfig};
use qbo_sync::{QuickBooks, QuickBooksConfig};
use serde_json::json;
use testkit::{PASSWORD, PLATFORM_SLUG, TestApp, TestConfig};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> PathBuf {
    let path =
        std::env::var_os("CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "no Chromium at {} (scripts/deps.sh installs Debian's `chromium`)",
        path.display()
    );
    path
}

/// `npm ci` of the pinned playwright-core and axe-core, once per checkout.
async fn node_modules() {
    let dir = browser_dir();
    if dir.join("node_modules/playwright-core/package.json").exists()
        && dir.join("node_modules/axe-core/axe.min.js").exists()
    {
        return;
    }
    let status = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .current_dir(&dir)
        .status()
        .await
        .expect("npm runs (scripts/deps.sh installs it)");
    assert!(status.success(), "npm ci failed in {}", dir.display());
}

/// The QuickBooks side against `sandbox`: small pages and short pauses (as the API's tests), and
/// the browser sent back to the console after the callback.
fn quickbooks_config(sandbox: &qbo_sandbox::SandboxHandle) -> QuickBooksConfig {
    QuickBooksConfig {
        page_size: 200,
        throttle_pause_ms: 300,
        server_error_backoff_ms: 20,
        after_connect_url: Some(web_console::AFTER_CONNECT_PATH.to_owned()),
        // The app's address is not known yet: `TestApp` sets the callback's.
        ..QuickBooksConfig::for_sandbox(sandbox.base_url(), String::new())
    }
}

fn worker(app: &TestApp, qb: QuickBooks) -> jobs::WorkerHandle {
    let mut registry = jobs::Registry::new();
    documents::jobs::register(&mut registry, PipelineDeps::local(app.db.clone(), app.blobs.clone()));
    qbo_sync::register(&mut registry, qb);
    mailer::register(&mut registry, app.mailer.clone(), app.keys.clone());
    workflow_recurrence::register(&mut registry, practice::Practice::new(app.db.clone(), app.keys.clone()));
    workflow_automation::register(
        &mut registry,
        workflow_automation::WaitJob { db: app.db.clone() },
        workflow_automation::AutomationJob {
            db: app.db.clone(),
            keys: app.keys.clone(),
            public_url: format!("http://{}", app.addr),
            quickbooks: true,
        },
    );
    let config = jobs::WorkerConfig {
        queues: vec![
            jobs::QueueConfig::new(documents::jobs::QUEUE).concurrency(2),
            jobs::QueueConfig::new(qbo_sync::sync_jobs::QUEUE),
            jobs::QueueConfig::new(mailer::QUEUE),
            jobs::QueueConfig::new(practice::workflow_jobs::QUEUE),
        ],
        poll_interval: Duration::from_millis(50),
        ..jobs::WorkerConfig::default()
    };
    jobs::Worker::new(app.db.pool().clone(), registry, config).start()
}

/// A one-page receipt whose total does not add up: the pipeline sends it to review.
fn doubtful_receipt() -> Vec<u8> {
    use doc_corpus::render::{Font, Page};
    let mut page = Page::new(300.0, 500.0);
    let lines = [
        "CORNER MARKET",
        "12 Main Street, Springfield IL 62701",
        "Date: 03/14/2025   Time: 10:42",
        "Bread                      4.50",
        "Coffee                    15.50",
        "Subtotal                  20.00",
        "Tax                        1.65",
        "TOTAL                     30.00",
        "VISA ****1234",
    ];
    for (i, line) in lines.iter().enumerate() {
        page.text(20.0, 40.0 + 20.0 * i as f32, 9.0, Font::Courier, *line);
    }
    doc_corpus::render::write_pdf(&[page])
}

async fn created(app: &TestApp, path: &str, token: &str, body: serde_json::Value) -> serde_json::Value {
    let r = app.post(path, Some(token), &body).await;
    assert!(r.status == 201 || r.status == 200, "{path}: {} {}", r.status, r.body);
    r.value()
}

#[tokio::test]
async fn the_console_works_in_a_real_browser() {
    let chromium = chromium();
    node_modules().await;
    let company = CompanySpec {
        realm_id: "9130350000000001".into(),
        name: "Sandbox Company US 1".into(),
        entities: 120,
        seed: 1,
        as_of: None,
    };
    let sandbox = Sandbox::start(SandboxConfig { companies: vec![company], ..SandboxConfig::default() })
        .await
        .expect("QuickBooks sandbox");
    let qb_config = quickbooks_config(&sandbox);
    let app = TestApp::spawn_with(TestConfig {
        pages: web_console::router(),
        quickbooks: Some(qb_config.clone()),
        // Readings every second, so the operations page has charts within the test.
        operations_interval: Some(Duration::from_secs(1)),
        ..TestConfig::default()
    })
    .await;
    let firm = app.tenant("harbor-cpa").await;
    let owner = &firm.owner.token;

    // Clients, one engagement assigned to the owner, a sent invoice for AR.
    let mut first_client = String::new();
    let mut last_client = String::new();
    for (i, name) in ["Acme Bakery", "Birch Dental", "Cobalt Freight", "Delta Orchards", "Ember Studios"]
        .iter()
        .enumerate()
    {
        let c = created(&app, "/v1/clients", owner, json!({ "business_name": name, "primary_contact_email": format!("owner{i}@example.com"), "industry": "retail" })).await;
        if i == 0 {
            first_client = c["id"].as_str().unwrap().to_owned();
        }
        last_client = c["id"].as_str().unwrap().to_owned();
    }
    let other_client = created(&app, "/v1/clients", owner, json!({ "business_name": "Fjord Outfitters" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    created(
        &app,
        "/v1/engagements",
        owner,
        json!({
            "client_id": first_client, "name": "2026 bookkeeping", "engagement_type": "bookkeeping",
            "assigned_to": firm.owner.user_id, "due_date": "2026-12-31"
        }),
    )
    .await;
    let invoice = created(
        &app,
        "/v1/invoices",
        owner,
        json!({
            "client_id": first_client, "issue_date": "2026-10-01", "due_date": "2026-10-31",
            "lines": [{ "description": "Monthly bookkeeping", "quantity": "1", "unit_price": "1200.00" }]
        }),
    )
    .await;
    let sent = app
        .post(&format!("/v1/invoices/{}/send", invoice["id"].as_str().unwrap()), Some(owner), &json!({}))
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);

    // An intern (no access to clients) and a portal user of the first client only; a senior CPA
    // (financial:update) for QuickBooks.
    let intern = app.member(&firm, Role::Intern).await;
    let books_keeper = app.member(&firm, Role::SeniorCpa).await;
    let portal = app.member(&firm, Role::Client).await;
    // A member who forgets their password (theirs changes in the test).
    let forgetful = app.member(&firm, Role::Staff).await;
    let grant = app
        .post(
            &format!("/v1/clients/{first_client}/portal-access"),
            Some(owner),
            &json!({ "user_id": portal.user_id, "can_view_financials": true, "can_upload_documents": true }),
        )
        .await;
    assert_eq!(grant.status, 201, "{}", grant.body);
    // Another firm's client, which nobody here may reach.
    let other_firm = app.tenant("elsewhere-llp").await;
    let foreign_client =
        created(&app, "/v1/clients", &other_firm.owner.token, json!({ "business_name": "Foreign Co" })).await
            ["id"]
            .as_str()
            .unwrap()
            .to_owned();
    // The reminders' screens: a run of the last client with a request waiting on the client, and
    // a step in progress (nobody's, so no one's "my work") far over its estimate.
    let chase = created(&app, "/v1/workflow-templates", owner, json!({
        "name": "Document chase", "category": "bookkeeping", "steps": [
            {"key": "statements", "name": "Send us your bank statements", "kind": "client_request", "estimated_hours": "0.5"},
            {"key": "reconcile", "name": "Reconcile the statements", "kind": "task", "estimated_hours": "2"}]})).await;
    let chase_run = created(
        &app,
        "/v1/workflow-runs",
        owner,
        json!({
        "client_id": last_client, "template_id": chase["id"], "due_date": "2099-06-30"}),
    )
    .await;
    let chase_run = chase_run["id"].as_str().unwrap().to_owned();
    let started = created(
        &app,
        &format!("/v1/workflow-runs/{chase_run}/steps/reconcile"),
        owner,
        json!({"action": "start"}),
    )
    .await;
    let month_ago = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    created(
        &app,
        "/v1/time-entries",
        owner,
        json!({
        "step_id": started["steps"][1]["id"], "started_at": month_ago, "minutes": 300, "billable": false}),
    )
    .await;

    // Two listed advisors for the marketplace.
    let platform = app.tenant(PLATFORM_SLUG).await;
    for (name, industries, headline) in [
        ("Dana Whitfield", json!(["saas", "technology"]), "Cash flow and board reporting"),
        ("Ravi Forensics", json!(["healthcare"]), "Forensic accounting for clinics"),
    ] {
        let advisor = app.member(&firm, Role::Cpa).await;
        let id = created(&app, "/v1/marketplace/profile", &advisor.token, json!({
            "display_name": name, "title": "Fractional CFO", "headline": headline,
            "bio": "Former controller.", "years_experience": 12, "certifications": ["cpa"], "industries": industries,
            "services": ["fractional_cfo", "cash_flow"], "business_sizes": ["smb"], "languages": ["en"], "remote_only": true,
            "hourly_rate": "250.00", "retainer_min": "3000.00", "retainer_max": "8000.00", "pricing_models": ["hourly"], "max_clients": 10
        })).await["id"].as_str().unwrap().to_owned();
        created(&app, "/v1/marketplace/profile/submit", &advisor.token, json!({})).await;
        created(
            &app,
            &format!("/v1/marketplace/admin/advisors/{id}/approve"),
            &platform.owner.token,
            json!({}),
        )
        .await;
    }

    // Steps that run themselves: a template that mails the client and then waits, a client whose
    // portal user gets the mail, and one with no portal user (its step blocks).
    let letters = created(&app, "/v1/workflow-templates", owner, json!({
        "name": "Client letters", "category": "onboarding", "steps": [
            {"key": "hello", "name": "Welcome letter", "kind": "automation", "automation": "send_email", "estimated_hours": "0"},
            {"key": "pause", "name": "Give them three days", "kind": "wait", "wait_days": 3, "estimated_hours": "0", "depends_on": ["hello"]},
            {"key": "call", "name": "Follow-up call", "kind": "task", "estimated_hours": "0.5", "depends_on": ["pause"]}
        ]
    }))
    .await;
    // A step that syncs the client's books (the QuickBooks check starts it once connected).
    let books = created(&app, "/v1/workflow-templates", owner, json!({
        "name": "Pull the books", "category": "bookkeeping", "steps": [
            {"key": "sync", "name": "Sync QuickBooks", "kind": "automation", "automation": "start_quickbooks_sync", "estimated_hours": "0"}
        ]
    }))
    .await;
    let mailed_client =
        created(&app, "/v1/clients", owner, json!({ "business_name": "Alder Lane" })).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let unmailable_client = created(&app, "/v1/clients", owner, json!({ "business_name": "Aspen Works" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let letter_reader = app.member(&firm, Role::Client).await;
    created(
        &app,
        &format!("/v1/clients/{mailed_client}/portal-access"),
        owner,
        json!({ "user_id": letter_reader.user_id }),
    )
    .await;

    let files = tempfile::tempdir().expect("temporary directory");
    let receipt = files.path().join("corner-market-receipt.pdf");
    std::fs::write(&receipt, doubtful_receipt()).expect("receipt written");
    let csv = files.path().join("clients.csv");
    std::fs::write(
        &csv,
        "business_name,primary_contact_email\nGood Row LLC,good@example.com\n,missing-name@example.com\n",
    )
    .expect("csv written");

    // The worker side's QuickBooks service, as `countinghouse worker` builds it.
    let qb = QuickBooks::new(qb_config, app.db.clone(), app.keys.clone()).await.expect("QuickBooks service");
    let _work = worker(&app, qb);
    let config = json!({
        "baseUrl": format!("http://{}", app.addr),
        "chromium": chromium,
        "password": PASSWORD,
        "firm": { "slug": firm.slug, "owner": firm.owner.email, "owner_id": firm.owner.user_id },
        "intern": intern.email,
        "portal": portal.email,
        "platform": { "slug": platform.slug, "owner": platform.owner.email },
        "clients": { "first": first_client, "other": other_client, "foreign": foreign_client },
        "files": { "receipt": receipt, "csv": csv },
        "quickbooks": { "member": books_keeper.email, "client": first_client, "template": books["id"] },
        "reset": { "email": forgetful.email, "user": forgetful.user_id, "outbox": app.outbox },
        "automation": { "template": letters["id"], "client": mailed_client, "reader": letter_reader.email, "unmailable": unmailable_client },
        "reminders": { "run": chase_run },
        "screenshots": std::env::var("CONSOLE_SCREENSHOTS").ok(),
    });
    // The script's lines stream to the test's output as each check finishes.
    let status = tokio::process::Command::new("node")
        .arg(browser_dir().join("run.mjs"))
        .env("CONSOLE_TEST_CONFIG", config.to_string())
        .current_dir(browser_dir())
        .kill_on_drop(true)
        .status()
        .await
        .expect("node runs");
    assert!(status.success(), "browser checks failed (each FAIL line above says which and why)");
}
