//! Helpers for the UI's tests: an [`App`] with a scripted session, keys
//! from strings, and the command panel's text.

use std::path::PathBuf;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ghostscope_protocol::session::{
    DebugSourceCounts, LoadProgress, ModuleLoad, ModuleLoadState, ModuleSources, Reply, Request,
    RequestId, SessionEvent, SessionReady, SourcePosition, TraceEvent, TraceInfo, TraceState,
};
use ratatui::layout::Rect;

use crate::app::{App, Phase};
use crate::styled::plain_lines;
use crate::UiConfig;

/// The DWARF path of the fixture source file.
pub const ORDERS_C: &str = "/build/orderd/src/orders.c";

/// Where the fixture sources really are.
pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// A fresh directory for one test's files.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gs-ui-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A config with no history file and `/build/orderd` mapped to the
/// fixtures (relative: tests run in the package directory, and snapshots
/// must not show where the checkout is).
pub fn config() -> UiConfig {
    UiConfig {
        history_enabled: false,
        source_substitutions: vec![("/build/orderd".into(), "testdata".into())],
        ..UiConfig::default()
    }
}

/// A driven UI: the app, the clock it is given, and a size.
pub struct Harness {
    /// The state under test.
    pub app: App,
    /// The time passed to every update.
    pub now: Instant,
}

/// Load progress with two modules.
pub fn progress(done: bool) -> LoadProgress {
    LoadProgress {
        subject: "PID 4242".into(),
        modules: vec![
            ModuleLoad {
                path: "/opt/orderd/bin/orderd".into(),
                state: ModuleLoadState::Done {
                    functions: 120,
                    variables: 40,
                    types: 300,
                    ms: 12,
                },
            },
            ModuleLoad {
                path: "/usr/lib/x86_64-linux-gnu/libc.so.6".into(),
                state: if done {
                    ModuleLoadState::Done {
                        functions: 2800,
                        variables: 900,
                        types: 1500,
                        ms: 230,
                    }
                } else {
                    ModuleLoadState::Loading
                },
            },
        ],
        sources: DebugSourceCounts {
            embedded: 1,
            debuglink: if done { 1 } else { 0 },
            ..DebugSourceCounts::default()
        },
        elapsed_ms: 1200,
    }
}

/// The engine's `Ready` for `orderd`, opening `orders.c` at `main`.
pub fn ready_event() -> SessionEvent {
    SessionEvent::Ready(SessionReady {
        pid: Some(4242),
        main_module: "/opt/orderd/bin/orderd".into(),
        main_source: Some(SourcePosition {
            file: ORDERS_C.into(),
            line: 23,
            column: 0,
        }),
        progress: progress(true),
        launch_program: None,
    })
}

/// One event with these payload lines.
pub fn event(trace_id: u32, lines: &[&str]) -> TraceEvent {
    TraceEvent {
        trace_id,
        pid: 4242,
        tid: 4243,
        timestamp_ns: 1,
        time: "2026-03-02 11:04:17.123".into(),
        lines: lines.iter().map(|s| s.to_string()).collect(),
        error: false,
    }
}

/// A trace as the engine reports it.
pub fn trace_info(id: u32, target: &str, line: u32, state: TraceState) -> TraceInfo {
    TraceInfo {
        trace_id: id,
        target: target.into(),
        body: "print o->total;".into(),
        index: None,
        state,
        pc: 0x1149 + id as u64 * 0x10,
        module: "/opt/orderd/bin/orderd".into(),
        function: Some("update_order".into()),
        source: Some(SourcePosition {
            file: ORDERS_C.into(),
            line,
            column: 0,
        }),
        pid: Some(4242),
        host_pid: None,
        hits: 0,
        lost: 0,
    }
}

impl Harness {
    /// A UI on the loading screen.
    pub fn loading(config: UiConfig) -> Harness {
        let now = Instant::now();
        let mut app = App::new(config, now);
        app.resize(Rect::new(0, 0, 120, 36));
        Harness { app, now }
    }

    /// A UI past loading, showing `orders.c` at `main`, its startup
    /// requests answered.
    pub fn ready_with(config: UiConfig) -> Harness {
        let mut h = Harness::loading(config);
        h.session(ready_event());
        for (id, r) in h.app.take_requests() {
            match r {
                Request::SourceFiles => h.reply(
                    id,
                    Reply::SourceFiles(vec![ModuleSources {
                        module: "/opt/orderd/bin/orderd".into(),
                        files: vec![ORDERS_C.into(), "/build/orderd/src/cart.c".into()],
                    }]),
                ),
                Request::LinesWithCode { file } => h.reply(
                    id,
                    Reply::LinesWithCode {
                        file,
                        lines: vec![12, 13, 14, 15, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28],
                    },
                ),
                other => panic!("unexpected startup request {other:?}"),
            }
        }
        h.app.phase = Phase::Main;
        h
    }

    /// [`Harness::ready_with`] the default test config.
    pub fn ready() -> Harness {
        Harness::ready_with(config())
    }

    /// Feeds a session event.
    pub fn session(&mut self, e: SessionEvent) {
        self.app.on_session(e, self.now);
    }

    /// Feeds a reply.
    pub fn reply(&mut self, id: RequestId, reply: Reply) {
        self.session(SessionEvent::Reply { id, reply });
    }

    /// Presses one key.
    pub fn key(&mut self, code: KeyCode) {
        self.app
            .on_key(KeyEvent::new(code, KeyModifiers::NONE), self.now);
    }

    /// Presses Ctrl + a letter.
    pub fn ctrl(&mut self, c: char) {
        self.app.on_key(
            KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
            self.now,
        );
    }

    /// A left click at a screen cell.
    pub fn click(&mut self, column: u16, row: u16) {
        let event = MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        };
        self.app.on_mouse(event, self.now);
    }

    /// Types text (`\n` is Enter).
    pub fn typed(&mut self, text: &str) {
        for c in text.chars() {
            match c {
                '\n' => self.key(KeyCode::Enter),
                c => self.key(KeyCode::Char(c)),
            }
        }
    }

    /// Types a command line and presses Enter.
    pub fn command(&mut self, line: &str) {
        self.typed(line);
        self.key(KeyCode::Enter);
    }

    /// The requests sent since the last call.
    pub fn requests(&mut self) -> Vec<(RequestId, Request)> {
        self.app.take_requests()
    }

    /// The one request sent since the last call.
    pub fn one_request(&mut self) -> (RequestId, Request) {
        let mut r = self.requests();
        assert_eq!(r.len(), 1, "requests: {r:?}");
        r.remove(0)
    }

    /// The command panel's scrollback as text.
    pub fn scrollback(&self) -> Vec<String> {
        plain_lines(&self.app.command.scrollback)
    }

    /// The scrollback lines after the last prompt line.
    pub fn last_response(&self) -> Vec<String> {
        let all = self.scrollback();
        let start = all
            .iter()
            .rposition(|l| l.starts_with(crate::command::panel::PROMPT))
            .map_or(0, |i| i + 1);
        all[start..].to_vec()
    }
}
