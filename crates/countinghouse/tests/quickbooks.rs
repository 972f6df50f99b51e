//! QuickBooks through the binary, as an operator runs it: `countinghouse qbo-sandbox`,
//! `countinghouse serve` and `countinghouse worker` as three processes configured only by
//! environment (`COUNTINGHOUSE_QUICKBOOKS__*`). A firm connects a client over HTTP and the worker
//! process runs the first full sync.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::TestDb;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port()
}

/// Kills the process when the test ends, however it ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `countinghouse args`; stdout is kept for reading only with `read_stdout` (an unread
/// pipe would block a chatty process).
fn countinghouse(args: &[&str], env: &[(&str, String)], dir: &std::path::Path, read_stdout: bool) -> Process {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_countinghouse"));
    cmd.args(args).current_dir(dir).env_remove("COUNTINGHOUSE_CONFIG").stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(if read_stdout { Stdio::piped() } else { Stdio::null() });
    Process(cmd.spawn().expect("countinghouse starts"))
}

async fn wait_until_listening(port: u16, process: &mut Process) {
    let patience = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(process.0.try_wait().expect("wait").is_none(), "the process exited early");
        assert!(Instant::now() < patience, "nothing listens on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

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

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signup: Value = http
        .post(format!("{base}/v1/signup"))
        .json(&json!({"organization_name": "Books LLP", "slug": "books-llp", "name": "Owner",
                      "email": "owner@books.test", "password": "a-long-password-2026"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signup["token"].as_str().expect("signed up").to_owned();
    let client: Value = http
        .post(format!("{base}/v1/clients"))
        .bearer_auth(&token)
        .json(&json!({"business_name": "Books client"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = client["id"].as_str().expect("client created").to_owned();
    let link: Value = http
        .post(format!("{base}/v1/clients/{client}/quickbooks/connect"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The browser at "Intuit" (the sandbox consents at once), then back at our callback.
    let consent = http.get(link["authorization_url"].as_str().expect("a connect link")).send().await.unwrap();
    let callback = consent.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&base), "{callback}");
    let connected = http.get(&callback).send().await.unwrap();
    assert_eq!(connected.status(), 200, "{}", connected.text().await.unwrap_or_default());

    // Nothing syncs until a worker runs; the worker process runs the queued full sync.
    let mut worker = countinghouse(&["worker"], &env, &dir, false);
    let patience = Instant::now() + Duration::from_secs(120);
    let run = loop {
        let runs: Value = http
            .get(format!("{base}/v1/clients/{client}/quickbooks/sync-runs"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let run = runs[0].clone();
        if run["status"] == "succeeded" || run["status"] == "failed" {
            break run;
        }
        assert!(worker.0.try_wait().expect("wait").is_none(), "the worker exited early");
        assert!(Instant::now() < patience, "the worker never finished the sync: {run}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((run["status"].as_str(), run["mode"].as_str()), (Some("succeeded"), Some("full")), "{run}");
    let summary: Value = http
        .get(format!("{base}/v1/clients/{client}/quickbooks/summary?from=2000-01-01&to=2100-01-01"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mirrored: u64 =
        summary["entities"].as_object().expect("entity counts").values().filter_map(Value::as_u64).sum();
    assert!(mirrored >= 400, "{summary}");
    drop((worker, serve, sandbox));
    let _ = std::fs::remove_dir_all(&dir);
}
