//! The startup DWARF load as the status lines show it (output.md §8.3): the
//! progress line while loading, `DWARF ready:` or `DWARF loading failed`,
//! and the `Startup load report:`. Everything here is pure formatting over a
//! tally of the DWARF layer's load events.

use std::path::Path;
use std::time::Duration;

use ghostscope_dwarf::{DebugSource, LoadEvent, ModuleStats};

use crate::status::Colors;

/// Lines per list of the report before `... <n> more ... omitted`.
const MAX_LISTED: usize = 32;
/// Width of the progress bar between the brackets.
const BAR_WIDTH: usize = 20;
/// Width of the source column of `module details:`.
const SOURCE_COLUMN: usize = 44;
/// Width of the index column of `module details:`.
const INDEX_COLUMN: usize = 28;
/// Longest file name shown, shortened in the middle beyond.
const NAME_WIDTH: usize = 32;
/// Longest module path shown, shortened at the front beyond.
const PATH_WIDTH: usize = 88;
/// One spinner frame per progress refresh.
const SPINNER: [char; 4] = ['|', '/', '-', '\\'];
/// How often the progress line is redrawn.
pub const REFRESH: Duration = Duration::from_millis(120);
/// How long loading runs before the progress line appears.
pub const FIRST_SHOWN_AFTER: Duration = Duration::from_millis(300);
/// The debug-source labels, in the order the counters are listed.
const SOURCE_LABELS: [&str; 5] = ["embedded", "explicit", "debuglink", "debuginfod", "missing"];

/// One module that finished loading.
#[derive(Debug, Clone)]
struct LoadedRow {
    /// Position in the load order, so the report lists modules in that order.
    index: usize,
    path: String,
    source: DebugSource,
    stats: ModuleStats,
    ms: u128,
}

/// One module that failed.
#[derive(Debug, Clone)]
struct FailedRow {
    index: usize,
    path: String,
    error: String,
}

/// What the load events said so far.
#[derive(Debug, Default)]
pub struct LoadTally {
    total: usize,
    /// Modules started and not finished yet, in the order they started.
    in_flight: Vec<String>,
    loaded: Vec<LoadedRow>,
    failed: Vec<FailedRow>,
}

impl LoadTally {
    /// Takes one event into account.
    pub fn record(&mut self, event: LoadEvent<'_>) {
        match event {
            LoadEvent::Discovered { total } => self.total = total,
            LoadEvent::Started { path, .. } => self.in_flight.push(path.display().to_string()),
            LoadEvent::Loaded {
                index,
                module,
                stats,
                elapsed,
            } => self.loaded(LoadedRow {
                index,
                path: module.path().display().to_string(),
                source: module.debug_source().clone(),
                stats,
                ms: elapsed.as_millis(),
            }),
            LoadEvent::Failed { index, failure } => self.failed(FailedRow {
                index,
                path: failure.path.display().to_string(),
                error: failure.error.clone(),
            }),
        }
    }

    fn loaded(&mut self, row: LoadedRow) {
        self.finished(&row.path);
        self.loaded.push(row);
        self.loaded.sort_by_key(|r| r.index);
    }

    fn failed(&mut self, row: FailedRow) {
        self.finished(&row.path);
        self.failed.push(row);
        self.failed.sort_by_key(|r| r.index);
    }

    fn finished(&mut self, path: &str) {
        self.in_flight.retain(|p| p != path);
    }

    /// Whether any module is known yet.
    pub fn has_modules(&self) -> bool {
        self.total > 0
    }

    /// How many modules got their debug info from each source, in label order.
    fn source_counts(&self) -> [usize; 5] {
        let mut counts = [0; 5];
        for row in &self.loaded {
            let i = SOURCE_LABELS
                .iter()
                .position(|l| *l == row.source.label())
                .unwrap_or(4);
            counts[i] += 1;
        }
        counts
    }

    /// `embedded:<n> … missing:<n>`, the non-zero counters, coloured by label.
    fn source_summary(&self, colors: &Colors) -> String {
        self.source_counts()
            .iter()
            .zip(SOURCE_LABELS)
            .filter(|(n, _)| **n > 0)
            .map(|(n, label)| source_color(colors, label, &format!("{label}:{n}")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The line redrawn while loading:
    /// `<spinner> Startup DWARF [<bar>] <done>/<total> | <module> | <elapsed> | <summary>[ | <n> failed]`.
    pub fn progress_line(&self, elapsed: Duration, colors: &Colors) -> String {
        let frame = SPINNER[(elapsed.as_millis() / REFRESH.as_millis()) as usize % SPINNER.len()];
        let done = self.loaded.len() + self.failed.len();
        // The module started last among those still loading.
        let module = self
            .in_flight
            .last()
            .map(|p| short_file_name(p))
            .unwrap_or_else(|| "discovering modules".to_string());
        let mut line = format!(
            "{} {} {} {done}/{} | {} | {}",
            colors.cyan(frame),
            colors.bold("Startup DWARF"),
            colors.blue(progress_bar(done, self.total)),
            self.total,
            colors.yellow(module),
            colors.dim(format_elapsed(elapsed)),
        );
        let summary = self.source_summary(colors);
        if !summary.is_empty() {
            line.push_str(&format!(" | {summary}"));
        }
        if !self.failed.is_empty() {
            line.push_str(&format!(
                " | {}",
                colors.red(format!("{} failed", self.failed.len()))
            ));
        }
        line
    }

    /// `DWARF ready: …` and the report, after a successful load.
    pub fn ready_lines(&self, elapsed: Duration, target: &str, colors: &Colors) -> Vec<String> {
        let (mut f, mut v, mut t) = (0, 0, 0);
        for row in &self.loaded {
            f += row.stats.functions;
            v += row.stats.variables;
            t += row.stats.types;
        }
        let n = self.loaded.len();
        let summary = self.source_summary(colors);
        let debug = if summary.is_empty() {
            "debug sources unknown".to_string()
        } else {
            format!("debug: {summary}")
        };
        let mut first = format!(
            "{} {n} module{}, {f} functions, {v} variables, {t} types, {debug}, {}",
            colors.green("DWARF ready:"),
            if n == 1 { "" } else { "s" },
            colors.dim(format_elapsed(elapsed)),
        );
        if !target.is_empty() {
            first.push_str(&format!(" | {}", colors.dim(target)));
        }
        let mut lines = vec![first];
        self.report(&mut lines, target, colors);
        lines
    }

    /// `DWARF loading failed after …` and the report.
    pub fn failure_lines(
        &self,
        elapsed: Duration,
        error: &str,
        target: &str,
        colors: &Colors,
    ) -> Vec<String> {
        let mut lines = vec![format!(
            "{} {}: {error}",
            colors.red("DWARF loading failed after"),
            colors.dim(format_elapsed(elapsed))
        )];
        self.report(&mut lines, target, colors);
        lines
    }

    /// `Startup load report:` and its sections; sections with nothing to say are left out.
    fn report(&self, lines: &mut Vec<String>, target: &str, colors: &Colors) {
        lines.push("Startup load report:".to_string());
        if !target.is_empty() {
            lines.push(format!("  target: {target}"));
        }
        let summary = self.source_summary(colors);
        if !summary.is_empty() {
            lines.push(format!("  debug sources: {summary}"));
        }
        if !self.loaded.is_empty() || !self.failed.is_empty() {
            lines.push(format!(
                "  modules loaded: {} completed, {} failed",
                self.loaded.len(),
                self.failed.len()
            ));
            let with_dwarf: Vec<&LoadedRow> = self
                .loaded
                .iter()
                .filter(|r| r.source != DebugSource::Missing)
                .collect();
            if !with_dwarf.is_empty() {
                lines.push("  module details:".to_string());
                for row in with_dwarf.iter().take(MAX_LISTED) {
                    lines.push(format!(
                        "    {} {:<INDEX_COLUMN$} {:>6} funcs {:>6} vars {:>6} types {:>5}ms  {}",
                        source_column(row, colors),
                        row.stats.index.label(),
                        row.stats.functions,
                        row.stats.variables,
                        row.stats.types,
                        row.ms,
                        shorten_front(&row.path, PATH_WIDTH),
                    ));
                }
                omitted(lines, with_dwarf.len(), "module(s)");
            }
        }
        let missing: Vec<&LoadedRow> = self
            .loaded
            .iter()
            .filter(|r| r.source == DebugSource::Missing)
            .collect();
        if !missing.is_empty() {
            let names: Vec<String> = missing
                .iter()
                .take(3)
                .map(|r| short_file_name(&r.path))
                .collect();
            let more = if missing.len() > names.len() {
                format!(" +{} more", missing.len() - names.len())
            } else {
                String::new()
            };
            lines.push(format!(
                "  {} {} module{} ({}){more}; use --log --log-level debug --log-file <path> for full paths",
                colors.yellow("missing DWARF:"),
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                names.join(", "),
            ));
        }
        if !self.failed.is_empty() {
            lines.push("  module failures:".to_string());
            for row in self.failed.iter().take(MAX_LISTED) {
                lines.push(format!(
                    "    {} {:<PATH_WIDTH$} {}",
                    colors.red("failed"),
                    shorten_front(&row.path, PATH_WIDTH),
                    row.error
                ));
            }
            omitted(lines, self.failed.len(), "failure(s)");
        }
    }
}

/// `    ... <n> more <what> omitted` when a list was cut.
fn omitted(lines: &mut Vec<String>, len: usize, what: &str) {
    if len > MAX_LISTED {
        lines.push(format!("    ... {} more {what} omitted", len - MAX_LISTED));
    }
}

/// The source label, coloured, then the file name the DWARF came from
/// (the module itself when embedded), padded to the column width.
fn source_column(row: &LoadedRow, colors: &Colors) -> String {
    let label = row.source.label();
    let file = row
        .source
        .file()
        .map_or_else(|| row.path.clone(), |p| p.display().to_string());
    let name = format!(" {}", short_file_name(&file));
    let width = label.chars().count() + name.chars().count();
    format!(
        "{}{}{}",
        source_color(colors, label, label),
        colors.dim(name),
        " ".repeat(SOURCE_COLUMN.saturating_sub(width))
    )
}

/// A debug-source label's colour: embedded green, explicit cyan, debuglink
/// blue, debuginfod magenta, missing yellow.
fn source_color(colors: &Colors, label: &str, text: &str) -> String {
    match label {
        "embedded" => colors.green(text),
        "explicit" => colors.cyan(text),
        "debuglink" => colors.blue(text),
        "debuginfod" => colors.magenta(text),
        "missing" => colors.yellow(text),
        _ => colors.dim(text),
    }
}

/// `[==========          ]` for half the modules done.
fn progress_bar(done: usize, total: usize) -> String {
    let filled = if total == 0 {
        0
    } else {
        ((done as f64 / total as f64).clamp(0.0, 1.0) * BAR_WIDTH as f64).round() as usize
    };
    format!("[{}{}]", "=".repeat(filled), " ".repeat(BAR_WIDTH - filled))
}

/// `<s.s>s`, or `<m>m<s.s>s` from a minute on.
pub fn format_elapsed(elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let minutes = elapsed.as_secs() / 60;
        format!("{minutes}m{:.1}s", secs - (minutes * 60) as f64)
    }
}

/// The file name of a path, shortened in the middle to 32 characters.
fn short_file_name(path: &str) -> String {
    let name = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    shorten_middle(&name, NAME_WIDTH)
}

/// `abc...xyz` when longer than `width` characters.
fn shorten_middle(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return text.to_string();
    }
    let head = (width - 3) / 2;
    let tail = width - 3 - head;
    let mut out: String = chars[..head].iter().collect();
    out.push_str("...");
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// `...xyz` when longer than `width` characters.
fn shorten_front(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return text.to_string();
    }
    let mut out = String::from("...");
    out.extend(&chars[chars.len() - (width - 3)..]);
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use ghostscope_dwarf::IndexKind;

    use super::*;

    const PLAIN: Colors = Colors::new(false);
    const ANSI: Colors = Colors::new(true);

    fn stats(functions: usize, variables: usize, types: usize) -> ModuleStats {
        ModuleStats {
            functions,
            variables,
            types,
            index: IndexKind::FullScan,
        }
    }

    fn row(index: usize, path: &str, source: DebugSource, st: ModuleStats, ms: u128) -> LoadedRow {
        LoadedRow {
            index,
            path: path.to_string(),
            source,
            stats: st,
            ms,
        }
    }

    /// A process with its executable, a library from a debuglink file and libc without DWARF.
    fn process_tally() -> LoadTally {
        let mut t = LoadTally {
            total: 3,
            ..LoadTally::default()
        };
        t.in_flight = vec!["/usr/lib/libc.so.6".into()];
        // Finished out of order: the report lists them in load order.
        t.loaded(row(
            1,
            "/opt/app/libcodec.so",
            DebugSource::Debuglink(PathBuf::from("/usr/lib/debug/libcodec.so.debug")),
            stats(3, 1, 12),
            7,
        ));
        t.loaded(row(
            0,
            "/opt/app/app",
            DebugSource::Embedded,
            stats(120, 9, 340),
            15,
        ));
        t
    }

    #[test]
    fn progress_line_names_the_module_still_loading() {
        let t = process_tally();
        assert_eq!(
            t.progress_line(Duration::from_millis(1250), &PLAIN),
            "- Startup DWARF [=============       ] 2/3 | libc.so.6 | 1.2s | embedded:1 debuglink:1"
        );
        assert_eq!(
            t.progress_line(Duration::from_millis(1250), &ANSI),
            "\x1b[36m-\x1b[0m \x1b[1mStartup DWARF\x1b[0m \x1b[34m[=============       ]\x1b[0m 2/3 | \x1b[33mlibc.so.6\x1b[0m | \x1b[2m1.2s\x1b[0m | \x1b[32membedded:1\x1b[0m \x1b[34mdebuglink:1\x1b[0m"
        );
        let empty = LoadTally::default();
        assert!(!empty.has_modules());
        assert_eq!(
            empty.progress_line(Duration::from_millis(300), &PLAIN),
            "- Startup DWARF [                    ] 0/0 | discovering modules | 0.3s"
        );
    }

    #[test]
    fn ready_line_and_report() {
        let mut t = process_tally();
        t.loaded(row(
            2,
            "/usr/lib/libc.so.6",
            DebugSource::Missing,
            ModuleStats::default(),
            2,
        ));
        let lines = t.ready_lines(Duration::from_millis(420), "pid=42", &PLAIN);
        let expected = [
            "DWARF ready: 3 modules, 123 functions, 10 variables, 352 types, debug: embedded:1 debuglink:1 missing:1, 0.4s | pid=42",
            "Startup load report:",
            "  target: pid=42",
            "  debug sources: embedded:1 debuglink:1 missing:1",
            "  modules loaded: 3 completed, 0 failed",
            "  module details:",
            "    embedded app                                 full-scan                       120 funcs      9 vars    340 types    15ms  /opt/app/app",
            "    debuglink libcodec.so.debug                  full-scan                         3 funcs      1 vars     12 types     7ms  /opt/app/libcodec.so",
            "  missing DWARF: 1 module (libc.so.6); use --log --log-level debug --log-file <path> for full paths",
        ];
        assert_eq!(lines, expected);
        let coloured = t.ready_lines(Duration::from_millis(420), "pid=42", &ANSI);
        assert!(coloured[0].starts_with("\x1b[32mDWARF ready:\x1b[0m 3 modules"));
        assert!(coloured[0].ends_with(", \x1b[2m0.4s\x1b[0m | \x1b[2mpid=42\x1b[0m"));
        assert_eq!(
            coloured[6],
            "    \x1b[32membedded\x1b[0m\x1b[2m app\x1b[0m                                 full-scan                       120 funcs      9 vars    340 types    15ms  /opt/app/app"
        );
        assert_eq!(
            coloured[8],
            "  \x1b[33mmissing DWARF:\x1b[0m 1 module (libc.so.6); use --log --log-level debug --log-file <path> for full paths"
        );
    }

    #[test]
    fn no_counters_and_no_target() {
        let t = LoadTally::default();
        assert_eq!(
            t.ready_lines(Duration::ZERO, "", &PLAIN),
            [
                "DWARF ready: 0 modules, 0 functions, 0 variables, 0 types, debug sources unknown, 0.0s",
                "Startup load report:"
            ]
        );
    }

    #[test]
    fn failure_report_lists_the_failed_module() {
        let mut t = LoadTally {
            total: 1,
            ..LoadTally::default()
        };
        t.in_flight = vec!["/opt/app/app".into()];
        t.failed(FailedRow {
            index: 0,
            path: "/opt/app/app".into(),
            error: "failed to parse debug file /tmp/bad.debug".into(),
        });
        assert!(t.in_flight.is_empty());
        let lines = t.failure_lines(
            Duration::from_millis(100),
            "failed to parse debug file /tmp/bad.debug",
            "target=/opt/app/app debug_file=/tmp/bad.debug",
            &ANSI,
        );
        assert_eq!(
            lines[0],
            "\x1b[31mDWARF loading failed after\x1b[0m \x1b[2m0.1s\x1b[0m: failed to parse debug file /tmp/bad.debug"
        );
        assert_eq!(
            &lines[1..],
            [
                "Startup load report:".to_string(),
                "  target: target=/opt/app/app debug_file=/tmp/bad.debug".to_string(),
                "  modules loaded: 0 completed, 1 failed".to_string(),
                "  module failures:".to_string(),
                format!(
                    "    \x1b[31mfailed\x1b[0m {:<88} failed to parse debug file /tmp/bad.debug",
                    "/opt/app/app"
                ),
            ]
        );
        assert!(t
            .progress_line(Duration::from_millis(400), &PLAIN)
            .ends_with(" | 1 failed"));
    }

    #[test]
    fn long_lists_are_cut() {
        let mut t = LoadTally::default();
        for i in 0..36 {
            t.loaded(row(
                i,
                &format!("/lib/lib{i}.so"),
                DebugSource::Embedded,
                stats(1, 0, 0),
                1,
            ));
        }
        for i in 36..41 {
            t.loaded(row(
                i,
                &format!("/lib/lib{i}.so"),
                DebugSource::Missing,
                stats(0, 0, 0),
                1,
            ));
        }
        let lines = t.ready_lines(Duration::ZERO, "", &PLAIN);
        assert_eq!(lines.iter().filter(|l| l.contains(" funcs ")).count(), 32);
        assert!(lines.contains(&"    ... 4 more module(s) omitted".to_string()));
        assert_eq!(
            lines.last().unwrap(),
            "  missing DWARF: 5 modules (lib36.so, lib37.so, lib38.so) +2 more; use --log --log-level debug --log-file <path> for full paths"
        );
    }

    #[test]
    fn shortening_and_durations() {
        assert_eq!(format_elapsed(Duration::from_millis(59_940)), "59.9s");
        assert_eq!(format_elapsed(Duration::from_millis(61_300)), "1m1.3s");
        let long = "libabcdefghijklmnopqrstuvwxyz0123456789.so";
        let short = short_file_name(&format!("/x/{long}"));
        assert_eq!(short, "libabcdefghijk...yz0123456789.so");
        assert_eq!(short.chars().count(), 32);
        let path = format!("/{}", "d/".repeat(50));
        let shown = shorten_front(&path, 88);
        assert_eq!(shown.chars().count(), 88);
        assert!(shown.starts_with("...") && shown.ends_with("d/d/"));
        assert_eq!(progress_bar(1, 2), "[==========          ]");
        assert_eq!(progress_bar(2, 2), "[====================]");
    }
}
