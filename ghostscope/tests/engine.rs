//! The session engine against a real fixture, driven with the session
//! `Request`s the TUI sends: real kernel, real LLVM, real uprobes. Run as
//! root. The tests hold one lock, because some count this process's BPF
//! program descriptors and every test loads programs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use e2e_tests::{build_fixture, read_process_byte, runtime_address, Fixture};
use ghostscope::engine::server::{Session, SessionConfig, StopCause, DEFAULT_QUEUE_CAPACITY};
use ghostscope::engine::{EngineOptions, LoadTarget};
use ghostscope_dwarf::{DebugSession, LoadEvent, LoadObserver, LoadOptions};
use ghostscope_protocol::session::{
    AddressDescription, AddressResult, ModuleLoadState, Reply, Request, SessionEvent, SessionReady,
    TraceEvent, TraceOutcome, TraceSelector, TraceState,
};

const INT3: u8 = 0xcc;
const WAIT: Duration = Duration::from_secs(30);

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn fixture() -> PathBuf {
    build_fixture("session", "gcc", &["-g", "-O0"])
}

/// What the TUI loads with: every module's counts for the loading screen.
fn tui_load_options() -> LoadOptions {
    LoadOptions {
        count_names: true,
        ..LoadOptions::default()
    }
}

/// BPF programs this process holds open (each loaded trace holds one).
fn bpf_program_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|l| l.to_string_lossy() == "anon_inode:bpf-prog")
        .count()
}

/// A front end that speaks the session protocol, as the TUI does.
struct Client {
    session: Option<Session>,
    requests: Box<dyn FnMut(u64, Request) + Send>,
    events: Receiver<SessionEvent>,
    next_id: u64,
    /// Everything that was not a reply, in arrival order.
    seen: Vec<SessionEvent>,
}

fn config(pid: u32) -> SessionConfig {
    SessionConfig {
        target: LoadTarget::Process { pid, target: None },
        options: EngineOptions::new(Some(pid)),
        queue_capacity: DEFAULT_QUEUE_CAPACITY,
    }
}

/// What every test starts with: the lock, and the fixture running.
struct Setup {
    _serial: MutexGuard<'static, ()>,
    exe: PathBuf,
    f: Fixture,
    pid: u32,
}

fn setup() -> Setup {
    let serial = serial();
    let exe = fixture();
    let f = Fixture::start(&exe);
    Setup {
        _serial: serial,
        pid: f.pid(),
        exe,
        f,
    }
}

impl Client {
    fn start(pid: u32) -> (Client, SessionReady) {
        let mut client = Client::connect(pid, move |observer| {
            DebugSession::load_process(pid, None, &tui_load_options(), observer)
                .map_err(|e| e.to_string())
        });
        let ready = client.wait_for(|e| match e {
            SessionEvent::Ready(r) => Some(r.clone()),
            SessionEvent::LoadFailed(m) => panic!("load failed: {m}"),
            _ => None,
        });
        (client, ready)
    }

    fn connect(
        pid: u32,
        load: impl FnOnce(LoadObserver<'_>) -> Result<DebugSession, String> + Send + 'static,
    ) -> Client {
        let mut session = Session::start(config(pid), load).unwrap();
        Client {
            requests: session.request_sink(),
            events: session.take_events(),
            session: Some(session),
            next_id: 1,
            seen: Vec::new(),
        }
    }

    fn next(&mut self, deadline: Instant) -> SessionEvent {
        self.events
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the engine answers in time")
    }

    /// Waits for the first event (seen before or new) that `f` picks.
    fn wait_for<T>(&mut self, mut f: impl FnMut(&SessionEvent) -> Option<T>) -> T {
        if let Some(t) = self.seen.iter().find_map(&mut f) {
            return t;
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let e = self.next(deadline);
            let picked = f(&e);
            self.seen.push(e);
            if let Some(t) = picked {
                return t;
            }
        }
    }

    fn request(&mut self, request: Request) -> Reply {
        let id = self.next_id;
        self.next_id += 1;
        (self.requests)(id, request);
        let deadline = Instant::now() + WAIT;
        loop {
            match self.next(deadline) {
                SessionEvent::Reply { id: got, reply } if got == id => return reply,
                other => self.seen.push(other),
            }
        }
    }

    fn add(&mut self, target: &str, body: &str, index: Option<usize>) -> TraceOutcome {
        match self.request(Request::AddTrace {
            target: target.into(),
            body: body.into(),
            index,
            enabled: true,
        }) {
            Reply::TraceAdded(o) => o,
            other => panic!("unexpected reply {other:?}"),
        }
    }

    /// Events of trace `id` received so far, waiting until there are `count`.
    fn events_of(&mut self, id: u32, count: usize) -> Vec<TraceEvent> {
        let collect = |seen: &[SessionEvent]| -> Vec<TraceEvent> {
            seen.iter()
                .filter_map(|e| match e {
                    SessionEvent::Events(b) => Some(b.iter().filter(|e| e.trace_id == id)),
                    _ => None,
                })
                .flatten()
                .cloned()
                .collect()
        };
        let deadline = Instant::now() + WAIT;
        loop {
            let got = collect(&self.seen);
            if got.len() >= count {
                return got;
            }
            let e = self.next(deadline);
            self.seen.push(e);
        }
    }

    /// Reads events for a while.
    fn soak(&mut self, time: Duration) {
        let until = Instant::now() + time;
        while let Ok(e) = self
            .events
            .recv_timeout(until.saturating_duration_since(Instant::now()))
        {
            self.seen.push(e);
        }
    }

    fn describe(&mut self, target: impl Into<String>, verbose: bool) -> Vec<AddressDescription> {
        match self.request(Request::Describe {
            target: target.into(),
            verbose,
        }) {
            Reply::Described(d) => d,
            other => panic!("no description: {other:?}"),
        }
    }

    fn trace_state(&mut self, id: u32, state: TraceState) {
        self.wait_for(|e| match e {
            SessionEvent::TraceUpdated(i) if i.trace_id == id && i.state == state => Some(()),
            _ => None,
        });
    }

    fn finish(mut self) -> StopCause {
        self.session.take().unwrap().finish()
    }
}

fn attached_id(outcome: &TraceOutcome, address: usize) -> u32 {
    match &outcome.addresses[address].result {
        AddressResult::Attached { trace_id, .. } => *trace_id,
        other => panic!("address {address} of {outcome:?} did not attach: {other:?}"),
    }
}

/// Samples one byte of the target until stopped; returns the bytes seen.
fn sample_byte(pid: u32, addr: u64, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            seen.push(read_process_byte(pid, addr));
            std::thread::sleep(Duration::from_micros(200));
        }
        seen
    })
}

#[test]
fn traces_are_added_and_changed_one_at_a_time_while_the_others_keep_running() {
    let mut s = setup();
    let (exe, pid) = (s.exe.clone(), s.pid);
    let tick = runtime_address(pid, &exe, "tick");
    let idle = runtime_address(pid, &exe, "idle");
    let original = read_process_byte(pid, tick);
    assert_ne!(original, INT3);
    let programs_before = bpf_program_fds();

    let (mut c, ready) = Client::start(pid);
    assert_eq!(ready.pid, Some(pid));
    assert_eq!(
        Path::new(&ready.main_module),
        std::fs::canonicalize(&exe).unwrap()
    );
    let main = ready
        .main_source
        .clone()
        .expect("main has a source position");
    assert!(main.file.ends_with("/session.c"), "{main:?}");
    assert_eq!(main.line, 23);
    let exe_load = ready
        .progress
        .modules
        .iter()
        .find(|m| m.path == ready.main_module)
        .expect("the executable is among the loaded modules");
    assert!(
        matches!(exe_load.state, ModuleLoadState::Done { functions, .. } if functions >= 4),
        "{exe_load:?}"
    );
    assert!(ready.progress.sources.embedded >= 1);

    // The first trace.
    let first = c.add("tick", "print n;", None);
    assert_eq!(first.error, None);
    assert_eq!(first.addresses.len(), 1);
    let AddressResult::Attached {
        trace_id,
        inline,
        source,
    } = &first.addresses[0].result
    else {
        panic!("{first:?}")
    };
    assert_eq!((*trace_id, *inline), (0, false));
    let source = source.clone().unwrap();
    assert!(
        source.file.ends_with("/session.c") && source.line == 12,
        "{source:?}"
    );
    c.trace_state(0, TraceState::Active);
    assert_eq!(read_process_byte(pid, tick), INT3);
    let e = c.events_of(0, 3)[0].clone();
    assert_eq!(e.pid, pid);
    assert!(e.lines[0].starts_with("n = "), "{e:?}");
    assert_eq!(e.time.len(), 23, "{e:?}");
    assert!(!e.error);

    // A second trace: the first one's uprobe never goes away meanwhile.
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_byte(pid, tick, stop.clone());
    std::thread::sleep(Duration::from_millis(20));
    let second = c.add("idle", "print rounds;", None);
    std::thread::sleep(Duration::from_millis(20));
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.join().unwrap();
    assert_eq!(attached_id(&second, 0), 1);
    assert!(samples.len() > 10, "{} samples", samples.len());
    assert!(
        samples.iter().all(|&b| b == INT3),
        "the first trace's probe disappeared while the second was added"
    );
    assert!(c.events_of(1, 3)[0].lines[0].starts_with("rounds = "));
    assert_eq!(bpf_program_fds(), programs_before + 2);

    // Disable: the uprobe goes, the program stays loaded.
    assert_eq!(
        c.request(Request::Disable(TraceSelector::Id(0))),
        Reply::TracesChanged { ids: vec![0] }
    );
    c.trace_state(0, TraceState::Disabled);
    assert_eq!(read_process_byte(pid, tick), original);
    assert_eq!(read_process_byte(pid, idle), INT3);
    assert_eq!(bpf_program_fds(), programs_before + 2);
    c.soak(Duration::from_millis(200));
    let before = c.events_of(0, 0).len();
    let others = c.events_of(1, 0).len();
    c.soak(Duration::from_millis(300));
    assert_eq!(
        c.events_of(0, 0).len(),
        before,
        "a disabled trace sends nothing"
    );
    assert!(c.events_of(1, 0).len() > others, "the other trace goes on");

    // Enable: the same program is attached again.
    assert_eq!(
        c.request(Request::Enable(TraceSelector::Id(0))),
        Reply::TracesChanged { ids: vec![0] }
    );
    assert_eq!(read_process_byte(pid, tick), INT3);
    assert_eq!(bpf_program_fds(), programs_before + 2);
    c.events_of(0, before + 3);

    // Counters reach the front end.
    c.wait_for(|e| match e {
        SessionEvent::TraceUpdated(i) if i.trace_id == 1 && i.hits >= 3 => Some(()),
        _ => None,
    });

    // Delete: detached and unloaded; the id is never used again.
    assert_eq!(
        c.request(Request::Delete(TraceSelector::Id(0))),
        Reply::TracesChanged { ids: vec![0] }
    );
    c.wait_for(|e| matches!(e, SessionEvent::TraceRemoved(0)).then_some(()));
    assert_eq!(read_process_byte(pid, tick), original);
    assert_eq!(bpf_program_fds(), programs_before + 1);
    assert_eq!(
        c.request(Request::Enable(TraceSelector::Id(0))),
        Reply::Error("Trace ID not found".into())
    );
    let third = c.add("tick", "print step;", None);
    assert_eq!(attached_id(&third, 0), 2);

    // Quit: everything detached and unloaded, the target untouched.
    assert_eq!(c.request(Request::Shutdown), Reply::Done);
    c.wait_for(|e| matches!(e, SessionEvent::Stopped { error: None }).then_some(()));
    assert_eq!(c.finish(), StopCause::Quit);
    assert_eq!(read_process_byte(pid, tick), original);
    assert_ne!(read_process_byte(pid, idle), INT3);
    assert_eq!(bpf_program_fds(), programs_before);
    assert!(s.f.is_running());
}

#[test]
fn errors_are_reported_in_the_words_of_the_spec() {
    let s = setup();
    let (exe, pid) = (s.exe.clone(), s.pid);
    let (mut c, _) = Client::start(pid);

    // Line and column count in the body as typed.
    let o = c.add("tick", "print n;\n  print x", None);
    assert!(o.addresses.is_empty());
    let e = o.error.unwrap();
    assert!(
        e.starts_with("Parse error: Pest parser error: line 2, column 10: expected"),
        "{e}"
    );
    assert!(e.contains("\n  2 |   print x\n"), "{e}");

    assert_eq!(
        c.add("nosuch", "print 1;", None).error.as_deref(),
        Some("No addresses resolved for function 'nosuch' - function not found in debug symbols")
    );
    assert_eq!(
        c.add("scale", "print v;", Some(3)).error.as_deref(),
        Some("Selected index 3 is out of range for function 'scale' (valid 1..=2). Use 'info function scale' to view indices.")
    );
    assert_eq!(
        c.add("session.c:13", "print n;", Some(2)).error.as_deref(),
        Some("Selected index 2 is out of range for session.c:13 (valid 1..=1). Use 'info' to view indices.")
    );

    // A failed address uses no trace id.
    let failed = c.add("tick", "print nosuchvar;", None);
    assert_eq!(failed.error, None);
    match &failed.addresses[0].result {
        AddressResult::Failed(m) => assert!(m.contains("nosuchvar"), "{m}"),
        other => panic!("{other:?}"),
    }

    // [index] keeps one address of an inlined function; the other is skipped.
    let picked = c.add("scale", "print v;", Some(2));
    assert_eq!(picked.addresses.len(), 2);
    assert_eq!(
        picked.addresses[0].result,
        AddressResult::Skipped("index 2 selected".into())
    );
    assert_eq!(attached_id(&picked, 1), 0);
    assert!(matches!(
        picked.addresses[1].result,
        AddressResult::Attached { inline: true, .. }
    ));
    assert!(c.events_of(0, 1)[0].lines[0].starts_with("v = "));

    // Loaded but left disabled (`//@disabled` in a sourced file).
    let tick = runtime_address(pid, &exe, "tick");
    let disabled = match c.request(Request::AddTrace {
        target: "tick".into(),
        body: "print n;".into(),
        index: None,
        enabled: false,
    }) {
        Reply::TraceAdded(o) => attached_id(&o, 0),
        other => panic!("{other:?}"),
    };
    assert_eq!(disabled, 1);
    c.trace_state(1, TraceState::Disabled);
    assert_ne!(read_process_byte(pid, tick), INT3);
    assert_eq!(
        c.request(Request::Enable(TraceSelector::All)),
        Reply::TracesChanged { ids: vec![0, 1] }
    );
    assert_eq!(read_process_byte(pid, tick), INT3);

    for request in [
        Request::Enable(TraceSelector::Id(7)),
        Request::Disable(TraceSelector::Id(7)),
        Request::Delete(TraceSelector::Id(7)),
    ] {
        assert_eq!(
            c.request(request),
            Reply::Error("Trace ID not found".into())
        );
    }
    assert_eq!(
        c.request(Request::Delete(TraceSelector::All)),
        Reply::TracesChanged { ids: vec![0, 1] }
    );
    assert_ne!(read_process_byte(pid, tick), INT3);
    assert_eq!(c.request(Request::Shutdown), Reply::Done);
    assert_eq!(c.finish(), StopCause::Quit);
}

#[test]
fn queries_describe_the_program() {
    let s = setup();
    let pid = s.pid;
    let (mut c, ready) = Client::start(pid);

    let scale = c.describe("scale", false);
    assert_eq!(scale.len(), 2);
    for (i, d) in scale.iter().enumerate() {
        assert_eq!(d.index, i + 1);
        assert!(d.inline);
        assert_eq!(d.function.as_deref(), Some("scale"));
        assert_eq!(d.module, ready.main_module);
        assert_eq!(d.source.as_ref().unwrap().line, 9);
        let v = d.variables.iter().find(|v| v.name == "v").unwrap();
        assert_eq!(
            (
                v.type_name.as_str(),
                v.is_parameter,
                v.availability.as_str()
            ),
            ("long int", true, "available")
        );
        assert_eq!(v.location, "");
    }
    let verbose = c.describe("tick", true);
    assert_eq!(verbose.len(), 1);
    assert!(!verbose[0].inline);
    let n = verbose[0].variables.iter().find(|v| v.name == "n").unwrap();
    assert!(n.location.starts_with("register "), "{n:?}");
    let tick_pc = verbose[0].pc;

    let at = c.describe(format!("0x{tick_pc:x}"), false);
    assert_eq!(at[0].function.as_deref(), Some("tick"));
    assert_eq!(at[0].source.as_ref().unwrap().line, 12);
    let module = s.exe.file_name().unwrap().to_string_lossy();
    let in_module = c.describe(format!("{module}:0x{tick_pc:x}"), false);
    assert_eq!(in_module, at);
    let line = c.describe("session.c:20", false);
    assert_eq!(line[0].function.as_deref(), Some("idle"));
    assert_eq!(
        c.request(Request::Describe {
            target: "nosuch".into(),
            verbose: false
        }),
        Reply::Error("Function 'nosuch' not found in any loaded module".into())
    );

    let Reply::SourceFiles(files) = c.request(Request::SourceFiles) else {
        panic!("no file list")
    };
    let main = files
        .iter()
        .find(|m| m.module == ready.main_module)
        .expect("the executable's files");
    let source = main
        .files
        .iter()
        .find(|f| f.ends_with("/session.c"))
        .expect("session.c is listed")
        .clone();
    let Reply::LinesWithCode { file, lines } = c.request(Request::LinesWithCode {
        file: source.clone(),
    }) else {
        panic!("no lines")
    };
    assert_eq!(file, source);
    for l in [9, 12, 13, 16, 19, 20, 23] {
        assert!(lines.contains(&l), "line {l} has code: {lines:?}");
    }
    for l in [1, 4, 11, 18] {
        assert!(!lines.contains(&l), "line {l} has no code: {lines:?}");
    }

    // Every module counts: libc's names too when its DWARF is installed.
    let Reply::FunctionNames(ti) = c.request(Request::FunctionNames {
        prefix: "ti".into(),
        limit: 10,
    }) else {
        panic!("no names")
    };
    assert!(ti.contains(&"tick".to_string()), "{ti:?}");
    assert!(
        ti.len() <= 10 && ti.iter().all(|n| n.starts_with("ti")),
        "{ti:?}"
    );
    assert!(ti.windows(2).all(|w| w[0] < w[1]), "{ti:?}");
    assert_eq!(
        c.request(Request::FunctionNames {
            prefix: "tick".into(),
            limit: 10
        }),
        Reply::FunctionNames(vec!["tick".into()])
    );
    let Reply::FunctionNames(two) = c.request(Request::FunctionNames {
        prefix: String::new(),
        limit: 2,
    }) else {
        panic!("no names")
    };
    assert_eq!(two.len(), 2);

    let Reply::FileInfo(info) = c.request(Request::FileInfo) else {
        panic!("no file info")
    };
    assert_eq!(info.path, ready.main_module);
    assert_eq!(info.elf_type, "DYN (PIE)");
    assert!(info.has_symbols);
    assert_eq!(info.debug, "embedded");
    let (text, size) = info.text.unwrap();
    assert!(info.entry >= text && info.entry < text + size);
    assert_eq!(info.mode, format!("PID {pid}"));

    let Reply::SharedLibraries(libs) = c.request(Request::SharedLibraries) else {
        panic!("no libraries")
    };
    let libc = libs
        .iter()
        .find(|l| l.path.contains("libc.so"))
        .expect("libc is mapped");
    assert!(libc.from < libc.to && libc.has_symbols);
    assert!(libs.iter().all(|l| l.path != ready.main_module));
    assert_eq!(c.request(Request::Shutdown), Reply::Done);
    assert_eq!(c.finish(), StopCause::Quit);
}

#[test]
fn a_hangup_detaches_everything_and_stops_the_session() {
    let mut s = setup();
    let (exe, pid) = (s.exe.clone(), s.pid);
    let tick = runtime_address(pid, &exe, "tick");
    let (mut c, _) = Client::start(pid);
    attached_id(&c.add("tick", "print n;", None), 0);
    assert_eq!(read_process_byte(pid, tick), INT3);
    // SAFETY: kill(2) on this test process; the session's handler takes it.
    unsafe { libc::kill(std::process::id() as i32, libc::SIGHUP) };
    c.wait_for(|e| matches!(e, SessionEvent::Stopped { error: None }).then_some(()));
    assert_ne!(read_process_byte(pid, tick), INT3);
    assert_eq!(c.finish(), StopCause::Signal(libc::SIGHUP));
    assert!(s.f.is_running());
}

#[test]
fn loading_reports_progress_until_ready() {
    let s = setup();
    let (exe, pid) = (s.exe.clone(), s.pid);
    let mut c = Client::connect(pid, move |observer| {
        // A slow load, as a program with a lot of DWARF would be: each
        // module takes a second more once it is indexed.
        let slow = |event: LoadEvent<'_>| {
            let loaded = matches!(event, LoadEvent::Loaded { .. });
            observer(event);
            if loaded {
                std::thread::sleep(Duration::from_millis(1000));
            }
        };
        DebugSession::load_process(pid, None, &tui_load_options(), &slow).map_err(|e| e.to_string())
    });
    let ready = c.wait_for(|e| match e {
        SessionEvent::Ready(r) => Some(r.clone()),
        _ => None,
    });
    let loading: Vec<_> = c
        .seen
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Loading(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert!(loading.len() >= 4, "{} progress reports", loading.len());
    assert!(loading
        .windows(2)
        .all(|w| w[0].elapsed_ms <= w[1].elapsed_ms));
    assert!(loading.iter().all(|p| p.subject == format!("PID {pid}")));
    let exe_path = std::fs::canonicalize(&exe).unwrap().display().to_string();
    // While the load still runs, the executable is already shown done,
    // with what its index holds.
    let last = loading.last().unwrap();
    let exe_state = &last
        .modules
        .iter()
        .find(|m| m.path == exe_path)
        .unwrap_or_else(|| panic!("{last:?}"))
        .state;
    assert!(
        matches!(exe_state, ModuleLoadState::Done { functions, .. } if *functions >= 4),
        "{exe_state:?}"
    );
    assert!(last.sources.embedded >= 1, "{last:?}");
    assert!(ready.progress.elapsed_ms >= 1000);
    assert!(ready
        .progress
        .modules
        .iter()
        .all(|m| matches!(m.state, ModuleLoadState::Done { .. })));
    assert_eq!(c.request(Request::Shutdown), Reply::Done);
    assert_eq!(c.finish(), StopCause::Quit);
}

#[test]
fn a_failed_load_is_shown_until_the_front_end_quits() {
    let _serial = serial();
    let mut c = Client::connect(1, |_| {
        Err("No debug information found in any module!".into())
    });
    let failed = c.wait_for(|e| match e {
        SessionEvent::LoadFailed(m) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(failed, "No debug information found in any module!");
    // The channel stays open while the user reads the error.
    assert_eq!(
        c.request(Request::SourceFiles),
        Reply::Error("No debug information found in any module!".into())
    );
    assert_eq!(c.request(Request::Shutdown), Reply::Done);
    assert_eq!(
        c.finish(),
        StopCause::LoadFailed("No debug information found in any module!".into())
    );
}
