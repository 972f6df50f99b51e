//! A redis-server of a test's own on a free port, for tests that stop it: the machine's shared Redis
//! serves other tests and CI and is never stopped. The server runs daemonized (it outlives a panicking
//! test only until [`Drop`] shuts it down) and keeps nothing on disk.

use std::process::Command;
use std::time::Duration;

/// A private redis-server, shut down on drop.
pub struct PrivateRedis {
    pub port: u16,
}

impl PrivateRedis {
    /// Starts one on a free port.
    ///
    /// # Panics
    /// When `redis-server` is not installed (`scripts/deps.sh` installs it) or does not answer.
    pub fn start() -> PrivateRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free local port")
            .port();
        PrivateRedis::start_on(port)
    }

    /// Starts one on `port` (say, again on the port of one that was stopped).
    ///
    /// # Panics
    /// As [`PrivateRedis::start`].
    pub fn start_on(port: u16) -> PrivateRedis {
        let status = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "yes"])
            .status()
            .expect("redis-server is installed (scripts/deps.sh)");
        assert!(status.success(), "redis-server --port {port} failed: {status}");
        let redis = PrivateRedis { port };
        for _ in 0..100 {
            if redis.ping() {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("private redis-server did not start on port {port}");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Whether it answers.
    pub fn ping(&self) -> bool {
        Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "ping"])
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"PONG"))
    }

    /// Shuts it down and returns once it no longer answers.
    pub fn stop(&self) {
        let _ = Command::new("redis-cli").args(["-p", &self.port.to_string(), "shutdown", "nosave"]).output();
        while self.ping() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
