//! What a domain handle needs of the engine that made it, and nothing more:
//! the configuration (clock, erasure deadline), a flush of the writers before
//! a read that must see every queued event, and a wake-up of the compactor
//! after an erasure. The engine implements it; the domain layer does not
//! import the engine.

use crate::config::Config;
use crate::error::StorageError;

/// The engine, as a domain handle sees it.
pub(crate) trait EngineLink: Send + Sync {
    /// The configuration the directory was opened with.
    fn config(&self) -> &Config;
    /// Returns when every hit ingested before the call is durable.
    fn flush(&self) -> Result<(), StorageError>;
    /// Asks the background compactor for a pass.
    fn wake_compactor(&self);
}
