//! Kind name → handler, for the workers.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use resilience::Backoff;

use crate::{Job, JobContext, JobError};

/// A handler with its type erased: the payload arrives as JSON.
pub(crate) trait ErasedJob: Send + Sync {
    fn run(&self, ctx: JobContext, payload: serde_json::Value) -> BoxFuture<'static, Result<(), JobError>>;
    fn queue(&self) -> &'static str;
    fn timeout(&self) -> Duration;
    fn backoff(&self) -> Backoff;
}

struct Handler<J>(Arc<J>);

impl<J: Job> ErasedJob for Handler<J> {
    fn run(&self, ctx: JobContext, payload: serde_json::Value) -> BoxFuture<'static, Result<(), JobError>> {
        let job = self.0.clone();
        Box::pin(async move {
            let payload: J::Payload = serde_json::from_value(payload)
                .map_err(|e| JobError::fatal(format!("payload of {} does not parse: {e}", J::KIND)))?;
            job.run(ctx, payload).await
        })
    }

    fn queue(&self) -> &'static str {
        J::QUEUE
    }

    fn timeout(&self) -> Duration {
        J::TIMEOUT
    }

    fn backoff(&self) -> Backoff {
        J::BACKOFF
    }
}

/// The job kinds a worker runs. Each feature crate registers its kinds at startup.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<&'static str, Arc<dyn ErasedJob>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("kinds", &self.kinds()).finish()
    }
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds kind `J` with `handler` as its state. A second registration of the same kind
    /// replaces the first (so tests can swap a handler).
    pub fn register<J: Job>(&mut self, handler: J) -> &mut Registry {
        self.handlers.insert(J::KIND, Arc::new(Handler(Arc::new(handler))));
        self
    }

    /// The kinds registered, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<_> = self.handlers.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }

    /// The queues the registered kinds use.
    pub fn queues(&self) -> BTreeSet<&'static str> {
        self.handlers.values().map(|h| h.queue()).collect()
    }

    pub(crate) fn get(&self, kind: &str) -> Option<&Arc<dyn ErasedJob>> {
        self.handlers.get(kind)
    }
}
