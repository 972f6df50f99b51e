//! A private PostgreSQL cluster for `countinghouse demo` and `serve` when `DATABASE_URL` is unset:
//! initialised once under a directory of ours from the machine's server binaries, started on a free
//! loopback port, reused on the next start, and stopped cleanly on exit.
//!
//! Written by hand because the crates that do this (pgtemp, postgresql_embedded) either download
//! PostgreSQL at run time (impossible offline) or make throwaway clusters, while we want one that
//! persists. It shells out to `initdb`, `pg_ctl` and `createdb`, which is all it needs.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// The superuser the cluster is initialised with; the app role is created by the migrations.
pub const SUPERUSER: &str = "countinghouse";
pub const DATABASE: &str = "countinghouse";

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them with \
         `sudo apt-get install postgresql` (Debian/Ubuntu) or `brew install postgresql` (macOS), \
         set PG_BIN_DIR to their directory, or set DATABASE_URL to use a running server"
    )]
    NoServerBinaries,
    #[error(
        "running as root, and there is no `postgres` system user to run the cluster as (PostgreSQL refuses to run as root); create one or set DATABASE_URL"
    )]
    NoPostgresUser,
    #[error("`{command}` failed ({status}): {stderr}")]
    Command { command: String, status: String, stderr: String },
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

type Result<T> = std::result::Result<T, EmbeddedPgError>;

/// A running private cluster.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    /// Where the cluster lives: the directory asked for, or (as root, when the `postgres` user cannot
    /// enter it) a directory of its own under [`ROOT_FALLBACK`].
    root: PathBuf,
    data_dir: PathBuf,
    port: u16,
    run_as: Option<(u32, u32)>,
    /// Whether this process started the server (and so stops it), or found it running.
    started_here: bool,
}

impl EmbeddedPostgres {
    /// Starts (initialising first if needed) the cluster under `root` (e.g. `./.countinghouse/pg`).
    ///
    /// As root, the server runs as the `postgres` user, which must be able to enter every directory
    /// above `root`; when it cannot (a clone under `/root`, any `mktemp -d`), the cluster lives under
    /// [`ROOT_FALLBACK`] instead, in a directory named after `root` (so it is reused), and
    /// [`EmbeddedPostgres::root`] says where.
    pub async fn start(root: &Path) -> Result<Self> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedPgError::NoServerBinaries)?;
        let run_as = if running_as_root() {
            Some(postgres_user().ok_or(EmbeddedPgError::NoPostgresUser)?)
        } else {
            None
        };
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| EmbeddedPgError::Io { path, source }
        };
        std::fs::create_dir_all(root).map_err(io(root))?;
        let root = match run_as {
            Some((uid, gid)) if !enterable(root, uid, gid) => {
                let canonical = root.canonicalize().map_err(io(root))?;
                let fallback = Path::new(ROOT_FALLBACK).join(hashed_name(&canonical));
                tracing::info!(
                    asked = %canonical.display(),
                    using = %fallback.display(),
                    "the postgres user cannot enter the state directory; the embedded cluster lives elsewhere"
                );
                std::fs::create_dir_all(&fallback).map_err(io(&fallback))?;
                fallback
            }
            _ => root.to_owned(),
        };
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&root, Some(uid), Some(gid)).map_err(io(&root))?;
        }
        let data_dir = root.join("data");
        let mut pg =
            EmbeddedPostgres { bin_dir, root: root.clone(), data_dir, port: 0, run_as, started_here: false };

        let fresh = !pg.data_dir.join("PG_VERSION").exists();
        if fresh {
            tracing::info!(data_dir = %pg.data_dir.display(), "initialising the embedded PostgreSQL cluster");
            let data = pg.data_dir.display().to_string();
            pg.run(
                "initdb",
                &["-D", &data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
            )
            .await?;
        }

        if let Some(port) = pg.running_port().await {
            tracing::info!(port, "reusing the embedded PostgreSQL that is already running");
            pg.port = port;
        } else {
            pg.port = free_port().map_err(io(&root))?;
            let data = pg.data_dir.display().to_string();
            let log = pg.root.join("postgres.log").display().to_string();
            let opts = format!(
                "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories='' -c max_connections=200",
                pg.port
            );
            pg.run("pg_ctl", &["start", "-w", "-t", "60", "-D", &data, "-l", &log, "-o", &opts]).await?;
            pg.started_here = true;
            tracing::info!(port = pg.port, "embedded PostgreSQL started");
        }

        if fresh {
            let port = pg.port.to_string();
            pg.run("createdb", &["-h", "127.0.0.1", "-p", &port, "-U", SUPERUSER, DATABASE]).await?;
        }
        Ok(pg)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory the cluster lives in (see [`EmbeddedPostgres::start`]).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `postgres://countinghouse@127.0.0.1:<port>/countinghouse` (trust auth on loopback only).
    pub fn url(&self) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// Stops the server if this process started it (fast shutdown: clients disconnected, clean).
    pub async fn stop(self) -> Result<()> {
        if self.started_here {
            let data = self.data_dir.display().to_string();
            self.run("pg_ctl", &["stop", "-w", "-m", "fast", "-D", &data]).await?;
            tracing::info!("embedded PostgreSQL stopped");
        }
        Ok(())
    }

    /// The port of a server already running on this data directory, if any.
    async fn running_port(&self) -> Option<u16> {
        let data = self.data_dir.display().to_string();
        self.run("pg_ctl", &["status", "-D", &data]).await.ok()?;
        // postmaster.pid: line 4 is the port.
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    async fn run(&self, program: &str, args: &[&str]) -> Result<String> {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Some((uid, gid)) = self.run_as {
            // Our working directory may be one the postgres user cannot enter.
            cmd.uid(uid).gid(gid).current_dir(&self.root);
        }
        let command = format!("{program} {}", args.join(" "));
        let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
            .await
            .map_err(|_| EmbeddedPgError::Command {
                command: command.clone(),
                status: "timed out".into(),
                stderr: String::new(),
            })?
            .map_err(|source| EmbeddedPgError::Io { path: self.bin_dir.join(program), source })?;
        if !out.status.success() {
            return Err(EmbeddedPgError::Command {
                command,
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// `PG_BIN_DIR`, else the newest `/usr/lib/postgresql/<v>/bin` (Debian), else `initdb` on PATH.
pub fn find_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR").map(PathBuf::from) {
        return dir.join("initdb").exists().then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
    })
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        (f.next()? == "postgres").then(|| {
            let _pw = f.next()?;
            Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
        })?
    })
}

/// Where, as root, a cluster lives whose asked-for directory the `postgres` user cannot enter.
pub const ROOT_FALLBACK: &str = "/var/lib/countinghouse";

/// Whether `uid`/`gid` may pass through every directory from `/` down to `dir` (search permission).
fn enterable(dir: &Path, uid: u32, gid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(dir) = dir.canonicalize() else { return false };
    dir.ancestors().all(|d| {
        std::fs::metadata(d).is_ok_and(|m| {
            let mode = m.mode();
            if m.uid() == uid {
                mode & 0o100 != 0
            } else if m.gid() == gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        })
    })
}

/// A stable directory name for `path`: its last component and a short hash of the whole.
fn hashed_name(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(path.as_os_str().as_encoded_bytes());
    let last = path.parent().and_then(Path::file_name).and_then(|n| n.to_str()).unwrap_or("pg");
    format!("{last}-{}", hex::encode(&hash[..8]))
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn initialises_starts_reuses_and_stops_a_private_cluster() {
        if find_bin_dir().is_none() {
            panic!("PostgreSQL server binaries are required for this test (make test installs them)");
        }
        let root = std::env::temp_dir().join(format!("ch-embedded-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let first = EmbeddedPostgres::start(&root).await.expect("first start initialises");
        assert!(first.started_here);
        // A second start on the same directory finds it running and reuses it.
        let second = EmbeddedPostgres::start(&root).await.expect("second start reuses");
        assert!(!second.started_here);
        assert_eq!(second.port(), first.port());
        second.stop().await.unwrap();
        first.stop().await.unwrap();
        // Stopped cleanly: a third start starts it again, on an initialised directory.
        let third = EmbeddedPostgres::start(&root).await.expect("restart");
        assert!(third.started_here);
        third.stop().await.unwrap();
        let _ = std::fs::remove_dir_all(&root);
    }

    /// A state directory the `postgres` user cannot enter (as root: a `mktemp -d`, a clone under
    /// `/root`) still gets a working cluster, reused on the next start.
    #[tokio::test]
    async fn a_state_directory_postgres_cannot_enter_still_works() {
        use std::os::unix::fs::PermissionsExt;
        let parent = std::env::temp_dir().join(format!("ch-embedded-pg-closed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&parent);
        std::fs::create_dir_all(&parent).unwrap();
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o700)).unwrap();
        let root = parent.join("state").join("pg");
        let first = EmbeddedPostgres::start(&root).await.expect("starts despite the closed directory");
        if running_as_root() {
            assert!(first.root().starts_with(ROOT_FALLBACK), "{}", first.root().display());
        } else {
            assert_eq!(first.root(), root.as_path());
        }
        let again = EmbeddedPostgres::start(&root).await.expect("reuses it");
        assert_eq!(again.root(), first.root());
        assert_eq!(again.port(), first.port());
        let fallback = first.root().to_owned();
        again.stop().await.unwrap();
        first.stop().await.unwrap();
        if fallback != root {
            let _ = std::fs::remove_dir_all(&fallback);
        }
        let _ = std::fs::remove_dir_all(&parent);
    }
}
