//! Every call of a flooding target is either delivered or counted lost,
//! exactly, through the ring buffer and through per-CPU perf buffers
//! (`--force-perf-event-array`); both transports print the same values.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e_tests::{build_fixture, ghostscope_bin, READY};

const SCRIPT: &str = r#"trace hot { print "{} {} {} {}", a, b, c, text; }"#;
const LOSS_PREFIX: &str = "ghostscope: eBPF output helper failed: trace #0 (hot) lost ";

/// A scratch directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gs-flood-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Kills a child left running when a test fails.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one traced run of `counted_calls` gave.
struct Flood {
    /// Calls the fixture says it made.
    calls: u64,
    /// Events printed.
    delivered: u64,
    /// The last loss total ghostscope reported for the trace.
    lost: u64,
    /// ghostscope's stdout (events only).
    stdout: String,
    stderr: String,
}

/// Runs `counted_calls` for `calls` calls (at most `rate` a second, 0: as
/// fast as it can) under ghostscope with `extra` options; the fixture starts
/// calling only once every probe is attached.
fn flood(name: &str, calls: u64, rate: u64, extra: &[&str]) -> Flood {
    let exe = build_fixture("counted_calls", "gcc", &["-g", "-O0"]);
    let dir = scratch(name);
    let go = dir.join("go");
    let fixture = Command::new(&exe)
        .args([&calls.to_string(), &rate.to_string(), go.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut fixture = Reaped(fixture);
    let pid = fixture.0.id().to_string();
    let out_path = dir.join("events.out");
    let err_path = dir.join("stderr.out");
    let gs = Command::new(ghostscope_bin())
        .args([
            "-p",
            &pid,
            "-s",
            SCRIPT,
            "--script-output-events-per-sec",
            "0",
        ])
        .args(extra)
        .args(["--emit-ready-marker", READY])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let mut gs = Reaped(gs);
    wait_for_file_line(&out_path, READY, &mut gs.0, &err_path);
    std::fs::write(&go, b"").unwrap();
    let mut report = String::new();
    use std::io::Read;
    fixture
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut report)
        .unwrap();
    fixture.0.wait().unwrap();
    // Let the drain catch up, then stop: the last loss report comes before exit.
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(gs.0.id() as i32, libc::SIGINT) };
    let status = gs.0.wait().unwrap();
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    let calls_made = report
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the fixture did not report its calls: {report:?}"));
    let delivered = stdout.lines().filter(|l| l.contains("TraceID:0 ")).count() as u64;
    let lost = stderr
        .lines()
        .filter_map(|l| l.strip_prefix(LOSS_PREFIX))
        .map(|rest| {
            rest.split_once("(total ")
                .and_then(|(_, t)| t.strip_suffix(')'))
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("bad loss line: {rest}"))
        })
        .max()
        .unwrap_or(0);
    let _ = std::fs::remove_dir_all(&dir);
    Flood {
        calls: calls_made,
        delivered,
        lost,
        stdout,
        stderr,
    }
}

fn wait_for_file_line(path: &Path, line: &str, gs: &mut Child, err: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().any(|l| l == line) {
            return;
        }
        if Instant::now() > deadline || gs.try_wait().unwrap().is_some() {
            panic!(
                "ghostscope never became ready:\n{}",
                std::fs::read_to_string(err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A config file with tiny event buffers, so a flood must lose events.
fn small_buffers(dir: &str) -> PathBuf {
    let dir = scratch(dir);
    let path = dir.join("config.toml");
    std::fs::write(&path, "[ebpf]\nringbuf_size = 16384\nperf_page_count = 8\n").unwrap();
    path
}

fn assert_exact(f: &Flood, what: &str) {
    assert_eq!(
        f.delivered + f.lost,
        f.calls,
        "{what}: {} delivered + {} reported lost != {} calls\nstderr:\n{}",
        f.delivered,
        f.lost,
        f.calls,
        f.stderr
    );
}

#[test]
fn ring_buffer_flood_is_accounted_exactly() {
    let config = small_buffers("ring-config");
    let f = flood("ring", 200_000, 0, &["--config", config.to_str().unwrap()]);
    assert!(f.lost > 0, "tiny buffers lost nothing:\n{}", f.stderr);
    assert_exact(&f, "ring buffer");
}

#[test]
fn perf_event_array_flood_is_accounted_exactly() {
    let config = small_buffers("perf-config");
    let f = flood(
        "perf",
        200_000,
        0,
        &[
            "--config",
            config.to_str().unwrap(),
            "--force-perf-event-array",
        ],
    );
    assert!(f.lost > 0, "tiny buffers lost nothing:\n{}", f.stderr);
    assert_exact(&f, "perf event array");
}

/// The value lines of an event stream, in order.
fn value_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.starts_with("  "))
        .collect::<Vec<_>>()
}

#[test]
fn both_transports_print_the_same_values() {
    let ring = flood("same-ring", 300, 1000, &[]);
    let perf = flood("same-perf", 300, 1000, &["--force-perf-event-array"]);
    assert_eq!(
        (ring.lost, perf.lost),
        (0, 0),
        "{}{}",
        ring.stderr,
        perf.stderr
    );
    assert_eq!(ring.delivered, 300, "{}", ring.stderr);
    let (r, p) = (value_lines(&ring.stdout), value_lines(&perf.stdout));
    assert_eq!(r.len(), 300);
    assert_eq!(
        r[7], "  7 14 21 \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"",
        "unexpected rendering"
    );
    assert_eq!(r, p);
}
