//! Reading every entity of a kind by `STARTPOSITION` / `MAXRESULTS` paging.
//!
//! [`EntityPager`] asks for `SELECT * FROM <kind> [WHERE Active IN (true,false)] ORDERBY Id
//! STARTPOSITION n MAXRESULTS 1000` from n = 1, and stops at the first page shorter than asked.
//! Its [`EntityPager::position`] is the checkpoint to persist after storing a page; a pager built
//! with [`EntityPager::resume_at`] continues from there.
//!
//! Positions shift when a transaction is hard-deleted during the read (everything after it moves
//! up one), which would skip a record. So for transactions each page starts `overlap` positions
//! before the previous page's end, and records the previous page already yielded are dropped:
//! up to `overlap` deletions between two pages lose nothing. Name lists are never hard-deleted,
//! so they page without overlap.

use std::collections::HashSet;

use crate::client::CompanyClient;
use crate::entity::EntityKind;
use crate::error::QboError;
use crate::query::{MAX_RESULTS, Query};
use crate::response::QueryPage;

/// Pages through every entity of one kind (see the module doc).
#[derive(Clone, Debug)]
pub struct EntityPager {
    kind: EntityKind,
    base: Query,
    page_size: u32,
    overlap: u32,
    next: Option<u64>,
    previous_page: HashSet<String>,
}

impl EntityPager {
    /// Every entity of `kind`, inactive ones included.
    pub fn new(kind: EntityKind) -> EntityPager {
        EntityPager::over(Query::select(kind).include_inactive())
    }

    /// Every entity matching `query` (its conditions; ordering and paging are the pager's), for
    /// example a `MetaData.LastUpdatedTime` window when CDC cannot be used.
    pub fn over(query: Query) -> EntityPager {
        let kind = query.kind();
        EntityPager {
            kind,
            base: query,
            page_size: MAX_RESULTS,
            overlap: if kind.is_transaction() { 10 } else { 0 },
            next: Some(1),
            previous_page: HashSet::new(),
        }
    }

    /// Continues a read whose last stored [`EntityPager::position`] was `position`.
    pub fn resume_at(mut self, position: u64) -> EntityPager {
        self.next = Some(position.max(1));
        self
    }

    /// Page size (1..=1000; tests use small pages).
    pub fn page_size(mut self, size: u32) -> EntityPager {
        self.page_size = size.clamp(1, MAX_RESULTS);
        self.overlap = self.overlap.min(self.page_size / 2);
        self
    }

    pub fn kind(&self) -> EntityKind {
        self.kind
    }

    /// Where the next page starts; `None` once everything was read. Persist it after storing a
    /// page to resume an interrupted read.
    pub fn position(&self) -> Option<u64> {
        self.next
    }

    /// The next page's new records, or `None` when done. A page may hold fewer records than
    /// asked (overlap removed) and still not be the last.
    pub async fn next_page(&mut self, company: &CompanyClient) -> Result<Option<QueryPage>, QboError> {
        let Some(start) = self.next else { return Ok(None) };
        // After a resume the previous page is unknown, so the overlap may repeat a few records
        // already stored: harmless for idempotent upserts, and it still covers deletions.
        let asked_from = start.saturating_sub(self.overlap as u64).max(1);
        let query =
            self.base.clone().order_by("Id", false).start_position(asked_from).max_results(self.page_size);
        let mut page = company.query(&query).await?;
        let returned = page.records.len() as u64;
        let last = page.is_last();
        let ids: HashSet<String> = page.records.iter().map(|r| r.header.id.clone()).collect();
        page.records.retain(|r| !self.previous_page.contains(r.id()));
        self.previous_page = ids;
        self.next = if last { None } else { Some(asked_from + returned) };
        Ok(Some(page))
    }
}
