-- Billing time: an engagement's unbilled billable time becomes a draft invoice, and each entry
-- billed on it names the invoice. Work in progress is then the billable time not yet billed.
--
-- Deleting the (draft) invoice releases its entries back to work in progress.

alter table time_entries add column invoice_id uuid references invoices (id) on delete set null;

-- An engagement's unbilled finished billable time, read when it is billed and for its WIP.
create index time_entries_unbilled on time_entries (organization_id, engagement_id)
    where invoice_id is null and billable and minutes is not null and engagement_id is not null;
