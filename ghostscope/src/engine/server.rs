//! The engine as a service for an interactive front end (the TUI): it
//! loads the debug info in the background while reporting progress, then
//! answers [`Request`]s, streams events, and stops on `Shutdown`, a signal
//! or a fatal error. Four threads, so no side waits for another:
//!
//! - control: owns the [`Engine`]; adds, enables, disables, deletes traces;
//! - queries: answers `info …`, file lists and completion from the session;
//! - drain: the [`EventPump`](super::EventPump) into a [`FrontEndSink`];
//! - outlet: forwards messages into the front end's channel;
//!
//! plus a signal watcher that turns SIGINT, SIGTERM and SIGHUP into a stop.

use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ghostscope_dwarf::{DebugSession, LoadObserver};
use ghostscope_protocol::session::{
    AddressResult, Reply, Request, RequestId, SessionEvent, SessionReady, TraceSelector,
};
use tokio::signal::unix::{signal, SignalKind};

use super::loading::{LoadTarget, LoadTracker};
use super::outlet::Outlet;
use super::queries;
use super::{Engine, EngineError, EngineOptions, EngineParts, FrontEndSink};

/// How often loading progress is sent.
const LOADING_TICK: Duration = Duration::from_millis(200);
/// Messages the front end's channel holds before the outlet waits.
const FRONT_END_CHANNEL: usize = 4;

/// How to run a session for a front end.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// What to load.
    pub target: LoadTarget,
    /// How traces are compiled and attached.
    pub options: EngineOptions,
    /// Events held for a slow front end before they are dropped.
    pub queue_capacity: usize,
}

/// Events held for the front end by default.
pub const DEFAULT_QUEUE_CAPACITY: usize = 16384;

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopCause {
    /// The front end asked (`Shutdown`) or went away.
    Quit,
    /// A signal (its number) asked ghostscope to stop.
    Signal(i32),
    /// The debug info could not be loaded.
    LoadFailed(String),
    /// Reading events failed.
    Fatal(String),
}

/// What the control thread is told.
enum Command {
    Request(RequestId, Request),
    Signal(i32),
    Fatal(String),
    /// The front end ended without `Shutdown`.
    FrontEndGone,
}

/// A running session; [`Session::finish`] ends it.
pub struct Session {
    commands: Sender<Command>,
    events: Option<Receiver<SessionEvent>>,
    control: Option<JoinHandle<StopCause>>,
    forwarder: Option<JoinHandle<()>>,
}

impl Session {
    /// Starts the session's threads. `load` opens the debug session (on a
    /// thread of its own), reporting each module to the observer it is
    /// given; until it returns, `Loading` progress is sent every 200 ms.
    /// Signal handlers are installed before this returns.
    pub fn start(
        config: SessionConfig,
        load: impl FnOnce(LoadObserver<'_>) -> Result<DebugSession, String> + Send + 'static,
    ) -> std::io::Result<Session> {
        let (commands, command_rx) = channel();
        watch_signals(commands.clone())?;
        let (to_front_end, events) = sync_channel(FRONT_END_CHANNEL);
        let (outlet, forwarder) = Outlet::new(config.queue_capacity, to_front_end);
        let control = {
            let commands = commands.clone();
            std::thread::Builder::new()
                .name("gs-control".into())
                .spawn(move || control(config, load, command_rx, commands, outlet))?
        };
        Ok(Session {
            commands,
            events: Some(events),
            control: Some(control),
            forwarder: Some(forwarder),
        })
    }

    /// The callback the front end sends requests through.
    pub fn request_sink(&self) -> Box<dyn FnMut(RequestId, Request) + Send> {
        let commands = self.commands.clone();
        Box::new(move |id, request| {
            let _ = commands.send(Command::Request(id, request));
        })
    }

    /// The channel of session events; it can be taken once.
    pub fn take_events(&mut self) -> Receiver<SessionEvent> {
        self.events.take().expect("session events taken once")
    }

    /// Stops the session if it still runs (every trace detached and
    /// unloaded) and waits for its threads.
    pub fn finish(mut self) -> StopCause {
        let _ = self.commands.send(Command::FrontEndGone);
        // Nobody reads events any more.
        drop(self.events.take());
        let cause = self
            .control
            .take()
            .map(|c| {
                c.join().unwrap_or_else(|_| {
                    StopCause::Fatal("the session's control thread panicked".into())
                })
            })
            .unwrap_or(StopCause::Quit);
        if let Some(f) = self.forwarder.take() {
            let _ = f.join();
        }
        cause
    }
}

/// Installs the handlers now; a thread forwards the first signal.
fn watch_signals(commands: Sender<Command>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (mut int, mut term, mut hup) = {
        let _in_runtime = runtime.enter();
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        )
    };
    std::thread::Builder::new()
        .name("gs-signals".into())
        .spawn(move || {
            let sig = runtime.block_on(async {
                tokio::select! {
                    _ = int.recv() => libc::SIGINT,
                    _ = term.recv() => libc::SIGTERM,
                    _ = hup.recv() => libc::SIGHUP,
                }
            });
            // The handlers stay installed: later signals are ignored while
            // the session stops.
            let _ = commands.send(Command::Signal(sig));
            // The front end normally exits at once. One whose terminal went
            // away (SIGHUP from a closed terminal) can be stuck reading it;
            // the process must still end, and the kernel releases every
            // uprobe and program with its descriptors.
            std::thread::sleep(STUCK_FRONT_END);
            tracing::warn!(
                "the front end did not stop within {STUCK_FRONT_END:?} of signal {sig}; exiting"
            );
            ghostscope_ui::restore_terminal();
            // _exit: LLVM's static destructors must not race the stuck thread.
            // SAFETY: _exit has no preconditions.
            unsafe { libc::_exit(0) };
        })?;
    Ok(())
}

/// How long the front end gets to stop after a signal before the process
/// exits without it.
const STUCK_FRONT_END: std::time::Duration = std::time::Duration::from_secs(3);

/// The control thread: loading, then requests until the end.
fn control(
    config: SessionConfig,
    load: impl FnOnce(LoadObserver<'_>) -> Result<DebugSession, String> + Send + 'static,
    commands: Receiver<Command>,
    commands_tx: Sender<Command>,
    outlet: Outlet,
) -> StopCause {
    let cause = run_control(config, load, &commands, commands_tx, &outlet);
    tracing::info!("session stopped: {cause:?}");
    match &cause {
        // The front end shows the error until the user has read it.
        StopCause::LoadFailed(message) => wait_for_front_end(&commands, &outlet, message),
        StopCause::Fatal(e) => outlet.send(SessionEvent::Stopped {
            error: Some(e.clone()),
        }),
        _ => outlet.send(SessionEvent::Stopped { error: None }),
    }
    outlet.close();
    cause
}

/// After a failed load: answers requests with the error until the front
/// end quits, goes away, or a signal comes.
fn wait_for_front_end(commands: &Receiver<Command>, outlet: &Outlet, message: &str) {
    for command in commands.iter() {
        match command {
            Command::Request(id, Request::Shutdown) => {
                outlet.send(SessionEvent::Reply {
                    id,
                    reply: Reply::Done,
                });
                return;
            }
            Command::Request(id, _) => outlet.send(SessionEvent::Reply {
                id,
                reply: Reply::Error(message.to_string()),
            }),
            Command::Signal(_) => {
                outlet.send(SessionEvent::Stopped { error: None });
                return;
            }
            Command::Fatal(_) | Command::FrontEndGone => return,
        }
    }
}

fn run_control(
    config: SessionConfig,
    load: impl FnOnce(LoadObserver<'_>) -> Result<DebugSession, String> + Send + 'static,
    commands: &Receiver<Command>,
    commands_tx: Sender<Command>,
    outlet: &Outlet,
) -> StopCause {
    let start_failed = |e: EngineError| {
        let message = e.to_string();
        outlet.send(SessionEvent::LoadFailed(message.clone()));
        StopCause::LoadFailed(message)
    };
    // Made first: the kernel BTF is parsed while the debug info loads.
    let parts = match EngineParts::new(&config.options) {
        Ok(parts) => parts,
        Err(e) => return start_failed(e),
    };
    let mut queued = Vec::new();
    let (session, ready) =
        match load_with_progress(&config.target, load, commands, outlet, &mut queued) {
            Ok(loaded) => loaded,
            Err(cause) => return cause,
        };
    let session = Arc::new(session);
    let mut engine = Engine::assemble(session.clone(), config.options.clone(), parts);
    let (drain, stop_drain) = match start_drain(&mut engine, outlet, commands_tx) {
        Ok(d) => d,
        Err(e) => return start_failed(e),
    };
    let (query_tx, query_thread) = start_queries(session, outlet.clone());
    tracing::info!(
        "session ready: {} module(s) in {} ms",
        ready.progress.modules.len(),
        ready.progress.elapsed_ms
    );
    outlet.send(SessionEvent::Ready(ready));
    let mut pending = queued.into_iter();
    let cause = loop {
        let Some(command) = pending.next().or_else(|| commands.recv().ok()) else {
            break StopCause::Quit;
        };
        match command {
            Command::Request(id, Request::Shutdown) => {
                engine.unload_all();
                outlet.send(SessionEvent::Reply {
                    id,
                    reply: Reply::Done,
                });
                break StopCause::Quit;
            }
            Command::Request(id, request) if is_query(&request) => {
                let _ = query_tx.send((id, request));
            }
            Command::Request(id, request) => {
                let reply = handle_trace_request(&mut engine, request, outlet);
                outlet.send(SessionEvent::Reply { id, reply });
            }
            Command::Signal(sig) => break StopCause::Signal(sig),
            Command::Fatal(e) => break StopCause::Fatal(e),
            Command::FrontEndGone => break StopCause::Quit,
        }
    };
    engine.unload_all();
    let _ = stop_drain.send(());
    let _ = drain.join();
    drop(query_tx);
    let _ = query_thread.join();
    cause
}

/// Runs `load` on a thread while sending progress.
/// Requests that arrive meanwhile are kept in `queued`; a shutdown or a
/// signal ends loading at once.
fn load_with_progress(
    target: &LoadTarget,
    load: impl FnOnce(LoadObserver<'_>) -> Result<DebugSession, String> + Send + 'static,
    commands: &Receiver<Command>,
    outlet: &Outlet,
    queued: &mut Vec<Command>,
) -> Result<(DebugSession, SessionReady), StopCause> {
    let tracker = LoadTracker::new(target);
    outlet.send(SessionEvent::Loading(tracker.snapshot()));
    let (done_tx, done_rx) = channel();
    {
        let tracker = tracker.clone();
        std::thread::Builder::new()
            .name("gs-load".into())
            .spawn(move || {
                let loaded = load(&|event| tracker.record(event));
                let _ = done_tx.send(loaded);
            })
            .map_err(|e| StopCause::LoadFailed(e.to_string()))?;
    }
    loop {
        match done_rx.recv_timeout(LOADING_TICK) {
            Ok(Ok(session)) => {
                let ready = tracker.ready(&session);
                return Ok((session, ready));
            }
            Ok(Err(message)) => {
                outlet.send(SessionEvent::LoadFailed(message.clone()));
                return Err(StopCause::LoadFailed(message));
            }
            Err(RecvTimeoutError::Timeout) => {
                outlet.send(SessionEvent::Loading(tracker.snapshot()));
            }
            Err(RecvTimeoutError::Disconnected) => {
                let message = "loading the debug info stopped unexpectedly".to_string();
                outlet.send(SessionEvent::LoadFailed(message.clone()));
                return Err(StopCause::LoadFailed(message));
            }
        }
        while let Ok(command) = commands.try_recv() {
            match command {
                Command::Request(id, Request::Shutdown) => {
                    outlet.send(SessionEvent::Reply {
                        id,
                        reply: Reply::Done,
                    });
                    return Err(StopCause::Quit);
                }
                Command::Signal(sig) => return Err(StopCause::Signal(sig)),
                Command::FrontEndGone => return Err(StopCause::Quit),
                other => queued.push(other),
            }
        }
    }
}

/// Starts the drain thread; the returned sender stops it.
fn start_drain(
    engine: &mut Engine,
    outlet: &Outlet,
    commands: Sender<Command>,
) -> Result<(JoinHandle<()>, tokio::sync::oneshot::Sender<()>), EngineError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(thread_error)?;
    let mut pump = {
        let _in_runtime = runtime.enter();
        engine.take_event_pump()?
    };
    let mut sink = FrontEndSink::new(outlet.clone(), engine.traces());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let drain = std::thread::Builder::new()
        .name("gs-drain".into())
        .spawn(move || {
            let ended = runtime.block_on(pump.run(&mut sink, stop_rx, || {}));
            if let Err(e) = ended {
                let _ = commands.send(Command::Fatal(e.to_string()));
            }
        })
        .map_err(thread_error)?;
    Ok((drain, stop_tx))
}

/// A thread or runtime that could not be started.
fn thread_error(e: std::io::Error) -> EngineError {
    EngineError::Start(e.to_string())
}

fn is_query(request: &Request) -> bool {
    matches!(
        request,
        Request::Describe { .. }
            | Request::SourceFiles
            | Request::FunctionNames { .. }
            | Request::LinesWithCode { .. }
            | Request::FileInfo
            | Request::SharedLibraries
    )
}

/// The query thread: answers read-only requests from the session, so a
/// slow one (every file of a large program) never delays a trace change.
fn start_queries(
    session: Arc<DebugSession>,
    outlet: Outlet,
) -> (Sender<(RequestId, Request)>, JoinHandle<()>) {
    let (tx, rx) = channel::<(RequestId, Request)>();
    let thread = std::thread::Builder::new()
        .name("gs-queries".into())
        .spawn(move || {
            for (id, request) in rx {
                let reply = answer_query(&session, request);
                outlet.send(SessionEvent::Reply { id, reply });
            }
        })
        .expect("spawn the query thread");
    (tx, thread)
}

/// The reply to a read-only request.
pub fn answer_query(session: &DebugSession, request: Request) -> Reply {
    match request {
        Request::Describe { target, verbose } => match queries::describe(session, &target, verbose)
        {
            Ok(d) => Reply::Described(d),
            Err(message) => Reply::Error(message),
        },
        Request::SourceFiles => Reply::SourceFiles(queries::source_files(session)),
        Request::FunctionNames { prefix, limit } => {
            Reply::FunctionNames(queries::function_names(session, &prefix, limit))
        }
        Request::LinesWithCode { file } => Reply::LinesWithCode {
            lines: queries::lines_with_code(session, &file),
            file,
        },
        Request::FileInfo => match queries::file_info(session) {
            Ok(info) => Reply::FileInfo(info),
            Err(message) => Reply::Error(message),
        },
        Request::SharedLibraries => match queries::shared_libraries(session) {
            Ok(libs) => Reply::SharedLibraries(libs),
            Err(message) => Reply::Error(message),
        },
        other => Reply::Error(format!("not a query: {other:?}")),
    }
}

/// The reply to a request that changes traces; state changes are sent
/// as `TraceUpdated` / `TraceRemoved` before it.
pub fn handle_trace_request(engine: &mut Engine, request: Request, outlet: &Outlet) -> Reply {
    // Sent under the table's lock, as the drain sends its counter updates,
    // so the front end sees the changes in the order they were made.
    let updated = |engine: &Engine, selector: TraceSelector| {
        let traces = engine.traces();
        let table = traces.lock();
        for id in table.select(selector).unwrap_or_default() {
            if let Some(info) = table.get(id) {
                outlet.send(SessionEvent::TraceUpdated(info.clone()));
            }
        }
    };
    let changed = |result: Result<Vec<u32>, String>| match result {
        Ok(ids) => Reply::TracesChanged { ids },
        Err(message) => Reply::Error(message),
    };
    match request {
        Request::AddTrace {
            target,
            body,
            index,
            enabled,
        } => {
            let outcome = engine.add_trace(&target, &body, index, enabled);
            for a in &outcome.addresses {
                if let AddressResult::Attached { trace_id, .. } = a.result {
                    updated(engine, TraceSelector::Id(trace_id));
                }
            }
            Reply::TraceAdded(outcome)
        }
        Request::Enable(selector) => {
            let result = engine.enable(selector);
            updated(engine, selector);
            changed(result)
        }
        Request::Disable(selector) => {
            let result = engine.disable(selector);
            updated(engine, selector);
            changed(result)
        }
        Request::Delete(selector) => {
            let result = engine.delete(selector);
            if let Ok(ids) = &result {
                for &id in ids {
                    outlet.send(SessionEvent::TraceRemoved(id));
                }
            }
            changed(result)
        }
        other => Reply::Error(format!("not a trace request: {other:?}")),
    }
}
