//! Probes exist exactly while ghostscope runs: attached before the ready
//! marker, gone after SIGINT, SIGTERM or an error, and the traced program
//! keeps running throughout.

use std::time::Duration;

use e2e_tests::{build_fixture, read_process_byte, runtime_address, Fixture, Tracer};

const INT3: u8 = 0xcc;

fn check_stop_signal(sig: i32) {
    let exe = build_fixture("orders", "gcc", &["-g", "-O0"]);
    let mut f = Fixture::start(&exe);
    let addr = runtime_address(f.pid(), &exe, "update_order");
    let original = read_process_byte(f.pid(), addr);
    assert_ne!(original, INT3);
    let pid = f.pid().to_string();
    let mut t = Tracer::start(&["-p", &pid, "-s", "trace update_order { print qty; }"]);
    // The uprobe shows as an int3 in the traced process's copy of the page.
    assert_eq!(
        read_process_byte(f.pid(), addr),
        INT3,
        "probe attached at the ready marker"
    );
    assert!(t.wait_for(2, Duration::from_secs(10), |l| l.starts_with("  qty = ")) >= 2);
    let run = t.signal(sig);
    assert_eq!(run.code(), 0, "clean exit on signal {sig}: {}", run.stderr);
    assert_eq!(
        read_process_byte(f.pid(), addr),
        original,
        "probe removed after signal {sig}"
    );
    assert!(f.is_running(), "the traced program survives tracing");
}

#[test]
fn sigint_detaches_every_probe() {
    check_stop_signal(libc::SIGINT);
}

#[test]
fn sigterm_detaches_every_probe() {
    check_stop_signal(libc::SIGTERM);
}

#[test]
fn tracing_continues_after_the_target_exits() {
    let exe = build_fixture("orders", "gcc", &["-g", "-O0"]);
    let mut f = Fixture::start(&exe);
    let pid = f.pid().to_string();
    let mut t = Tracer::start(&["-p", &pid, "-s", "trace update_order { print qty; }"]);
    t.wait_for(1, Duration::from_secs(10), |l| l.starts_with("  qty = "));
    f.kill();
    std::thread::sleep(Duration::from_millis(300));
    // ghostscope keeps running until told to stop, then exits cleanly.
    let run = t.stop();
    assert_eq!(run.code(), 0, "{}", run.stderr);
}

#[test]
fn dry_run_attaches_nothing_and_prints_the_plan() {
    let exe = build_fixture("orders", "gcc", &["-g", "-O0", "-fno-pie", "-no-pie"]);
    let f = Fixture::start(&exe);
    let addr = runtime_address(f.pid(), &exe, "update_order");
    let original = read_process_byte(f.pid(), addr);
    let pid = f.pid().to_string();
    let run = e2e_tests::ghostscope(&[
        "-p",
        &pid,
        "--dry-run",
        "-s",
        "trace update_order { print qty; } trace nosuch { print 1; }",
    ]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let out = run.out();
    assert_eq!(
        run.stdout[0],
        "GhostScope dry run: no uprobes were attached."
    );
    assert_eq!(
        run.stdout[1],
        "Summary: 1 attachable target(s), 0 unattachable resolved target(s), 1 failed target(s), next trace id 1"
    );
    // A fixed-address executable: the pc is the symbol's address.
    let expected = format!(
        "  [1] update_order -> pc=0x{addr:x}, uprobe_offset=0x{:x}, module={}",
        addr - 0x400000,
        std::fs::canonicalize(&exe).unwrap().display()
    );
    assert!(run.stdout.contains(&expected), "{out}\nwanted: {expected}");
    assert!(
        out.contains("  - nosuch at 0x0: No addresses resolved for function 'nosuch' - function not found in debug symbols"),
        "{out}"
    );
    assert_eq!(
        read_process_byte(f.pid(), addr),
        original,
        "dry run attached nothing"
    );
}

#[test]
fn dry_run_details_describe_parameters() {
    let exe = build_fixture("orders", "gcc", &["-g", "-O0"]);
    let run = e2e_tests::ghostscope(&[
        "-t",
        exe.to_str().unwrap(),
        "--dry-run",
        "--dry-run-details",
        "-s",
        "trace update_order { print qty; print o.id; }",
    ]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let out = run.out();
    for wanted in [
        "      trace_id: 0",
        "      pattern: function update_order",
        "      attachable: yes (file offset resolved; eBPF bytecode generated)",
        "      inline context: no",
        "      variables used by script: qty, o",
        "        - param qty: int [available; direct value; register rsi]",
        "        - param o: Order* [available; direct value; register rdi]",
    ] {
        assert!(
            out.lines().any(|l| l == wanted),
            "missing {wanted:?} in\n{out}"
        );
    }
}

#[test]
fn a_process_whose_binary_was_rebuilt_can_still_be_traced() {
    let built = build_fixture("orders", "gcc", &["-g", "-O0"]);
    let copy = std::env::temp_dir().join(format!("gs_rebuilt_{}", std::process::id()));
    std::fs::copy(&built, &copy).unwrap();
    let f = Fixture::start(&copy);
    // Replace the file under the running process, as a rebuild does.
    std::fs::remove_file(&copy).unwrap();
    std::fs::copy(&built, &copy).unwrap();
    let run = e2e_tests::trace_events(
        f.pid(),
        "trace update_order { print tag; }",
        1,
        &["--script-output", "plain"],
    );
    std::fs::remove_file(&copy).unwrap();
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert_eq!(run.events(), ["tag = 120"]);
}
