//! Logging (cli.md §6): whether to log to a file and to stderr, at which
//! level, combining flags, the config file and the mode default.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::Mutex;

use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::fmt::writer::MakeWriterExt;

use crate::cli::Cli;
use crate::config::{General, LogLevel};

/// The logging settings after every rule of cli.md §6 is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// Write the log file.
    pub file: Option<PathBuf>,
    /// Also log to stderr.
    pub console: bool,
    /// The level (before `RUST_LOG`).
    pub level: LogLevel,
    /// `--log-level` was not a level: fell back to `warn`.
    pub invalid_level: Option<String>,
}

impl LogSettings {
    /// Resolves the settings. `tui` selects the mode default (TUI: on, script: off).
    pub fn resolve(cli: &Cli, general: &General, tui: bool) -> LogSettings {
        let enabled = if cli.no_log {
            false
        } else if cli.log {
            true
        } else {
            general.enable_logging.unwrap_or(tui)
        };
        let console =
            enabled && !cli.no_log_console && (cli.log_console || general.enable_console_logging);
        let (cli_level, invalid_level) = match cli.log_level.as_deref() {
            None => (None, None),
            Some(text) => match parse_level(text) {
                Some(l) => (Some(l), None),
                None => (Some(LogLevel::Warn), Some(text.to_string())),
            },
        };
        // A CLI level other than warn wins; a CLI warn does not override the config.
        let level = match cli_level {
            Some(l) if l != LogLevel::Warn => l,
            _ => general.log_level,
        };
        let file = enabled.then(|| {
            cli.log_file
                .clone()
                .unwrap_or_else(|| general.log_file.clone())
        });
        LogSettings {
            file,
            console,
            level,
            invalid_level,
        }
    }
}

fn parse_level(text: &str) -> Option<LogLevel> {
    Some(match text.to_ascii_lowercase().as_str() {
        "error" => LogLevel::Error,
        "warn" => LogLevel::Warn,
        "info" => LogLevel::Info,
        "debug" => LogLevel::Debug,
        "trace" => LogLevel::Trace,
        _ => return None,
    })
}

fn level_filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Error => LevelFilter::ERROR,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Trace => LevelFilter::TRACE,
    }
}

/// Installs the global subscriber. Nothing is installed when logging is off.
pub fn init(settings: &LogSettings) -> Result<(), String> {
    let Some(path) = &settings.file else {
        return Ok(());
    };
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open log file {}: {e}", path.display()))?;
    // RUST_LOG, when set, replaces the final filter.
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(spec).map_err(|e| format!("invalid RUST_LOG: {e}"))?
        }
        _ => EnvFilter::default().add_directive(level_filter(settings.level).into()),
    };
    let file = Mutex::new(file);
    let result = if settings.console {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(file.and(std::io::stderr))
            .try_init()
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(file)
            .try_init()
    };
    result.map_err(|e| e.to_string())?;
    if let Some(bad) = &settings.invalid_level {
        tracing::warn!("invalid --log-level '{bad}'; using warn");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn cli(args: &str) -> Cli {
        Cli::parse_from(std::iter::once("ghostscope").chain(args.split_whitespace()))
    }

    #[test]
    fn mode_defaults_flags_and_config() {
        let g = General::default();
        let s = LogSettings::resolve(&cli("-p 1 -s x"), &g, false);
        assert!(s.file.is_none());
        let s = LogSettings::resolve(&cli("-p 1"), &g, true);
        assert_eq!(
            s.file.as_deref(),
            Some(std::path::Path::new("ghostscope.log"))
        );
        let s = LogSettings::resolve(&cli("-p 1 --log --no-log"), &g, true);
        assert!(s.file.is_none(), "--no-log wins");
        let s = LogSettings::resolve(&cli("-p 1 -s x --log --log-file /tmp/a.log"), &g, false);
        assert_eq!(s.file.as_deref(), Some(std::path::Path::new("/tmp/a.log")));
        let on = General {
            enable_logging: Some(true),
            ..General::default()
        };
        assert!(LogSettings::resolve(&cli("-p 1 -s x"), &on, false)
            .file
            .is_some());
        let off = General {
            enable_logging: Some(false),
            ..General::default()
        };
        assert!(LogSettings::resolve(&cli("-p 1"), &off, true)
            .file
            .is_none());
    }

    #[test]
    fn console_needs_logging_and_no_log_console_wins() {
        let g = General::default();
        assert!(!LogSettings::resolve(&cli("-p 1 -s x --log-console"), &g, false).console);
        assert!(LogSettings::resolve(&cli("-p 1 -s x --log --log-console"), &g, false).console);
        assert!(
            !LogSettings::resolve(
                &cli("-p 1 -s x --log --log-console --no-log-console"),
                &g,
                false
            )
            .console
        );
    }

    #[test]
    fn level_precedence() {
        let g = General {
            log_level: LogLevel::Debug,
            ..General::default()
        };
        assert_eq!(
            LogSettings::resolve(&cli("-p 1"), &g, true).level,
            LogLevel::Debug
        );
        assert_eq!(
            LogSettings::resolve(&cli("-p 1 --log-level warn"), &g, true).level,
            LogLevel::Debug,
            "a CLI warn does not override the config"
        );
        assert_eq!(
            LogSettings::resolve(&cli("-p 1 --log-level error"), &g, true).level,
            LogLevel::Error
        );
        let s = LogSettings::resolve(&cli("-p 1 --log-level loud"), &General::default(), true);
        assert_eq!(s.level, LogLevel::Warn);
        assert_eq!(s.invalid_level.as_deref(), Some("loud"));
    }
}
