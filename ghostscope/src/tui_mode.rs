//! TUI mode (cli.md §2): the terminal UI of `ghostscope-ui` in front of the
//! session engine. The UI opens at once; the debug info loads behind it.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use ghostscope::engine::server::{Session, SessionConfig, StopCause, DEFAULT_QUEUE_CAPACITY};
use ghostscope::engine::{EngineOptions, LoadTarget};
use ghostscope_ui::{Panel, UiConfig, UiExit};

use crate::cli::{self, Cli};
use crate::config::{Config, UiFocus};
use crate::script_mode;

/// The UI settings from the config file's `[ui]` and `[source]`, with the
/// command line's panel flags on top (cli.md §8, config.md §3.7–§3.10).
fn ui_config(cli: &Cli, config: &Config) -> UiConfig {
    let ui = &config.ui;
    UiConfig {
        // `--layout` always has a value, so `ui.layout` never takes effect.
        layout: match cli.layout {
            cli::Layout::Horizontal => ghostscope_ui::Layout::Horizontal,
            cli::Layout::Vertical => ghostscope_ui::Layout::Vertical,
        },
        show_source_panel: if cli.no_source_panel {
            false
        } else {
            cli.source_panel || ui.show_source_panel
        },
        panel_ratios: ui.panel_ratios,
        two_panel_ratios: ui.two_panel_ratios,
        default_focus: match ui.default_focus {
            UiFocus::Source => Panel::Source,
            UiFocus::EbpfInfo => Panel::EbpfInfo,
            UiFocus::InteractiveCommand => Panel::InteractiveCommand,
        },
        ebpf_max_messages: ui.ebpf_max_messages,
        mouse: ui.mouse,
        show_status_bar: ui.show_status_bar,
        history_enabled: ui.history.enabled,
        history_max_entries: ui.history.max_entries,
        source_substitutions: config
            .source
            .substitutions
            .iter()
            .map(|s| (s.from.clone(), s.to.clone()))
            .collect(),
        source_search_dirs: config.source.search_dirs.clone(),
        ..UiConfig::default()
    }
}

/// Runs the TUI until the user quits or a signal stops it; returns the
/// exit code.
pub fn run(cli: &Cli, config: &Config, target: Option<PathBuf>) -> Result<u8> {
    let load_target = match (cli.pid, &target) {
        (Some(pid), t) => LoadTarget::Process {
            pid,
            target: t.clone(),
        },
        (None, Some(t)) => LoadTarget::File(t.clone()),
        (None, None) => unreachable!("validated earlier"),
    };
    let session_config = SessionConfig {
        target: load_target,
        options: EngineOptions {
            transport: script_mode::transport(cli, &script_mode::compile_options(cli, false)),
            compile: script_mode::compile_options(cli, false),
            unwind_rows_max: cli
                .backtrace_unwind_rows_max
                .unwrap_or(ghostscope::engine::DEFAULT_UNWIND_ROWS),
            ..EngineOptions::new(cli.pid)
        },
        queue_capacity: DEFAULT_QUEUE_CAPACITY,
    };
    let load_cli = cli.clone();
    let mut session = Session::start(session_config, move |observer| {
        script_mode::load_session_reporting(&load_cli, target.as_deref(), observer)
            .map_err(|e| format!("{e:#}"))
    })
    .map_err(|e| anyhow!("failed to start the session: {e}"))?;
    let requests = session.request_sink();
    let events = session.take_events();
    let ui = ghostscope_ui::run(ui_config(cli, config), requests, events);
    // The terminal is back before anything is printed.
    ghostscope_ui::restore_terminal();
    let cause = session.finish();
    exit_code(ui, cause)
}

/// The exit code, or the error to print, once both the UI and the
/// session have ended.
fn exit_code(ui: std::io::Result<UiExit>, cause: StopCause) -> Result<u8> {
    let ui = ui.map_err(|e| anyhow::Error::new(e).context("the terminal UI failed"))?;
    match (ui, cause) {
        (UiExit::LoadFailed(message), _) | (_, StopCause::LoadFailed(message)) => {
            Err(anyhow!(message))
        }
        (UiExit::EngineStopped(Some(message)), _) | (_, StopCause::Fatal(message)) => {
            Err(anyhow!(message))
        }
        // quit, exit, Ctrl+C twice, SIGINT, SIGTERM; and SIGHUP, after which
        // every probe is detached just the same (a clean stop, not a failure).
        _ => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panel_flags_win_over_the_config_file() {
        let cli = |args: &[&str]| {
            use clap::Parser;
            Cli::parse_from(std::iter::once("ghostscope").chain(args.iter().copied()))
        };
        let mut config = Config::default();
        config.ui.show_source_panel = false;
        config.ui.default_focus = UiFocus::Source;
        config.ui.panel_ratios = [5, 3, 2];
        let ui = ui_config(&cli(&["-p", "1"]), &config);
        assert!(!ui.show_source_panel);
        assert_eq!(ui.default_focus, Panel::Source);
        assert_eq!(ui.panel_ratios, [5, 3, 2]);
        assert!(ui_config(&cli(&["-p", "1", "--source-panel"]), &config).show_source_panel);
        let shown = Config::default();
        let ui = ui_config(
            &cli(&[
                "-p",
                "1",
                "--source-panel",
                "--no-source-panel",
                "--layout",
                "vertical",
            ]),
            &shown,
        );
        assert!(!ui.show_source_panel);
        assert_eq!(ui.layout, ghostscope_ui::Layout::Vertical);
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(Ok(UiExit::Quit), StopCause::Quit).unwrap(), 0);
        assert_eq!(
            exit_code(
                Ok(UiExit::EngineStopped(None)),
                StopCause::Signal(libc::SIGHUP)
            )
            .unwrap(),
            0
        );
        let e = exit_code(Ok(UiExit::LoadFailed("no DWARF".into())), StopCause::Quit);
        assert_eq!(e.unwrap_err().to_string(), "no DWARF");
        let e = exit_code(Ok(UiExit::Quit), StopCause::Fatal("read failed".into()));
        assert_eq!(e.unwrap_err().to_string(), "read failed");
        let e = exit_code(
            Err(std::io::Error::other("the TUI is not written yet")),
            StopCause::Quit,
        );
        assert_eq!(
            format!("{:#}", e.unwrap_err()),
            "the terminal UI failed: the TUI is not written yet"
        );
    }
}
