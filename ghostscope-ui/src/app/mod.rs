//! The UI's whole state and its update functions. Key presses, mouse
//! clicks and session events go in ([`App::on_key`], [`App::on_mouse`],
//! [`App::on_session`], [`App::tick`]); requests for the engine come out
//! ([`App::take_requests`]); [`crate::view`] draws the state. Nothing here
//! touches the terminal, so tests drive it with scripted events.

mod commands;
mod keys;
mod logs;
mod replies;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use ghostscope_protocol::session::{
    LoadProgress, ModuleSources, Request, RequestId, SessionEvent, SessionReady, TraceInfo,
    TraceSelector,
};
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::text::Line;

use crate::command::history::History;
use crate::command::panel::CommandPanel;
use crate::command::parse::DescribeKind;
use crate::layout::{panel_rects, PanelRects};
use crate::output::panel::OutputPanel;
use crate::source::file_search::FileEntry;
use crate::source::markers::{split_file_line, LineAttempt};
use crate::source::panel::{OpenFile, SourceContent, SourceError, SourcePanel};
use crate::srcpath::SourcePaths;
use crate::styled::colored_line;
use crate::{Layout, Panel, UiConfig, UiExit};

use logs::LogFile;

/// How long the load summary stays before the main layout.
pub const SUMMARY_TIME: Duration = Duration::from_millis(800);
/// Two Ctrl+C presses within this time quit.
pub const CTRL_C_WINDOW: Duration = Duration::from_secs(2);
/// How long `quit` waits for the engine's `Stopped`.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// The startup phases of the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// DWARF is loading.
    Loading,
    /// Loaded: the summary shows until this time.
    Summary(Instant),
    /// The three panels.
    Main,
    /// Loading failed with this error; any key exits.
    LoadFailed(String),
}

/// Why a request was sent: what to do with its reply.
#[derive(Debug, Clone, PartialEq)]
enum Pending {
    AddTrace {
        target: String,
    },
    TraceChange {
        verb: &'static str,
        selector: TraceSelector,
    },
    Describe {
        kind: DescribeKind,
        target: String,
        verbose: bool,
    },
    IndexCheck {
        target: String,
        index: usize,
    },
    ReturnLookup {
        file: String,
        line: u32,
    },
    ReturnConfirm {
        function: String,
        file: String,
        line: u32,
    },
    SourceFilesInfo,
    SourceFilesCache,
    Complete {
        input: String,
        cursor: usize,
        with_files: bool,
    },
    LinesWithCode,
    FileInfo,
    SharedLibraries {
        all: bool,
    },
    Shutdown,
}

/// The UI state.
pub struct App {
    /// The configuration the UI started with.
    pub config: UiConfig,
    /// Startup phase.
    pub phase: Phase,
    /// The last load progress and when it came.
    pub progress: Option<(LoadProgress, Instant)>,
    /// When the UI started (for the elapsed time before any progress).
    pub started: Instant,
    /// The ready session.
    pub ready: Option<SessionReady>,
    /// Panel arrangement.
    pub layout: Layout,
    /// Source panel shown.
    pub show_source: bool,
    /// The focused panel.
    pub focus: Panel,
    /// The focused panel fills the screen.
    pub fullscreen: bool,
    /// Mouse capture on.
    pub mouse: bool,
    /// Set when `mouse` changed; the terminal loop applies it.
    pub mouse_changed: bool,
    /// Source panel.
    pub source: SourcePanel,
    /// eBPF output panel.
    pub output: OutputPanel,
    /// Command panel.
    pub command: CommandPanel,
    /// Every trace the engine reported, by id.
    pub traces: BTreeMap<u32, TraceInfo>,
    /// `file:line` traces being compiled (light-yellow markers).
    pub compiling: Vec<(RequestId, LineAttempt)>,
    /// `file:line` targets whose last attempt failed (red markers).
    pub failed_lines: Vec<LineAttempt>,
    /// Source path rules.
    pub srcpath: SourcePaths,
    /// The engine's source file list, once asked.
    pub source_files: Option<Vec<ModuleSources>>,
    /// The file list for the popup and completion (after `srcpath` rewriting).
    pub file_list: Vec<FileEntry>,
    /// A transient hint (Ctrl+C) and when it expires.
    pub hint: Option<(String, Instant)>,
    /// Terminal size.
    pub size: Rect,
    /// Why the UI ended, once it has.
    pub exit: Option<UiExit>,
    next_id: RequestId,
    outbox: Vec<(RequestId, Request)>,
    pending: HashMap<RequestId, Pending>,
    ctrl_c_at: Option<Instant>,
    ctrl_w: bool,
    quitting: Option<Instant>,
    output_log: Option<LogFile>,
    session_log: Option<LogFile>,
    last_click: Option<(Instant, usize)>,
}

impl App {
    /// The initial state (loading screen).
    pub fn new(config: UiConfig, now: Instant) -> App {
        let history = if config.history_enabled {
            History::load(config.history_file.clone(), config.history_max_entries)
        } else {
            History::in_memory(config.history_max_entries)
        };
        let focus = if !config.show_source_panel && config.default_focus == Panel::Source {
            Panel::InteractiveCommand
        } else {
            config.default_focus
        };
        App {
            phase: Phase::Loading,
            progress: None,
            started: now,
            ready: None,
            layout: config.layout,
            show_source: config.show_source_panel,
            focus,
            fullscreen: false,
            mouse: config.mouse,
            mouse_changed: false,
            source: SourcePanel::default(),
            output: OutputPanel::new(config.ebpf_max_messages),
            command: CommandPanel::new(history),
            traces: BTreeMap::new(),
            compiling: Vec::new(),
            failed_lines: Vec::new(),
            srcpath: SourcePaths::new(
                config.source_substitutions.clone(),
                config.source_search_dirs.clone(),
            ),
            source_files: None,
            file_list: Vec::new(),
            hint: None,
            size: Rect::new(0, 0, 120, 40),
            exit: None,
            next_id: 1,
            outbox: Vec::new(),
            pending: HashMap::new(),
            ctrl_c_at: None,
            ctrl_w: false,
            quitting: None,
            output_log: None,
            session_log: None,
            last_click: None,
            config,
        }
    }

    /// Requests queued since the last call, for the engine.
    pub fn take_requests(&mut self) -> Vec<(RequestId, Request)> {
        std::mem::take(&mut self.outbox)
    }

    fn send(&mut self, request: Request, why: Pending) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        self.outbox.push((id, request));
        self.pending.insert(id, why);
        id
    }

    /// Whether the UI is waiting for the engine to stop.
    pub fn is_quitting(&self) -> bool {
        self.quitting.is_some()
    }

    /// Where each panel goes for the current size and layout.
    pub fn rects(&self) -> PanelRects {
        panel_rects(self.size, self)
    }

    /// Records the terminal size and the panels' text heights.
    pub fn resize(&mut self, size: Rect) {
        self.size = size;
        let r = self.rects();
        let inner = |r: Option<Rect>| r.map_or(0, |r| r.height.saturating_sub(2) as usize);
        if r.source.is_some() {
            self.source.height = inner(r.source).max(1);
            self.source.keep_visible();
        }
        self.output.height = inner(r.output).max(1);
        self.command.height = inner(r.command).max(1);
    }

    /// Appends response lines to the command panel (and the session log).
    pub fn respond(&mut self, lines: Vec<Line<'static>>) {
        if let Some(log) = &mut self.session_log {
            log.write_lines(
                lines
                    .iter()
                    .map(|l| format!("    {}", crate::styled::plain(l))),
            );
        }
        self.command.push(lines);
    }

    fn error(&mut self, message: impl Into<String>) {
        let message = message.into();
        self.respond(vec![colored_line(format!("✗ {message}"), Color::Red)]);
    }

    fn success(&mut self, message: impl Into<String>) {
        self.respond(vec![colored_line(
            format!("✅ {}", message.into()),
            Color::Green,
        )]);
    }

    /// Time-driven changes: the summary ends, the quit timeout, the hint.
    pub fn tick(&mut self, now: Instant) {
        if let Phase::Summary(until) = self.phase {
            if now >= until {
                self.phase = Phase::Main;
            }
        }
        if let Some(since) = self.quitting {
            if now.duration_since(since) >= SHUTDOWN_TIMEOUT && self.exit.is_none() {
                self.exit = Some(UiExit::Quit);
            }
        }
        if self.hint.as_ref().is_some_and(|(_, until)| now >= *until) {
            self.hint = None;
        }
    }

    /// Starts a clean exit: ask the engine to stop, then wait for `Stopped`.
    pub fn begin_quit(&mut self, now: Instant) {
        if self.quitting.is_some() {
            self.exit = Some(UiExit::Quit);
            return;
        }
        self.quitting = Some(now);
        self.send(Request::Shutdown, Pending::Shutdown);
    }

    /// The session channel closed.
    pub fn on_disconnect(&mut self) {
        // After a load failure the engine is gone, but the user has not
        // read the error yet: that screen waits for a key.
        if matches!(self.phase, Phase::LoadFailed(_)) {
            return;
        }
        if self.exit.is_none() {
            self.exit = Some(if self.quitting.is_some() {
                UiExit::Quit
            } else {
                UiExit::EngineStopped(None)
            });
        }
    }

    /// Applies one message from the engine.
    pub fn on_session(&mut self, event: SessionEvent, now: Instant) {
        match event {
            SessionEvent::Loading(p) => self.progress = Some((p, now)),
            SessionEvent::Ready(ready) => self.on_ready(ready, now),
            SessionEvent::LoadFailed(e) => self.phase = Phase::LoadFailed(e),
            SessionEvent::Reply { id, reply } => {
                if let Some(why) = self.pending.remove(&id) {
                    self.on_reply(id, why, reply);
                }
            }
            SessionEvent::Events(events) => {
                if let Some(log) = &mut self.output_log {
                    log.write_lines(events.iter().flat_map(|e| e.lines.iter().cloned()));
                }
                self.output.push_events(events);
            }
            SessionEvent::Loss {
                trace_id,
                target,
                lost,
                total,
            } => {
                let text = format!(
                    "⚠ eBPF output helper failed: trace #{trace_id} ({target}) lost {lost} events in kernel before userspace delivery (total {total})"
                );
                self.output.push_system(text.clone());
                self.respond(vec![colored_line(text, Color::Yellow)]);
            }
            SessionEvent::QueueSaturated {
                dropped,
                total,
                capacity,
            } => {
                self.respond(vec![colored_line(
                    format!("⚠ Trace queue saturated: dropped {dropped} events in last 1s (total {total}, capacity {capacity})"),
                    Color::Yellow,
                )]);
                self.output.push_system(format!(
                    "Warning: TUI trace queue saturated; dropped {dropped} events before display in last 1s (total {total}, capacity {capacity})"
                ));
            }
            SessionEvent::TraceUpdated(info) => {
                if let Some((file, line)) = info.source.as_ref().map(|s| (s.file.clone(), s.line)) {
                    self.failed_lines.retain(|a| {
                        !(a.line == line && crate::source::markers::same_file(&a.file, &file))
                    });
                }
                self.traces.insert(info.trace_id, info);
            }
            SessionEvent::TraceRemoved(id) => {
                self.traces.remove(&id);
            }
            SessionEvent::Status(text) => self.respond(vec![colored_line(text, Color::Cyan)]),
            SessionEvent::Stopped { error } => {
                if self.exit.is_none() {
                    self.exit = Some(if self.quitting.is_some() && error.is_none() {
                        UiExit::Quit
                    } else {
                        UiExit::EngineStopped(error)
                    });
                }
            }
        }
    }

    fn on_ready(&mut self, ready: SessionReady, now: Instant) {
        self.progress = Some((ready.progress.clone(), now));
        self.phase = Phase::Summary(now + SUMMARY_TIME);
        if let Some(pos) = ready.main_source.clone() {
            self.open_source(&pos.file, pos.line);
        }
        self.send(Request::SourceFiles, Pending::SourceFilesCache);
        self.ready = Some(ready);
    }

    /// Opens a DWARF source file in the source panel at a 1-based line.
    pub fn open_source(&mut self, dwarf_path: &str, line: u32) {
        let content = match self.srcpath.resolve(dwarf_path) {
            Some(path) => match std::fs::read(&path) {
                Ok(bytes) => SourceContent::File(OpenFile::new(
                    dwarf_path,
                    &path.display().to_string(),
                    &String::from_utf8_lossy(&bytes),
                )),
                Err(e) => SourceContent::Error(SourceError {
                    dwarf_path: dwarf_path.to_string(),
                    message: format!("Cannot read {}: {e}", path.display()),
                }),
            },
            None => SourceContent::Error(SourceError {
                dwarf_path: dwarf_path.to_string(),
                message: format!("Source file not found: {dwarf_path}"),
            }),
        };
        let opened = matches!(content, SourceContent::File(_));
        self.source.show(content, line);
        if opened {
            self.send(
                Request::LinesWithCode {
                    file: dwarf_path.to_string(),
                },
                Pending::LinesWithCode,
            );
        }
    }

    /// Re-reads the open file and rebuilds the file list (after `srcpath`).
    fn reload_sources(&mut self) {
        if let Some(path) = self.source.dwarf_path().map(str::to_string) {
            let line = self.source.cursor as u32 + 1;
            self.open_source(&path, line);
        }
        self.rebuild_file_list();
    }

    fn rebuild_file_list(&mut self) {
        let mut list: Vec<FileEntry> = Vec::new();
        for m in self.source_files.iter().flatten() {
            for f in &m.files {
                if !list.iter().any(|e| &e.dwarf == f) {
                    list.push(FileEntry {
                        dwarf: f.clone(),
                        shown: self.srcpath.rewrite(f),
                    });
                }
            }
        }
        list.sort_by(|a, b| a.shown.cmp(&b.shown));
        self.file_list = list;
    }

    /// DWARF paths of every source file (for `file:` completion).
    fn dwarf_files(&self) -> Vec<String> {
        self.file_list.iter().map(|e| e.dwarf.clone()).collect()
    }

    /// Opens the script editor for a target and focuses the command panel.
    pub fn open_script(&mut self, target: &str, index: Option<usize>) {
        self.command.open_script(target, index);
        self.focus = Panel::InteractiveCommand;
        if self.fullscreen {
            self.fullscreen = false;
        }
    }

    fn track_compiling(&mut self, id: RequestId, target: &str) {
        if let Some((file, line)) = split_file_line(target) {
            self.compiling.push((
                id,
                LineAttempt {
                    file: file.to_string(),
                    line,
                },
            ));
        }
    }

    /// Traces sorted by id.
    pub fn trace_list(&self) -> Vec<&TraceInfo> {
        self.traces.values().collect()
    }
}

#[cfg(test)]
mod tests;
