//! The handle through which the rest of the engine reaches the writer pool:
//! the senders, the gate that keeps messages from being sent after close,
//! and the pool itself for flush and stop. Ingest, domain handles and the
//! compactor hold this, never the whole engine.

use super::{Msg, WriterPool};
use crate::config::WriterConfig;
use crate::error::StorageError;
use crossbeam_channel::Sender;
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, Ordering};

/// The writer pool, as the engine's other parts see it.
pub(crate) struct WriterLink {
    pool: Mutex<Option<WriterPool>>,
    /// Senders of the writer pool, so ingest does not lock the pool.
    senders: Vec<Sender<Msg>>,
    /// Held shared while sending, exclusively while closing, so no message
    /// is sent after the writers were told to stop.
    send_gate: RwLock<()>,
    /// Set once the engine closes: nothing is sent any more.
    pub(crate) closed: AtomicBool,
}

impl WriterLink {
    /// Starts the writer threads.
    pub(crate) fn start(cfg: WriterConfig) -> Result<WriterLink, StorageError> {
        let pool = WriterPool::start(cfg)?;
        Ok(WriterLink {
            senders: pool.senders(),
            pool: Mutex::new(Some(pool)),
            send_gate: RwLock::new(()),
            closed: AtomicBool::new(false),
        })
    }

    /// Writer threads.
    pub(crate) fn len(&self) -> usize {
        self.senders.len()
    }

    /// Sends a message to one writer; fails once the engine is closed.
    pub(crate) fn send(&self, writer: usize, msg: Msg) -> Result<(), StorageError> {
        let _gate = self.send_gate.read();
        if self.closed.load(Ordering::Acquire) {
            return Err(StorageError::WriterGone);
        }
        self.senders
            .get(writer % self.senders.len().max(1))
            .ok_or(StorageError::WriterGone)?
            .send(msg)
            .map_err(|_| StorageError::WriterGone)
    }

    /// Returns once everything sent before it is durable, on every writer.
    pub(crate) fn flush(&self) -> Result<(), StorageError> {
        match &*self.pool.lock() {
            Some(pool) => pool.flush(),
            None => Err(StorageError::WriterGone),
        }
    }

    /// Closes the gate: from now on nothing is sent. False if it was closed
    /// already.
    pub(crate) fn close(&self) -> bool {
        let _gate = self.send_gate.write();
        !self.closed.swap(true, Ordering::AcqRel)
    }

    /// Flushes and stops the writer threads (after [`close`](Self::close)).
    pub(crate) fn stop(&self) -> Result<(), StorageError> {
        let pool = self.pool.lock().take();
        match pool {
            Some(mut pool) => {
                let r = pool.flush();
                pool.stop();
                r
            }
            None => Ok(()),
        }
    }
}
