//! The client against the local sandbox over real HTTP: connect, full reads, CDC, storms, faults.

mod cdc;
mod faults;
mod oauth;
mod paging;
mod storms;
mod support;
