//! QuickBooks Online v3 client (in progress).
