//! Interactive status lines on stderr (output.md §8.3): shown only when
//! status is on, stderr is a terminal and console logging is off (cli.md §4).
//! The startup load report itself is formatted in `load_report`.

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Instant;

use ghostscope_dwarf::{LoadEvent, LoadObserver};

use crate::cli::Cli;
use crate::load_report::{LoadTally, FIRST_SHOWN_AFTER, REFRESH};

/// ANSI colours, or plain text when disabled.
#[derive(Debug, Clone, Copy)]
pub struct Colors {
    enabled: bool,
}

impl Colors {
    /// Colours on or off.
    pub const fn new(enabled: bool) -> Colors {
        Colors { enabled }
    }

    fn wrap(&self, code: &str, text: impl Display) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Dim.
    pub fn dim(&self, text: impl Display) -> String {
        self.wrap("2", text)
    }

    /// Bold.
    pub fn bold(&self, text: impl Display) -> String {
        self.wrap("1", text)
    }

    /// Red.
    pub fn red(&self, text: impl Display) -> String {
        self.wrap("31", text)
    }

    /// Green.
    pub fn green(&self, text: impl Display) -> String {
        self.wrap("32", text)
    }

    /// Yellow.
    pub fn yellow(&self, text: impl Display) -> String {
        self.wrap("33", text)
    }

    /// Blue.
    pub fn blue(&self, text: impl Display) -> String {
        self.wrap("34", text)
    }

    /// Magenta.
    pub fn magenta(&self, text: impl Display) -> String {
        self.wrap("35", text)
    }

    /// Cyan.
    pub fn cyan(&self, text: impl Display) -> String {
        self.wrap("36", text)
    }
}

/// The status lines of one run.
#[derive(Debug, Clone, Copy)]
pub struct Status {
    shown: bool,
    colors: Colors,
}

impl Status {
    /// Status lines for this command line: `--no-status` hides them, and so
    /// do a stderr that is not a terminal and logging to the console.
    pub fn for_cli(cli: &Cli) -> Status {
        let logging = cli.log && !cli.no_log;
        let console_logging = logging && cli.log_console && !cli.no_log_console;
        let shown = !cli.no_status && !console_logging && std::io::stderr().is_terminal();
        // `script.color` is `auto` until config files exist: colour on a terminal.
        Status {
            shown,
            colors: Colors::new(true),
        }
    }

    /// Whether the lines are shown.
    pub fn shown(&self) -> bool {
        self.shown
    }

    /// `Compiling script...` (bold yellow), or `Compiling script for dry run...`.
    pub fn compiling(&self, dry_run: bool) {
        let text = if dry_run {
            "Compiling script for dry run..."
        } else {
            "Compiling script..."
        };
        self.line(self.colors.yellow(self.colors.bold(text)));
    }

    /// `Dry run complete; no uprobes attached.` (green).
    pub fn dry_run_complete(&self) {
        self.line(self.colors.green("Dry run complete; no uprobes attached."));
    }

    /// `Attached <n> trace(s). Waiting for events...`.
    pub fn attached(&self, traces: usize) {
        self.line(format!(
            "{} {}",
            self.colors.green("Attached"),
            self.colors
                .bold(format!("{traces} trace(s). Waiting for events..."))
        ));
    }

    fn line(&self, text: String) {
        if self.shown {
            eprintln!("{text}");
        }
    }

    /// Runs the startup DWARF load, drawing the progress line while it runs
    /// (after 300 ms, every 120 ms) and then `DWARF ready:` or `DWARF
    /// loading failed`, each followed by the startup load report.
    pub fn load<T, E: Display>(
        &self,
        target: &str,
        load: impl FnOnce(LoadObserver<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        if !self.shown {
            return load(&ghostscope_dwarf::ignore_progress);
        }
        let start = Instant::now();
        let tally = Mutex::new(LoadTally::default());
        let observer = |event: LoadEvent<'_>| lock(&tally).record(event);
        let screen = Mutex::new(StatusLine::default());
        let (stop, stopped) = channel::<()>();
        let result = std::thread::scope(|s| {
            let (tally, screen, colors) = (&tally, &screen, &self.colors);
            s.spawn(move || {
                // Wakes every refresh until the load is over (the sender is used or dropped).
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(REFRESH) {
                    let elapsed = start.elapsed();
                    let tally = lock(tally);
                    if elapsed >= FIRST_SHOWN_AFTER && tally.has_modules() {
                        let text = tally.progress_line(elapsed, colors);
                        drop(tally);
                        lock(screen).redraw(&text);
                    }
                }
            });
            let result = load(&observer);
            let _ = stop.send(());
            result
        });
        let elapsed = start.elapsed();
        let tally = lock(&tally);
        let lines = match &result {
            Ok(_) => tally.ready_lines(elapsed, target, &self.colors),
            Err(e) => tally.failure_lines(elapsed, &e.to_string(), target, &self.colors),
        };
        lock(&screen).finish(&lines);
        result
    }
}

/// Locks a mutex, also after a panic elsewhere (status output is best effort).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The line rewritten in place with `\r`.
#[derive(Debug, Default)]
struct StatusLine {
    /// Bytes of the text drawn last, which a shorter text must blank out.
    width: usize,
}

impl StatusLine {
    fn redraw(&mut self, text: &str) {
        let pad = " ".repeat(self.width.saturating_sub(text.len()));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{text}{pad}");
        let _ = err.flush();
        self.width = text.len();
    }

    /// Replaces the line with the first of `lines` and prints the rest below.
    fn finish(&mut self, lines: &[String]) {
        let Some((first, rest)) = lines.split_first() else {
            return;
        };
        let pad = " ".repeat(self.width.saturating_sub(first.len()));
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "\r{first}{pad}");
        for line in rest {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
        self.width = 0;
    }
}

/// `pid=<p>`, `target=<path>`, `debug_file=<path>`, space-separated.
pub fn target_summary(cli: &Cli, target: Option<&Path>) -> String {
    let mut parts = Vec::new();
    if let Some(pid) = cli.pid {
        parts.push(format!("pid={pid}"));
    }
    if let Some(t) = target {
        parts.push(format!("target={}", t.display()));
    }
    if let Some(d) = &cli.debug_file {
        parts.push(format!("debug_file={}", d.display()));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes() {
        let c = Colors::new(true);
        assert_eq!(c.green("ok"), "\x1b[32mok\x1b[0m");
        assert_eq!(c.magenta("x"), "\x1b[35mx\x1b[0m");
        assert_eq!(
            c.yellow(c.bold("Compiling script...")),
            "\x1b[33m\x1b[1mCompiling script...\x1b[0m\x1b[0m"
        );
        assert_eq!(Colors::new(false).red("plain"), "plain");
    }
}
