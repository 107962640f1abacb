//! The writer pool: a fixed number of threads, each owning the segments of
//! the domains hashed to it. Callers send events through a bounded channel
//! (backpressure rather than unbounded memory); a writer drains what is
//! waiting, groups it by domain and day, and commits each group in one
//! durable redb transaction (group commit). Sessions are assigned here, since
//! a writer sees all of a domain's events in order.
//!
//! Every change to a domain's segments goes through its writer thread:
//! commits, purges (rewrites that drop erased events) and expiry. So the
//! in-memory open block and the files can never disagree.

mod link;
mod state;

pub(crate) use link::WriterLink;

use crate::domain::shared::DomainShared;
use crate::error::StorageError;
use crate::event::{Event, SessionId};
use crate::storage::quarantine::guarded;
use crate::time::Day;
use crossbeam_channel::{Receiver, Sender, bounded};
use state::WriterState;
use std::sync::Arc;
use std::thread::JoinHandle;

pub use crate::config::WriterConfig;

/// An event on its way to its writer. The session is assigned by the writer
/// unless the tracker supplied one.
pub(crate) struct Pending {
    pub(crate) event: Event,
    pub(crate) session: Option<SessionId>,
}

/// Result of a purge of one segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PurgeOutcome {
    pub(crate) events_removed: u64,
    pub(crate) rewritten: bool,
    /// Events removed per erasure request, by the request's erase tag. An
    /// event covered by two requests (its visitor's and its session's)
    /// counts for both.
    pub(crate) removed_by: std::collections::HashMap<crate::identity::EraseTag, u64>,
}

pub(crate) enum Msg {
    Events(Arc<DomainShared>, Vec<Pending>),
    Event(Arc<DomainShared>, Pending),
    Flush(Sender<Result<(), StorageError>>),
    /// Rewrite one segment without the events hidden by tombstones.
    Purge {
        domain: Arc<DomainShared>,
        day: Day,
        reply: Sender<Result<PurgeOutcome, StorageError>>,
    },
    /// Compute a day's roll-up and write the segment fresh with it.
    Seal {
        domain: Arc<DomainShared>,
        day: Day,
        reply: Sender<Result<bool, StorageError>>,
    },
    /// Delete every segment of a day before `before`.
    Expire {
        domain: Arc<DomainShared>,
        before: Day,
        reply: Sender<Result<Vec<Day>, StorageError>>,
    },
    /// Forget a domain's buffers (it is being erased).
    Forget {
        domain: Arc<DomainShared>,
        reply: Sender<()>,
    },
    Stop,
}

pub(crate) struct WriterPool {
    senders: Vec<Sender<Msg>>,
    handles: Vec<JoinHandle<()>>,
}

impl WriterPool {
    pub(crate) fn start(cfg: WriterConfig) -> Result<WriterPool, StorageError> {
        let n = cfg.threads.max(1);
        let mut senders = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            let (tx, rx) = bounded(cfg.queue.max(1));
            let h = std::thread::Builder::new()
                .name(format!("pledgedb-writer-{i}"))
                .spawn(move || run(rx, cfg))
                .map_err(|e| StorageError::io("writer thread", e))?;
            senders.push(tx);
            handles.push(h);
        }
        Ok(WriterPool { senders, handles })
    }

    pub(crate) fn senders(&self) -> Vec<Sender<Msg>> {
        self.senders.clone()
    }

    /// Returns once everything sent before it is durable, on every writer.
    pub(crate) fn flush(&self) -> Result<(), StorageError> {
        let mut waits = Vec::with_capacity(self.senders.len());
        for s in &self.senders {
            let (tx, rx) = bounded(1);
            s.send(Msg::Flush(tx))
                .map_err(|_| StorageError::WriterGone)?;
            waits.push(rx);
        }
        let mut first_err = None;
        for w in waits {
            match w.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                Err(_) => {
                    first_err.get_or_insert(StorageError::WriterGone);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    pub(crate) fn stop(&mut self) {
        for s in &self.senders {
            let _ = s.send(Msg::Stop);
        }
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

impl Drop for WriterPool {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs a job on one day's segment. A panic of the page store becomes an
/// error; a damaged file is set aside, so that the writer thread, and every
/// other domain it serves, goes on.
fn on_segment<T>(
    domain: &Arc<DomainShared>,
    day: Day,
    job: impl FnOnce() -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    let path = domain
        .seg_dir
        .join(crate::storage::segment::segment_file_name(day));
    let r = guarded(&path, job);
    if let Err(e) = &r
        && e.is_damage()
    {
        state::set_aside_segment(domain, day, e);
    }
    r
}

fn run(rx: Receiver<Msg>, cfg: WriterConfig) {
    let mut st = WriterState::new(cfg);
    while let Ok(first) = rx.recv() {
        let mut flushes = Vec::new();
        let mut stop = false;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Event(d, p) => st.push(&d, p),
                Msg::Events(d, ps) => {
                    for p in ps {
                        st.push(&d, p);
                    }
                }
                Msg::Flush(reply) => flushes.push(reply),
                Msg::Purge { domain, day, reply } => {
                    let r = st
                        .commit_domain(&domain)
                        .and_then(|()| on_segment(&domain, day, || st.purge(&domain, day)));
                    let _ = reply.send(r);
                }
                Msg::Seal { domain, day, reply } => {
                    let r = st
                        .commit_domain(&domain)
                        .and_then(|()| on_segment(&domain, day, || st.seal(&domain, day)));
                    let _ = reply.send(r);
                }
                Msg::Expire {
                    domain,
                    before,
                    reply,
                } => {
                    let path = domain.seg_dir.clone();
                    let r = guarded(&path, || {
                        st.commit_domain(&domain)?;
                        st.expire(&domain, before)
                    });
                    let _ = reply.send(r);
                }
                Msg::Forget { domain, reply } => {
                    st.forget(&domain);
                    let _ = reply.send(());
                }
                Msg::Stop => {
                    stop = true;
                    break;
                }
            }
            if st.buffered() >= cfg.max_batch {
                break;
            }
            next = rx.try_recv().ok();
        }
        let result = st.commit();
        for f in flushes {
            let _ = f.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(StorageError::CommitFailed(e.to_string())),
            });
        }
        if stop {
            break;
        }
    }
    // Drain what is left so nothing acknowledged by a flush is lost; errors
    // here have no caller left to report to.
    let _ = st.commit();
}
