//! The Reader: one snapshot of a domain's raw events over a time range, and
//! the projected scan every raw read goes through.
//!
//! A [`Reader`] fixes, when it is made, the segments of the range's days,
//! the retention cutoff and the erasure filter. [`Reader::scan`] decodes
//! only the columns asked for (plus those its predicate and the erasure
//! filter need), skips whole blocks that cannot match (their time range is
//! in the block header; a dictionary column starts with its distinct
//! values, so "does `/pricing` occur in this block" is answered without
//! decoding any id: see `codec/probe.rs`), and stops as soon as the visitor
//! returns [`ControlFlow::Break`] (a `LIMIT`).
//!
//! A scan works a block at a time: the asked columns of a block are
//! decoded into a [`Batch`] (`batch.rs`), the predicate, the time range and
//! the erasure filter are decided on the columns (a page once against the
//! block's dictionary, a tombstone once per visitor and session pair), and
//! the visitor gets the batch and its selected rows. [`Reader::scan_batches`]
//! hands on batches, [`Reader::scan`] events built from them (only for the
//! selected rows), and [`Reader::fold`] spreads the segments over the
//! available cores, one accumulator per segment.
//!
//! Columns that were not asked for hold empty values. An event handed on
//! by [`Reader::scan`] always has its time and type, but a click asked for
//! without [`Columns::DETAIL`] has coordinates 0 and no target; a batch
//! has its times and types only when asked ([`Columns::TIME`],
//! [`Columns::TYPE`]).
//!
//! The Reader lives in storage: it knows segments and blocks, not domains.
//! What it needs of a domain (which visitors and sessions a tombstone
//! hides, and the index tag of a visitor) comes through [`Visibility`],
//! asked at scan time, so a tombstone written after the Reader was made
//! still hides its events. `Domain::reader` (domain/reads.rs) makes one;
//! `pledgedb::domain::reader` re-exports this module.

mod batch;
mod columns;

pub use batch::Batch;
pub use columns::{AnyOf, Columns, Predicate};

use crate::codec::BlockView;
use crate::error::{ReadError, StorageError};
use crate::event::{Event, SessionId, VisitorId};
use crate::identity::EraseTag;
use crate::storage::segment::Segment;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

/// What a scan read and skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScanStats {
    /// Segments (days) in the reader's range.
    pub segments: u64,
    /// Blocks decoded.
    pub blocks_read: u64,
    /// Blocks skipped by their time range or summaries.
    pub blocks_skipped: u64,
    /// Events handed to the visitor.
    pub events: u64,
}

/// What a scan asks of the domain it reads: whether a tombstone hides a
/// visitor or a session, and the index tag of a visitor.
pub(crate) trait Visibility: Send + Sync {
    /// Whether the whole domain was erased: nothing of it is visible.
    fn gone(&self) -> bool;
    /// Whether any tombstone exists (if not, nothing is hidden).
    fn any_hidden(&self) -> bool;
    /// Whether a tombstone hides this visitor.
    fn visitor_hidden(&self, v: VisitorId) -> bool;
    /// Whether a tombstone hides this session.
    fn session_hidden(&self, s: SessionId) -> bool;
    /// The key of this visitor in a segment's visitor index.
    fn visitor_tag(&self, v: VisitorId) -> EraseTag;
}

/// Per-scan memo of [`Visibility`] answers.
struct Hidden<'a> {
    vis: &'a dyn Visibility,
    visitors: HashMap<VisitorId, bool>,
    sessions: HashMap<SessionId, bool>,
}

impl Hidden<'_> {
    fn hides(&mut self, v: VisitorId, s: SessionId) -> bool {
        let vis = self.vis;
        (v != VisitorId::ANONYMOUS
            && *self
                .visitors
                .entry(v)
                .or_insert_with(|| vis.visitor_hidden(v)))
            || (s != SessionId(0)
                && *self
                    .sessions
                    .entry(s)
                    .or_insert_with(|| vis.session_hidden(s)))
    }
}

/// A snapshot of one domain's raw events over a time range.
pub struct Reader {
    vis: Arc<dyn Visibility>,
    segments: Vec<Arc<Segment>>,
    from: Timestamp,
    to: Timestamp,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("segments", &self.segments.len())
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

/// What one scan of one segment is set up with.
struct Plan<'p> {
    /// The columns the predicate and the erasure filter decide on, decoded
    /// before the rows are selected.
    decide: Columns,
    /// Every column the scan decodes for a block with a selected row.
    need: Columns,
    pred: &'p Predicate,
    tag: Option<EraseTag>,
    hiding: bool,
}

impl Reader {
    /// A reader of `segments` (in day order) that hands on events in
    /// `[from, to)` that `vis` does not hide.
    pub(crate) fn new(
        vis: Arc<dyn Visibility>,
        segments: Vec<Arc<Segment>>,
        from: Timestamp,
        to: Timestamp,
    ) -> Reader {
        Reader {
            vis,
            segments,
            from,
            to,
        }
    }

    /// Days (segments) in the range.
    #[must_use]
    pub fn segments(&self) -> usize {
        self.segments.len()
    }

    fn plan<'p>(&self, columns: Columns, pred: &'p Predicate) -> Result<Plan<'p>, ReadError> {
        if self.vis.gone() {
            return Err(StorageError::DomainRemoved.into());
        }
        let hiding = self.vis.any_hidden();
        let mut decide = pred.columns();
        if hiding {
            decide = decide | Columns::VISITOR | Columns::SESSION;
        }
        let mut need = columns | decide;
        // Whole events are decoded with every column.
        if need.contains(Columns::DETAIL) {
            need = Columns::ALL;
        }
        Ok(Plan {
            decide,
            need,
            pred,
            tag: pred.visitor.map(|v| self.vis.visitor_tag(v)),
            hiding,
        })
    }

    /// Hands every block of `seg` that may hold a match, as a batch with its
    /// selected rows, to `visit`; stops when it breaks. Returns whether it
    /// broke.
    fn scan_segment(
        &self,
        seg: &Segment,
        plan: &Plan<'_>,
        stats: &mut ScanStats,
        visit: &mut dyn FnMut(&Batch) -> ControlFlow<()>,
    ) -> Result<bool, ReadError> {
        // A domain erased after the Reader was made shows nothing more,
        // though its open files can still be read until closed.
        if self.vis.gone() {
            return Err(StorageError::DomainRemoved.into());
        }
        if let Some(tag) = plan.tag
            && !seg.has_any_tag(&[tag])?
        {
            return Ok(false);
        }
        let mut hidden = Hidden {
            vis: &*self.vis,
            visitors: HashMap::new(),
            sessions: HashMap::new(),
        };
        let range = (self.from.0, self.to.0);
        let codec = |e| StorageError::Codec {
            path: seg.path.clone(),
            source: e,
        };
        let mut stop = false;
        seg.for_each_block(|_, bytes| {
            if stop {
                return Ok(());
            }
            let view = BlockView::parse(bytes).map_err(codec)?;
            if view.is_empty()
                || view.max_ts() < range.0
                || view.min_ts() >= range.1
                || !plan.pred.may_match(&view).map_err(codec)?
            {
                stats.blocks_skipped += 1;
                return Ok(());
            }
            stats.blocks_read += 1;
            // The deciding columns first; the rest only for a block with a
            // selected row.
            let mut batch = Batch::new(&view);
            let decide = if Batch::inside(&view, range) {
                plan.decide
            } else {
                plan.decide | Columns::TIME
            };
            batch.load(&view, decide).map_err(codec)?;
            batch.select(
                &view,
                plan.pred,
                range,
                &mut |v, s| hidden.hides(v, s),
                plan.hiding,
            );
            if batch.rows().is_empty() {
                return Ok(());
            }
            batch.load(&view, plan.need).map_err(codec)?;
            if plan.need.contains(Columns::DETAIL) {
                batch.decode_detail(&view).map_err(codec)?;
            }
            stats.events += batch.rows().len() as u64;
            stop = visit(&batch).is_break();
            Ok(())
        })?;
        Ok(stop)
    }

    /// Hands every block that holds a visible event passing `pred` to
    /// `visit`, as a [`Batch`] of its decoded columns (`columns` and what
    /// `pred` needs) and its selected rows: segment by segment in day order,
    /// blocks in storage order. Stops when `visit` breaks.
    pub fn scan_batches(
        &self,
        columns: Columns,
        pred: &Predicate,
        mut visit: impl FnMut(&Batch) -> ControlFlow<()>,
    ) -> Result<ScanStats, ReadError> {
        let plan = self.plan(columns, pred)?;
        let mut stats = ScanStats {
            segments: self.segments.len() as u64,
            ..ScanStats::default()
        };
        for seg in &self.segments {
            if self.scan_segment(seg, &plan, &mut stats, &mut visit)? {
                break;
            }
        }
        Ok(stats)
    }

    /// Hands every visible event that passes `pred` to `visit`, segment by
    /// segment in day order and in storage order within a day, decoding
    /// only `columns` (and what `pred` needs). Stops when `visit` breaks.
    pub fn scan(
        &self,
        columns: Columns,
        pred: &Predicate,
        mut visit: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<ScanStats, ReadError> {
        let mut handed = 0u64;
        let mut stats = self.scan_batches(columns | Columns::TIME | Columns::TYPE, pred, |b| {
            for &row in b.rows() {
                handed += 1;
                if visit(&b.event(row)).is_break() {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        })?;
        stats.events = handed;
        Ok(stats)
    }

    /// Folds the batches of each segment into an accumulator of its own
    /// (`init`, then `step` for each batch in storage order), the segments
    /// spread over the available cores. Returns the accumulators in day
    /// order, one per segment, for the caller to merge.
    pub fn fold<T: Send>(
        &self,
        columns: Columns,
        pred: &Predicate,
        init: impl Fn() -> T + Sync,
        step: impl Fn(&mut T, &Batch) + Sync,
    ) -> Result<(Vec<T>, ScanStats), ReadError> {
        let plan = self.plan(columns, pred)?;
        let one = |seg: &Segment| -> Result<(T, ScanStats), ReadError> {
            let mut acc = init();
            let mut stats = ScanStats::default();
            self.scan_segment(seg, &plan, &mut stats, &mut |b| {
                step(&mut acc, b);
                ControlFlow::Continue(())
            })?;
            Ok((acc, stats))
        };
        let results = spread(&self.segments, |s| one(s));
        let mut stats = ScanStats {
            segments: self.segments.len() as u64,
            ..ScanStats::default()
        };
        let mut out = Vec::with_capacity(results.len());
        for r in results {
            let (acc, s) = r?;
            stats.blocks_read += s.blocks_read;
            stats.blocks_skipped += s.blocks_skipped;
            stats.events += s.events;
            out.push(acc);
        }
        Ok((out, stats))
    }
}

/// `f` of every item, the items shared out over the available cores (at
/// most one thread per item), the results in item order.
pub(crate) fn spread<I: Sync, R: Send>(items: &[I], f: impl Fn(&I) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(item)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}
