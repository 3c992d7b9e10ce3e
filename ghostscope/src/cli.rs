//! The command line (cli.md).

use std::path::PathBuf;

use clap::{ArgAction, Parser, ValueEnum};

/// Event format on stdout in script mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScriptOutput {
    /// Header line plus indented payload lines.
    Pretty,
    /// Payload lines only.
    Plain,
    /// Newline-delimited JSON (beyond).
    Json,
}

/// Timestamp in the pretty header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScriptTimestamp {
    /// Local wall-clock time.
    Local,
    /// Seconds since boot.
    Boot,
    /// No timestamp.
    None,
}

/// TUI panel arrangement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    /// Side by side.
    Horizontal,
    /// Stacked.
    Vertical,
}

/// debuginfod mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Debuginfod {
    /// Never query.
    Off,
    /// Query as the last fallback.
    On,
    /// Behaves as off.
    Ask,
}

/// ghostscope: printf debugging for live processes, without stopping them.
#[derive(Debug, Clone, Parser)]
#[command(name = "ghostscope", version, about, long_about = None, args_override_self = true)]
pub struct Cli {
    /// Trace this running process (all its modules; events filtered to it).
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pub pid: Option<u32>,

    /// Trace this executable or shared library (every process that maps it).
    #[arg(short = 't', long = "target", value_name = "PATH")]
    pub target: Option<PathBuf>,

    /// Inline script text; selects script mode.
    #[arg(short = 's', long = "script", value_name = "SCRIPT")]
    pub script: Option<String>,

    /// Script file; selects script mode.
    #[arg(long = "script-file", value_name = "PATH")]
    pub script_file: Option<PathBuf>,

    /// Print the script-language reference and exit.
    #[arg(long = "script-help")]
    pub script_help: bool,

    /// Force the TUI.
    #[arg(long = "tui")]
    pub tui: bool,

    /// Resolve and compile, print the plan, attach nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,

    /// Add per-target details to the dry-run plan.
    #[arg(long = "dry-run-details", requires = "dry_run")]
    pub dry_run_details: bool,

    /// Event format on stdout in script mode.
    #[arg(long = "script-output", value_enum, value_name = "FORMAT")]
    pub script_output: Option<ScriptOutput>,

    /// Timestamp in the pretty header.
    #[arg(long = "script-timestamp", value_enum, value_name = "KIND")]
    pub script_timestamp: Option<ScriptTimestamp>,

    /// Show interactive status lines on stderr (default).
    #[arg(long = "status")]
    pub status: bool,

    /// Hide interactive status lines.
    #[arg(long = "no-status")]
    pub no_status: bool,

    /// Render at most N events per second (0 = unlimited).
    #[arg(long = "script-output-events-per-sec", value_name = "N")]
    pub events_per_sec: Option<u64>,

    /// Maximum frames per backtrace.
    #[arg(long = "backtrace-depth", value_name = "N", value_parser = clap::value_parser!(u8).range(1..=128))]
    pub backtrace_depth: Option<u8>,

    /// `script.color` from the config file (not a flag).
    #[arg(skip)]
    pub color: crate::config::ColorMode,

    /// `ebpf.backtrace_unwind_rows_max_entries` from the config file (not a flag).
    #[arg(skip)]
    pub backtrace_unwind_rows_max: Option<u32>,

    /// `ebpf.ringbuf_size` from the config file (not a flag).
    #[arg(skip)]
    pub ringbuf_size: Option<u32>,

    /// `ebpf.perf_page_count` from the config file (not a flag).
    #[arg(skip)]
    pub perf_page_count: Option<u32>,

    /// Print TEXT on its own line once every probe is attached.
    #[arg(long = "emit-ready-marker", value_name = "TEXT", hide = true)]
    pub ready_marker: Option<String>,

    /// Exit after N events were written.
    #[arg(long = "max-events", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_events: Option<u64>,

    /// Exit SECS seconds after the probes are attached.
    #[arg(long = "duration", value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub duration: Option<u64>,

    /// Separate debug file for the target module.
    #[arg(short = 'd', long = "debug-file", value_name = "PATH")]
    pub debug_file: Option<PathBuf>,

    /// Accept CRC or Build-ID mismatches of debug files.
    #[arg(long = "allow-loose-debug-match")]
    pub allow_loose_debug_match: bool,

    /// Use debuginfod as the last fallback.
    #[arg(long = "debuginfod", value_enum, value_name = "MODE")]
    pub debuginfod: Option<Debuginfod>,

    /// debuginfod server (repeatable).
    #[arg(long = "debuginfod-url", value_name = "URL", action = ArgAction::Append)]
    pub debuginfod_url: Vec<String>,

    /// debuginfod cache directory.
    #[arg(long = "debuginfod-cache-dir", value_name = "DIR")]
    pub debuginfod_cache_dir: Option<PathBuf>,

    /// debuginfod timeout.
    #[arg(long = "debuginfod-timeout-secs", value_name = "SECONDS")]
    pub debuginfod_timeout_secs: Option<u64>,

    /// debuginfod download size cap.
    #[arg(long = "debuginfod-max-size", value_name = "BYTES")]
    pub debuginfod_max_size: Option<u64>,

    /// Write the log file.
    #[arg(long = "log")]
    pub log: bool,

    /// No file or console log.
    #[arg(long = "no-log")]
    pub no_log: bool,

    /// Also log to stderr.
    #[arg(long = "log-console")]
    pub log_console: bool,

    /// No stderr log.
    #[arg(long = "no-log-console")]
    pub no_log_console: bool,

    /// Log level: error, warn, info, debug, trace.
    #[arg(long = "log-level", value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// Log file path.
    #[arg(long = "log-file", value_name = "PATH")]
    pub log_file: Option<PathBuf>,

    /// Save each program's LLVM IR as gs_<pid>_<exec>_<func>_<index>.ll.
    #[arg(long = "save-llvm-ir")]
    pub save_llvm_ir: bool,

    /// Do not save LLVM IR.
    #[arg(long = "no-save-llvm-ir")]
    pub no_save_llvm_ir: bool,

    /// Save each BPF object as gs_<pid>_<exec>_<func>_<index>.ebpf.
    #[arg(long = "save-ebpf")]
    pub save_ebpf: bool,

    /// Do not save BPF objects.
    #[arg(long = "no-save-ebpf")]
    pub no_save_ebpf: bool,

    /// Save the parsed script as gs_<pid>_<exec>_<func>_<index>.ast.
    #[arg(long = "save-ast")]
    pub save_ast: bool,

    /// Do not save the parsed script.
    #[arg(long = "no-save-ast")]
    pub no_save_ast: bool,

    /// TUI panel arrangement.
    #[arg(long = "layout", value_enum, default_value = "horizontal")]
    pub layout: Layout,

    /// Show the TUI source panel.
    #[arg(long = "source-panel")]
    pub source_panel: bool,

    /// Hide the TUI source panel.
    #[arg(long = "no-source-panel")]
    pub no_source_panel: bool,

    /// Configuration file.
    #[arg(long = "config", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Use PerfEventArray even where RingBuf exists.
    #[arg(long = "force-perf-event-array")]
    pub force_perf_event_array: bool,

    /// Re-enable the process monitor for standalone -t.
    #[arg(long = "enable-sysmon-for-target", alias = "enable-sysmon-shared-lib")]
    pub enable_sysmon_for_target: bool,

    /// Program to launch and trace, with its arguments.
    #[arg(long = "args", value_name = "PROGRAM", num_args = 1.., allow_hyphen_values = true)]
    pub args: Vec<String>,

    /// Program to launch and trace (after `--`).
    #[arg(
        value_name = "PROGRAM",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub program: Vec<String>,
}

impl Cli {
    /// The program to launch, if one was given (launch form).
    pub fn launch_program(&self) -> Option<&[String]> {
        if !self.args.is_empty() {
            Some(&self.args)
        } else if !self.program.is_empty() {
            Some(&self.program)
        } else {
            None
        }
    }
}

impl Cli {
    /// Whether a stream that is (or is not) a terminal gets ANSI colour:
    /// `script.color`, with a non-empty `NO_COLOR` turning `auto` off.
    pub fn color_for(&self, is_terminal: bool) -> bool {
        use crate::config::ColorMode;
        match self.color {
            ColorMode::Always => true,
            ColorMode::Never => false,
            ColorMode::Auto => {
                is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}
