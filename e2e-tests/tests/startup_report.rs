//! The startup load report and status lines of output.md §8.3 for a live
//! process: a library stripped of its DWARF is `missing` (not fatal), a dry
//! run goes on and exits 0, a live run prints `Compiling script...` and
//! `Attached …`, and `--no-status` hides all of it.

use std::path::{Path, PathBuf};

use e2e_tests::split_debug::{build_gvars, case_dir, strip_debug};
use e2e_tests::tty::{ghostscope_on_tty, mask_timings, screen_lines};
use e2e_tests::{events_by_header, trace_events, Fixture};

/// gvars_app (with DWARF) running against a libgvars.so stripped of it.
fn stripped_library_app(case: &str) -> (Fixture, PathBuf, PathBuf) {
    let dir = case_dir(case);
    let (app, lib) = build_gvars(&dir, &["-g", "-O0"]);
    let full = dir.join("libgvars.so.full");
    std::fs::rename(&lib, &full).unwrap();
    strip_debug(&full, &lib);
    (Fixture::start(&app), app, lib)
}

fn screen(stderr: &str) -> Vec<String> {
    screen_lines(&mask_timings(stderr))
}

/// The `module details:` line of the app, whose DWARF is its own.
fn app_detail(app: &Path) -> String {
    format!(
        "    \x1b[32membedded\x1b[0m\x1b[2m gvars_app\x1b[0m                           full-scan                         2 funcs      1 vars     10 types #ms  {}",
        app.display()
    )
}

#[test]
fn dry_run_with_a_library_without_dwarf() {
    let (f, app, lib) = stripped_library_app("report-stripped-lib-dry-run");
    let pid = f.pid().to_string();
    let run = ghostscope_on_tty(&[
        "-p",
        &pid,
        "--dry-run",
        "-s",
        "trace app_round { print n; }",
    ]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let lines = screen(&run.stderr);
    let ready = &lines[0];
    assert!(
        ready.starts_with("\x1b[32mDWARF ready:\x1b[0m ")
            && ready.ends_with(&format!(", \x1b[2m#s\x1b[0m | \x1b[2mpid={pid}\x1b[0m")),
        "{ready}"
    );
    assert_eq!(
        lines[1..3],
        [
            "Startup load report:".to_string(),
            format!("  target: pid={pid}")
        ]
    );
    // The executable first, then the libraries in the order they are mapped.
    let details = lines.iter().position(|l| l == "  module details:").unwrap();
    assert_eq!(lines[details + 1], app_detail(&app));
    assert!(
        !lines
            .iter()
            .any(|l| l.contains(" funcs ") && l.ends_with(&*lib.to_string_lossy())),
        "a module without DWARF has no details line: {lines:?}"
    );
    let missing = lines.iter().find(|l| l.contains("missing DWARF:")).unwrap();
    assert!(
        missing.starts_with("  \x1b[33mmissing DWARF:\x1b[0m ")
            && missing.contains("libgvars.so")
            && missing.ends_with("; use --log --log-level debug --log-file <path> for full paths"),
        "{missing}"
    );
    assert!(lines[2..]
        .iter()
        .any(|l| l.starts_with("  debug sources: \x1b[32membedded:1\x1b[0m ")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("  modules loaded: ") && l.ends_with(" completed, 0 failed")));
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "\x1b[33m\x1b[1mCompiling script for dry run...\x1b[0m\x1b[0m".to_string(),
            "\x1b[32mDry run complete; no uprobes attached.\x1b[0m".to_string(),
        ]
    );
    assert!(
        run.out().contains(&format!("module={}", app.display())),
        "{}",
        run.out()
    );
}

#[test]
fn tracing_goes_on_when_a_library_has_no_dwarf() {
    let (f, _, _) = stripped_library_app("report-stripped-lib-live");
    // The app's function through DWARF, the library's through its ELF symbol.
    let script =
        "trace app_round { print n < 5; print app_rounds > 0; } trace lib_tick { print \"tick\"; }";
    let run = trace_events(f.pid(), script, 4, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let events = events_by_header(&run.stdout);
    assert_eq!(events.len(), 4, "{}", run.out());
    for (header, lines) in events {
        if header.starts_with("TraceID:0 ") {
            assert_eq!(lines, ["(n<5) = true", "(app_rounds>0) = true"]);
        } else {
            assert!(header.starts_with("TraceID:1 "), "{header}");
            assert_eq!(lines, ["tick"]);
        }
    }
}

#[test]
fn live_run_status_lines() {
    let (f, app, _) = stripped_library_app("report-live-status");
    let pid = f.pid().to_string();
    let run = ghostscope_on_tty(&[
        "-p",
        &pid,
        "-s",
        "trace app_round { print n < 5; }",
        "--max-events",
        "2",
        "--script-timestamp",
        "none",
    ]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let lines = screen(&run.stderr);
    assert!(
        lines[0].starts_with("\x1b[32mDWARF ready:\x1b[0m "),
        "{lines:?}"
    );
    assert!(lines.contains(&app_detail(&app)));
    let compiling = lines
        .iter()
        .position(|l| l == "\x1b[33m\x1b[1mCompiling script...\x1b[0m\x1b[0m")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(
        lines[compiling + 1..],
        ["\x1b[32mAttached\x1b[0m \x1b[1m1 trace(s). Waiting for events...\x1b[0m".to_string()]
    );
    assert_eq!(events_by_header(&run.stdout).len(), 2, "{}", run.out());
}

#[test]
fn no_status_hides_the_status_lines() {
    let (f, _, _) = stripped_library_app("report-no-status");
    let pid = f.pid().to_string();
    let run = ghostscope_on_tty(&[
        "-p",
        &pid,
        "--dry-run",
        "--no-status",
        "-s",
        "trace app_round { print n; }",
    ]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    // Without a terminal there are none either (every other test reads a pipe).
    let run = e2e_tests::ghostscope(&[
        "-p",
        &pid,
        "--dry-run",
        "--status",
        "-s",
        "trace app_round { print n; }",
    ]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
}
