//! The bounded queue between the engine and a front end. Control messages
//! (replies, state changes) are never dropped; trace events are held up to
//! a fixed capacity and dropped (and counted) beyond it, so the event drain
//! never waits for the front end. A forwarder thread moves messages into
//! the front end's channel, control messages first, events in batches.

use std::collections::VecDeque;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use ghostscope_protocol::session::{SessionEvent, TraceEvent};

/// Most events handed to the front end in one `Events` message.
const MAX_BATCH: usize = 2048;

#[derive(Default)]
struct State {
    control: VecDeque<SessionEvent>,
    events: VecDeque<TraceEvent>,
    /// No more messages will come; the forwarder ends once it sent the rest.
    closed: bool,
    /// The front end's receiver is gone; everything is discarded.
    gone: bool,
    dropped_window: u64,
    dropped_total: u64,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

/// The engine's end of the queue; cheap to clone.
#[derive(Clone)]
pub struct Outlet {
    shared: Arc<Shared>,
    capacity: usize,
}

/// Events dropped because the queue was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// Since the last call.
    pub recent: u64,
    /// Since the start.
    pub total: u64,
}

impl Outlet {
    /// A queue that holds up to `capacity` events, forwarding into `to_front_end`.
    pub fn new(
        capacity: usize,
        to_front_end: SyncSender<SessionEvent>,
    ) -> (Outlet, JoinHandle<()>) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let forwarder = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("gs-outlet".into())
                .spawn(move || forward(&shared, &to_front_end))
                .expect("spawn the outlet forwarder")
        };
        (Outlet { shared, capacity }, forwarder)
    }

    /// How many events the queue holds at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a control message; it is never dropped.
    pub fn send(&self, event: SessionEvent) {
        let mut s = self.lock();
        if s.gone || s.closed {
            return;
        }
        s.control.push_back(event);
        drop(s);
        self.shared.wake.notify_one();
    }

    /// Queues trace events; those that do not fit are dropped and counted.
    pub fn push_events(&self, events: Vec<TraceEvent>) {
        if events.is_empty() {
            return;
        }
        let mut s = self.lock();
        if s.gone || s.closed {
            return;
        }
        let room = self.capacity.saturating_sub(s.events.len());
        let dropped = events.len().saturating_sub(room) as u64;
        s.events.extend(events.into_iter().take(room));
        s.dropped_window += dropped;
        s.dropped_total += dropped;
        drop(s);
        self.shared.wake.notify_one();
    }

    /// Takes the count of events dropped since the last call.
    pub fn take_dropped(&self) -> Dropped {
        let mut s = self.lock();
        let d = Dropped {
            recent: s.dropped_window,
            total: s.dropped_total,
        };
        s.dropped_window = 0;
        d
    }

    /// No more messages: the forwarder sends what is queued and ends.
    pub fn close(&self) {
        self.lock().closed = true;
        self.shared.wake.notify_one();
    }
}

/// One message to send next, taken out of the queue.
fn next_message(shared: &Shared) -> Option<SessionEvent> {
    let mut s = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(c) = s.control.pop_front() {
            return Some(c);
        }
        if !s.events.is_empty() {
            let n = s.events.len().min(MAX_BATCH);
            return Some(SessionEvent::Events(s.events.drain(..n).collect()));
        }
        if s.closed {
            return None;
        }
        s = shared.wake.wait(s).unwrap_or_else(|e| e.into_inner());
    }
}

fn forward(shared: &Shared, to: &SyncSender<SessionEvent>) {
    while let Some(message) = next_message(shared) {
        if to.send(message).is_err() {
            let mut s = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            s.gone = true;
            s.control.clear();
            s.events.clear();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    fn event(n: u32) -> TraceEvent {
        TraceEvent {
            trace_id: n,
            pid: 1,
            tid: 1,
            timestamp_ns: 0,
            time: String::new(),
            lines: vec![format!("n = {n}")],
            error: false,
        }
    }

    #[test]
    fn a_slow_front_end_loses_events_beyond_capacity_but_no_control_message() {
        // The front end reads nothing until everything is queued.
        let (tx, rx) = sync_channel(1);
        let (outlet, forwarder) = Outlet::new(10, tx);
        outlet.send(SessionEvent::Status("first".into()));
        // Let the forwarder block on the full channel holding one message.
        std::thread::sleep(std::time::Duration::from_millis(50));
        outlet.push_events((0..25).map(event).collect());
        outlet.send(SessionEvent::Status("second".into()));
        assert_eq!(
            outlet.take_dropped(),
            Dropped {
                recent: 15,
                total: 15
            }
        );
        assert_eq!(outlet.take_dropped().recent, 0);
        outlet.close();
        let got: Vec<SessionEvent> = rx.iter().collect();
        forwarder.join().unwrap();
        let statuses: Vec<&SessionEvent> = got
            .iter()
            .filter(|e| matches!(e, SessionEvent::Status(_)))
            .collect();
        assert_eq!(statuses.len(), 2);
        let ids: Vec<u32> = got
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Events(b) => Some(b.iter().map(|e| e.trace_id)),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(ids, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_gone_front_end_discards_everything() {
        let (tx, rx) = sync_channel(1);
        let (outlet, forwarder) = Outlet::new(10, tx);
        drop(rx);
        outlet.send(SessionEvent::Status("x".into()));
        forwarder.join().unwrap();
        outlet.push_events(vec![event(1)]);
        assert_eq!(outlet.take_dropped().total, 0);
    }
}
