//! An SMTP sink: a real SMTP server on `127.0.0.1:0` that accepts every message and keeps it in
//! memory, so a test proves mail really crosses the wire (the mailer's SMTP client, dot-stuffing
//! and all) and reads what arrived.
//!
//! Why hand-written: a test needs a dozen verbs of RFC 5321 (greeting, EHLO/HELO, MAIL, RCPT,
//! DATA, RSET, NOOP, QUIT), messages kept in the test's own memory, waiting on a count rather than
//! on time, and a fault mode (refuse the first messages with `451`, as a busy relay does) to prove
//! the queue retries. That is about a hundred lines on Tokio, which the tests already run; no
//! crate in our dependency tree serves SMTP, and none we could add offers the fault mode. It
//! speaks plain SMTP only (no STARTTLS, no AUTH): the mailer's TLS is lettre's, not ours to test.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// One message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message (headers and body), dot-stuffing undone, CRLF line ends.
    pub data: String,
}

struct Shared {
    received: Mutex<Vec<Received>>,
    /// Messages still to refuse with `451` at the end of DATA.
    refuse: Mutex<usize>,
    arrived: Notify,
}

pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// A sink that accepts every message.
    pub async fn start() -> SmtpSink {
        SmtpSink::refusing_first(0).await
    }

    /// A sink that answers `451` (try again later) to the first `n` messages, then accepts.
    pub async fn refusing_first(n: usize) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let addr = listener.local_addr().expect("bound address");
        let shared = Arc::new(Shared {
            received: Mutex::new(Vec::new()),
            refuse: Mutex::new(n),
            arrived: Notify::new(),
        });
        let for_task = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = for_task.clone();
                tokio::spawn(async move {
                    let _ = session(stream, &shared).await;
                });
            }
        });
        SmtpSink { addr, shared, task }
    }

    /// `smtp://127.0.0.1:<port>`, for `[mail] smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The messages accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("not poisoned").clone()
    }

    /// Waits until `n` messages were accepted (panics after a minute without them).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let wait = async {
            loop {
                let notified = self.shared.arrived.notified();
                let got = self.received();
                if got.len() >= n {
                    return got;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .unwrap_or_else(|_| panic!("the SMTP sink did not receive {n} message(s): {:?}", self.received()))
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The address inside `MAIL FROM:<a> …` / `RCPT TO:<a>`.
fn path_of(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

async fn session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 countinghouse-test-sink ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end();
        let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-countinghouse-test-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 countinghouse-test-sink\r\n",
            "MAIL" => {
                from = path_of(command.split_once(':').map_or("", |(_, a)| a));
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                to.push(path_of(command.split_once(':').map_or("", |(_, a)| a)));
                b"250 OK\r\n"
            }
            "DATA" if to.is_empty() => b"503 RCPT first\r\n",
            "DATA" => {
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let refused = {
                    let mut refuse = shared.refuse.lock().expect("not poisoned");
                    let refused = *refuse > 0;
                    *refuse = refuse.saturating_sub(1);
                    refused
                };
                if refused {
                    b"451 4.3.0 Busy, try again later\r\n"
                } else {
                    let message = Received { from: from.clone(), to: std::mem::take(&mut to), data };
                    shared.received.lock().expect("not poisoned").push(message);
                    shared.arrived.notify_waiters();
                    b"250 OK queued\r\n"
                }
            }
            "RSET" => {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}
