//! Configuration errors and the range checks of config.md §2, worded as the
//! spec gives them.

use std::path::{Path, PathBuf};

use super::Config;

/// Why the configuration could not be used. The `Display` text is the
/// `<message>` of the `❌ Configuration Error:` block (cli.md §12 step 2).
#[derive(Debug)]
pub enum ConfigError {
    /// `--config` names a file that does not exist.
    Missing(PathBuf),
    /// The file exists but cannot be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax, a wrong type, an invalid enum value or an unknown key.
    Parse(String),
    /// A value outside its allowed range.
    Invalid(String),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Missing(p) => write!(
                f,
                "Specified configuration file does not exist: {}",
                p.display()
            ),
            ConfigError::Read { path, source } => write!(
                f,
                "Failed to read configuration file '{}': {source}",
                path.display()
            ),
            ConfigError::Parse(m) | ConfigError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// The whole block printed on stderr before exiting 1.
    pub fn report(&self) -> String {
        format!(
            "❌ Configuration Error:\n{self}\n\n💡 Tips:\n  • Check the example config.toml in the project root\n  • Verify TOML syntax is correct\n  • Ensure all values use the correct format"
        )
    }
}

/// `Configuration file parsing error in '<path>'`, with the line, column and a hint.
pub(super) fn parse_error(e: &toml::de::Error, text: &str, path: &Path) -> ConfigError {
    let mut m = format!("Configuration file parsing error in '{}'", path.display());
    if let Some(span) = e.span() {
        let (line, column) = line_and_column(text, span.start);
        m.push_str(&format!(" at line {line}, column {column}"));
    }
    let detail = e.message().trim();
    m.push_str(&format!(": {detail}"));
    let hint = if detail.starts_with("unknown field") {
        "[ebpf] and [value_adapters] accept only the keys config.md lists; check the key's spelling"
    } else if detail.starts_with("unknown variant") {
        "the value must be one of the listed choices, in quotes"
    } else {
        "check the TOML syntax and that the value has the key's type (string, integer, bool, array)"
    };
    m.push_str(&format!("\n💡 Hint: {hint}"));
    ConfigError::Parse(m)
}

/// 1-based line and column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The range checks, in the order of config.md §2.
pub(super) fn check(c: &Config, path: &Path) -> Result<(), ConfigError> {
    let p = path.display();
    let panel = |detail: String| {
        ConfigError::Invalid(format!(
            "❌ Invalid panel configuration in '{p}':\n{detail}\n\n💡 Every ratio must be a positive integer; the default is panel_ratios = [4, 3, 3] (source : eBPF output : command)."
        ))
    };
    const PANELS: [&str; 3] = ["Source", "EbpfInfo", "InteractiveCommand"];
    if let Some(i) = c.ui.panel_ratios.iter().position(|&r| r == 0) {
        return Err(panel(format!(
            "Panel ratio for {} panel (index {i}) is 0, which would hide the panel.",
            PANELS[i]
        )));
    }
    if let Some(two) = c.ui.two_panel_ratios {
        if let Some(i) = two.iter().position(|&r| r == 0) {
            return Err(panel(format!(
                "two_panel_ratios for {} (index {i}) is 0, which would hide the panel.",
                PANELS[i + 1]
            )));
        }
    }
    let ebpf = |detail: String, advice: &str| {
        ConfigError::Invalid(format!(
            "❌ Invalid eBPF configuration in '{p}':\n{detail}\n\n💡 {advice}"
        ))
    };
    let e = &c.ebpf;
    const RINGBUF: &str = "ringbuf_size must be a power of 2 between 4096 and 16777216 bytes; 262144 (256 KiB) is the default, 1048576 or more suits busy targets.";
    if !e.ringbuf_size.is_power_of_two() {
        return Err(ebpf(
            format!("ringbuf_size must be a power of 2, got {}", e.ringbuf_size),
            RINGBUF,
        ));
    }
    if !(4096..=16_777_216).contains(&e.ringbuf_size) {
        return Err(ebpf(
            format!("ringbuf_size {} is out of reasonable range", e.ringbuf_size),
            RINGBUF,
        ));
    }
    const PERF: &str =
        "perf_page_count must be a power of 2 between 8 and 1024 pages per CPU; 64 is the default.";
    if !e.perf_page_count.is_power_of_two() {
        return Err(ebpf(
            format!(
                "perf_page_count must be a power of 2, got {}",
                e.perf_page_count
            ),
            PERF,
        ));
    }
    if !(8..=1024).contains(&e.perf_page_count) {
        return Err(ebpf(
            format!(
                "perf_page_count {} is out of reasonable range",
                e.perf_page_count
            ),
            PERF,
        ));
    }
    if !(64..=65_536).contains(&e.proc_module_offsets_max_entries) {
        return Err(ebpf(
            format!(
                "proc_module_offsets_max_entries {} is out of reasonable range",
                e.proc_module_offsets_max_entries
            ),
            "proc_module_offsets_max_entries must be between 64 and 65536; 4096 is the default.",
        ));
    }
    if !(1..=128).contains(&e.backtrace_depth) {
        return Err(ebpf(
            format!("backtrace_depth {} is out of range", e.backtrace_depth),
            "backtrace_depth must be between 1 and 128; 128 is the default, 16 or 32 are cheaper per hit.",
        ));
    }
    if !(1024..=1_048_576).contains(&e.backtrace_unwind_rows_max_entries) {
        return Err(ebpf(
            format!(
                "backtrace_unwind_rows_max_entries {} is out of range",
                e.backtrace_unwind_rows_max_entries
            ),
            "backtrace_unwind_rows_max_entries must be between 1024 and 1048576; 65536 is the default.",
        ));
    }
    if !(1..=64).contains(&e.retprobe_max_depth) {
        return Err(ebpf(
            format!(
                "retprobe_max_depth {} is out of range",
                e.retprobe_max_depth
            ),
            "retprobe_max_depth must be between 1 and 64; 16 is the default.",
        ));
    }
    if !(256..=1_048_576).contains(&e.retprobe_max_inflight) {
        return Err(ebpf(
            format!(
                "retprobe_max_inflight {} is out of range",
                e.retprobe_max_inflight
            ),
            "retprobe_max_inflight must be between 256 and 1048576; 16384 is the default.",
        ));
    }
    if c.ui.ebpf_max_messages < 100 {
        return Err(ConfigError::Invalid(format!(
            "❌ Invalid UI configuration in '{p}':\nebpf_max_messages {} is too small\n\n💡 ebpf_max_messages must be at least 100; 2000 is the default.",
            c.ui.ebpf_max_messages
        )));
    }
    let va = &c.value_adapters;
    for (key, v) in [
        ("max_nesting_depth", va.max_nesting_depth),
        ("max_sequence_elements", va.max_sequence_elements),
    ] {
        if !(1..=16).contains(&v) {
            return Err(ConfigError::Invalid(format!(
                "Invalid value adapter configuration in '{p}': {key} must be in range 1 to 16, got {v}"
            )));
        }
    }
    Ok(())
}
