//! The trace table: every trace id of the session with its state, the
//! script it came from, where it is probed, and its counters. The control
//! side changes states; the event side adds hits and losses.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use ghostscope_protocol::session::{TraceInfo, TraceSelector, TraceState};

/// One trace id and what the front end may show about it.
#[derive(Debug, Clone)]
pub struct TraceRecord {
    /// What `info trace` and the status bar show.
    pub info: TraceInfo,
    /// Counters as last published to the front end (hits, lost).
    published: (u64, u64),
}

/// Every live trace of a session, by id.
#[derive(Debug, Default)]
pub struct TraceTable {
    records: BTreeMap<u32, TraceRecord>,
}

/// The table, shared between the control thread and the event drain.
#[derive(Debug, Clone, Default)]
pub struct SharedTraces(Arc<Mutex<TraceTable>>);

impl SharedTraces {
    /// Locks the table. A panic elsewhere never leaves it unusable: the
    /// data is plain counters and states.
    pub fn lock(&self) -> MutexGuard<'_, TraceTable> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TraceTable {
    /// Adds a new trace.
    pub fn insert(&mut self, info: TraceInfo) {
        self.records.insert(
            info.trace_id,
            TraceRecord {
                info,
                published: (0, 0),
            },
        );
    }

    /// Removes a trace; returns whether it existed.
    pub fn remove(&mut self, trace_id: u32) -> bool {
        self.records.remove(&trace_id).is_some()
    }

    /// A trace by id.
    pub fn get(&self, trace_id: u32) -> Option<&TraceInfo> {
        self.records.get(&trace_id).map(|r| &r.info)
    }

    /// Sets a trace's state.
    pub fn set_state(&mut self, trace_id: u32, state: TraceState) {
        if let Some(r) = self.records.get_mut(&trace_id) {
            r.info.state = state;
        }
    }

    /// Ids a selector names, in id order; None when a single id is unknown.
    pub fn select(&self, selector: TraceSelector) -> Option<Vec<u32>> {
        match selector {
            TraceSelector::All => Some(self.records.keys().copied().collect()),
            TraceSelector::Id(id) => self.records.contains_key(&id).then(|| vec![id]),
        }
    }

    /// Every trace, in id order.
    pub fn all(&self) -> impl Iterator<Item = &TraceInfo> {
        self.records.values().map(|r| &r.info)
    }

    /// Adds received events to a trace's hit counter.
    pub fn add_hits(&mut self, trace_id: u32, hits: u64) {
        if let Some(r) = self.records.get_mut(&trace_id) {
            r.info.hits += hits;
        }
    }

    /// Sets a trace's kernel-side loss total.
    pub fn set_lost(&mut self, trace_id: u32, total: u64) {
        if let Some(r) = self.records.get_mut(&trace_id) {
            r.info.lost = total;
        }
    }

    /// Traces whose counters changed since they were last taken here, and
    /// marks them published.
    pub fn take_changed_counters(&mut self) -> Vec<TraceInfo> {
        self.records
            .values_mut()
            .filter(|r| r.published != (r.info.hits, r.info.lost))
            .map(|r| {
                r.published = (r.info.hits, r.info.lost);
                r.info.clone()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: u32) -> TraceInfo {
        TraceInfo {
            trace_id: id,
            target: format!("f{id}"),
            body: String::new(),
            index: None,
            state: TraceState::Active,
            pc: 0x1139,
            module: "/bin/x".into(),
            function: None,
            source: None,
            pid: None,
            host_pid: None,
            hits: 0,
            lost: 0,
        }
    }

    #[test]
    fn selectors_and_counters() {
        let mut t = TraceTable::default();
        t.insert(info(0));
        t.insert(info(2));
        assert_eq!(t.select(TraceSelector::All), Some(vec![0, 2]));
        assert_eq!(t.select(TraceSelector::Id(2)), Some(vec![2]));
        assert_eq!(t.select(TraceSelector::Id(1)), None);
        assert!(t.take_changed_counters().is_empty());
        t.add_hits(2, 5);
        t.set_lost(0, 1);
        let changed: Vec<(u32, u64, u64)> = t
            .take_changed_counters()
            .iter()
            .map(|i| (i.trace_id, i.hits, i.lost))
            .collect();
        assert_eq!(changed, vec![(0, 0, 1), (2, 5, 0)]);
        assert!(t.take_changed_counters().is_empty());
        assert!(t.remove(0));
        assert!(!t.remove(0));
    }
}
