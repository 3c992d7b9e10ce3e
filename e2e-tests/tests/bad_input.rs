//! Bad input: one clear error, exit code 1, nothing attached, and the
//! traced program unharmed.

use e2e_tests::{
    build_fixture, ghostscope, read_process_byte, run_as_nobody, runtime_address, Fixture,
};

fn orders() -> (Fixture, std::path::PathBuf) {
    let exe = build_fixture("orders", "gcc", &["-g", "-O0"]);
    (Fixture::start(&exe), exe)
}

/// Runs a script against a fresh fixture and checks nothing got attached.
fn failing_script(script: &str) -> e2e_tests::Run {
    let (mut f, exe) = orders();
    let addr = runtime_address(f.pid(), &exe, "update_order");
    let original = read_process_byte(f.pid(), addr);
    let pid = f.pid().to_string();
    let run = ghostscope(&["-p", &pid, "-s", script]);
    assert_eq!(
        run.code(),
        1,
        "stdout: {}\nstderr: {}",
        run.out(),
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.out());
    assert_eq!(read_process_byte(f.pid(), addr), original);
    assert!(f.is_running());
    run
}

#[test]
fn pid_that_does_not_exist() {
    let run = ghostscope(&["-p", "999999", "-s", "trace main { print 1; }"]);
    assert_eq!(run.code(), 1);
    assert_eq!(
        run.stderr,
        "Error: Process with PID 999999 is not running. Use 'ps -p 999999' to verify the process exists.\nAdditional check: -p expects a PID visible in the current PID namespace.\n"
    );
}

#[test]
fn target_without_debug_info() {
    // With -t the target is the only module, so no other module (a libc
    // whose DWARF a build-id tree provides) can supply DWARF.
    let exe = build_fixture("orders", "gcc", &["-O0"]);
    let target = exe.to_string_lossy();
    let run = ghostscope(&["-t", &target, "-s", "trace update_order { print qty; }"]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr
            .starts_with("Error: No debug information found in any module!")
            && run.stderr.contains("rebuild it with -g"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
}

#[test]
fn unknown_function() {
    let run = failing_script("trace no_such_function { print 1; }");
    assert!(
        run.stderr.starts_with(
            "Error: Script compilation failed: No addresses resolved for function 'no_such_function' - function not found in debug symbols\n\nFailed targets:\n  - no_such_function at 0x0: "
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_variable_lists_close_names() {
    let run = failing_script("trace update_order { print qtty; }");
    let first = run.stderr.lines().next().unwrap();
    assert!(
        first.starts_with(
            "Error: No uprobe configurations created because all 1 target(s) failed to compile."
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Variable not found: 'qtty' is not visible at this probe in 'update_order'. Did you mean: qty"),
        "{}",
        run.stderr
    );
}

#[test]
fn syntax_error_shows_line_column_and_caret() {
    let run = failing_script("trace update_order {\n  print qty\n}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines[0],
        "Error: Script compilation failed: Parse error: Pest parser error: line 3, column 1: expected ';' or an operator. Please check your script syntax and try again."
    );
    assert_eq!(lines[1], "  3 | }");
    assert_eq!(lines[2], "    | ^");
}

#[test]
fn member_that_does_not_exist() {
    let run = failing_script("trace update_order { print o.nosuch; }");
    assert!(
        run.stderr.contains(
            "Unknown member 'nosuch' in struct 'order' (known members: id, qty, state, customer, flags, urgent, lines)"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn running_without_privileges() {
    let (f, _) = orders();
    let pid = f.pid().to_string();
    let run = run_as_nobody(&["-p", &pid, "-s", "trace update_order { print qty; }"]);
    assert_eq!(run.code(), 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "GhostScope needs elevated privileges to load eBPF programs.
Options:
  • Run with sudo: sudo ghostscope ...
  • Or grant capabilities:
    sudo setcap cap_bpf,cap_sys_ptrace,cap_sys_admin+ep $(command -v ghostscope)
Hint: verify that your kernel has CONFIG_BPF, CONFIG_BPF_SYSCALL, and CONFIG_UPROBE_EVENTS enabled.
"
    );
}

#[test]
fn missing_target_and_script_file() {
    let run = ghostscope(&["-s", "trace f { print 1; }"]);
    assert_eq!(run.code(), 1);
    assert_eq!(
        run.stderr,
        "Error: No target specified. Please provide either --pid <PID> or --target <PATH>.\n"
    );
    let run = ghostscope(&["-t", "/no/such/file", "-s", "trace f { print 1; }"]);
    assert_eq!(
        run.stderr,
        "Error: Target file does not exist: /no/such/file\n"
    );
    let (f, _) = orders();
    let pid = f.pid().to_string();
    let run = ghostscope(&["-p", &pid, "--script-file", "/no/such/script.gs"]);
    assert_eq!(
        run.stderr,
        "Error: Script file does not exist: /no/such/script.gs\n"
    );
}
