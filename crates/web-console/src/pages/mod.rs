//! One module per screen; each handler extracts, calls use cases, and renders.

pub mod audit;
pub mod client;
pub mod client_edit;
pub mod client_portal;
pub mod clients;
pub mod dashboard;
pub mod documents;
pub mod engagement;
pub mod invoice;
pub mod marketplace;
pub mod marketplace_compare;
pub mod marketplace_needs;
pub mod marketplace_profile;
pub mod marketplace_verification;
pub mod members;
pub mod operations;
pub mod profile;
pub mod quickbooks;
pub mod reset_password;
pub mod review;
pub mod search;
pub mod sign_in;
pub mod team;
pub mod time;
pub mod workflow_run;
pub mod workflows;
