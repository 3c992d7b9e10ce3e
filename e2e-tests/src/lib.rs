//! Support for ghostscope's end-to-end tests: compile C, C++ and Rust
//! fixtures (gcc, g++, rustc), start them, run the real `ghostscope` binary against them as root, and
//! collect what it prints. Nothing here mocks the kernel, aya or LLVM.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

pub mod split_debug;
pub mod tmux;
mod truth;
pub mod tty;
pub use truth::{
    call_record_script, compare_with_truth, trace_calls_against_truth, CallRecord, TracedCalls,
    TruthReport,
};

/// Marker ghostscope prints once every probe is attached.
pub const READY: &str = "GS_E2E_READY";

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The release `ghostscope` binary, built (or brought up to date) once per test run.
pub fn ghostscope_bin() -> PathBuf {
    static BUILD: Once = Once::new();
    if let Ok(p) = std::env::var("GHOSTSCOPE_BIN") {
        return PathBuf::from(p);
    }
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                "ghostscope",
                "--bin",
                "ghostscope",
            ])
            .current_dir(workspace())
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "building the release ghostscope binary failed"
        );
    });
    target_dir().join("release/ghostscope")
}

/// Cargo's target directory.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join("target"))
}

/// Compiles `fixtures/<name>.c` with `compiler` and `flags`; cached per flag set.
pub fn build_fixture(name: &str, compiler: &str, flags: &[&str]) -> PathBuf {
    build_fixture_with(
        &format!("{name}.c"),
        compiler,
        flags,
        &[],
        &format!("{name}_{compiler}_{}", flag_tag(flags)),
    )
}

/// Compiles `fixtures/<name>.cpp` with g++ and `flags`; cached per flag set.
pub fn build_cxx_fixture(name: &str, flags: &[&str]) -> PathBuf {
    build_fixture_with(
        &format!("{name}.cpp"),
        "g++",
        flags,
        &[],
        &format!("{name}_gxx_{}", flag_tag(flags)),
    )
}

/// Compiles `fixtures/<name>.rs` with rustc (`$RUSTC` if set) and `flags`,
/// for example `["-g", "-C", "opt-level=2"]`; cached per flag set.
pub fn build_rust_fixture(name: &str, flags: &[&str]) -> PathBuf {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    build_fixture_with(
        &format!("{name}.rs"),
        &rustc,
        flags,
        &[],
        &format!("{name}_rustc_{}", flag_tag(flags)),
    )
}

/// A file-name-safe tag for a set of compiler flags.
fn flag_tag(flags: &[&str]) -> String {
    flags
        .iter()
        .map(|f| f.trim_start_matches('-').replace(['=', '/'], "_"))
        .collect::<Vec<_>>()
        .join("_")
}

/// Compiles `fixtures/<source>` into `<target>/e2e-fixtures/<output>`, with
/// `link_args` after the source file.
fn build_fixture_with(
    source: &str,
    compiler: &str,
    flags: &[&str],
    link_args: &[&str],
    output: &str,
) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(source);
    let dir = target_dir().join("e2e-fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(output);
    // Extra source files among the link arguments count too.
    let inputs = std::iter::once(src.clone())
        .chain(link_args.iter().map(PathBuf::from).filter(|p| p.is_file()));
    let fresh = inputs.into_iter().all(|input| {
        match (std::fs::metadata(&out), std::fs::metadata(&input)) {
            (Ok(o), Ok(s)) => o.modified().unwrap() >= s.modified().unwrap(),
            _ => false,
        }
    });
    if !fresh {
        let status = Command::new(compiler)
            .args(flags)
            .arg("-o")
            .arg(&out)
            .arg(&src)
            .args(link_args)
            .status()
            .unwrap_or_else(|e| panic!("{compiler} could not run: {e}"));
        assert!(status.success(), "{compiler} {flags:?} {source} failed");
    }
    out
}

/// Compiles several fixture sources (`fixtures/<name>.c`) into one
/// program, cached per flag set; the first name names the output.
pub fn build_fixture_sources(names: &[&str], compiler: &str, flags: &[&str]) -> PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let others: Vec<String> = names[1..]
        .iter()
        .map(|n| fixtures.join(format!("{n}.c")).display().to_string())
        .collect();
    let others: Vec<&str> = others.iter().map(String::as_str).collect();
    let tag = flag_tag(flags);
    build_fixture_with(
        &format!("{}.c", names[0]),
        compiler,
        flags,
        &others,
        &format!("{}_{compiler}_{tag}", names.join("+")),
    )
}

/// Builds `libcodec.so` and `codec_app` (which links it, with an rpath to
/// its directory); returns the app.
pub fn build_codec_app(flags: &[&str]) -> PathBuf {
    build_app_with_library("codec_app", "libcodec", flags)
}

/// The shared library [`build_app_with_library`] built for `flags`.
pub fn built_library(lib: &str, flags: &[&str]) -> PathBuf {
    target_dir()
        .join("e2e-fixtures")
        .join(format!("{lib}_{}.so", flag_tag(flags)))
}

/// Builds `fixtures/<lib>.c` as a shared library and `fixtures/<app>.c`
/// linked against it (and pthreads, with an rpath to the library's
/// directory), both with `flags`; returns the app.
pub fn build_app_with_library(app: &str, lib: &str, flags: &[&str]) -> PathBuf {
    let tag = flag_tag(flags);
    let lib_file = format!("{lib}_{tag}.so");
    let lib_path = build_fixture_with(
        &format!("{lib}.c"),
        "gcc",
        flags,
        &["-shared", "-fPIC"],
        &lib_file,
    );
    let dir = lib_path.parent().unwrap().to_path_buf();
    let rpath = format!("-Wl,-rpath,{}", dir.display());
    let link_dir = format!("-L{}", dir.display());
    let link_lib = format!("-l:{lib_file}");
    build_fixture_with(
        &format!("{app}.c"),
        "gcc",
        flags,
        &[&link_dir, &rpath, "-lpthread", &link_lib],
        &format!("{app}_{tag}"),
    )
}

/// Builds `libbtchain<flags>.so` and `btchain<flags>` (which links it, with
/// an rpath to its directory); returns the app.
pub fn build_btchain_app(flags: &[&str]) -> PathBuf {
    build_app_with_library("btchain", "libbtchain", flags)
}

/// A running fixture process, killed when dropped.
pub struct Fixture {
    child: Child,
    /// The executable.
    pub path: PathBuf,
    /// Where its stdout goes, when it is kept.
    log: Option<PathBuf>,
}

impl Fixture {
    /// Starts a built fixture; its output is discarded.
    pub fn start(path: &Path) -> Fixture {
        Fixture::spawn(path, None)
    }

    /// Starts a built fixture whose stdout is kept in a file, for tests that
    /// compare what the fixture says about itself with what ghostscope read.
    pub fn start_logged(path: &Path) -> Fixture {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = target_dir().join("e2e-fixtures").join("logs");
        std::fs::create_dir_all(&dir).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let log = dir.join(format!("{name}.{}.{n}.out", std::process::id()));
        Fixture::spawn(path, Some(log))
    }

    /// Starts a built fixture and keeps the lines it prints, so a test can
    /// compare what ghostscope read with what the program computed.
    pub fn start_capturing(path: &Path) -> Fixture {
        Fixture::start_logged(path)
    }

    /// The lines the fixture printed so far (`start_logged`/`start_capturing` only).
    pub fn output_lines(&self) -> Vec<String> {
        self.output().lines().map(str::to_string).collect()
    }

    /// Waits until the fixture printed `line`, or `timeout` passed.
    pub fn printed(&self, line: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.output_lines().iter().any(|l| l == line) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything the fixture wrote to stdout so far (`start_logged` only).
    pub fn output(&self) -> String {
        let log = self
            .log
            .as_ref()
            .expect("fixture started with start_logged");
        std::fs::read_to_string(log).unwrap_or_default()
    }

    fn spawn(path: &Path, log: Option<PathBuf>) -> Fixture {
        // A file just written can be "busy" for a moment: a child forked by
        // another test thread may still hold the writer's descriptor until
        // it calls exec.
        let mut attempts = 0;
        let child = loop {
            let stdout = match &log {
                Some(file) => Stdio::from(std::fs::File::create(file).expect("fixture log")),
                None => Stdio::null(),
            };
            match Command::new(path)
                .stdout(stdout)
                .stderr(Stdio::null())
                .spawn()
            {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempts < 50 => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other.expect("fixture starts"),
            }
        };
        // Let the dynamic loader map everything before ghostscope reads /proc/PID/maps.
        std::thread::sleep(Duration::from_millis(100));
        Fixture {
            child,
            path: path.to_path_buf(),
            log,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running (it must survive tracing).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the process and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.kill();
        if let Some(log) = &self.log {
            let _ = std::fs::remove_file(log);
        }
    }
}

/// What one ghostscope run printed.
#[derive(Debug)]
pub struct Run {
    /// stdout lines.
    pub stdout: Vec<String>,
    /// stderr text.
    pub stderr: String,
    /// Exit status.
    pub status: ExitStatus,
}

impl Run {
    /// The exit code (panics if killed by a signal).
    pub fn code(&self) -> i32 {
        self.status.code().expect("ghostscope exited normally")
    }

    /// stdout as one string.
    pub fn out(&self) -> String {
        self.stdout.join("\n")
    }

    /// Lines of stdout without the ready marker.
    pub fn events(&self) -> Vec<&str> {
        self.stdout
            .iter()
            .map(String::as_str)
            .filter(|l| *l != READY)
            .collect()
    }
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            status: out.status,
        }
    }
}

/// Runs ghostscope to completion (for commands that exit by themselves).
pub fn ghostscope(args: &[&str]) -> Run {
    let out = Command::new(ghostscope_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ghostscope runs");
    Run::from(out)
}

/// A ghostscope that is tracing; stopped with a signal.
pub struct Tracer {
    child: Child,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Tracer {
    /// Starts ghostscope with `args` plus the ready marker and waits for the
    /// marker. Panics with ghostscope's stderr if it exits first.
    pub fn start(args: &[&str]) -> Tracer {
        let mut child = Command::new(ghostscope_bin())
            .args(args)
            .args(["--emit-ready-marker", READY])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ghostscope starts");
        let (tx, rx) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let mut t = Tracer {
            child,
            lines: rx,
            stdout: Vec::new(),
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match t
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) if l == READY => {
                    t.stdout.push(l);
                    return t;
                }
                Ok(l) => t.stdout.push(l),
                Err(_) => {
                    let run = t.stop();
                    panic!(
                        "ghostscope never became ready (exit {:?})\nstdout:\n{}\nstderr:\n{}",
                        run.status,
                        run.out(),
                        run.stderr
                    );
                }
            }
        }
    }

    /// Collects stdout until `count` lines matching `pred` arrived or `timeout` passed.
    pub fn wait_for(
        &mut self,
        count: usize,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> usize {
        let deadline = Instant::now() + timeout;
        let mut seen = self.stdout.iter().filter(|l| pred(l)).count();
        while seen < count {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) => {
                    if pred(&l) {
                        seen += 1;
                    }
                    self.stdout.push(l);
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        seen
    }

    /// Collects stdout until `done` holds for all lines so far or `timeout`
    /// passed; returns whether it held.
    pub fn wait_until(&mut self, timeout: Duration, done: impl Fn(&[String]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while !done(&self.stdout) {
            if Instant::now() >= deadline {
                return false;
            }
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) => self.stdout.push(l),
                Err(_) => return false,
            }
        }
        true
    }

    /// The ghostscope process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// stdout lines collected so far (the ready marker included).
    pub fn lines(&self) -> &[String] {
        &self.stdout
    }

    /// Sends a signal and collects everything until exit.
    pub fn signal(self, sig: i32) -> Run {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
        self.finish()
    }

    /// Stops with SIGINT.
    pub fn stop(self) -> Run {
        self.signal(libc::SIGINT)
    }

    fn finish(mut self) -> Run {
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break self.child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.stdout.push(l);
        }
        Run {
            stdout: self.stdout,
            stderr: self.stderr.join().unwrap_or_default(),
            status,
        }
    }
}

/// Runs ghostscope until it exits by itself (`--max-events`), with a safety timeout.
pub fn trace_events(pid: u32, script: &str, events: u64, extra: &[&str]) -> Run {
    let pid = pid.to_string();
    let max = events.to_string();
    let mut args = vec![
        "-p",
        &pid,
        "-s",
        script,
        "--max-events",
        &max,
        "--script-timestamp",
        "none",
    ];
    args.extend_from_slice(extra);
    let mut t = Tracer::start(&args);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = t.child.try_wait() {
            let mut run = t.finish_with(status);
            run.stdout.retain(|l| l != READY);
            return run;
        }
        while let Ok(l) = t.lines.recv_timeout(Duration::from_millis(20)) {
            t.stdout.push(l);
        }
    }
    let run = t.stop();
    panic!(
        "ghostscope did not stop after {events} events\nstdout:\n{}\nstderr:\n{}",
        run.out(),
        run.stderr
    );
}

impl Tracer {
    fn finish_with(mut self, status: ExitStatus) -> Run {
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(300)) {
            self.stdout.push(l);
        }
        Run {
            stdout: self.stdout,
            stderr: self.stderr.join().unwrap_or_default(),
            status,
        }
    }
}

/// The runtime address of `symbol` in a running fixture (from `nm` and /proc/PID/maps).
pub fn runtime_address(pid: u32, exe: &Path, symbol: &str) -> u64 {
    let nm = Command::new("nm").arg(exe).output().expect("nm runs");
    let text = String::from_utf8_lossy(&nm.stdout);
    let vaddr = text
        .lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            let addr = f.next()?;
            let _kind = f.next()?;
            (f.next()? == symbol)
                .then(|| u64::from_str_radix(addr, 16).ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("{symbol} not in nm output"));
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let exe = std::fs::canonicalize(exe).unwrap();
    let first = maps
        .lines()
        .find(|l| l.ends_with(&*exe.to_string_lossy()))
        .expect("fixture mapped");
    let start = u64::from_str_radix(first.split('-').next().unwrap(), 16).unwrap();
    let pie = is_pie(&exe);
    if pie {
        start + vaddr
    } else {
        vaddr
    }
}

fn is_pie(exe: &Path) -> bool {
    let bytes = std::fs::read(exe).unwrap();
    // e_type at offset 16: 3 = ET_DYN.
    u16::from_le_bytes([bytes[16], bytes[17]]) == 3
}

/// One byte of a process's memory, read through /proc/PID/mem. A uprobe
/// shows as 0xcc (int3) at the probed instruction while it is attached.
pub fn read_process_byte(pid: u32, addr: u64) -> u8 {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, addr).unwrap();
    b[0]
}

/// Runs `f` as the unprivileged user `nobody` (for the privilege test).
pub fn run_as_nobody(args: &[&str]) -> Run {
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(ghostscope_bin())
        .args(args)
        .output()
        .expect("setpriv runs");
    Run::from(out)
}

/// Replaces every `0x<hex>` with `0xADDR`, for lines with run-dependent addresses.
pub fn mask_addresses(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("0x") {
        out.push_str(&rest[..i]);
        out.push_str("0xADDR");
        rest = rest[i + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
    }
    out.push_str(rest);
    out
}

/// Groups event lines by their header (pretty output): header → payload lines.
pub fn events_by_header(lines: &[String]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for l in lines {
        if let Some(payload) = l.strip_prefix("  ") {
            if let Some(last) = out.last_mut() {
                last.1.push(payload.to_string());
            }
        } else if l.starts_with("TraceID:") || l.starts_with('[') {
            out.push((l.clone(), Vec::new()));
        }
    }
    out
}
