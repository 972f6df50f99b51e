//! Whether a list function runs its query or `EXPLAIN`s it (for the `plans` module): one builder
//! per list, so the plan checked is the plan of the query the API runs.

use sqlx::{Postgres, QueryBuilder};

/// Run a query, or explain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Run,
    Explain,
}

impl Mode {
    pub(crate) fn builder(self, sql: &str) -> QueryBuilder<Postgres> {
        let mut qb = QueryBuilder::new(match self {
            Mode::Run => "",
            Mode::Explain => "explain (format json) ",
        });
        qb.push(sql);
        qb
    }
}
