//! The terminal user interface of ghostscope: source panel, live event
//! panel and command panel (ratatui + crossterm), as tui.md specifies.
//!
//! The UI knows only the session messages of
//! [`ghostscope_protocol::session`]: it sends [`Request`]s through a
//! callback and reacts to the [`SessionEvent`]s it receives. It never calls
//! aya, LLVM or gimli, and it never blocks the engine's event drain.
//!
//! Inside: `app` is the state and its update functions (keys, mouse,
//! session events in; requests out), `view` draws it, `terminal` owns the
//! terminal and the frame loop. Each panel has its state, keys and view in
//! `source`, `output` and `command`; `format` turns replies into lines;
//! `save_file`, `srcpath`, `layout`, `loading` and `status_bar` are what
//! their names say.

#![warn(missing_docs)]

mod app;
mod command;
mod format;
mod layout;
mod loading;
mod output;
mod save_file;
mod source;
mod srcpath;
mod status_bar;
mod styled;
mod terminal;
mod view;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod view_tests;

use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use ghostscope_protocol::session::{Request, RequestId, SessionEvent};

/// Panel arrangement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Side by side.
    Horizontal,
    /// Stacked.
    Vertical,
}

/// A panel that can have the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// The source panel.
    Source,
    /// The eBPF output panel.
    EbpfInfo,
    /// The command panel.
    InteractiveCommand,
}

/// Everything the UI takes from the command line and the config file
/// (cli.md §8, config.md §3.7, §3.8, §3.10).
#[derive(Debug, Clone, PartialEq)]
pub struct UiConfig {
    /// `--layout`.
    pub layout: Layout,
    /// `ui.show_source_panel` / `--no-source-panel`.
    pub show_source_panel: bool,
    /// `ui.panel_ratios`: source, eBPF output, command.
    pub panel_ratios: [u16; 3],
    /// `ui.two_panel_ratios`, used when the source panel is hidden.
    pub two_panel_ratios: Option<[u16; 2]>,
    /// `ui.default_focus`.
    pub default_focus: Panel,
    /// `ui.ebpf_max_messages`: events kept in the output panel.
    pub ebpf_max_messages: usize,
    /// `ui.mouse` (beyond).
    pub mouse: bool,
    /// `ui.show_status_bar` (beyond).
    pub show_status_bar: bool,
    /// `ui.history.enabled`.
    pub history_enabled: bool,
    /// `ui.history.max_entries`.
    pub history_max_entries: usize,
    /// The history file (`./.ghostscope_history`).
    pub history_file: PathBuf,
    /// `source.substitutions`: prefix rewrites of DWARF source paths.
    pub source_substitutions: Vec<(String, String)>,
    /// `source.search_dirs`: basename lookup directories.
    pub source_search_dirs: Vec<PathBuf>,
}

impl Default for UiConfig {
    fn default() -> UiConfig {
        UiConfig {
            layout: Layout::Horizontal,
            show_source_panel: true,
            panel_ratios: [4, 3, 3],
            two_panel_ratios: None,
            default_focus: Panel::InteractiveCommand,
            ebpf_max_messages: 2000,
            mouse: true,
            show_status_bar: true,
            history_enabled: true,
            history_max_entries: 5000,
            history_file: PathBuf::from(".ghostscope_history"),
            source_substitutions: Vec::new(),
            source_search_dirs: Vec::new(),
        }
    }
}

/// How the UI ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiExit {
    /// `quit`, `exit` or Ctrl+C twice: exit 0.
    Quit,
    /// Loading failed and the user saw the error: exit 1.
    LoadFailed(String),
    /// The engine stopped on its own (a signal, a fatal error).
    EngineStopped(Option<String>),
}

/// Sends one request to the engine; the engine answers with a
/// [`SessionEvent::Reply`] carrying the same id.
pub type RequestSink = Box<dyn FnMut(RequestId, Request) + Send>;

/// Runs the TUI in the current terminal until the user quits or the engine
/// stops. The terminal is put back as it was on every way out, panics
/// included.
pub fn run(
    config: UiConfig,
    requests: RequestSink,
    events: Receiver<SessionEvent>,
) -> std::io::Result<UiExit> {
    terminal::run(config, requests, events)
}

/// Puts the terminal back (leaves the alternate screen, raw mode and mouse
/// capture) if the TUI is running; a no-op otherwise. Safe to call from any
/// thread and more than once: the binary's panic hook and fatal-error paths
/// call it before they print.
pub fn restore_terminal() {
    terminal::restore();
}
