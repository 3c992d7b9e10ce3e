//! Module names as the user types them: `-t` and `module:0xADDR` accept a
//! path that is a symlink to the mapped file (`libgvars_alias.so` →
//! `libgvars.so`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use e2e_tests::split_debug::{build_gvars, case_dir};
use e2e_tests::{events_by_header, ghostscope_bin, trace_events, Fixture, Run, Tracer};

/// The app running against `libgvars.so`, and the alias symlink beside it.
fn setup(case: &str) -> (Fixture, PathBuf, PathBuf) {
    let dir = case_dir(case);
    let (app, lib) = build_gvars(&dir, &["-g", "-O0"]);
    let alias = dir.join("libgvars_alias.so");
    std::os::unix::fs::symlink("libgvars.so", &alias).unwrap();
    (Fixture::start(&app), lib, alias)
}

/// The module-relative address of a function, from nm.
fn symbol_address(module: &Path, symbol: &str) -> u64 {
    let out = Command::new("nm").arg(module).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[2] == symbol).then(|| u64::from_str_radix(f[0], 16).unwrap())
        })
        .unwrap_or_else(|| panic!("{symbol} in nm output"))
}

/// Every event prints one `step = <0..4>` line.
fn assert_steps(run: &Run, events: usize) {
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let events_seen = events_by_header(&run.stdout);
    assert_eq!(events_seen.len(), events, "{}", run.out());
    for (_, lines) in events_seen {
        assert_eq!(lines.len(), 1);
        let step: u32 = lines[0].strip_prefix("step = ").unwrap().parse().unwrap();
        assert!(step < 5, "{}", lines[0]);
    }
}

#[test]
fn target_given_by_a_symlink_with_a_pid() {
    let (f, _, alias) = setup("alias-target-pid");
    let alias = alias.to_string_lossy();
    let run = trace_events(
        f.pid(),
        "trace lib_tick { print step; }",
        3,
        &["-t", &alias],
    );
    assert_steps(&run, 3);
}

#[test]
fn module_address_given_by_a_symlink_name() {
    let (f, lib, _) = setup("alias-module-address");
    let addr = symbol_address(&lib, "lib_tick");
    let script = format!("trace libgvars_alias.so:0x{addr:x} {{ print step; }}");
    let run = trace_events(f.pid(), &script, 3, &[]);
    assert_steps(&run, 3);
    // The name that matches the mapped file still works, and so does an unknown one fail.
    let run = trace_events(
        f.pid(),
        &format!("trace libgvars.so:0x{addr:x} {{ print step; }}"),
        1,
        &[],
    );
    assert_steps(&run, 1);
}

#[test]
fn relative_target_symlink_keeps_its_name() {
    let (_f, lib, alias) = setup("alias-relative-target");
    let dir = alias.parent().unwrap();
    let out = Command::new(ghostscope_bin())
        .args([
            "-t",
            "libgvars_alias.so",
            "--dry-run",
            "-s",
            "trace lib_tick { print step; }",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    let run = Run::from(out);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let addr = symbol_address(&lib, "lib_tick");
    assert_eq!(
        run.stdout[..6],
        [
            "GhostScope dry run: no uprobes were attached.".to_string(),
            "Summary: 1 attachable target(s), 0 unattachable resolved target(s), 0 failed target(s), next trace id 1".to_string(),
            format!("Primary target: target={}", alias.display()),
            String::new(),
            "Attachable targets:".to_string(),
            format!("  [1] lib_tick -> pc=0x{addr:x}, uprobe_offset=0x{addr:x}, module={}", alias.display()),
        ]
    );
}

#[test]
fn standalone_target_symlink_traces_the_mapped_library() {
    let (_f, _, alias) = setup("alias-standalone-target");
    let alias = alias.to_string_lossy();
    let mut t = Tracer::start(&[
        "-t",
        &alias,
        "-s",
        "trace lib_tick { print step; }",
        "--script-timestamp",
        "none",
    ]);
    let seen = t.wait_for(3, Duration::from_secs(10), |l| l.starts_with("  step = "));
    let run = t.stop();
    assert!(seen >= 3, "{}\n{}", run.out(), run.stderr);
}
