//! The sandbox against the published QuickBooks clients, unmodified: Python `intuit-oauth` +
//! `python-quickbooks` (installed from PyPI into a venv under `target/`), and Node
//! `node-quickbooks` (from npm, under `target/`). Each test skips, saying why, only when the
//! package cannot be installed (no network, no Python/Node); once installed, any disagreement
//! with the protocol fails it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use qbo_sandbox::{
    AppCredentials, ChangeOperation, ChangeSummary, CompanySpec, EntityType, Sandbox, SandboxConfig,
    SandboxHandle,
};
use serde_json::Value;
use tokio::process::Command;

const PYTHON_PACKAGES: [&str; 2] = ["intuit-oauth==1.2.6", "python-quickbooks==0.9.12"];
const NODE_PACKAGE: &str = "node-quickbooks@2.0.50";
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

fn workdir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("qbo-conformance")
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance").join(name)
}

/// Runs a command with a deadline; `Ok(stdout)` on success, `Err(why)` otherwise.
async fn run(command: &mut Command, limit: Duration) -> Result<String, String> {
    let output = tokio::time::timeout(limit, command.kill_on_drop(true).output())
        .await
        .map_err(|_| format!("timed out after {limit:?}"))?
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{}\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The venv's python with the packages installed, or why not.
async fn python() -> Result<PathBuf, String> {
    let venv = workdir().join("venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        std::fs::create_dir_all(workdir()).map_err(|e| e.to_string())?;
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv), Duration::from_secs(120)).await?;
    }
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args(PYTHON_PACKAGES),
        Duration::from_secs(600),
    )
    .await?;
    Ok(python)
}

/// A directory with node-quickbooks installed, or why not.
async fn node_modules() -> Result<PathBuf, String> {
    let dir = workdir().join("node");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if !dir.join("package.json").exists() {
        std::fs::write(dir.join("package.json"), r#"{"name":"qbo-conformance","private":true}"#)
            .map_err(|e| e.to_string())?;
    }
    run(Command::new("node").arg("--version"), Duration::from_secs(30)).await?;
    run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", NODE_PACKAGE])
            .current_dir(&dir),
        Duration::from_secs(600),
    )
    .await?;
    Ok(dir)
}

async fn sandbox() -> SandboxHandle {
    let app = AppCredentials { redirect_uris: vec![REDIRECT_URI.into()], ..AppCredentials::default() };
    // 4,000 entities give more than 1,000 invoices, so node-quickbooks' fetchAll must page.
    let company = CompanySpec { entities: 4_000, seed: 5, ..CompanySpec::default() };
    let config = SandboxConfig { apps: vec![app], companies: vec![company], ..SandboxConfig::default() };
    Sandbox::start(config).await.expect("sandbox starts")
}

fn entity(sandbox: &SandboxHandle, realm: &str, kind: EntityType, id: u64) -> Value {
    let json = sandbox.entity_json(realm, kind, id).expect("company").expect("entity exists");
    serde_json::from_str(&json).expect("valid JSON")
}

/// (id, "Deleted" or "", SyncToken or "") per changed Customer and Invoice, as the scripts print.
fn expected_cdc(summary: &ChangeSummary, kind: EntityType) -> BTreeSet<Vec<String>> {
    summary
        .changes
        .iter()
        .filter(|c| c.entity == kind)
        .map(|c| match c.operation {
            ChangeOperation::Delete => vec![c.id.clone(), "Deleted".into(), String::new()],
            _ => vec![c.id.clone(), String::new(), c.sync_token.to_string()],
        })
        .collect()
}

fn printed_cdc(report: &Value, kind: &str) -> BTreeSet<Vec<String>> {
    report["cdc"][kind]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    row.as_array()
                        .expect("a row")
                        .iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn last_json_line(stdout: &str) -> Value {
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).expect("the script prints a JSON report");
    serde_json::from_str(line).expect("a JSON report")
}

#[tokio::test]
async fn python_quickbooks_and_intuit_oauth_work_unmodified() {
    let python = match python().await {
        Ok(python) => python,
        Err(why) => {
            eprintln!(
                "SKIPPED: cannot install {PYTHON_PACKAGES:?} from PyPI into {}: {why}",
                workdir().display()
            );
            return;
        }
    };
    let sandbox = sandbox().await;
    let realm = sandbox.realm_ids()[0].clone();
    let since = sandbox.now();
    let summary = sandbox.apply_random_changes(&realm, 60, 21).expect("changes");
    let customer = entity(&sandbox, &realm, EntityType::Customer, 3);
    let invoice = entity(&sandbox, &realm, EntityType::Invoice, 1);
    let active_customers = (1..=sandbox.counts(&realm).expect("company")[&EntityType::Customer] as u64 * 2)
        .filter_map(|id| sandbox.entity_json(&realm, EntityType::Customer, id).expect("company"))
        .filter(|json| json.contains("\"Active\":true"))
        .count();
    let app = AppCredentials::default();
    let stdout = run(
        Command::new(&python)
            .arg(script("python_client.py"))
            .env("SANDBOX_URL", sandbox.base_url())
            .env("DISCOVERY_URL", sandbox.discovery_url())
            .env("CLIENT_ID", &app.client_id)
            .env("CLIENT_SECRET", &app.client_secret)
            .env("REDIRECT_URI", REDIRECT_URI)
            .env("CUSTOMER_ID", "3")
            .env("CHANGED_SINCE", since.to_rfc3339())
            .env("OAUTHLIB_INSECURE_TRANSPORT", "1"),
        Duration::from_secs(120),
    )
    .await
    .unwrap_or_else(|failure| panic!("python-quickbooks against the sandbox failed: {failure}"));
    let report = last_json_line(&stdout);

    assert_eq!(report["realm"], realm.as_str());
    assert_eq!(report["refresh_rotated"], true);
    assert_eq!(report["stale_refresh_refused"], true);
    assert_eq!(report["active_customers"], active_customers);
    assert_eq!(report["customer_name"], customer["DisplayName"]);
    assert_eq!(report["invoice_total"].as_str(), Some(invoice["TotalAmt"].to_string().as_str()));
    assert_eq!(report["invoice_page"], serde_json::json!(["1", "2", "3", "4", "5"]));
    assert_eq!(report["items"], 10);
    assert_eq!(report["company_name"], "Sandbox Company US 1");
    assert_eq!(report["not_found_is_610"], true);
    assert_eq!(printed_cdc(&report, "Customer"), expected_cdc(&summary, EntityType::Customer));
    assert_eq!(printed_cdc(&report, "Invoice"), expected_cdc(&summary, EntityType::Invoice));
    assert!(!expected_cdc(&summary, EntityType::Invoice).is_empty());
    assert_eq!(report["refused_after_revoke"], true);
    let oauth = sandbox.oauth_counters();
    assert_eq!((oauth.code_exchanges, oauth.revocations), (1, 1));
}

#[tokio::test]
async fn node_quickbooks_works_unmodified() {
    let dir = match node_modules().await {
        Ok(dir) => dir,
        Err(why) => {
            eprintln!("SKIPPED: cannot install {NODE_PACKAGE} from npm into {}: {why}", workdir().display());
            return;
        }
    };
    let sandbox = sandbox().await;
    let realm = sandbox.realm_ids()[0].clone();
    let app = AppCredentials::default();
    let tokens = sandbox.issue_tokens(&app.client_id, &realm).expect("connected");
    let since = sandbox.now();
    let summary = sandbox.apply_random_changes(&realm, 60, 22).expect("changes");
    let customer = entity(&sandbox, &realm, EntityType::Customer, 3);
    let invoices = sandbox.counts(&realm).expect("company")[&EntityType::Invoice];
    assert!(invoices > 1_000);
    let stdout = run(
        Command::new("node")
            .arg(script("node_client.js"))
            .current_dir(&dir)
            .env("NODE_PATH", dir.join("node_modules"))
            .env("SANDBOX_URL", sandbox.base_url())
            .env("CLIENT_ID", &app.client_id)
            .env("CLIENT_SECRET", &app.client_secret)
            .env("REALM_ID", &realm)
            .env("ACCESS_TOKEN", &tokens.access_token)
            .env("REFRESH_TOKEN", &tokens.refresh_token)
            .env("CUSTOMER_ID", "3")
            .env("CHANGED_SINCE", since.to_rfc3339()),
        Duration::from_secs(120),
    )
    .await
    .unwrap_or_else(|failure| panic!("node-quickbooks against the sandbox failed: {failure}"));
    let report = last_json_line(&stdout);
    assert_eq!(report["refresh_rotated"], true);
    assert_eq!(report["revoked"], true);
    assert_eq!(report["invoices"], invoices, "fetchAll paged through every invoice");
    assert_eq!(report["invoice_ids_unique"], invoices);
    assert_eq!(report["customer_name"], customer["DisplayName"]);
    assert_eq!(printed_cdc(&report, "Customer"), expected_cdc(&summary, EntityType::Customer));
    assert_eq!(printed_cdc(&report, "Invoice"), expected_cdc(&summary, EntityType::Invoice));
}
