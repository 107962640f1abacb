//! Raw reads of a domain: the [`Reader`] of a range and the plain scans
//! and counts built on it.

use super::reader::{Columns, Predicate, Reader};
use super::{Domain, TimeRange};
use crate::error::ReadError;
use crate::event::{Country, Event};
use crate::text::Text;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

impl Domain {
    /// A reader of the visible raw events in `range`: inside the raw-event
    /// retention, not covered by a tombstone (asked at scan time), flushed.
    pub fn reader(&self, range: TimeRange) -> Result<Reader, ReadError> {
        self.check_live()?;
        let now = self.clock().now();
        let from = range.from.max(self.shared.retention_cutoff(now));
        Ok(Reader::new(
            Arc::clone(&self.shared) as Arc<dyn crate::storage::reader::Visibility>,
            self.shared.segments_in(from, range.to)?,
            from,
            range.to,
        ))
    }

    /// Calls `f` with every visible event of `range` that passes `pred`,
    /// decoding only `columns` (and what `pred` needs): the one projected
    /// scan the query layer's raw reads go through.
    pub(crate) fn scan_where(
        &self,
        range: TimeRange,
        columns: Columns,
        pred: &Predicate,
        mut f: impl FnMut(&Event),
    ) -> Result<(), ReadError> {
        self.reader(range)?.scan(columns, pred, |e| {
            f(e);
            ControlFlow::Continue(())
        })?;
        Ok(())
    }

    /// Calls `f` with every visible event in `range`, segment by segment.
    /// Visible: flushed, inside the raw-event TTL, and not covered by a
    /// tombstone.
    pub fn scan(&self, range: TimeRange, mut f: impl FnMut(&Event)) -> Result<(), ReadError> {
        self.scan_where(range, Columns::ALL, &Predicate::all(), |e| f(e))
    }

    /// Every visible event in `range`, in storage order.
    pub fn events(&self, range: TimeRange) -> Result<Vec<Event>, ReadError> {
        let mut out = Vec::new();
        self.scan(range, |e| out.push(e.clone()))?;
        Ok(out)
    }

    /// The number of visible events in `range`.
    pub fn count(&self, range: TimeRange) -> Result<u64, ReadError> {
        let (_, stats) =
            self.reader(range)?
                .fold(Columns::NONE, &Predicate::all(), || (), |(), _| {})?;
        Ok(stats.events)
    }

    /// Events per country in `range`, most first.
    pub fn count_by_country(&self, range: TimeRange) -> Result<Vec<(Country, u64)>, ReadError> {
        let (days, _) = self.reader(range)?.fold(
            Columns::COUNTRY,
            &Predicate::all(),
            HashMap::<Country, u64>::new,
            |m, b| {
                for &r in b.rows() {
                    *m.entry(b.country(r)).or_default() += 1;
                }
            },
        )?;
        Ok(sorted_counts(merge_counts(days)))
    }

    /// Events per page path in `range`, most first.
    pub fn count_by_path(&self, range: TimeRange) -> Result<Vec<(Text, u64)>, ReadError> {
        let (days, _) = self.reader(range)?.fold(
            Columns::PATH,
            &Predicate::all(),
            HashMap::<Text, u64>::new,
            |m, b| {
                // Counted by the block's path ids, named once per block.
                let mut by_id = vec![0u64; b.path_dict().len()];
                for &r in b.rows() {
                    if let Some(n) = by_id.get_mut(b.path_id(r) as usize) {
                        *n += 1;
                    }
                }
                for (path, n) in b.path_dict().iter().zip(by_id) {
                    if n > 0 {
                        *m.entry(path.clone()).or_default() += n;
                    }
                }
            },
        )?;
        Ok(sorted_counts(merge_counts(days)))
    }

    /// Days that have a segment file, oldest first.
    #[must_use]
    pub fn segment_days(&self) -> Vec<crate::time::Day> {
        self.shared.segments.days()
    }
}

fn merge_counts<K: std::hash::Hash + Eq>(parts: Vec<HashMap<K, u64>>) -> HashMap<K, u64> {
    let mut all = HashMap::new();
    for part in parts {
        for (k, n) in part {
            *all.entry(k).or_default() += n;
        }
    }
    all
}

fn sorted_counts<K: Ord>(m: HashMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<(K, u64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}
