//! LISTEN/NOTIFY: enqueues, rescues and limited completions NOTIFY [`crate::CHANNEL`] with the
//! queue's name; this wakes that queue's fetcher at once. Polling covers a lost connection (and
//! reconnecting is retried every second).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, watch};

use super::Shared;

pub(super) async fn run(
    shared: Arc<Shared>,
    wakeups: HashMap<String, Arc<Notify>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let listener = async {
            let mut l = PgListener::connect_with(&shared.control).await?;
            l.listen(crate::CHANNEL).await?;
            Ok::<_, sqlx::Error>(l)
        };
        let mut listener = tokio::select! {
            l = listener => match l {
                Ok(l) => l,
                Err(error) => {
                    tracing::warn!(error = %error, "LISTEN failed; polling until it works again");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = stop.changed() => return,
                    }
                }
            },
            _ = stop.changed() => return,
        };
        // A wake-up may have been missed while not listening.
        for w in wakeups.values() {
            w.notify_one();
        }
        loop {
            tokio::select! {
                n = listener.try_recv() => match n {
                    Ok(Some(n)) => {
                        if let Some(w) = wakeups.get(n.payload()) {
                            w.notify_one();
                        }
                    }
                    Ok(None) => {
                        tracing::warn!("LISTEN connection lost; reconnecting");
                        break;
                    }
                    Err(error) => {
                        tracing::warn!(error = %error, "LISTEN failed; reconnecting");
                        break;
                    }
                },
                _ = stop.changed() => return,
            }
        }
    }
}
