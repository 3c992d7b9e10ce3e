use std::path::Path;

use super::*;

fn parse_ok(text: &str) -> Config {
    parse(text, Path::new("/etc/gs.toml")).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> String {
    parse(text, Path::new("/etc/gs.toml"))
        .expect_err("must be rejected")
        .to_string()
}

#[test]
fn an_empty_file_gives_every_default() {
    let c = parse_ok("");
    assert_eq!(c, Config::default());
    assert_eq!(c.general.log_file, Path::new("ghostscope.log"));
    assert_eq!(c.general.log_level, LogLevel::Warn);
    assert!(c.script.status);
    assert_eq!(c.script.output_events_per_sec, 10_000);
    assert_eq!(
        c.dwarf.search_paths,
        ["/usr/lib/debug", "/usr/local/lib/debug"]
    );
    assert_eq!(c.value_adapters.max_nesting_depth, 4);
    assert!(c.files.save_ast.debug && !c.files.save_ast.release);
    assert_eq!(c.ui.panel_ratios, [4, 3, 3]);
    assert_eq!(c.ui.default_focus, UiFocus::InteractiveCommand);
    assert_eq!(c.ui.history.max_entries, 5000);
    assert_eq!(c.ebpf.ringbuf_size, 262_144);
    assert_eq!(c.ebpf.mem_dump_cap, 256);
    assert!(c.ebpf.enable_sysmon_for_target);
    assert_eq!(c.go.goid_source, GoidSource::Auto);
}

#[test]
fn the_spec_example_parses() {
    let c = parse_ok(
        r#"
[general]
log_level = "info"
enable_logging = true
log_file = "/var/tmp/ghostscope.log"

[script]
output = "plain"
color = "never"

[dwarf]
search_paths = ["/usr/lib/debug", "/opt/orderd/debug"]

[ebpf]
mem_dump_cap = 512
backtrace_depth = 32
enable_sysmon_for_target = false

[ui]
default_focus = "Source"
panel_ratios = [5, 3, 2]

[ui.realtime_logging]
output_dir = "/tmp"

[source]
substitutions = [{ from = "/ci/build/orderd", to = "/home/dev/orderd" }]
"#,
    );
    assert_eq!(c.general.log_level, LogLevel::Info);
    assert_eq!(c.general.enable_logging, Some(true));
    assert_eq!(c.script.output, OutputFormat::Plain);
    assert_eq!(c.script.color, ColorMode::Never);
    assert_eq!(c.dwarf.search_paths[1], "/opt/orderd/debug");
    assert_eq!(c.ebpf.mem_dump_cap, 512);
    assert_eq!(c.ebpf.backtrace_depth, 32);
    assert!(!c.ebpf.enable_sysmon_for_target);
    assert_eq!(c.ui.default_focus, UiFocus::Source);
    assert_eq!(c.ui.panel_ratios, [5, 3, 2]);
    assert_eq!(c.source.substitutions[0].to, "/home/dev/orderd");
}

#[test]
fn unknown_keys_are_rejected_only_in_ebpf_and_value_adapters() {
    parse_ok("[general]\nfavourite_colour = \"blue\"\n[ui]\nwobble = 1\n[mystery]\nx = 1\n");
    let m = parse_err("[ebpf]\nringbuf_sise = 4096\n");
    assert!(
        m.starts_with("Configuration file parsing error in '/etc/gs.toml' at line 2, column 1:"),
        "{m}"
    );
    assert!(m.contains("ringbuf_sise"), "{m}");
    assert!(m.contains("💡 Hint:"), "{m}");
    let m = parse_err("[value_adapters]\ndepth = 3\n");
    assert!(m.starts_with("Configuration file parsing error in"), "{m}");
}

#[test]
fn syntax_and_enum_errors_are_parsing_errors() {
    let m = parse_err("[general]\nlog_level = \"loud\"\n");
    assert!(
        m.starts_with("Configuration file parsing error in '/etc/gs.toml' at line 2"),
        "{m}"
    );
    let m = parse_err("[script\noutput = 1\n");
    assert!(m.starts_with("Configuration file parsing error in"), "{m}");
    let m = parse_err("[ui]\nlayout = \"horizontal\"\n");
    assert!(
        m.contains("Horizontal"),
        "capitalised variants are listed: {m}"
    );
}

#[test]
fn range_checks_use_the_spec_words() {
    let m = parse_err("[ui]\npanel_ratios = [4, 0, 3]\n");
    assert!(m.starts_with("❌ Invalid panel configuration in '/etc/gs.toml':\nPanel ratio for EbpfInfo panel (index 1) is 0, which would hide the panel.\n\n💡"), "{m}");
    let m = parse_err("[ui]\ntwo_panel_ratios = [0, 3]\n");
    assert!(
        m.contains("two_panel_ratios for EbpfInfo (index 0) is 0, which would hide the panel."),
        "{m}"
    );
    for (text, want) in [
        (
            "ringbuf_size = 5000",
            "ringbuf_size must be a power of 2, got 5000",
        ),
        (
            "ringbuf_size = 2048",
            "ringbuf_size 2048 is out of reasonable range",
        ),
        (
            "perf_page_count = 12",
            "perf_page_count must be a power of 2, got 12",
        ),
        (
            "perf_page_count = 4",
            "perf_page_count 4 is out of reasonable range",
        ),
        (
            "proc_module_offsets_max_entries = 10",
            "proc_module_offsets_max_entries 10 is out of reasonable range",
        ),
        ("backtrace_depth = 0", "backtrace_depth 0 is out of range"),
        (
            "backtrace_depth = 200",
            "backtrace_depth 200 is out of range",
        ),
        (
            "backtrace_unwind_rows_max_entries = 10",
            "backtrace_unwind_rows_max_entries 10 is out of range",
        ),
    ] {
        let m = parse_err(&format!("[ebpf]\n{text}\n"));
        assert!(
            m.starts_with("❌ Invalid eBPF configuration in '/etc/gs.toml':\n"),
            "{m}"
        );
        assert!(m.contains(want), "{text}: {m}");
        assert!(m.contains("\n\n💡 "), "{m}");
    }
    let m = parse_err("[ui]\nebpf_max_messages = 99\n");
    assert!(m.starts_with("❌ Invalid UI configuration in '/etc/gs.toml':\nebpf_max_messages 99 is too small\n\n💡"), "{m}");
    let m = parse_err("[value_adapters]\nmax_sequence_elements = 17\n");
    assert_eq!(m, "Invalid value adapter configuration in '/etc/gs.toml': max_sequence_elements must be in range 1 to 16, got 17");
}

#[test]
fn search_paths_expand_home_and_drop_duplicates() {
    let c = parse_ok("[dwarf]\nsearch_paths = [\"/a\", \"~/dbg\", \"/a\"]\n");
    let paths = c.dwarf.expanded_search_paths();
    assert_eq!(paths.len(), 2);
    assert_eq!(paths[0], Path::new("/a"));
    assert!(paths[1].ends_with("dbg") && paths[1].is_absolute());
}

#[test]
fn the_report_wraps_the_message() {
    let e = ConfigError::Missing("/nope.toml".into());
    assert_eq!(
        e.report(),
        "❌ Configuration Error:\nSpecified configuration file does not exist: /nope.toml\n\n💡 Tips:\n  • Check the example config.toml in the project root\n  • Verify TOML syntax is correct\n  • Ensure all values use the correct format"
    );
}
