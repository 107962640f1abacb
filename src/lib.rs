//! PledgeDB: an embedded analytics database engine that keeps its privacy
//! promises by construction. See the README and `docs/` for the promises and
//! the file format; this crate re-exports the engine.
#![deny(unsafe_code)]
#![doc = include_str!("../README.md")]

pub use pledgedb_core::*;
