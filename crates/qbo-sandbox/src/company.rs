//! One company's books: records by type and id, tombstones of hard-deleted transactions, and
//! "changes over time" (creates, edits, deactivations, deletes with new SyncTokens and
//! LastUpdatedTimes) that CDC and `MetaData.LastUpdatedTime` queries then reveal.
//!
//! Ids are numbered per entity type from 1, as QuickBooks does, so an invoice and a customer can
//! share an id: a mirror must key by (type, id).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use crate::clock::Clock;
use crate::config::CompanySpec;
use crate::generate::{self, Books, ChartRoles};
use crate::model::{Body, EntityType, LinkedTxn, Stored, company_offset};

/// A hard-deleted transaction, reported by CDC as `{"Id", "status": "Deleted", ...}`.
#[derive(Clone, Debug)]
pub struct Tombstone {
    pub entity: EntityType,
    pub id: u64,
    pub deleted_at: DateTime<Utc>,
}

/// What a change did to one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeOperation {
    Create,
    Update,
    /// A name-list entity made inactive: QuickBooks' delete for customers, vendors, items, accounts.
    Deactivate,
    /// A transaction removed for good; only CDC (as a tombstone) reveals it.
    Delete,
}

/// One record's net change in a batch of [`Company::apply_random_changes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedChange {
    pub entity: EntityType,
    pub id: String,
    pub operation: ChangeOperation,
    /// The record's SyncToken after the batch (for `Delete`, the last one it had).
    pub sync_token: u64,
    /// When the record last changed (its `MetaData.LastUpdatedTime`, or the deletion time).
    pub at: DateTime<Utc>,
}

/// Every record a batch touched, including side effects (a new payment also updates the invoice
/// it pays), each once with its final state.
#[derive(Clone, Debug, Default)]
pub struct ChangeSummary {
    pub changes: Vec<AppliedChange>,
}

pub struct Company {
    info: Stored,
    tables: BTreeMap<EntityType, BTreeMap<u64, Stored>>,
    tombstones: Vec<Tombstone>,
    next_id: BTreeMap<EntityType, u64>,
    roles: ChartRoles,
    revisions: u64,
}

impl Company {
    /// Generates the company `spec` describes, its history ending at `as_of`.
    pub fn generate(spec: &CompanySpec, as_of: DateTime<Utc>) -> Company {
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let started = as_of - Duration::days(3 * 365);
        let info = generate::company_info(&mut rng, &spec.name, as_of);
        let mut company = Company {
            info: Stored {
                id: 1,
                sync_token: 0,
                created: started,
                updated: started,
                body: Body::CompanyInfo(info),
            },
            tables: EntityType::LISTED.iter().map(|t| (*t, BTreeMap::new())).collect(),
            tombstones: Vec::new(),
            next_id: BTreeMap::new(),
            roles: ChartRoles::default(),
            revisions: 0,
        };
        // Each type's records are spread over the last two years in id order; half were edited
        // within ten days of creation.
        let history_start = as_of - Duration::days(730);
        let span_ms = Duration::days(729).num_milliseconds();
        for (entity, count) in generate::plan(spec.entities) {
            for i in 0..count as i64 {
                let slot = span_ms / count as i64;
                let created = history_start
                    + Duration::milliseconds(span_ms * i / count as i64 + rng.random_range(0..slot.max(1)));
                let updated = if rng.random_bool(0.5) {
                    created
                } else {
                    (created
                        + Duration::milliseconds(rng.random_range(0..Duration::days(10).num_milliseconds())))
                    .min(as_of - Duration::minutes(1))
                };
                let sync_token = rng.random_range(0..4);
                company.create(entity, &mut rng, created, Some(updated), sync_token, None);
            }
        }
        company.settle_name_list_balances();
        company
    }

    pub fn info(&self) -> &Stored {
        &self.info
    }

    /// Records of one type in id order (`CompanyInfo` yields its one record).
    pub fn records(&self, entity: EntityType) -> Box<dyn DoubleEndedIterator<Item = &Stored> + '_> {
        match self.tables.get(&entity) {
            Some(table) => Box::new(table.values()),
            None => Box::new(std::iter::once(&self.info)),
        }
    }

    pub fn get(&self, entity: EntityType, id: u64) -> Option<&Stored> {
        match entity {
            EntityType::CompanyInfo => (id == self.info.id).then_some(&self.info),
            _ => self.tables.get(&entity)?.get(&id),
        }
    }

    pub fn count(&self, entity: EntityType) -> usize {
        self.tables.get(&entity).map_or(1, BTreeMap::len)
    }

    /// Records of `entity` changed at or after `since`, oldest change first, and the deletions
    /// since then.
    pub fn changed_since(&self, entity: EntityType, since: DateTime<Utc>) -> (Vec<&Stored>, Vec<&Tombstone>) {
        let mut changed: Vec<&Stored> = self.records(entity).filter(|r| r.updated >= since).collect();
        changed.sort_by_key(|r| (r.updated, r.id));
        let deleted =
            self.tombstones.iter().filter(|t| t.entity == entity && t.deleted_at >= since).collect();
        (changed, deleted)
    }

    fn allocate_id(&mut self, entity: EntityType) -> u64 {
        let next = self.next_id.entry(entity).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }

    /// Builds and stores a new record; payments and bill payments also settle what they pay
    /// (recorded in `touched` when given). Returns the new id.
    fn create(
        &mut self,
        entity: EntityType,
        rng: &mut ChaCha8Rng,
        created: DateTime<Utc>,
        updated: Option<DateTime<Utc>>,
        sync_token: u64,
        mut touched: Option<&mut BTreeMap<(EntityType, u64), AppliedChange>>,
    ) -> u64 {
        let id = self.allocate_id(entity);
        let date: NaiveDate = created.with_timezone(&company_offset()).date_naive();
        let body = match entity {
            EntityType::CompanyInfo => unreachable!("CompanyInfo is not created"),
            EntityType::Account => {
                let index = (id - 1) as usize;
                Body::Account(generate::account(rng, index, &mut self.roles, id))
            }
            EntityType::Customer => Body::Customer(generate::customer(rng, id)),
            EntityType::Vendor => Body::Vendor(generate::vendor(rng, id)),
            EntityType::Item => Body::Item(generate::item(rng, id, self)),
            EntityType::Invoice => Body::Invoice(generate::invoice(rng, id, date, self)),
            EntityType::Bill => Body::Bill(generate::bill(rng, id, date, self)),
            EntityType::Purchase => Body::Purchase(generate::purchase(rng, id, date, self)),
            EntityType::JournalEntry => Body::JournalEntry(generate::journal_entry(rng, id, date, self)),
            EntityType::Deposit => Body::Deposit(generate::deposit(rng, date, self)),
            EntityType::Payment => {
                let (payment, applied) = generate::payment(rng, id, date, self);
                if let Some((invoice, amount)) = applied {
                    let link = LinkedTxn { txn_id: id.to_string(), txn_type: "Payment" };
                    self.settle(EntityType::Invoice, invoice, amount, link, created, touched.as_deref_mut());
                }
                Body::Payment(payment)
            }
            EntityType::BillPayment => {
                let (payment, applied) = generate::bill_payment(rng, id, date, self);
                if let Some((bill, amount)) = applied {
                    let link = LinkedTxn { txn_id: id.to_string(), txn_type: "BillPayment" };
                    self.settle(EntityType::Bill, bill, amount, link, created, touched.as_deref_mut());
                }
                Body::BillPayment(payment)
            }
        };
        let updated = updated.unwrap_or(created);
        self.tables.entry(entity).or_default().insert(id, Stored { id, sync_token, created, updated, body });
        if let Some(touched) = touched {
            note(touched, entity, id, ChangeOperation::Create, sync_token, created);
        }
        id
    }

    /// Lowers an invoice's or bill's balance by a payment and links the payment to it.
    fn settle(
        &mut self,
        entity: EntityType,
        id: u64,
        amount: Decimal,
        link: LinkedTxn,
        at: DateTime<Utc>,
        touched: Option<&mut BTreeMap<(EntityType, u64), AppliedChange>>,
    ) {
        let Some(record) = self.tables.get_mut(&entity).and_then(|t| t.get_mut(&id)) else { return };
        match &mut record.body {
            Body::Invoice(invoice) => {
                invoice.balance = (invoice.balance - amount).max(Decimal::ZERO);
                invoice.linked_txn.push(link);
            }
            Body::Bill(bill) => {
                bill.balance = (bill.balance - amount).max(Decimal::ZERO);
                bill.linked_txn.push(link);
            }
            _ => return,
        }
        record.sync_token += 1;
        record.updated = record.updated.max(at);
        if let Some(touched) = touched {
            note(touched, entity, id, ChangeOperation::Update, record.sync_token, record.updated);
        }
    }

    /// Undoes [`Company::settle`] when the payment is deleted.
    fn unsettle(
        &mut self,
        payment: &Body,
        payment_id: u64,
        at: DateTime<Utc>,
        touched: &mut BTreeMap<(EntityType, u64), AppliedChange>,
    ) {
        let (entity, lines) = match payment {
            Body::Payment(p) => (EntityType::Invoice, &p.line),
            Body::BillPayment(p) => (EntityType::Bill, &p.line),
            _ => return,
        };
        for line in lines {
            for linked in &line.linked_txn {
                let Ok(id) = linked.txn_id.parse::<u64>() else { continue };
                let Some(record) = self.tables.get_mut(&entity).and_then(|t| t.get_mut(&id)) else {
                    continue;
                };
                let payment_id = payment_id.to_string();
                match &mut record.body {
                    Body::Invoice(i) => {
                        i.balance = (i.balance + line.amount).min(i.total_amt);
                        i.linked_txn.retain(|l| l.txn_id != payment_id);
                    }
                    Body::Bill(b) => {
                        b.balance = (b.balance + line.amount).min(b.total_amt);
                        b.linked_txn.retain(|l| l.txn_id != payment_id);
                    }
                    _ => continue,
                }
                record.sync_token += 1;
                record.updated = at;
                note(touched, entity, id, ChangeOperation::Update, record.sync_token, at);
            }
        }
    }

    /// Customer and vendor balances are what they owe / are owed on open invoices and bills.
    fn settle_name_list_balances(&mut self) {
        let mut owed: BTreeMap<(EntityType, String), Decimal> = BTreeMap::new();
        for record in self.records(EntityType::Invoice) {
            if let Body::Invoice(i) = &record.body {
                *owed.entry((EntityType::Customer, i.customer_ref.value.clone())).or_default() += i.balance;
            }
        }
        for record in self.records(EntityType::Bill) {
            if let Body::Bill(b) = &record.body {
                *owed.entry((EntityType::Vendor, b.vendor_ref.value.clone())).or_default() += b.balance;
            }
        }
        for ((entity, id), balance) in owed {
            let Ok(id) = id.parse::<u64>() else { continue };
            match self.tables.get_mut(&entity).and_then(|t| t.get_mut(&id)).map(|r| &mut r.body) {
                Some(Body::Customer(c)) => {
                    c.balance = balance;
                    c.balance_with_jobs = balance;
                }
                Some(Body::Vendor(v)) => v.balance = balance,
                _ => {}
            }
        }
    }

    /// Applies `count` random changes, each to a different record: about 60 % edits, 25 %
    /// creates and 15 % deletes (a deactivation for name-list entities, a hard delete with a
    /// tombstone for transactions). Every change gets its own, later, time from `clock`.
    pub fn apply_random_changes(&mut self, count: usize, seed: u64, clock: &Clock) -> ChangeSummary {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut touched: BTreeMap<(EntityType, u64), AppliedChange> = BTreeMap::new();
        let mut chosen: BTreeSet<(EntityType, u64)> = BTreeSet::new();
        let total_weight: u32 = generate::MIX.iter().map(|(_, w)| w).sum();
        let mut applied = 0;
        let mut attempts = 0;
        while applied < count && attempts < count * 20 + 100 {
            attempts += 1;
            let roll = rng.random_range(0..100);
            if roll < 25 {
                let mut pick = rng.random_range(0..total_weight);
                let entity = generate::MIX
                    .iter()
                    .find(|(_, w)| {
                        let hit = pick < *w;
                        pick = pick.saturating_sub(*w);
                        hit
                    })
                    .map_or(EntityType::Customer, |(t, _)| *t);
                let now = clock.now();
                let id = self.create(entity, &mut rng, now, None, 0, Some(&mut touched));
                chosen.insert((entity, id));
                applied += 1;
                continue;
            }
            let Some((entity, id)) = self.random_record(&mut rng) else { break };
            if !chosen.insert((entity, id)) {
                continue;
            }
            let now = clock.now();
            let delete = roll >= 85;
            if delete && entity.is_name_list() {
                self.deactivate_or_revise(entity, id, &mut rng, now, &mut touched);
            } else if delete && self.deletable(entity, id) {
                self.delete(entity, id, now, &mut touched);
            } else {
                self.revise(entity, id, &mut rng, now, &mut touched);
            }
            applied += 1;
        }
        ChangeSummary { changes: touched.into_values().collect() }
    }

    /// A random record, types weighted by how many records they hold.
    fn random_record(&self, rng: &mut ChaCha8Rng) -> Option<(EntityType, u64)> {
        let total: usize = self.tables.values().map(BTreeMap::len).sum();
        if total == 0 {
            return None;
        }
        let mut n = rng.random_range(0..total);
        for (entity, table) in &self.tables {
            if n < table.len() {
                return self.pick(*entity, rng).map(|r| (*entity, r.id));
            }
            n -= table.len();
        }
        None
    }

    /// Invoices and bills that payments point at stay (QuickBooks refuses to delete them).
    fn deletable(&self, entity: EntityType, id: u64) -> bool {
        match self.get(entity, id).map(|r| &r.body) {
            Some(Body::Invoice(i)) => i.linked_txn.is_empty(),
            Some(Body::Bill(b)) => b.linked_txn.is_empty(),
            Some(_) => true,
            None => false,
        }
    }

    fn revise(
        &mut self,
        entity: EntityType,
        id: u64,
        rng: &mut ChaCha8Rng,
        now: DateTime<Utc>,
        touched: &mut BTreeMap<(EntityType, u64), AppliedChange>,
    ) {
        self.revisions += 1;
        let revision = self.revisions;
        let Some(record) = self.tables.get_mut(&entity).and_then(|t| t.get_mut(&id)) else { return };
        generate::revise(rng, &mut record.body, revision);
        record.sync_token += 1;
        record.updated = now;
        note(touched, entity, id, ChangeOperation::Update, record.sync_token, now);
    }

    fn deactivate_or_revise(
        &mut self,
        entity: EntityType,
        id: u64,
        rng: &mut ChaCha8Rng,
        now: DateTime<Utc>,
        touched: &mut BTreeMap<(EntityType, u64), AppliedChange>,
    ) {
        let Some(record) = self.tables.get_mut(&entity).and_then(|t| t.get_mut(&id)) else { return };
        let active = match &mut record.body {
            Body::Account(a) => &mut a.active,
            Body::Customer(c) => &mut c.active,
            Body::Vendor(v) => &mut v.active,
            Body::Item(i) => &mut i.active,
            _ => return,
        };
        if !*active {
            return self.revise(entity, id, rng, now, touched);
        }
        *active = false;
        record.sync_token += 1;
        record.updated = now;
        note(touched, entity, id, ChangeOperation::Deactivate, record.sync_token, now);
    }

    fn delete(
        &mut self,
        entity: EntityType,
        id: u64,
        now: DateTime<Utc>,
        touched: &mut BTreeMap<(EntityType, u64), AppliedChange>,
    ) {
        let Some(record) = self.tables.get_mut(&entity).and_then(|t| t.remove(&id)) else { return };
        self.unsettle(&record.body, id, now, touched);
        self.tombstones.push(Tombstone { entity, id, deleted_at: now });
        note(touched, entity, id, ChangeOperation::Delete, record.sync_token, now);
    }
}

impl Books for Company {
    fn roles(&self) -> &ChartRoles {
        &self.roles
    }

    fn get(&self, entity: EntityType, id: u64) -> Option<&Stored> {
        Company::get(self, entity, id)
    }

    /// A random existing record of `entity` (ids are dense apart from deletions, so a few random
    /// probes nearly always hit).
    fn pick(&self, entity: EntityType, rng: &mut ChaCha8Rng) -> Option<&Stored> {
        let table = self.tables.get(&entity)?;
        let last = *table.keys().next_back()?;
        for _ in 0..8 {
            if let Some(record) = table.get(&rng.random_range(1..=last)) {
                return Some(record);
            }
        }
        table.values().next()
    }
}

/// Records a record's change in the batch; a record created in the batch stays "created".
fn note(
    touched: &mut BTreeMap<(EntityType, u64), AppliedChange>,
    entity: EntityType,
    id: u64,
    operation: ChangeOperation,
    sync_token: u64,
    at: DateTime<Utc>,
) {
    let entry = touched.entry((entity, id)).or_insert(AppliedChange {
        entity,
        id: id.to_string(),
        operation,
        sync_token,
        at,
    });
    entry.sync_token = sync_token;
    entry.at = at;
    if entry.operation != ChangeOperation::Create || operation == ChangeOperation::Delete {
        entry.operation = operation;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(entities: usize, seed: u64) -> CompanySpec {
        CompanySpec { entities, seed, ..CompanySpec::default() }
    }

    fn as_of() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).expect("valid")
    }

    fn dump(company: &Company) -> Vec<String> {
        EntityType::ALL.iter().flat_map(|t| company.records(*t).map(Stored::to_json)).collect()
    }

    #[test]
    fn generation_is_deterministic_and_sized() {
        let a = Company::generate(&spec(5_000, 7), as_of());
        let b = Company::generate(&spec(5_000, 7), as_of());
        assert_eq!(dump(&a), dump(&b));
        let total: usize = EntityType::LISTED.iter().map(|t| a.count(*t)).sum();
        assert_eq!(total, 5_000);
        let c = Company::generate(&spec(5_000, 8), as_of());
        assert_ne!(dump(&a), dump(&c));
    }

    #[test]
    fn invoices_reference_existing_customers_and_items_and_payments_settle_them() {
        let company = Company::generate(&spec(3_000, 3), as_of());
        let mut paid = 0;
        for record in company.records(EntityType::Invoice) {
            let Body::Invoice(invoice) = &record.body else { panic!("invoice table holds invoices") };
            let customer: u64 = invoice.customer_ref.value.parse().expect("numeric id");
            assert!(company.get(EntityType::Customer, customer).is_some());
            for line in &invoice.line {
                if let Some(detail) = &line.sales_item_line_detail {
                    let item: u64 = detail.item_ref.value.parse().expect("numeric id");
                    assert!(company.get(EntityType::Item, item).is_some());
                }
            }
            assert!(invoice.balance <= invoice.total_amt);
            if !invoice.linked_txn.is_empty() {
                paid += 1;
                assert!(invoice.balance < invoice.total_amt);
            }
        }
        assert!(paid > 0);
    }

    #[test]
    fn changes_are_reported_once_each_and_visible_to_changed_since() {
        let clock = Clock::default();
        let mut company = Company::generate(&spec(2_000, 5), clock.now());
        let mark = clock.now();
        let summary = company.apply_random_changes(200, 9, &clock);
        assert!(summary.changes.len() >= 200);
        let mut seen = BTreeSet::new();
        for change in &summary.changes {
            assert!(seen.insert((change.entity, change.id.clone())), "{change:?} reported twice");
        }
        let mut from_log = BTreeSet::new();
        for entity in EntityType::LISTED {
            let (changed, deleted) = company.changed_since(entity, mark);
            from_log.extend(changed.iter().map(|r| (entity, r.id.to_string())));
            from_log.extend(deleted.iter().map(|t| (entity, t.id.to_string())));
        }
        assert_eq!(seen, from_log);
        let ops: BTreeSet<_> = summary.changes.iter().map(|c| format!("{:?}", c.operation)).collect();
        assert_eq!(ops.len(), 4, "all four kinds of change occur in 200: {ops:?}");
    }
}
