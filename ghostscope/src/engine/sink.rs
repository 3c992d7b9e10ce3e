//! The event sink of an interactive front end: decoded events become
//! cards in batches through the bounded [`Outlet`], losses and queue
//! overflows are reported once a second, and trace counters a few times a
//! second.

use std::collections::HashMap;
use std::io;

use ghostscope_protocol::session::{SessionEvent, TraceEvent};
use ghostscope_protocol::DecodedEvent;

use super::outlet::Outlet;
use super::pump::EventSink;
use super::traces::SharedTraces;
use crate::clock::{boot_text, LocalTimes};

/// Sends events and counters to a front end.
pub struct FrontEndSink {
    outlet: Outlet,
    traces: SharedTraces,
    clock: LocalTimes,
    batch: Vec<TraceEvent>,
    /// Events received per trace since the last refresh.
    hits: HashMap<u32, u64>,
}

impl FrontEndSink {
    /// A sink into `outlet` that counts hits in `traces`.
    pub fn new(outlet: Outlet, traces: SharedTraces) -> FrontEndSink {
        FrontEndSink {
            outlet,
            traces,
            clock: LocalTimes::new(),
            batch: Vec::new(),
            hits: HashMap::new(),
        }
    }
}

impl EventSink for FrontEndSink {
    fn event(&mut self, event: DecodedEvent) -> io::Result<bool> {
        let h = &event.header;
        *self.hits.entry(h.trace_id).or_insert(0) += 1;
        // An event whose statements printed nothing is a hit but no card.
        if event.lines.is_empty() {
            return Ok(true);
        }
        let error = event.lines.iter().any(|l| l.starts_with("ExprError: "));
        self.batch.push(TraceEvent {
            trace_id: h.trace_id,
            pid: h.pid,
            tid: h.tid,
            timestamp_ns: h.timestamp_ns,
            time: self
                .clock
                .text(h.timestamp_ns)
                .unwrap_or_else(|| boot_text(h.timestamp_ns)),
            lines: event.lines,
            error,
        });
        Ok(true)
    }

    fn end_batch(&mut self) -> io::Result<()> {
        self.outlet.push_events(std::mem::take(&mut self.batch));
        Ok(())
    }

    fn losses(&mut self, trace_id: u32, target: &str, new: u64, total: u64) {
        self.traces.lock().set_lost(trace_id, total);
        self.outlet.send(SessionEvent::Loss {
            trace_id,
            target: target.to_string(),
            lost: new,
            total,
        });
    }

    fn every_second(&mut self) {
        let dropped = self.outlet.take_dropped();
        if dropped.recent > 0 {
            self.outlet.send(SessionEvent::QueueSaturated {
                dropped: dropped.recent,
                total: dropped.total,
                capacity: self.outlet.capacity() as u64,
            });
        }
    }

    fn refresh(&mut self) {
        // Sent under the lock, so a state change the control thread makes
        // meanwhile reaches the front end after this update, not before.
        let mut table = self.traces.lock();
        for (id, n) in self.hits.drain() {
            table.add_hits(id, n);
        }
        for info in table.take_changed_counters() {
            self.outlet.send(SessionEvent::TraceUpdated(info));
        }
    }
}
