//! The job `mail.send`: one mail, sealed in its payload, delivered by whichever worker claims it.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jobs::{Job, JobContext, JobError, NewJob, Registry};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use vault::KeyRing;

use crate::{MailError, MailId, Mailer, Message};

pub const KIND: &str = "mail.send";
pub const QUEUE: &str = "mail";

/// The payload: the mail's id and the whole [`Message`] sealed with the key ring (bound to the id),
/// so neither the address nor a link in the text is readable in the queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailJob {
    pub id: MailId,
    /// base64 of `KeyRing::seal(json(message), "mail:<id>")`.
    pub sealed: String,
}

fn aad(id: MailId) -> String {
    format!("mail:{id}")
}

impl MailJob {
    pub fn seal(keys: &KeyRing, id: MailId, message: &Message) -> MailJob {
        let json = serde_json_bytes(message);
        MailJob { id, sealed: STANDARD.encode(keys.seal(&json, aad(id).as_bytes())) }
    }

    pub fn open(&self, keys: &KeyRing) -> Result<Message, MailError> {
        let sealed = STANDARD.decode(&self.sealed).map_err(|e| MailError::Sealed(e.to_string()))?;
        let json =
            keys.open(&sealed, aad(self.id).as_bytes()).map_err(|e| MailError::Sealed(e.to_string()))?;
        serde_json::from_slice(&json).map_err(|e| MailError::Sealed(e.to_string()))
    }
}

fn serde_json_bytes(message: &Message) -> Vec<u8> {
    serde_json::to_vec(message).expect("a message of strings serializes")
}

/// Enqueues `message` in the caller's transaction (pass `tenant_tx.conn()`): it is sent if and
/// only if that transaction commits. The recipient is checked here, so a bad address fails the
/// request that asked for the mail rather than a job later.
pub async fn enqueue(
    conn: &mut PgConnection,
    keys: &KeyRing,
    message: &Message,
) -> Result<MailId, MailError> {
    message
        .to
        .trim()
        .parse::<lettre::message::Mailbox>()
        .map_err(|_| MailError::Address(message.to.clone()))?;
    let id = MailId::new();
    jobs::enqueue(conn, NewJob::<SendMail>::new(MailJob::seal(keys, id, message))).await?;
    Ok(id)
}

/// The handler: opens the payload and delivers through the process's [`Mailer`].
pub struct SendMail {
    pub mailer: Mailer,
    pub keys: KeyRing,
}

/// Adds `mail.send` to a worker's kinds.
pub fn register(registry: &mut Registry, mailer: Mailer, keys: KeyRing) {
    registry.register(SendMail { mailer, keys });
}

impl Job for SendMail {
    const KIND: &'static str = KIND;
    const QUEUE: &'static str = QUEUE;
    /// About a day of retries with the default backoff (2 s doubling to an hour).
    const MAX_ATTEMPTS: i32 = 30;
    const TIMEOUT: Duration = Duration::from_secs(120);
    type Payload = MailJob;

    async fn run(&self, ctx: JobContext, job: MailJob) -> Result<(), JobError> {
        // A payload that does not open (a key removed from the ring) will never open: dead now.
        let message = job.open(&self.keys).map_err(JobError::fatal)?;
        // Recorded once delivered: an attempt after a failed completion does not send again.
        ctx.step("delivered", || async {
            match self.mailer.send(job.id, &message).await {
                Ok(()) => {
                    tracing::info!(mail.id = %job.id, job.id = %ctx.id(), "mail delivered");
                    Ok(true)
                }
                Err(e @ (MailError::Refused(_) | MailError::Address(_) | MailError::Build(_))) => {
                    Err(JobError::fatal(e))
                }
                Err(e) => Err(JobError::retry(e)),
            }
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_hides_the_message_and_opens_only_under_its_own_id() {
        let keys = KeyRing::parse(&[KeyRing::generate_key_spec(1)]).unwrap();
        let m =
            Message { to: "ana@example.com".into(), subject: "s".into(), text: "token chr_secret".into() };
        let id = MailId::new();
        let job = MailJob::seal(&keys, id, &m);
        let shown = serde_json::to_string(&job).unwrap();
        assert!(!shown.contains("ana@example.com") && !shown.contains("chr_secret"), "{shown}");
        assert_eq!(job.open(&keys).unwrap(), m);
        let moved = MailJob { id: MailId::new(), sealed: job.sealed.clone() };
        assert!(matches!(moved.open(&keys), Err(MailError::Sealed(_))));
    }
}
