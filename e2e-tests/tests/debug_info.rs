//! Debug info beside the binary (cli.md §5): `.gnu_debuglink` files next to
//! the module, in its `.debug/` and in a search path, build-id trees, CRC
//! and build-id checks with and without `--allow-loose-debug-match`, and
//! `--debug-file` with each of its failures. Each case reads the startup
//! load report on a terminal, where the debug source of every module shows.

use std::path::Path;

use e2e_tests::split_debug::{
    add_debuglink, case_dir, compile, keep_debug, split_build, strip_debug, unique_build_id,
    Installed, SplitBuild,
};
use e2e_tests::tty::{ghostscope_on_tty, mask_timings, screen_lines};
use e2e_tests::{events_by_header, ghostscope, trace_events, Fixture, Run};

const SCRIPT: &str = "trace update_order { print qty; }";
/// What the name index of orders.c at -O0 holds: functions, variables, types.
const ORDERS_COUNTS: (usize, usize, usize) = (4, 7, 32);
const FLAGS: &[&str] = &["-g", "-O0"];

/// A dry run of `SCRIPT` on `-t module` with stderr on a terminal.
fn dry_run(module: &Path, extra: &[&str]) -> Run {
    let target = module.to_string_lossy();
    let mut args = vec!["-t", &target, "-s", SCRIPT, "--dry-run"];
    args.extend_from_slice(extra);
    ghostscope_on_tty(&args)
}

/// The lines the terminal shows, with timings masked.
fn screen(run: &Run) -> Vec<String> {
    screen_lines(&mask_timings(&run.stderr))
}

/// The `module details:` line of a module whose DWARF came from `source`,
/// with the shape of output.md §8.3 written out: a 44-wide source column,
/// a 28-wide index column, counts right-aligned in 6, 6, 6 and 5 columns.
fn detail(
    colour: &str,
    label: &str,
    file: &str,
    counts: (usize, usize, usize),
    path: &Path,
) -> String {
    let pad = " ".repeat(44 - label.len() - 1 - file.len());
    format!(
        "    \x1b[{colour}m{label}\x1b[0m\x1b[2m {file}\x1b[0m{pad} {:<28} {:>6} funcs {:>6} vars {:>6} types #ms  {}",
        "full-scan",
        counts.0,
        counts.1,
        counts.2,
        path.display()
    )
}

/// The whole status text of a successful `-t` dry run of one module.
fn ready_report(
    module: &Path,
    summary: &str,
    details: &[String],
    extra_target: &str,
) -> Vec<String> {
    let (f, v, t) = if details.is_empty() {
        (0, 0, 0)
    } else {
        ORDERS_COUNTS
    };
    let target = format!("target={}{extra_target}", module.display());
    let mut lines = vec![
        format!(
            "\x1b[32mDWARF ready:\x1b[0m 1 module, {f} functions, {v} variables, {t} types, debug: {summary}, \x1b[2m#s\x1b[0m | \x1b[2m{target}\x1b[0m"
        ),
        "Startup load report:".to_string(),
        format!("  target: {target}"),
        format!("  debug sources: {summary}"),
        "  modules loaded: 1 completed, 0 failed".to_string(),
    ];
    if !details.is_empty() {
        lines.push("  module details:".to_string());
        lines.extend(details.iter().cloned());
    }
    lines
}

const DRY_RUN_END: [&str; 2] = [
    "\x1b[33m\x1b[1mCompiling script for dry run...\x1b[0m\x1b[0m",
    "\x1b[32mDry run complete; no uprobes attached.\x1b[0m",
];

fn assert_debuglink_dry_run(split: &SplitBuild, debug_name: &str) {
    let run = dry_run(&split.module, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let mut expected = ready_report(
        &split.module,
        "\x1b[34mdebuglink:1\x1b[0m",
        &[detail(
            "34",
            "debuglink",
            debug_name,
            ORDERS_COUNTS,
            &split.module,
        )],
        "",
    );
    expected.extend(DRY_RUN_END.map(String::from));
    assert_eq!(screen(&run), expected, "{:?}", run.stderr);
    // The final line replaces the progress line (if one was drawn) in place.
    assert!(
        run.stderr.contains("\r\x1b[32mDWARF ready:\x1b[0m"),
        "{:?}",
        run.stderr
    );
    assert!(
        run.out()
            .contains(&format!("module={}", split.module.display())),
        "{}",
        run.out()
    );
}

#[test]
fn debuglink_file_beside_the_module() {
    let dir = case_dir("beside");
    let split = split_build("orders", &dir, "app", "app.debug", FLAGS, true);
    // The exact text, written out once in full.
    let run = dry_run(&split.module, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let app = split.module.display();
    assert_eq!(
        screen(&run),
        [
            format!("\x1b[32mDWARF ready:\x1b[0m 1 module, 4 functions, 7 variables, 32 types, debug: \x1b[34mdebuglink:1\x1b[0m, \x1b[2m#s\x1b[0m | \x1b[2mtarget={app}\x1b[0m"),
            "Startup load report:".to_string(),
            format!("  target: target={app}"),
            "  debug sources: \x1b[34mdebuglink:1\x1b[0m".to_string(),
            "  modules loaded: 1 completed, 0 failed".to_string(),
            "  module details:".to_string(),
            format!("    \x1b[34mdebuglink\x1b[0m\x1b[2m app.debug\x1b[0m                          full-scan                         4 funcs      7 vars     32 types #ms  {app}"),
            DRY_RUN_END[0].to_string(),
            DRY_RUN_END[1].to_string(),
        ]
    );
    assert_debuglink_dry_run(&split, "app.debug");
}

#[test]
fn debuglink_file_in_the_modules_debug_directory() {
    let dir = case_dir("dot-debug");
    let split = split_build("orders", &dir, "app", "app.debug", FLAGS, true);
    let moved = Installed::new(&split.debug, &dir.join(".debug/app.debug"));
    assert_debuglink_dry_run(&split, "app.debug");
    drop(moved);
}

#[test]
fn debuglink_file_in_a_search_path() {
    // /usr/lib/debug is a default dwarf.search_paths entry; the name is unique.
    let name = format!(
        "ghostscope-e2e-{}.debug",
        &unique_build_id("search-path")[..8]
    );
    let dir = case_dir("search-path");
    let split = split_build("orders", &dir, "app", &name, FLAGS, true);
    let _installed = Installed::new(&split.debug, &Path::new("/usr/lib/debug").join(&name));
    assert_debuglink_dry_run(&split, &name);
}

#[test]
fn build_id_tree() {
    let id = unique_build_id("build-id-tree");
    let dir = case_dir("build-id-tree");
    let build_id = format!("-Wl,--build-id=0x{id}");
    // No .gnu_debuglink: only the build id leads to the debug file.
    let split = split_build(
        "orders",
        &dir,
        "app",
        "app.debug",
        &["-g", "-O0", &build_id],
        false,
    );
    let tree = Path::new("/usr/lib/debug/.build-id")
        .join(&id[..2])
        .join(format!("{}.debug", &id[2..]));
    let installed = Installed::new(&split.debug, &tree);
    // The file name is shortened in the middle to 32 characters.
    let shown = format!("{}...{}.debug", &id[2..16], &id[31..]);
    assert_eq!(shown.len(), 32);
    assert_debuglink_dry_run(&split, &shown);
    drop(installed);
    // Without the tree entry the module has no DWARF.
    let run = dry_run(&split.module, &[]);
    assert_eq!(run.code(), 1);
    assert!(screen(&run).contains(&"  debug sources: \x1b[33mmissing:1\x1b[0m".to_string()));
}

/// A module whose debuglink file exists but has another CRC, and the CRC
/// the link records.
fn crc_mismatch_case(case: &str) -> (SplitBuild, u32) {
    let dir = case_dir(case);
    let split = split_build("orders", &dir, "app", "app.debug", FLAGS, true);
    let recorded = crc32_of(&split.debug);
    // Same DWARF and build id, different bytes: only the CRC tells.
    let mut bytes = std::fs::read(&split.debug).unwrap();
    bytes.extend_from_slice(b"not the file the link was made for");
    std::fs::write(&split.debug, bytes).unwrap();
    (split, recorded)
}

#[test]
fn debuglink_crc_mismatch_is_missing_unless_loose() {
    let (split, _) = crc_mismatch_case("crc-mismatch");
    let run = dry_run(&split.module, &[]);
    assert_eq!(run.code(), 1, "{}", run.stderr);
    let mut expected = ready_report(&split.module, "\x1b[33mmissing:1\x1b[0m", &[], "");
    expected.push(
        "  \x1b[33mmissing DWARF:\x1b[0m 1 module (app); use --log --log-level debug --log-file <path> for full paths"
            .to_string(),
    );
    let lines = screen(&run);
    assert_eq!(lines[..expected.len()], expected[..], "{:?}", run.stderr);
    assert!(
        lines[expected.len()].starts_with("Error: No debug information found in any module!"),
        "{lines:?}"
    );
    assert!(run.stdout.is_empty());

    let run = dry_run(&split.module, &["--allow-loose-debug-match"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert!(screen(&run).contains(&detail(
        "34",
        "debuglink",
        "app.debug",
        ORDERS_COUNTS,
        &split.module
    )));
}

#[test]
fn debuglink_file_without_debug_info_is_missing() {
    let dir = case_dir("debuglink-no-dwarf");
    let full = dir.join("app.full");
    compile("orders", &full, &["-O0"], &[]);
    let debug = dir.join("app.debug");
    keep_debug(&full, &debug);
    let module = dir.join("app");
    strip_debug(&full, &module);
    add_debuglink(&module, &debug);
    let run = dry_run(&module, &[]);
    assert_eq!(run.code(), 1);
    assert!(
        screen(&run).contains(&"  debug sources: \x1b[33mmissing:1\x1b[0m".to_string()),
        "{}",
        run.stderr
    );
}

#[test]
fn explicit_debug_file_is_used_and_reported() {
    let dir = case_dir("explicit");
    // No debuglink: the module says nothing of where its DWARF is.
    let split = split_build("orders", &dir, "app", "app.debug", FLAGS, false);
    let debug = split.debug.to_string_lossy().into_owned();
    let run = dry_run(&split.module, &["-d", &debug]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let mut expected = ready_report(
        &split.module,
        "\x1b[36mexplicit:1\x1b[0m",
        &[detail(
            "36",
            "explicit",
            "app.debug",
            ORDERS_COUNTS,
            &split.module,
        )],
        &format!(" debug_file={debug}"),
    );
    expected.extend(DRY_RUN_END.map(String::from));
    assert_eq!(screen(&run), expected);
}

/// The terminal text and the error of a `-d` that fails.
fn explicit_failure(module: &Path, debug: &Path, extra: &[&str]) -> (Vec<String>, Run) {
    let debug = debug.to_string_lossy().into_owned();
    let mut args = vec!["-d", debug.as_str()];
    args.extend_from_slice(extra);
    let run = dry_run(module, &args);
    assert_eq!(run.code(), 1, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.out());
    (screen(&run), run)
}

/// The failure report of a `-d` whose check fails with `error`.
fn failure_report(module: &Path, debug: &Path, error: &str) -> Vec<String> {
    let target = format!("target={} debug_file={}", module.display(), debug.display());
    vec![
        format!("\x1b[31mDWARF loading failed after\x1b[0m \x1b[2m#s\x1b[0m: {error}"),
        "Startup load report:".to_string(),
        format!("  target: {target}"),
        "  modules loaded: 0 completed, 1 failed".to_string(),
        "  module failures:".to_string(),
        format!("    \x1b[31mfailed\x1b[0m {:<88} {error}", module.display()),
        format!("Error: Failed to create debug session: {error}"),
    ]
}

#[test]
fn explicit_debug_file_with_another_crc() {
    let (split, expected_crc) = crc_mismatch_case("explicit-crc-mismatch");
    let actual = crc32_of(&split.debug);
    let (lines, _) = explicit_failure(&split.module, &split.debug, &[]);
    let error = format!(
        "Explicit debug file {} failed CRC verification for {}: expected=0x{expected_crc:08x}, actual=0x{actual:08x}",
        split.debug.display(),
        split.module.display()
    );
    assert_eq!(lines, failure_report(&split.module, &split.debug, &error));
    // Loose matching accepts it.
    let debug = split.debug.to_string_lossy();
    let run = dry_run(&split.module, &["-d", &debug, "--allow-loose-debug-match"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert!(screen(&run).contains(&detail(
        "36",
        "explicit",
        "app.debug",
        ORDERS_COUNTS,
        &split.module
    )));
}

#[test]
fn explicit_debug_file_of_another_build() {
    let dir = case_dir("build-id-mismatch");
    let a = format!("-Wl,--build-id=0x{}", "aa".repeat(20));
    let b = format!("-Wl,--build-id=0x{}", "bb".repeat(20));
    let split = split_build(
        "orders",
        &dir,
        "app",
        "app.debug",
        &["-g", "-O0", &a],
        false,
    );
    let other = split_build(
        "orders",
        &dir,
        "other",
        "other.debug",
        &["-g", "-O0", &b],
        false,
    );
    let (lines, _) = explicit_failure(&split.module, &other.debug, &[]);
    let error = format!(
        "Explicit debug file {} Build ID mismatch for {}: binary={}, debug={}",
        other.debug.display(),
        split.module.display(),
        "aa".repeat(20),
        "bb".repeat(20)
    );
    assert_eq!(lines, failure_report(&split.module, &other.debug, &error));
    let debug = other.debug.to_string_lossy();
    let run = dry_run(&split.module, &["-d", &debug, "--allow-loose-debug-match"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
}

#[test]
fn explicit_debug_file_without_debug_info() {
    let dir = case_dir("explicit-no-dwarf");
    let module = dir.join("app");
    compile("orders", &module, &["-O0"], &[]);
    let debug = dir.join("app.debug");
    keep_debug(&module, &debug);
    let (lines, _) = explicit_failure(&module, &debug, &["--allow-loose-debug-match"]);
    let error = format!(
        "Explicit debug file {} for {} contains no .debug_info section",
        debug.display(),
        module.display()
    );
    assert_eq!(lines, failure_report(&module, &debug, &error));
}

#[test]
fn explicit_debug_file_that_is_not_elf() {
    let dir = case_dir("explicit-not-elf");
    let split = split_build("orders", &dir, "app", "app.debug", FLAGS, false);
    let bad = dir.join("bad.debug");
    std::fs::write(&bad, "not an ELF file").unwrap();
    let (lines, _) = explicit_failure(&split.module, &bad, &[]);
    let error = format!("failed to parse debug file {}", bad.display());
    assert_eq!(lines, failure_report(&split.module, &bad, &error));
}

#[test]
fn explicit_debug_file_that_does_not_exist() {
    let dir = case_dir("explicit-missing");
    let split = split_build("orders", &dir, "app", "app.debug", FLAGS, false);
    let target = split.module.to_string_lossy();
    let run = ghostscope(&["-t", &target, "-d", "/no/such/app.debug", "-s", SCRIPT]);
    assert_eq!(run.code(), 1);
    assert_eq!(
        run.stderr,
        "Error: Debug file does not exist: /no/such/app.debug\n"
    );
}

#[test]
fn values_come_from_the_separate_debug_file() {
    let dir = case_dir("live-debuglink");
    let split = split_build("orders", &dir, "app", "app.debug", FLAGS, true);
    let f = Fixture::start(&split.module);
    let script =
        "trace update_order { print qty < 5; print o.customer.name == \"Alice\"; print g_vip.id; }";
    let run = trace_events(f.pid(), script, 2, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let events = events_by_header(&run.stdout);
    assert_eq!(events.len(), 2, "{}", run.out());
    for (_, lines) in &events {
        assert_eq!(
            lines,
            &[
                "(qty<5) = true",
                "(o.customer.name==\"Alice\") = true",
                "g_vip.id = 7"
            ]
        );
    }
}

/// CRC-32 (IEEE) of a file, computed here independently of ghostscope.
fn crc32_of(path: &Path) -> u32 {
    let mut crc = !0u32;
    for b in std::fs::read(path).unwrap() {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn explicit_debug_file_for_a_process_binds_to_its_executable() {
    let dir = case_dir("explicit-pid");
    let split = split_build("orders", &dir, "app", "app.debug", FLAGS, false);
    let f = Fixture::start(&split.module);
    let debug = split.debug.to_string_lossy().into_owned();
    let script = "trace update_order { print qty < 5; print g_vip.id; }";
    let run = trace_events(f.pid(), script, 1, &["-d", &debug]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert_eq!(
        events_by_header(&run.stdout)[0].1,
        ["(qty<5) = true", "g_vip.id = 7"]
    );
    // Bound to a -t module the process does not map, it is an error.
    let pid = f.pid().to_string();
    let other = dir.join("other");
    compile("orders", &other, FLAGS, &[]);
    let run = ghostscope(&[
        "-p",
        &pid,
        "-t",
        &other.to_string_lossy(),
        "-d",
        &debug,
        "--dry-run",
        "-s",
        SCRIPT,
    ]);
    assert_eq!(run.code(), 1);
    let first = run.stderr.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "Error: Failed to create debug session: Explicit debug file {debug} was provided for target module {}, but that module was not loaded. Loaded modules include:",
            other.display()
        )
    );
    assert!(
        run.stderr
            .contains(&format!("\n  - {}\n", split.module.display())),
        "{}",
        run.stderr
    );
}
