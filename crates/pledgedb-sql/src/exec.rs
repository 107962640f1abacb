//! The row sink: filters each input row, then either groups it (streaming
//! aggregates) or projects it (keeping only what `ORDER BY` / `LIMIT` can
//! still need), and enforces the cap on rows held in memory.

use crate::aggregate::Acc;
use crate::error::{Result, SqlError};
use crate::expr::{Ctx, cmp_sort};
use crate::plan::{OrderKey, Plan};
use crate::value::{Key, Value};
use std::cmp::Ordering;
use std::collections::HashMap;

/// A result row and its sort keys.
type Keyed = (Vec<Value>, Vec<Value>);

/// Receives the input rows of one query.
pub(crate) struct Sink<'p> {
    plan: &'p Plan,
    max_rows: usize,
    err: Option<SqlError>,
    done: bool,
    skipped: usize,
    rows: Vec<Keyed>,
    groups: HashMap<Vec<Key>, usize>,
    states: Vec<Vec<Acc>>,
    held: usize,
}

impl<'p> Sink<'p> {
    pub(crate) fn new(plan: &'p Plan, max_rows: usize) -> Self {
        Sink {
            plan,
            max_rows,
            err: None,
            done: false,
            skipped: 0,
            rows: Vec::new(),
            groups: HashMap::new(),
            states: Vec::new(),
            held: 0,
        }
    }

    /// Whether further rows can be ignored (an error happened, or the
    /// `LIMIT` of an unordered query is reached).
    pub(crate) fn stopped(&self) -> bool {
        self.done || self.err.is_some()
    }

    /// Records an error met while feeding (inside a scan callback).
    pub(crate) fn fail(&mut self, e: SqlError) {
        if self.err.is_none() {
            self.err = Some(e);
        }
    }

    /// Counts values held in memory against the cap.
    pub(crate) fn hold(&mut self, n: usize) -> Result<()> {
        self.held = self.held.saturating_add(n);
        if self.held > self.max_rows {
            Err(SqlError::TooManyRows { max: self.max_rows })
        } else {
            Ok(())
        }
    }

    /// Adds one input row.
    pub(crate) fn push(&mut self, row: &[Value]) -> Result<()> {
        if self.stopped() {
            return Ok(());
        }
        let cx = Ctx::row(row);
        if let Some(f) = &self.plan.filter
            && f.eval(&cx)? != Value::Bool(true)
        {
            return Ok(());
        }
        if self.plan.agg.is_some() {
            self.accumulate(&cx)
        } else {
            self.collect(&cx)
        }
    }

    fn accumulate(&mut self, cx: &Ctx<'_>) -> Result<()> {
        let Some(agg) = &self.plan.agg else {
            return Ok(());
        };
        let mut key = Vec::with_capacity(agg.groups.len());
        for g in &agg.groups {
            key.push(Key(g.eval(cx)?));
        }
        let idx = match self.groups.get(&key) {
            Some(i) => *i,
            None => {
                self.hold(1)?;
                let i = self.states.len();
                self.states.push(agg.aggs.iter().map(Acc::new).collect());
                self.groups.insert(key, i);
                i
            }
        };
        let mut held = 0;
        if let Some(accs) = self.states.get_mut(idx) {
            for (acc, spec) in accs.iter_mut().zip(&agg.aggs) {
                acc.update(spec, cx, &mut held)?;
            }
        }
        self.hold(held)
    }

    fn keys(&self, out: &[Value], cx: &Ctx<'_>) -> Result<Vec<Value>> {
        let mut keys = Vec::with_capacity(self.plan.order.len());
        for o in &self.plan.order {
            keys.push(match &o.key {
                OrderKey::Output(i) => out.get(*i).cloned().unwrap_or(Value::Null),
                OrderKey::Expr(e) => e.eval(cx)?,
            });
        }
        Ok(keys)
    }

    fn collect(&mut self, cx: &Ctx<'_>) -> Result<()> {
        let plan = self.plan;
        if plan.order.is_empty() {
            if plan.limit.is_some_and(|l| self.rows.len() >= l) {
                self.done = true;
                return Ok(());
            }
            if self.skipped < plan.offset {
                self.skipped += 1;
                return Ok(());
            }
        }
        let mut out = Vec::with_capacity(plan.proj.len());
        for p in &plan.proj {
            out.push(p.eval(cx)?);
        }
        let keys = self.keys(&out, cx)?;
        self.rows.push((out, keys));
        self.hold(1)?;
        match plan.limit {
            Some(l) if plan.order.is_empty() && self.rows.len() >= l => self.done = true,
            Some(_) if plan.order.is_empty() => {}
            Some(l) => {
                // Keep the best offset+limit rows: sort and cut when the
                // buffer has twice as many.
                let k = plan.offset.saturating_add(l);
                if self.rows.len() >= k.saturating_mul(2).max(1024) {
                    self.sort();
                    self.held = self.held.saturating_sub(self.rows.len().saturating_sub(k));
                    self.rows.truncate(k);
                }
            }
            None => {}
        }
        Ok(())
    }

    fn sort(&mut self) {
        let order = &self.plan.order;
        self.rows.sort_by(|a, b| {
            for (i, o) in order.iter().enumerate() {
                let c = match (a.1.get(i), b.1.get(i)) {
                    (Some(x), Some(y)) => cmp_sort(x, y, o.desc, o.nulls_first),
                    _ => Ordering::Equal,
                };
                if c != Ordering::Equal {
                    return c;
                }
            }
            Ordering::Equal
        });
    }

    /// The result rows.
    pub(crate) fn finish(mut self) -> Result<Vec<Vec<Value>>> {
        if let Some(e) = self.err.take() {
            return Err(e);
        }
        let plan = self.plan;
        if let Some(agg) = &plan.agg {
            let mut groups: Vec<(usize, Vec<Value>)> = std::mem::take(&mut self.groups)
                .into_iter()
                .map(|(k, i)| (i, k.into_iter().map(|k| k.0).collect()))
                .collect();
            groups.sort_by_key(|(i, _)| *i);
            let mut states = std::mem::take(&mut self.states);
            if groups.is_empty() && agg.groups.is_empty() {
                groups.push((0, Vec::new()));
                states.push(agg.aggs.iter().map(Acc::new).collect());
            }
            for (i, keys) in groups {
                let aggs: Vec<Value> = states
                    .get(i)
                    .map(|accs| accs.iter().map(Acc::finish).collect())
                    .unwrap_or_default();
                let cx = Ctx {
                    row: &[],
                    groups: &keys,
                    aggs: &aggs,
                };
                if let Some(h) = &agg.having
                    && h.eval(&cx)? != Value::Bool(true)
                {
                    continue;
                }
                let mut out = Vec::with_capacity(plan.proj.len());
                for p in &plan.proj {
                    out.push(p.eval(&cx)?);
                }
                let keys = self.keys(&out, &cx)?;
                self.rows.push((out, keys));
            }
        }
        let ordered_or_grouped = !plan.order.is_empty() || plan.agg.is_some();
        if !plan.order.is_empty() {
            self.sort();
        }
        let rows = std::mem::take(&mut self.rows)
            .into_iter()
            .map(|(out, _)| out);
        Ok(if ordered_or_grouped {
            rows.skip(plan.offset)
                .take(plan.limit.unwrap_or(usize::MAX))
                .collect()
        } else {
            rows.collect()
        })
    }
}
