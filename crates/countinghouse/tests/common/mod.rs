//! What the process tests share: `countinghouse` started as a child process (killed when the test
//! ends, however it ends), and a signed-in HTTP client of the API it serves.
// Each test binary compiles this module and uses a part of it; helpers panic on failure.
#![allow(dead_code, clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port()
}

/// A child process, killed on drop.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `countinghouse args` in `dir` with `env`; stdout is kept for reading only with
/// `read_stdout` (an unread pipe would block a chatty process).
pub fn countinghouse(
    args: &[&str],
    env: &[(&str, String)],
    dir: &std::path::Path,
    read_stdout: bool,
) -> Process {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_countinghouse"));
    cmd.args(args).current_dir(dir).env_remove("COUNTINGHOUSE_CONFIG").stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(if read_stdout { Stdio::piped() } else { Stdio::null() });
    Process(cmd.spawn().expect("countinghouse starts"))
}

/// Waits (up to a minute) until something listens on `port`, failing if `process` exits first.
pub async fn wait_until_listening(port: u16, process: &mut Process) {
    let patience = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(process.0.try_wait().expect("wait").is_none(), "the process exited early");
        assert!(Instant::now() < patience, "nothing listens on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The API at `base`, signed in as a new firm's owner.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    /// Signs up organization `slug` (its owner is `owner@<slug>.test`). Redirects are not followed,
    /// so OAuth hops can be taken one at a time.
    pub async fn signup(base: &str, slug: &str) -> Api {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let body = json!({"organization_name": format!("{slug} LLP"), "slug": slug, "name": "Owner",
                          "email": format!("owner@{slug}.test"), "password": "a-long-password-2026"});
        let signup: Value =
            http.post(format!("{base}/v1/signup")).json(&body).send().await.unwrap().json().await.unwrap();
        let token = signup["token"].as_str().expect("signed up").to_owned();
        Api { http, base: base.to_owned(), token }
    }

    pub async fn get(&self, path: &str) -> Value {
        let r = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap();
        r.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let r = self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(&body);
        r.send().await.unwrap().json().await.unwrap()
    }

    /// Creates a client named `name`; returns its id.
    pub async fn create_client(&self, name: &str) -> String {
        let client = self.post("/v1/clients", json!({"business_name": name})).await;
        client["id"].as_str().expect("client created").to_owned()
    }
}
