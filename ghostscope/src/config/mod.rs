//! The configuration file (config.md): where it is looked for, every
//! section and key with its default, and the validation messages.
//!
//! Only the file is read here. How a setting combines with its command-line
//! flag lives with the code that uses it, because the rules differ per key
//! (some flags can only turn a setting on, the log level has its own rule).

mod validate;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use validate::ConfigError;

/// The whole configuration; every section and key is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `[general]`.
    pub general: General,
    /// `[script]`.
    pub script: Script,
    /// `[dwarf]` (with `[dwarf.debuginfod]`).
    pub dwarf: Dwarf,
    /// `[value_adapters]`.
    pub value_adapters: ValueAdapters,
    /// `[files]`.
    pub files: Files,
    /// `[ui]` (with `[ui.history]`).
    pub ui: Ui,
    /// `[ebpf]`.
    pub ebpf: Ebpf,
    /// `[source]`.
    pub source: Source,
    /// `[go]` (beyond).
    pub go: Go,
}

/// Log verbosity (`general.log_level`, `--log-level`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors (default).
    #[default]
    Warn,
    /// Informational messages.
    Info,
    /// Debugging detail.
    Debug,
    /// Everything.
    Trace,
}

/// `[general]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct General {
    /// Log file, relative to the current directory.
    pub log_file: PathBuf,
    /// Has no practical effect (compatible).
    pub default_tui_mode: bool,
    /// File logging; when absent the mode decides (TUI on, script off).
    pub enable_logging: Option<bool>,
    /// Also log to stderr.
    pub enable_console_logging: bool,
    /// Log level.
    pub log_level: LogLevel,
}

impl Default for General {
    fn default() -> General {
        General {
            log_file: PathBuf::from("ghostscope.log"),
            default_tui_mode: true,
            enable_logging: None,
            enable_console_logging: false,
            log_level: LogLevel::Warn,
        }
    }
}

/// Event format on stdout (`script.output`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Header plus indented payload lines.
    #[default]
    Pretty,
    /// Payload lines only.
    Plain,
    /// NDJSON (beyond).
    Json,
}

/// Timestamp in the pretty header (`script.timestamp`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Timestamp {
    /// Local wall-clock time.
    #[default]
    Local,
    /// Seconds since boot.
    Boot,
    /// None.
    None,
}

/// When to colour output (`script.color`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorMode {
    /// Only when the stream is a terminal.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `[script]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Script {
    /// Event format.
    pub output: OutputFormat,
    /// Interactive status lines on stderr.
    pub status: bool,
    /// Header timestamp.
    pub timestamp: Timestamp,
    /// Colour.
    pub color: ColorMode,
    /// Rate limit of rendered events per second (0 = none).
    pub output_events_per_sec: u64,
}

impl Default for Script {
    fn default() -> Script {
        Script {
            output: OutputFormat::Pretty,
            status: true,
            timestamp: Timestamp::Local,
            color: ColorMode::Auto,
            output_events_per_sec: 10_000,
        }
    }
}

/// `dwarf.debuginfod.enabled`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DebuginfodMode {
    /// Never query (default).
    #[default]
    Off,
    /// Query as the last fallback.
    On,
    /// Accepted; behaves as off with a warning.
    Ask,
}

/// `[dwarf.debuginfod]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Debuginfod {
    /// Whether to use debuginfod.
    pub enabled: DebuginfodMode,
    /// Server URLs.
    pub urls: Vec<String>,
    /// Cache directory.
    pub cache_dir: Option<PathBuf>,
    /// Download timeout in seconds (0 = none).
    pub timeout_secs: Option<u64>,
    /// Download size cap in bytes (0 = none).
    pub max_size_bytes: Option<u64>,
}

/// `[dwarf]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Dwarf {
    /// `.gnu_debuglink` search directories.
    pub search_paths: Vec<String>,
    /// Accept CRC or build-id mismatches with a warning.
    pub allow_loose_debug_match: bool,
    /// `[dwarf.debuginfod]`.
    pub debuginfod: Debuginfod,
}

impl Default for Dwarf {
    fn default() -> Dwarf {
        Dwarf {
            search_paths: ghostscope_dwarf::DEFAULT_SEARCH_PATHS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            allow_loose_debug_match: false,
            debuginfod: Debuginfod::default(),
        }
    }
}

impl Dwarf {
    /// The search paths with `~/` expanded and duplicates removed, in order.
    #[allow(dead_code)] // read once the debug-file search takes its paths from here
    pub fn expanded_search_paths(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for p in &self.search_paths {
            let path = match p.strip_prefix("~/") {
                Some(rest) => home_dir().map_or_else(|| PathBuf::from(p), |h| h.join(rest)),
                None => PathBuf::from(p),
            };
            if !out.contains(&path) {
                out.push(path);
            }
        }
        out
    }
}

/// `[value_adapters]` (unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValueAdapters {
    /// Adapter edges followed below a root semantic value.
    pub max_nesting_depth: u32,
    /// Child elements captured per nested sequence node.
    pub max_sequence_elements: u32,
}

impl Default for ValueAdapters {
    fn default() -> ValueAdapters {
        ValueAdapters {
            max_nesting_depth: 4,
            max_sequence_elements: 4,
        }
    }
}

/// Whether an artifact is saved, per build kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ArtifactSwitch {
    /// In debug builds (default on).
    pub debug: bool,
    /// In release builds (default off).
    pub release: bool,
}

impl Default for ArtifactSwitch {
    fn default() -> ArtifactSwitch {
        ArtifactSwitch {
            debug: true,
            release: false,
        }
    }
}

impl ArtifactSwitch {
    /// The switch for the running build.
    #[allow(dead_code)] // read once the artifact options take the config into account
    pub fn for_this_build(&self) -> bool {
        if cfg!(debug_assertions) {
            self.debug
        } else {
            self.release
        }
    }
}

/// `[files]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Files {
    /// `[files.save_llvm_ir]`.
    pub save_llvm_ir: ArtifactSwitch,
    /// `[files.save_ebpf]`.
    pub save_ebpf: ArtifactSwitch,
    /// `[files.save_ast]`.
    pub save_ast: ArtifactSwitch,
}

/// `ui.layout` (capitalised in the file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum UiLayout {
    /// Side by side.
    #[default]
    Horizontal,
    /// Stacked.
    Vertical,
}

/// `ui.default_focus`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum UiFocus {
    /// The source panel.
    Source,
    /// The eBPF output panel.
    EbpfInfo,
    /// The command panel (default).
    #[default]
    InteractiveCommand,
}

/// `[ui.history]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct History {
    /// Keep a history file.
    pub enabled: bool,
    /// Most lines kept.
    pub max_entries: usize,
}

impl Default for History {
    fn default() -> History {
        History {
            enabled: true,
            max_entries: 5000,
        }
    }
}

/// `[ui]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Ui {
    /// Never takes effect: `--layout` always has a value (compatible).
    pub layout: UiLayout,
    /// Initially focused panel.
    pub default_focus: UiFocus,
    /// Show the source panel.
    pub show_source_panel: bool,
    /// Source : eBPF output : command.
    pub panel_ratios: [u16; 3],
    /// eBPF output : command, when the source panel is hidden.
    pub two_panel_ratios: Option<[u16; 2]>,
    /// Events kept in the output panel.
    pub ebpf_max_messages: usize,
    /// Mouse capture (beyond).
    pub mouse: bool,
    /// Status bar (beyond).
    pub show_status_bar: bool,
    /// `[ui.history]`.
    pub history: History,
}

impl Default for Ui {
    fn default() -> Ui {
        Ui {
            layout: UiLayout::Horizontal,
            default_focus: UiFocus::InteractiveCommand,
            show_source_panel: true,
            panel_ratios: [4, 3, 3],
            two_panel_ratios: None,
            ebpf_max_messages: 2000,
            mouse: true,
            show_status_bar: true,
            history: History::default(),
        }
    }
}

/// `[ebpf]` (unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ebpf {
    /// Event ring buffer size in bytes.
    pub ringbuf_size: u64,
    /// PerfEventArray pages per CPU.
    pub perf_page_count: u32,
    /// Entries of the per-(pid, module) offset table.
    pub proc_module_offsets_max_entries: u64,
    /// Bytes read per memory-dump argument.
    pub mem_dump_cap: u32,
    /// Bytes read per comparison operand.
    pub compare_cap: u32,
    /// Largest event.
    pub max_trace_event_size: u32,
    /// Frames per backtrace.
    pub backtrace_depth: u32,
    /// Unwind rows kept for in-kernel unwinding.
    pub backtrace_unwind_rows_max_entries: u32,
    /// Use PerfEventArray even where RingBuf exists.
    pub force_perf_event_array: bool,
    /// Process monitor for standalone `-t`.
    pub enable_sysmon_for_target: bool,
    /// Open calls kept per key for `%return` (beyond).
    pub retprobe_max_depth: u32,
    /// LRU entries for open calls (beyond).
    pub retprobe_max_inflight: u32,
}

impl Default for Ebpf {
    fn default() -> Ebpf {
        Ebpf {
            ringbuf_size: 262_144,
            perf_page_count: 64,
            proc_module_offsets_max_entries: 4096,
            mem_dump_cap: 256,
            compare_cap: 64,
            max_trace_event_size: 32_768,
            backtrace_depth: 128,
            backtrace_unwind_rows_max_entries: 65_536,
            force_perf_event_array: false,
            enable_sysmon_for_target: true,
            retprobe_max_depth: 16,
            retprobe_max_inflight: 16_384,
        }
    }
}

/// One `source.substitutions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Substitution {
    /// Prefix of DWARF paths.
    pub from: String,
    /// What replaces it.
    pub to: String,
}

/// `[source]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Source {
    /// Prefix rewrites of DWARF source paths.
    pub substitutions: Vec<Substitution>,
    /// Basename lookup directories.
    pub search_dirs: Vec<PathBuf>,
}

/// `go.goid_source`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GoidSource {
    /// Per function.
    #[default]
    Auto,
    /// Register R14.
    R14,
    /// The TLS slot.
    Tls,
}

/// `[go]` (beyond).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Go {
    /// How `$goid` finds `g`.
    pub goid_source: GoidSource,
}

/// A configuration and the file it came from (none: built-in defaults).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadedConfig {
    /// The settings.
    pub config: Config,
    /// The file, if one was found.
    pub path: Option<PathBuf>,
}

/// Finds and loads the configuration (config.md §1): `--config PATH`, then
/// `$HOME/.ghostscope/config.toml`, then `./ghostscope.toml`.
pub fn load(explicit: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
    let path = match explicit {
        Some(p) if !p.exists() => return Err(ConfigError::Missing(p.to_path_buf())),
        Some(p) => Some(p.to_path_buf()),
        None => search_candidates().into_iter().find(|p| p.is_file()),
    };
    let Some(path) = path else {
        return Ok(LoadedConfig::default());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read {
        path: path.clone(),
        source: e,
    })?;
    let config = parse(&text, &path)?;
    Ok(LoadedConfig {
        config,
        path: Some(path),
    })
}

/// Parses and validates the text of a configuration file.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| validate::parse_error(&e, text, path))?;
    validate::check(&config, path)?;
    Ok(config)
}

/// The files looked at when no `--config` is given, in order.
fn search_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(home) = home_dir() {
        out.push(home.join(".ghostscope").join("config.toml"));
    }
    out.push(PathBuf::from("ghostscope.toml"));
    out
}

/// `$HOME`, or the account's home directory when it is unset or empty.
pub fn home_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(h));
    }
    account_home()
}

fn account_home() -> Option<PathBuf> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0u8; 4096];
    // SAFETY: passwd is plain data; getpwuid_r writes into `pwd` and `buf`,
    // whose length we pass, and sets `result` to null or to `&pwd`.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() || pwd.pw_dir.is_null() {
            return None;
        }
        let dir = CStr::from_ptr(pwd.pw_dir);
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())))
    }
}

#[cfg(test)]
mod tests;
