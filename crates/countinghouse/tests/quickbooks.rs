//! QuickBooks through the binary, as an operator runs it: `countinghouse qbo-sandbox`,
//! `countinghouse serve` and `countinghouse worker` as three processes configured only by
//! environment (`COUNTINGHOUSE_QUICKBOOKS__*`). A firm connects a client over HTTP and the worker
//! process runs the first full sync.

mod common;

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use common::{Api, countinghouse, free_port, wait_until_listening};
use serde_json::{Value, json};
use testkit::TestDb;

#[tokio::test]
async fn a_worker_process_syncs_a_client_connected_through_a_serve_process() {
    let db = TestDb::create().await;
    let dir = std::env::temp_dir().join(format!("countinghouse-qbo-{}", db.name));
    std::fs::create_dir_all(&dir).expect("state dir");

    // The sandbox prints the [quickbooks] section to use; take its discovery URL from there.
    let sandbox_port = free_port();
    let mut sandbox = countinghouse(
        &["qbo-sandbox", "--listen", &format!("127.0.0.1:{sandbox_port}"), "--entities", "400"],
        &[],
        &dir,
        true,
    );
    let mut printed = String::new();
    let mut lines = BufReader::new(sandbox.0.stdout.take().expect("stdout")).lines();
    while !printed.contains("discovery_url") {
        printed.push_str(&lines.next().expect("the sandbox prints its configuration").expect("line"));
        printed.push('\n');
    }
    let discovery = printed
        .lines()
        .find_map(|l| l.strip_prefix("discovery_url = "))
        .map(|v| v.trim_matches('"').to_owned())
        .expect("a discovery_url line");
    assert!(printed.contains("9130350000000001"), "{printed}");

    let api_port = free_port();
    let base = format!("http://127.0.0.1:{api_port}");
    let env = vec![
        ("DATABASE_URL", db.owner_url.clone()),
        ("COUNTINGHOUSE_STATE_DIR", dir.display().to_string()),
        ("COUNTINGHOUSE_ENCRYPTION_KEYS", vault::KeyRing::generate_key_spec(1)),
        ("COUNTINGHOUSE_QUICKBOOKS__CLIENT_ID", "sandbox-client-id".into()),
        ("COUNTINGHOUSE_QUICKBOOKS__CLIENT_SECRET", "sandbox-client-secret".into()),
        ("COUNTINGHOUSE_QUICKBOOKS__API_BASE", format!("http://127.0.0.1:{sandbox_port}")),
        ("COUNTINGHOUSE_QUICKBOOKS__DISCOVERY_URL", discovery),
        ("COUNTINGHOUSE_QUICKBOOKS__REDIRECT_URI", format!("{base}/v1/quickbooks/callback")),
    ];
    let mut serve =
        countinghouse(&["serve", "--listen", &format!("127.0.0.1:{api_port}")], &env, &dir, false);
    wait_until_listening(api_port, &mut serve).await;

    let api = Api::signup(&base, "books-llp").await;
    let client = api.create_client("Books client").await;
    let link = api.post(&format!("/v1/clients/{client}/quickbooks/connect"), json!({})).await;
    // The browser at "Intuit" (the sandbox consents at once), then back at our callback.
    let consent =
        api.http.get(link["authorization_url"].as_str().expect("a connect link")).send().await.unwrap();
    let callback = consent.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&base), "{callback}");
    let connected = api.http.get(&callback).send().await.unwrap();
    assert_eq!(connected.status(), 200, "{}", connected.text().await.unwrap_or_default());

    // Nothing syncs until a worker runs; the worker process runs the queued full sync.
    let mut worker = countinghouse(&["worker"], &env, &dir, false);
    let patience = Instant::now() + Duration::from_secs(120);
    let run = loop {
        let runs = api.get(&format!("/v1/clients/{client}/quickbooks/sync-runs")).await;
        let run = runs["items"][0].clone();
        if run["status"] == "succeeded" || run["status"] == "failed" {
            break run;
        }
        assert!(worker.0.try_wait().expect("wait").is_none(), "the worker exited early");
        assert!(Instant::now() < patience, "the worker never finished the sync: {run}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((run["status"].as_str(), run["mode"].as_str()), (Some("succeeded"), Some("full")), "{run}");
    let summary =
        api.get(&format!("/v1/clients/{client}/quickbooks/summary?from=2000-01-01&to=2100-01-01")).await;
    let mirrored: u64 =
        summary["entities"].as_object().expect("entity counts").values().filter_map(Value::as_u64).sum();
    assert!(mirrored >= 400, "{summary}");
    drop((worker, serve, sandbox));
    let _ = std::fs::remove_dir_all(&dir);
}
