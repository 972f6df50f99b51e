//! Outgoing mail: a [`Message`] (to, subject, plain text) delivered over SMTP, or, where no SMTP
//! relay is configured (the demo's default), written to a file outbox as `<outbox>/<id>.eml` for
//! a person to open.
//!
//! # Layout
//! - [`Mailer`]: the transport, built from [`MailConfig`] (`[mail] smtp_url`, `from`).
//! - [`enqueue`] (in `job`): a mail is sent by the durable job `mail.send` on the PostgreSQL queue,
//!   enqueued **in the caller's transaction**, so a mail exists if and only if the business write
//!   that asked for it committed, and survives restarts until delivered. [`register`] adds the
//!   kind to a worker's registry.
//!
//! # Guarantees
//! - **Never lost:** the job is retried with backoff until the relay accepts it (a permanent
//!   refusal, 5xx, is a dead job the operator sees in `/v1/admin/jobs`).
//! - **Not duplicated:** each mail has an id fixed at enqueue time. The outbox writes
//!   `<id>.eml` by rename, so a retry replaces the same file. Over SMTP the delivery is recorded
//!   as the job's checkpoint right after the relay's `250`, so a retry after a failed completion
//!   does not send again; the one window left (a crash between the `250` and that write) resends
//!   the same `Message-ID`, which receivers treat as one message.
//! - **No secrets at rest in the queue:** the body (a reset link is a credential) is sealed with
//!   the key ring (`vault`) in the job's payload, which the platform's job list shows.

mod job;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MessageBuilder};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

pub use job::{KIND, MailJob, QUEUE, SendMail, enqueue, register};

/// One plain-text mail to one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// A mail's id: fixed when it is enqueued, it names the outbox file and the `Message-ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MailId(pub uuid::Uuid);

impl MailId {
    pub fn new() -> MailId {
        MailId(uuid::Uuid::now_v7())
    }
}

impl Default for MailId {
    fn default() -> Self {
        MailId::new()
    }
}

impl std::fmt::Display for MailId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("`{0}` is not a mail address")]
    Address(String),
    #[error("the message cannot be built: {0}")]
    Build(String),
    /// The relay refused the message for good (5xx): retrying cannot help.
    #[error("the SMTP relay refused the message: {0}")]
    Refused(String),
    /// The relay could not be reached, timed out or answered 4xx: try again later.
    #[error("SMTP delivery failed: {0}")]
    Transient(String),
    #[error("writing the outbox: {0}")]
    Io(#[from] std::io::Error),
    #[error("[mail] smtp_url: {0}")]
    Config(String),
    #[error("the sealed mail body cannot be opened: {0}")]
    Sealed(String),
    #[error(transparent)]
    Queue(#[from] jobs::JobsError),
}

/// `[mail]`: where mail goes. No `smtp_url`: into the outbox directory.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://[user:password@]host[:port]` (plain), `smtp://…?tls=required` (STARTTLS) or
    /// `smtps://…` (TLS; both need the `rustls` feature).
    pub smtp_url: Option<String>,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    /// Where mail is written when there is no SMTP relay.
    pub outbox: PathBuf,
}

/// Where a mailer delivers.
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

/// Sends [`Message`]s. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    from: Mailbox,
    transport: Transport,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match &self.inner.transport {
            Transport::Smtp(_) => "smtp".to_owned(),
            Transport::Outbox(dir) => format!("outbox {}", dir.display()),
        };
        f.debug_struct("Mailer")
            .field("from", &self.inner.from.to_string())
            .field("transport", &transport)
            .finish()
    }
}

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

impl Mailer {
    /// SMTP when `smtp_url` is set, else the outbox.
    pub fn from_config(config: &MailConfig) -> Result<Mailer, MailError> {
        match &config.smtp_url {
            Some(url) => Mailer::smtp(url, &config.from),
            None => Mailer::outbox(&config.outbox, &config.from),
        }
    }

    /// Delivers through the SMTP relay at `url`.
    pub fn smtp(url: &str, from: &str) -> Result<Mailer, MailError> {
        let transport = smtp_builder(url)?.timeout(Some(SMTP_TIMEOUT)).build();
        Ok(Mailer { inner: Arc::new(Inner { from: mailbox(from)?, transport: Transport::Smtp(transport) }) })
    }

    /// Writes each mail to `dir/<id>.eml` (created if missing).
    pub fn outbox(dir: &Path, from: &str) -> Result<Mailer, MailError> {
        Ok(Mailer {
            inner: Arc::new(Inner { from: mailbox(from)?, transport: Transport::Outbox(dir.to_owned()) }),
        })
    }

    /// The outbox directory, when this mailer writes files.
    pub fn outbox_dir(&self) -> Option<&Path> {
        match &self.inner.transport {
            Transport::Outbox(dir) => Some(dir),
            Transport::Smtp(_) => None,
        }
    }

    /// The message as it goes on the wire (RFC 5322, UTF-8 text).
    pub fn render(&self, id: MailId, message: &Message) -> Result<lettre::Message, MailError> {
        let domain = self.inner.from.email.domain().to_owned();
        MessageBuilder::new()
            .message_id(Some(format!("<{id}@{domain}>")))
            .from(self.inner.from.clone())
            .to(mailbox(&message.to)?)
            .subject(message.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(body(&message.text))
            .map_err(|e| MailError::Build(e.to_string()))
    }

    /// Delivers `message` once more under `id` (same file, same `Message-ID`).
    pub async fn send(&self, id: MailId, message: &Message) -> Result<(), MailError> {
        let email = self.render(id, message)?;
        match &self.inner.transport {
            Transport::Smtp(smtp) => match smtp.send(email).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(MailError::Refused(e.to_string())),
                Err(e) => Err(MailError::Transient(e.to_string())),
            },
            Transport::Outbox(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let tmp = dir.join(format!(".{id}.eml.partial"));
                tokio::fs::write(&tmp, email.formatted()).await?;
                tokio::fs::rename(&tmp, dir.join(format!("{id}.eml"))).await?;
                Ok(())
            }
        }
    }
}

/// The transport for `smtp_url`: a plain `smtp://` relay here; TLS ones (`smtps://`,
/// `?tls=required|opportunistic`) through lettre's own URL support, which needs the `rustls` feature.
fn smtp_builder(url: &str) -> Result<AsyncSmtpTransportBuilder, MailError> {
    let parsed = url::Url::parse(url).map_err(|e| MailError::Config(format!("not a URL: {e}")))?;
    let tls = parsed.scheme() == "smtps" || parsed.query_pairs().any(|(k, _)| k == "tls");
    if tls {
        #[cfg(feature = "rustls")]
        return AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Config(e.to_string()));
        #[cfg(not(feature = "rustls"))]
        return Err(MailError::Config(
            "a TLS relay needs the binary built with TLS (countinghouse's `tls` feature)".to_owned(),
        ));
    }
    if parsed.scheme() != "smtp" {
        return Err(MailError::Config(format!("`{}` is not an SMTP scheme (smtp, smtps)", parsed.scheme())));
    }
    let host = parsed.host_str().ok_or_else(|| MailError::Config("no host".to_owned()))?;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(parsed.port().unwrap_or(lettre::transport::smtp::SMTP_PORT));
    if !parsed.username().is_empty() {
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        builder = builder.credentials(Credentials::new(
            decode(parsed.username()),
            decode(parsed.password().unwrap_or("")),
        ));
    }
    Ok(builder)
}

/// 7bit (ASCII) or 8bit (UTF-8) whenever every line fits SMTP's 998 octets, so a link stays one
/// unbroken line even in the raw `.eml` a person opens (lettre's chooser folds anything over 76
/// characters into quoted-printable, which breaks a link there); quoted-printable or base64 only
/// for text that cannot go as it is.
fn body(text: &str) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\r', "\n").replace('\n', "\r\n");
    let fits = !crlf.contains('\0') && crlf.split("\r\n").all(|line| line.len() <= 998);
    if !fits {
        return Body::new(text.to_owned());
    }
    let encoding =
        if crlf.is_ascii() { ContentTransferEncoding::SevenBit } else { ContentTransferEncoding::EightBit };
    Body::dangerous_pre_encoded(crlf.into_bytes(), encoding)
}

fn mailbox(s: &str) -> Result<Mailbox, MailError> {
    s.trim().parse().map_err(|_| MailError::Address(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_outbox_holds_one_file_per_mail_however_often_it_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::outbox(dir.path(), "Countinghouse <no-reply@example.com>").unwrap();
        let id = MailId::new();
        let m = Message {
            to: "ana@example.com".into(),
            subject: "Reset your password".into(),
            text: "Open https://example.com/reset-password?token=chr_x to choose a new one.".into(),
        };
        mailer.send(id, &m).await.unwrap();
        mailer.send(id, &m).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(files, vec![std::ffi::OsString::from(format!("{id}.eml"))]);
        let eml = std::fs::read_to_string(dir.path().join(format!("{id}.eml"))).unwrap();
        assert!(eml.contains("To: ana@example.com"), "{eml}");
        assert!(eml.contains(&format!("Message-ID: <{id}@example.com>")), "{eml}");
        assert!(eml.contains("Subject: Reset your password"), "{eml}");
        assert!(eml.contains("reset-password?token=chr_x"), "{eml}");
        // A long line (a link) is never folded.
        let long = format!("https://example.com/reset-password?token=chr_{}", "a".repeat(120));
        let m = Message { text: format!("Open:\n\n{long}\n\nThanks, José"), ..m };
        let eml = String::from_utf8(mailer.render(MailId::new(), &m).unwrap().formatted()).unwrap();
        assert!(eml.contains(&long), "{eml}");
    }

    #[test]
    fn bad_addresses_and_urls_are_refused_up_front() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Mailer::outbox(dir.path(), "not an address"), Err(MailError::Address(_))));
        let mailer = Mailer::outbox(dir.path(), "a@example.com").unwrap();
        let m = Message { to: "nobody".into(), subject: "s".into(), text: "t".into() };
        assert!(matches!(mailer.render(MailId::new(), &m), Err(MailError::Address(_))));
        assert!(matches!(Mailer::smtp("http://example.com", "a@example.com"), Err(MailError::Config(_))));
    }
}
