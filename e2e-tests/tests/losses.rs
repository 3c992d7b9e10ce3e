//! Events the kernel cannot deliver are counted per trace and reported on
//! stderr once a second, in the spec's words.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use e2e_tests::{build_fixture, ghostscope_bin, Fixture, READY};

#[test]
fn lost_events_are_reported_per_trace() {
    let f = Fixture::start(&build_fixture("flood", "gcc", &["-g", "-O0"]));
    let pid = f.pid().to_string();
    let mut gs = Command::new(ghostscope_bin())
        .args([
            "-p",
            &pid,
            "-s",
            "trace hot { print a; }",
            "--emit-ready-marker",
            READY,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(gs.stdout.take().unwrap());
    let mut line = String::new();
    while line.trim_end() != READY {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "ghostscope exited before it was ready"
        );
    }
    // Stop reading: ghostscope blocks on its full stdout pipe, the ring
    // buffer fills, and the kernel has to drop events.
    std::thread::sleep(Duration::from_millis(1500));
    let drain = std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = stdout.read_to_end(&mut sink);
    });
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(gs.id() as i32, libc::SIGINT) };
    let mut stderr = String::new();
    gs.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = gs.wait().unwrap();
    drain.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    let loss = stderr
        .lines()
        .find(|l| l.starts_with("ghostscope: eBPF output helper failed: trace #0 (hot) lost "))
        .unwrap_or_else(|| panic!("no loss line in:\n{stderr}"));
    let (lost, total) = loss
        .strip_prefix("ghostscope: eBPF output helper failed: trace #0 (hot) lost ")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|r| r.split_once(" events in kernel before userspace delivery (total "))
        .unwrap_or_else(|| panic!("{loss}"));
    assert!(
        lost.parse::<u64>().unwrap() > 0 && total.parse::<u64>().unwrap() > 0,
        "{loss}"
    );
}

#[test]
fn sigint_is_handled_while_the_target_floods_events() {
    let f = Fixture::start(&build_fixture("flood", "gcc", &["-g", "-O0"]));
    let pid = f.pid().to_string();
    let mut t = e2e_tests::Tracer::start(&[
        "-p",
        &pid,
        "-s",
        "trace hot { print a; }",
        "--script-output-events-per-sec",
        "0",
    ]);
    t.wait_for(1000, Duration::from_secs(10), |l| l.starts_with("  a = "));
    // The harness gives up (SIGKILL) after 20 s; a clean exit means the
    // signal was seen even though events never stop arriving.
    let run = t.stop();
    assert_eq!(run.code(), 0, "{}", run.stderr);
}
