//! The README's tour works when pasted verbatim: its shell blocks run, in order, against a fresh
//! demo, from the repository's root (where `samples/` is), and every request must answer 2xx
//! (`curl` is given `--fail-with-body`, so a 4xx ends the script with the problem printed).

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;

/// The ```sh blocks between `## A tour` and the next `## ` heading.
fn tour_blocks(readme: &str) -> String {
    let start = readme.find("\n## A tour").expect("the README has a tour");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    let mut script = String::new();
    let mut inside = false;
    for line in rest[..end].lines() {
        match (inside, line.trim_start()) {
            (false, "```sh") => inside = true,
            (true, "```") => inside = false,
            (true, _) => script.extend([line, "\n"]),
            _ => {}
        }
    }
    script
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_tour_works_verbatim() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let tour = tour_blocks(&std::fs::read_to_string(root.join("README.md")).unwrap());
    assert!(tour.contains("/v1/sessions") && tour.contains("samples/"), "{tour}");

    let db = test_db::TestDb::create().await;
    let state = std::env::temp_dir().join(format!("ch-tour-{}", std::process::id()));
    let mut demo = Command::new(env!("CARGO_BIN_EXE_countinghouse"))
        .args(["demo", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &db.owner_url)
        .env("COUNTINGHOUSE_STATE_DIR", &state)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the demo starts");
    // The demo prints its address, then (once its QuickBooks company is connected) how to use it.
    let (lines, printed) = mpsc::channel();
    let stdout = demo.stdout.take().unwrap();
    std::thread::spawn(move || {
        // Drained to the end even once nobody listens: a closed pipe would fail the demo's next write.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut address = None;
    let mut banner = String::new();
    let ready = tokio::task::spawn_blocking(move || {
        while let Ok(line) = printed.recv() {
            banner.extend([line.as_str(), "\n"]);
            if let Some(rest) = line.trim().strip_prefix("Countinghouse demo is starting: open ") {
                let url = rest.split_whitespace().next().unwrap_or_default();
                address = Some(url.trim_start_matches("http://").to_owned());
            }
            if line.contains("QuickBooks:") {
                return (address, banner);
            }
        }
        (None, banner)
    })
    .await
    .unwrap();
    let (address, banner) = ready;
    let Some(address) = address else {
        let _ = demo.kill();
        panic!("the demo did not finish starting:\n{banner}");
    };

    let script = format!(
        "set -euo pipefail\ncurl() {{ command curl --fail-with-body --show-error \"$@\"; }}\n{}",
        tour.replace("localhost:8080", &address)
    );
    let run = Command::new("bash").arg("-c").arg(&script).current_dir(&root).output().unwrap();
    let _ = demo.kill();
    let _ = demo.wait();
    let _ = std::fs::remove_dir_all(&state);
    assert!(
        run.status.success(),
        "the tour stopped ({}):\n--- stdout\n{}\n--- stderr\n{}\n--- demo\n{banner}",
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}
