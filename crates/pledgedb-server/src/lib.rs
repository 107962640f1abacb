//! `pledgedb serve`: an HTTP server over an embedded PledgeDB data
//! directory. Public routes (the collector, the tracker script, the opt-out
//! and transparency pages) answer anyone; everything else needs an account
//! session or an API key.
//!
//! The server never sees more of a client than the engine does: the
//! connection's address (or a trusted `X-Forwarded-For` hop) goes into the
//! [`Hit`](pledgedb_core::Hit) for the country lookup and nowhere else; the
//! rate limiter keys its buckets by a keyed hash held in memory only, and no
//! log line names a client address or a raw client id.
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod log;

pub mod auth;
pub mod cli;
pub mod client;
pub mod collect;
pub mod config;
pub mod dashboard;
pub mod pages;
pub mod rate;
pub mod server;
pub mod sites;
pub mod state;
pub mod stats;

pub use config::ServerConfig;
pub use server::Server;
pub use state::AppState;
