//! Runs the real TUI against a scripted stand-in for the engine, so a
//! human can look at it in a terminal:
//!
//! ```sh
//! cargo run -p ghostscope-ui --example preview            # a few events a second
//! cargo run --release -p ghostscope-ui --example preview -- --flood   # ~100,000 events/s
//! cargo run -p ghostscope-ui --example preview -- --panic-on-trace    # the terminal survives a panic
//! ```
//!
//! The stand-in loads two fake modules, opens `testdata/src/orders.c`,
//! accepts every `trace` (one address each), and sends events for every
//! active trace. It is not a test and knows nothing of eBPF.

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use ghostscope_protocol::session::*;
use ghostscope_ui::{run, UiConfig};

const ORDERS_C: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/src/orders.c");
const FUNCTIONS: &[(&str, u32)] = &[("update_order", 11), ("place_order", 17), ("main", 23)];

fn progress(done: usize, elapsed_ms: u64) -> LoadProgress {
    let modules = [
        "/opt/orderd/bin/orderd",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
    ];
    LoadProgress {
        subject: format!("PID {}", std::process::id()),
        modules: modules
            .iter()
            .enumerate()
            .map(|(k, path)| ModuleLoad {
                path: path.to_string(),
                state: if k < done {
                    ModuleLoadState::Done {
                        functions: 120 * (k as u64 + 1),
                        variables: 40,
                        types: 300,
                        ms: 200,
                    }
                } else if k == done {
                    ModuleLoadState::Loading
                } else {
                    ModuleLoadState::Pending
                },
            })
            .collect(),
        sources: DebugSourceCounts {
            embedded: done.min(1) as u32,
            debuglink: done.saturating_sub(1) as u32,
            ..DebugSourceCounts::default()
        },
        elapsed_ms,
    }
}

fn position(line: u32) -> SourcePosition {
    SourcePosition {
        file: ORDERS_C.to_string(),
        line,
        column: 0,
    }
}

/// Where a target is, as the fake debug info sees it.
fn resolve(target: &str) -> Option<(String, u32)> {
    let name = target.trim_end_matches("%return");
    if let Some((_, line)) = name.rsplit_once(':') {
        return line.parse().ok().map(|l| (String::from("update_order"), l));
    }
    FUNCTIONS
        .iter()
        .find(|(f, _)| *f == name)
        .map(|(f, l)| (f.to_string(), *l))
}

struct FakeEngine {
    events: Sender<SessionEvent>,
    traces: BTreeMap<u32, TraceInfo>,
    next_id: u32,
    flood: bool,
}

impl FakeEngine {
    fn send(&self, e: SessionEvent) {
        let _ = self.events.send(e);
    }

    fn reply(&self, id: RequestId, reply: Reply) {
        self.send(SessionEvent::Reply { id, reply });
    }

    fn handle(&mut self, id: RequestId, request: Request) -> bool {
        match request {
            Request::AddTrace {
                target,
                body,
                index,
                enabled,
            } => match resolve(&target) {
                Some((function, line)) => {
                    let trace_id = self.next_id;
                    self.next_id += 1;
                    let info = TraceInfo {
                        trace_id,
                        target: target.clone(),
                        body,
                        index,
                        state: if enabled { TraceState::Active } else { TraceState::Disabled },
                        pc: 0x1149 + 0x10 * trace_id as u64,
                        module: "/opt/orderd/bin/orderd".into(),
                        function: Some(function),
                        source: Some(position(line)),
                        pid: Some(std::process::id()),
                        host_pid: None,
                        hits: 0,
                        lost: 0,
                    };
                    self.reply(
                        id,
                        Reply::TraceAdded(TraceOutcome {
                            target,
                            addresses: vec![AddressOutcome {
                                pc: info.pc,
                                result: AddressResult::Attached {
                                    trace_id,
                                    inline: false,
                                    source: Some(position(line)),
                                },
                            }],
                            error: None,
                        }),
                    );
                    self.send(SessionEvent::TraceUpdated(info.clone()));
                    self.traces.insert(trace_id, info);
                }
                None => self.reply(
                    id,
                    Reply::TraceAdded(TraceOutcome {
                        error: Some(format!(
                            "No addresses resolved for function '{target}' - function not found in debug symbols"
                        )),
                        target,
                        addresses: vec![],
                    }),
                ),
            },
            Request::Enable(sel) | Request::Disable(sel) | Request::Delete(sel)
                if matches!(sel, TraceSelector::Id(i) if !self.traces.contains_key(&i)) =>
            {
                self.reply(id, Reply::Error("Trace ID not found".into()))
            }
            Request::Enable(sel) => self.change(id, sel, Some(TraceState::Active)),
            Request::Disable(sel) => self.change(id, sel, Some(TraceState::Disabled)),
            Request::Delete(sel) => self.change(id, sel, None),
            Request::Describe { target, .. } => {
                let found: Vec<AddressDescription> = resolve(&target)
                    .into_iter()
                    .map(|(function, line)| AddressDescription {
                        index: 1,
                        pc: 0x1149,
                        module: "/opt/orderd/bin/orderd".into(),
                        function: Some(function),
                        inline: false,
                        source: Some(position(line)),
                        variables: vec![VariableDescription {
                            name: "o".into(),
                            type_name: "struct order*".into(),
                            is_parameter: true,
                            availability: "available".into(),
                            location: "DW_OP_reg5 (rdi)".into(),
                        }],
                    })
                    .collect();
                self.reply(id, Reply::Described(found));
            }
            Request::SourceFiles => self.reply(
                id,
                Reply::SourceFiles(vec![ModuleSources {
                    module: "/opt/orderd/bin/orderd".into(),
                    files: vec![ORDERS_C.into()],
                }]),
            ),
            Request::FunctionNames { prefix, limit } => self.reply(
                id,
                Reply::FunctionNames(
                    FUNCTIONS
                        .iter()
                        .map(|(f, _)| f.to_string())
                        .filter(|f| f.starts_with(&prefix))
                        .take(limit)
                        .collect(),
                ),
            ),
            Request::LinesWithCode { file } => self.reply(
                id,
                Reply::LinesWithCode {
                    file,
                    lines: vec![12, 13, 14, 15, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28],
                },
            ),
            Request::FileInfo => self.reply(
                id,
                Reply::FileInfo(FileInfo {
                    path: "/opt/orderd/bin/orderd".into(),
                    elf_type: "DYN (PIE)".into(),
                    entry: 0x1040,
                    has_symbols: true,
                    debug: "embedded".into(),
                    text: Some((0x1040, 0x1a5)),
                    data: Some((0x4000, 0x10)),
                    mode: format!("PID {}", std::process::id()),
                }),
            ),
            Request::SharedLibraries => self.reply(
                id,
                Reply::SharedLibraries(vec![SharedLibrary {
                    from: 0x7f12_3400_0000,
                    to: 0x7f12_3419_c000,
                    has_symbols: true,
                    has_debug: true,
                    debug_file: Some("/usr/lib/debug/.build-id/ab/cdef.debug".into()),
                    path: "/usr/lib/x86_64-linux-gnu/libc.so.6".into(),
                }]),
            ),
            Request::Shutdown => {
                self.reply(id, Reply::Done);
                self.send(SessionEvent::Stopped { error: None });
                return false;
            }
        }
        true
    }

    fn change(&mut self, id: RequestId, sel: TraceSelector, state: Option<TraceState>) {
        let ids: Vec<u32> = match sel {
            TraceSelector::Id(i) => vec![i],
            TraceSelector::All => self.traces.keys().copied().collect(),
        };
        for i in &ids {
            match state {
                Some(s) => {
                    if let Some(t) = self.traces.get_mut(i) {
                        t.state = s;
                        let t = t.clone();
                        self.send(SessionEvent::TraceUpdated(t));
                    }
                }
                None => {
                    self.traces.remove(i);
                    self.send(SessionEvent::TraceRemoved(*i));
                }
            }
        }
        self.reply(id, Reply::TracesChanged { ids });
    }

    /// Sends the events of one tick for every active trace.
    fn tick(&mut self, n: u64, per_tick: usize) {
        let active: Vec<u32> = self
            .traces
            .values()
            .filter(|t| t.state == TraceState::Active)
            .map(|t| t.trace_id)
            .collect();
        for trace_id in active {
            let batch: Vec<TraceEvent> = (0..per_tick)
                .map(|k| {
                    let seq = n * per_tick as u64 + k as u64;
                    let mut lines = vec![
                        format!("o->total = {}", seq as f64 * 1.5),
                        format!("o->customer = \"alice\" (seq {seq})"),
                    ];
                    if seq.is_multiple_of(7) {
                        lines.push("backtrace: complete, 3 frames (max 128)".into());
                        lines.push("  #0 update_order(struct order* o, double amount) at orders.c:13:14 [orderd+0x1149]".into());
                        lines.push("  #1 place_order(struct order* o) at orders.c:20:12 [orderd+0x11a0]".into());
                        lines.push("  #2 main() at orders.c:27:9 [orderd+0x11f0]".into());
                    }
                    TraceEvent {
                        trace_id,
                        pid: std::process::id(),
                        tid: std::process::id(),
                        timestamp_ns: seq,
                        time: chrono::Local::now()
                            .format("%Y-%m-%d %H:%M:%S%.3f")
                            .to_string(),
                        lines,
                        error: seq.is_multiple_of(13),
                    }
                })
                .collect();
            if let Some(t) = self.traces.get_mut(&trace_id) {
                t.hits += per_tick as u64;
                if self.flood && n.is_multiple_of(10) {
                    t.lost += 17;
                    let total = t.lost;
                    let target = t.target.clone();
                    let _ = self.events.send(SessionEvent::Loss {
                        trace_id,
                        target,
                        lost: 17,
                        total,
                    });
                }
                let _ = self.events.send(SessionEvent::TraceUpdated(t.clone()));
            }
            self.send(SessionEvent::Events(batch));
        }
    }
}

fn engine(events: Sender<SessionEvent>, requests: Receiver<(RequestId, Request)>, flood: bool) {
    let start = Instant::now();
    for done in 0..2 {
        let _ = events.send(SessionEvent::Loading(progress(
            done,
            start.elapsed().as_millis() as u64,
        )));
        thread::sleep(Duration::from_millis(600));
    }
    let _ = events.send(SessionEvent::Ready(SessionReady {
        pid: Some(std::process::id()),
        main_module: "/opt/orderd/bin/orderd".into(),
        main_source: Some(position(23)),
        progress: progress(2, start.elapsed().as_millis() as u64),
        launch_program: None,
    }));
    let mut fake = FakeEngine {
        events,
        traces: BTreeMap::new(),
        next_id: 0,
        flood,
    };
    // A flood sends 10,000 events every 100 ms per trace (100,000/s).
    let (period, per_tick) = if flood {
        (Duration::from_millis(100), 10_000)
    } else {
        (Duration::from_millis(500), 1)
    };
    let mut n = 0;
    loop {
        let deadline = Instant::now() + period;
        while let Ok((id, r)) =
            requests.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if !fake.handle(id, r) {
                return;
            }
        }
        fake.tick(n, per_tick);
        n += 1;
    }
}

fn main() -> std::io::Result<()> {
    let flood = std::env::args().any(|a| a == "--flood");
    let panic_on_trace = std::env::args().any(|a| a == "--panic-on-trace");
    let (event_tx, event_rx) = channel();
    let (request_tx, request_rx) = channel();
    let engine = thread::spawn(move || engine(event_tx, request_rx, flood));
    let config = UiConfig {
        history_file: std::env::temp_dir().join("ghostscope-preview-history"),
        ..UiConfig::default()
    };
    let exit = run(
        config,
        Box::new(move |id, request| {
            // The sink runs on the UI's thread: this shows a panic there.
            if panic_on_trace && matches!(request, Request::AddTrace { .. }) {
                panic!("--panic-on-trace: a panic on the UI thread");
            }
            let _ = request_tx.send((id, request));
        }),
        event_rx,
    );
    println!("preview ended: {exit:?}");
    let _ = engine.join();
    Ok(())
}
