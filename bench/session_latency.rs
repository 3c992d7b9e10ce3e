//! How long a trace added to a running session takes: from the `AddTrace`
//! request to its reply (compiled, loaded, verified, attached) and to the
//! first event of the new trace, on a function the target calls about
//! every millisecond. The session is warm: the name index is built before
//! the first request, as it is once the TUI shows its panels. Not a test;
//! see bench/README.md.
//!
//! With `flood`, it measures the event path instead: a trace on a function
//! called as fast as the target can, read by a front end that takes one
//! message per 30 fps frame, for a few seconds: events delivered, dropped
//! by the engine's queue, and lost in the kernel.
//!
//! Usage (as root): cargo run --release -p ghostscope --example session_latency [-- RUNS | flood]

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use e2e_tests::{build_fixture, Fixture};
use ghostscope::engine::server::{Session, SessionConfig, DEFAULT_QUEUE_CAPACITY};
use ghostscope::engine::{EngineOptions, LoadTarget};
use ghostscope_dwarf::{DebugSession, LoadOptions};
use ghostscope_protocol::session::{
    AddressResult, Reply, Request, RequestId, SessionEvent, TraceSelector,
};

const WAIT: Duration = Duration::from_secs(30);

struct Client {
    requests: Box<dyn FnMut(RequestId, Request) + Send>,
    events: Receiver<SessionEvent>,
    next_id: RequestId,
}

impl Client {
    fn next(&self) -> SessionEvent {
        self.events.recv_timeout(WAIT).expect("the engine answers")
    }

    /// Sends a request; returns its reply and when it arrived.
    fn request(&mut self, request: Request) -> (Reply, Instant) {
        let id = self.next_id;
        self.next_id += 1;
        (self.requests)(id, request);
        loop {
            if let SessionEvent::Reply { id: got, reply } = self.next() {
                if got == id {
                    return (reply, Instant::now());
                }
            }
        }
    }

    /// Waits for the first event of `trace_id`; returns when it arrived.
    fn first_event(&self, trace_id: u32) -> Instant {
        loop {
            if let SessionEvent::Events(batch) = self.next() {
                if batch.iter().any(|e| e.trace_id == trace_id) {
                    return Instant::now();
                }
            }
        }
    }
}

struct Run {
    attached_ms: f64,
    first_event_ms: f64,
}

fn one_run(c: &mut Client) -> Run {
    let start = Instant::now();
    let (reply, attached) = c.request(Request::AddTrace {
        target: "tick".into(),
        body: "print n;".into(),
        index: None,
        enabled: true,
    });
    let trace_id = match reply {
        Reply::TraceAdded(o) => match &o.addresses[..] {
            [a] => match &a.result {
                AddressResult::Attached { trace_id, .. } => *trace_id,
                other => panic!("not attached: {other:?}"),
            },
            other => panic!("unexpected addresses {other:?}"),
        },
        other => panic!("unexpected reply {other:?}"),
    };
    let first = c.first_event(trace_id);
    let ms = |t: Instant| t.duration_since(start).as_secs_f64() * 1000.0;
    let run = Run {
        attached_ms: ms(attached),
        first_event_ms: ms(first),
    };
    c.request(Request::Delete(TraceSelector::Id(trace_id)));
    run
}

fn stats(mut v: Vec<f64>) -> String {
    v.sort_by(f64::total_cmp);
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    format!(
        "median {median:6.2} ms   min {:6.2}   max {:6.2}",
        v[0],
        v[v.len() - 1]
    )
}

fn start(fixture: &str) -> (Fixture, Session, Client) {
    let exe = build_fixture(fixture, "gcc", &["-g", "-O0"]);
    let fixture = Fixture::start(&exe);
    let pid = fixture.pid();
    let config = SessionConfig {
        target: LoadTarget::Process { pid, target: None },
        options: EngineOptions::new(Some(pid)),
        queue_capacity: DEFAULT_QUEUE_CAPACITY,
    };
    let load_start = Instant::now();
    let mut session = Session::start(config, move |observer| {
        DebugSession::load_process(pid, None, &LoadOptions::default(), observer)
            .map_err(|e| e.to_string())
    })
    .expect("session starts");
    let c = Client {
        requests: session.request_sink(),
        events: session.take_events(),
        next_id: 1,
    };
    loop {
        match c.next() {
            SessionEvent::Ready(_) => break,
            SessionEvent::LoadFailed(m) => panic!("load failed: {m}"),
            _ => {}
        }
    }
    println!(
        "session ready (modules opened, name indexes built) in {:.1} ms",
        load_start.elapsed().as_secs_f64() * 1000.0
    );
    (fixture, session, c)
}

/// Floods the session and reads it like a 30 fps front end.
fn flood() {
    let (_fixture, session, mut c) = start("flood");
    let (reply, _) = c.request(Request::AddTrace {
        target: "hot".into(),
        body: "print a;".into(),
        index: None,
        enabled: true,
    });
    assert!(matches!(reply, Reply::TraceAdded(_)), "{reply:?}");
    let seconds = 5;
    let start = Instant::now();
    let (mut delivered, mut dropped, mut lost, mut messages) = (0u64, 0u64, 0u64, 0u64);
    while start.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_millis(33));
        // One frame: take what is there, as a UI's try_recv loop does.
        while let Ok(e) = c.events.try_recv() {
            messages += 1;
            match e {
                SessionEvent::Events(b) => delivered += b.len() as u64,
                SessionEvent::QueueSaturated { total, .. } => dropped = total,
                SessionEvent::Loss { total, .. } => lost = total,
                _ => {}
            }
        }
    }
    let rate = |n: u64| n as f64 / seconds as f64;
    println!("flood: `trace hot {{ print a; }}` for {seconds} s, read 30 times a second:");
    println!(
        "  delivered {:>10.0} events/s in {:.0} messages/s",
        rate(delivered),
        rate(messages)
    );
    println!(
        "  dropped   {:>10.0} events/s (engine queue full)",
        rate(dropped)
    );
    println!(
        "  lost      {:>10.0} events/s (kernel ring buffer full)",
        rate(lost)
    );
    let stop = Instant::now();
    c.request(Request::Shutdown);
    session.finish();
    println!(
        "  shutdown (detach, drain, stop) {:.1} ms",
        stop.elapsed().as_secs_f64() * 1000.0
    );
}

fn main() {
    let arg = std::env::args().nth(1);
    if arg.as_deref() == Some("flood") {
        return flood();
    }
    let runs: usize = arg
        .map(|s| s.parse().expect("RUNS is a number"))
        .unwrap_or(15);
    let (_fixture, session, mut c) = start("session");
    // The first trace of a session also pays for LLVM's first compile and
    // the kernel's first uprobe registration (toolchain P16).
    let first = one_run(&mut c);
    println!(
        "first trace of the session:   AddTrace -> attached {:6.2} ms, -> first event {:6.2} ms",
        first.attached_ms, first.first_event_ms
    );
    let measured: Vec<Run> = (0..runs).map(|_| one_run(&mut c)).collect();
    println!("later traces ({runs} runs), `trace tick {{ print n; }}`, tick() called every ~1 ms:");
    println!(
        "  AddTrace -> attached (reply):  {}",
        stats(measured.iter().map(|r| r.attached_ms).collect())
    );
    println!(
        "  AddTrace -> first event:       {}",
        stats(measured.iter().map(|r| r.first_event_ms).collect())
    );
    c.request(Request::Shutdown);
    session.finish();
}
