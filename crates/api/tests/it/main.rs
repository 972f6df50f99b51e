//! Integration tests: the real app on a random port, real PostgreSQL (a database per test cloned
//! from a migrated template). One test binary, one module per area.

// A failed unwrap is a failed test, with its location: what a test should do.
#![allow(clippy::unwrap_used)]

mod admin_jobs;
mod api_keys;
mod audit;
mod auth;
mod bad_input;
mod blobs;
mod cache;
mod clients;
mod contract;
mod document_intake;
mod documents;
mod e_invoices;
mod engagements;
mod etag;
mod idempotency;
mod instances;
mod invitations;
mod invoices;
mod marketplace;
mod mfa;
mod notifications;
mod password_resets;
mod permissions;
mod plans;
mod platform;
mod quickbooks;
mod tasks;
mod tenancy;
mod time;
mod vendor_memory;
mod workflow_automation;
mod workflow_recurrence;
mod workflow_reminders;
mod workflows;
