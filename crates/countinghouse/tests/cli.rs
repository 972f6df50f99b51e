//! The binary as an operator uses it: migrate, config, audit verify, and the embedded database.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use domain::Role;
use testkit::TestApp;

fn countinghouse(args: &[&str], database_url: &str, state_dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_countinghouse"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("COUNTINGHOUSE_STATE_DIR", state_dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn migrate_is_idempotent_and_audit_verify_finds_tampering() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    app.member(&t, Role::Staff).await;
    let url = app.test_db.owner_url.clone();
    let state = std::env::temp_dir().join(format!("ch-cli-{}", std::process::id()));

    let m = countinghouse(&["migrate"], &url, &state);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    assert!(stdout(&m).contains("up to date"), "{}", stdout(&m));

    // Every known migration with its state and when it was applied.
    let status = countinghouse(&["migrate", "--status"], &url, &state);
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let text = stdout(&status);
    let foundation = text.lines().find(|l| l.starts_with("0001 ")).unwrap_or_else(|| panic!("{text}"));
    assert!(foundation.contains("foundation") && foundation.contains("applied 20"), "{foundation}");
    assert!(text.lines().filter(|l| l.starts_with('0')).all(|l| l.contains(" applied ")), "{text}");
    assert!(text.contains("pending: 0 of"), "{text}");
    let mut owner = app.test_db.owner_conn().await;
    store::sqlx::query(
        "delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)",
    )
    .execute(&mut owner)
    .await
    .unwrap();
    let text = stdout(&countinghouse(&["migrate", "--status"], &url, &state));
    assert_eq!(text.lines().filter(|l| l.ends_with(" pending")).count(), 1, "{text}");
    assert!(text.contains("pending: 1 of"), "{text}");

    let ok = countinghouse(&["audit", "verify"], &url, &state);
    assert!(ok.status.success(), "{}{}", stdout(&ok), String::from_utf8_lossy(&ok.stderr));
    assert!(stdout(&ok).contains("acme: intact"));

    store::sqlx::query("update audit_log set action = 'user.nothing_to_see' where seq = 2")
        .execute(&mut owner)
        .await
        .unwrap();
    let broken = countinghouse(&["audit", "verify", "--organization", "acme"], &url, &state);
    assert_eq!(broken.status.code(), Some(1));
    let text = stdout(&broken);
    assert!(text.contains("acme: BROKEN in 1 place(s)") && text.contains("  lane 0, entry 2: "), "{text}");
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn config_prints_the_effective_configuration_without_secrets() {
    let state = std::env::temp_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_countinghouse"))
        .arg("config")
        .env("DATABASE_URL", "postgres://owner:hunter22@db.internal:5432/ch")
        .env("COUNTINGHOUSE_ENCRYPTION_KEYS", "3:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=")
        .env("COUNTINGHOUSE_SERVER__LISTEN", "0.0.0.0:9000")
        .env("COUNTINGHOUSE_STATE_DIR", &state)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("listen = \"0.0.0.0:9000\""), "{text}");
    assert!(text.contains("postgres://owner:[redacted]@db.internal:5432/ch"), "{text}");
    assert!(text.contains("3:[redacted]"));
    assert!(!text.contains("hunter22") && !text.contains("c2VjcmV0"));

    let bad = Command::new(env!("CARGO_BIN_EXE_countinghouse"))
        .arg("config")
        .env("COUNTINGHOUSE_SERVER__LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).to_lowercase().contains("server.listen"));
}

#[test]
fn job_lists_accept_only_the_states_that_make_sense() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_countinghouse"))
            .args(args)
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .output()
            .unwrap()
    };
    // `dead` lists dead jobs: a state is not its to choose.
    let out = run(&["jobs", "dead", "--state", "available"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--state"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `list` takes the states a job can be in, and names them when given another.
    let out = run(&["jobs", "list", "--state", "finished"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for state in ["available", "running", "retrying", "dead", "cancelled"] {
        assert!(stderr.contains(state), "{stderr}");
    }
}

#[test]
fn every_command_has_help() {
    for cmd in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["migrate", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["worker", "--help"],
        vec!["qbo-sandbox", "--help"],
        vec!["bench", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_countinghouse")).args(&cmd).output().unwrap();
        assert!(out.status.success(), "{cmd:?}");
        assert!(stdout(&out).contains("Usage"), "{cmd:?}");
    }
}
