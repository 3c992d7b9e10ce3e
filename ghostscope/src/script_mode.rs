//! Script mode: load debug info, compile, attach, print events until told
//! to stop, detach.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use ghostscope_compiler::{
    compile_script, BpfCodegen, CompileOptions, CompileOutput, CompiledTrace, MapFds,
};
use ghostscope_dwarf::DebugSession;
use ghostscope_loader::{EventStream, TraceLoader};
use ghostscope_protocol::EventDecoder;
use tokio::signal::unix::{signal, SignalKind};

use crate::cli::{Cli, ScriptOutput, ScriptTimestamp};
use crate::compile_report::{parse_error_message, total_failure_message};
use crate::output::EventFormat;

/// Ring buffer size (config `ebpf.ringbuf_size`).
const RINGBUF_SIZE: u32 = 262144;
/// How often the reader looks at the ring buffer when no wake-up came.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Why the event loop ended.
enum StopReason {
    Signal,
    MaxEvents,
    Duration,
}

/// Loads the debug session for the command line's target.
pub fn load_session(cli: &Cli, target: Option<&Path>) -> Result<DebugSession> {
    let session = match (cli.pid, target) {
        (Some(pid), t) => DebugSession::for_process(pid, t),
        (None, Some(t)) => DebugSession::for_file(t),
        (None, None) => unreachable!("validated earlier"),
    }
    .map_err(|e| anyhow!("Failed to create debug session: {e}"))?;
    if session.modules().is_empty() {
        let pid = cli.pid.unwrap_or(0);
        return Err(anyhow!(
            "Process analysis failed! Cannot proceed without process information. Possible solutions: 1. Check that PID {pid} exists: ps -p {pid}, 2. Check process permissions, 3. Run with sudo if needed for /proc access"
        ));
    }
    if !session.has_any_debug_info() {
        let main = session.module_path(session.primary_module());
        return Err(anyhow!(
            "No debug information found in any module! {} has no DWARF (.debug_info): rebuild it with -g, or pass its separate debug file with --debug-file",
            main.display()
        ));
    }
    Ok(session)
}

/// Compile options from the command line.
pub fn compile_options(cli: &Cli, keep_ir: bool) -> CompileOptions {
    CompileOptions {
        pid_filter: cli.pid,
        input_pid: cli.pid,
        ringbuf_size: RINGBUF_SIZE,
        keep_llvm_ir: keep_ir,
        backtrace_depth: cli.backtrace_depth.unwrap_or(128),
        ..CompileOptions::default()
    }
}

/// Compiles the script; a total failure becomes the §13.2 error.
pub fn compile(
    script: &str,
    session: &DebugSession,
    maps: MapFds,
    options: &CompileOptions,
) -> Result<CompileOutput> {
    let codegen = BpfCodegen::new().map_err(|e| anyhow!(e))?;
    let out = compile_script(script, session, &codegen, maps, options, 0)
        .map_err(|e| anyhow!(parse_error_message(&e)))?;
    if let Some(message) = total_failure_message(&out) {
        return Err(anyhow!(message));
    }
    Ok(out)
}

/// Whether debug-build defaults turn an artifact on, overridden by flags.
fn artifact_enabled(on: bool, off: bool) -> bool {
    if off {
        false
    } else {
        on || cfg!(debug_assertions)
    }
}

fn save_artifacts(cli: &Cli, session: &DebugSession, traces: &[CompiledTrace]) -> Result<()> {
    let save_ir = artifact_enabled(cli.save_llvm_ir, cli.no_save_llvm_ir);
    let save_obj = artifact_enabled(cli.save_ebpf, cli.no_save_ebpf);
    if !save_ir && !save_obj {
        return Ok(());
    }
    let exec = session
        .module_path(session.primary_module())
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    for (index, t) in traces.iter().enumerate() {
        let func = t
            .site
            .function_name
            .clone()
            .unwrap_or_else(|| t.target.replace([':', '/', '.'], "_"));
        let base = format!("gs_{}_{exec}_{func}_{index}", cli.pid.unwrap_or(0));
        if save_ir {
            if let Some(ir) = &t.llvm_ir {
                std::fs::write(format!("{base}.ll"), ir)
                    .with_context(|| format!("failed to write {base}.ll"))?;
            }
        }
        if save_obj {
            std::fs::write(format!("{base}.ebpf"), &t.object)
                .with_context(|| format!("failed to write {base}.ebpf"))?;
        }
    }
    Ok(())
}

/// Runs script mode to the end; returns the process exit code.
pub fn run(cli: &Cli, session: DebugSession, script: &str) -> Result<i32> {
    let status_lines = !cli.no_status && io::stderr().is_terminal();
    let mut loader = TraceLoader::new(RINGBUF_SIZE).map_err(|e| anyhow!(e))?;
    let mut maps = MapFds {
        events: loader.events_fd(),
        losses: loader.losses_fd(),
        ..MapFds::default()
    };
    let mut decoder = EventDecoder::new();
    let uses_bt = ghostscope_compiler::parse_script(script)
        .map(|s| ghostscope_compiler::uses_backtrace(&s))
        .unwrap_or(false);
    if uses_bt {
        let max_rows = cli.backtrace_unwind_rows_max.unwrap_or(65_536);
        (maps.unwind_rows, maps.unwind_index) =
            crate::backtrace::load_unwind_tables(&mut loader, &session, max_rows)?;
        decoder.set_symbolizer(crate::backtrace::symbolizer(&session));
    }
    let keep_ir = artifact_enabled(cli.save_llvm_ir, cli.no_save_llvm_ir);
    let options = compile_options(cli, keep_ir);
    if status_lines {
        eprintln!("\x1b[1;33mCompiling script...\x1b[0m");
    }
    let compiled = compile(script, &session, maps, &options)?;
    save_artifacts(cli, &session, &compiled.traces)?;
    if status_lines {
        for f in &compiled.failures {
            eprintln!(
                "ghostscope: warning: trace {} at 0x{:x} was not attached: {}",
                f.target, f.pc, f.message
            );
        }
    }

    let mut targets = HashMap::new();
    for t in &compiled.traces {
        let path: PathBuf = session.module_path(t.site.module);
        loader
            .attach(
                t.trace_id,
                &t.object,
                &t.program_name,
                &path,
                t.site.file_offset,
                cli.pid,
            )
            .map_err(|e| {
                anyhow::Error::new(e).context(format!(
                    "Failed to attach uprobe for trace_id {}",
                    t.trace_id
                ))
            })?;
        decoder.add_trace(t.meta.clone());
        targets.insert(t.trace_id, t.target.clone());
    }
    if loader.attached().is_empty() {
        return Err(anyhow!("No uprobes were successfully attached"));
    }
    // Release the DWARF before the long wait; nothing needs it any more.
    drop(session);

    let mut stdout = io::stdout().lock();
    if let Some(marker) = &cli.ready_marker {
        writeln!(stdout, "{marker}")
            .and_then(|_| stdout.flush())
            .map_err(|e| anyhow!("failed to emit ready marker: {e}"))?;
    }
    if status_lines {
        eprintln!(
            "\x1b[32mAttached\x1b[0m \x1b[1m{} trace(s). Waiting for events...\x1b[0m",
            loader.attached().len()
        );
    }
    let color = cli.script_output != Some(ScriptOutput::Plain) && io::stdout().is_terminal();
    decoder.set_backtrace_color(color);
    let format = EventFormat::new(
        cli.script_output.unwrap_or(ScriptOutput::Pretty),
        cli.script_timestamp.unwrap_or(ScriptTimestamp::Local),
        color,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the event loop")?;
    let stream = {
        let _in_runtime = runtime.enter();
        loader.take_event_stream().map_err(|e| anyhow!(e))?
    };
    let mut pump = EventPump {
        decoder,
        format,
        targets,
        limit: cli.events_per_sec.unwrap_or(10_000),
        max_events: cli.max_events,
        written: 0,
        window_start: Instant::now(),
        window_count: 0,
        suppressed_window: 0,
        suppressed_total: 0,
        losses_seen: HashMap::new(),
    };
    let deadline = cli
        .duration
        .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    runtime.block_on(pump.run(stream, &mut loader, &mut stdout, deadline))?;
    Ok(0)
}

/// Events decoded per batch before signals and timers are looked at again.
const BATCH: usize = 4096;
/// Longest time spent writing the events left in the buffer at exit.
const FINAL_DRAIN: Duration = Duration::from_secs(1);

/// What one batch did.
struct Pumped {
    drained: usize,
    max_reached: bool,
}

/// Moves events from the ring buffer to stdout.
struct EventPump {
    decoder: EventDecoder,
    format: EventFormat,
    targets: HashMap<u32, String>,
    limit: u64,
    max_events: Option<u64>,
    written: u64,
    window_start: Instant,
    window_count: u64,
    suppressed_window: u64,
    suppressed_total: u64,
    losses_seen: HashMap<u32, u64>,
}

impl EventPump {
    async fn run(
        &mut self,
        mut stream: EventStream,
        loader: &mut TraceLoader,
        out: &mut impl Write,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<StopReason> {
        let mut sigint =
            signal(SignalKind::interrupt()).context("failed to install the SIGINT handler")?;
        let mut sigterm =
            signal(SignalKind::terminate()).context("failed to install the SIGTERM handler")?;
        let mut report = tokio::time::interval(Duration::from_secs(1));
        let expired = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(expired);
        // After a full batch more events are waiting: look again at once.
        let mut backlog = false;
        let reason = loop {
            let poll = if backlog {
                Duration::ZERO
            } else {
                POLL_INTERVAL
            };
            tokio::select! {
                biased;
                _ = sigint.recv() => break StopReason::Signal,
                _ = sigterm.recv() => break StopReason::Signal,
                _ = &mut expired => break StopReason::Duration,
                _ = report.tick() => {
                    self.report_losses(loader);
                    self.report_suppressed();
                }
                r = stream.wait(poll) => r.map_err(|e| anyhow!(e))?,
            }
            match self.pump(&mut stream, out) {
                Ok(p) if p.max_reached => break StopReason::MaxEvents,
                Ok(p) => backlog = p.drained == BATCH,
                // The reader of our stdout went away: nothing left to do.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => break StopReason::Signal,
                Err(e) => return Err(anyhow!("failed to write events: {e}")),
            }
        };
        // Detach first (cli.md §13), so the events left in the buffer are
        // a finite amount; then write them, for at most a second.
        self.report_losses(loader);
        loader.detach_all();
        if !matches!(reason, StopReason::MaxEvents) {
            let until = Instant::now() + FINAL_DRAIN;
            while Instant::now() < until {
                match self.pump(&mut stream, out) {
                    Ok(p) if p.drained == BATCH && !p.max_reached => continue,
                    _ => break,
                }
            }
        }
        self.report_suppressed();
        Ok(reason)
    }

    /// Drains one batch, decodes and writes it.
    fn pump(&mut self, stream: &mut EventStream, out: &mut impl Write) -> io::Result<Pumped> {
        let mut result = Ok(false);
        let drained = stream.drain(BATCH, |bytes| {
            if !matches!(result, Ok(false)) {
                return;
            }
            let Ok(event) = self.decoder.decode(bytes) else {
                return;
            };
            if event.lines.is_empty() {
                return;
            }
            if self.limit > 0 {
                if self.window_start.elapsed() >= Duration::from_secs(1) {
                    self.window_start = Instant::now();
                    self.window_count = 0;
                }
                if self.window_count >= self.limit {
                    self.suppressed_window += 1;
                    self.suppressed_total += 1;
                    return;
                }
                self.window_count += 1;
            }
            if let Err(e) = self.format.write_event(out, &event) {
                result = Err(e);
                return;
            }
            self.written += 1;
            if self.max_events.is_some_and(|m| self.written >= m) {
                result = Ok(true);
            }
        });
        out.flush()?;
        Ok(Pumped {
            drained,
            max_reached: result?,
        })
    }

    fn report_losses(&mut self, loader: &TraceLoader) {
        for (trace_id, total) in loader.loss_counts() {
            let seen = self.losses_seen.entry(trace_id).or_insert(0);
            if total > *seen {
                let target = self
                    .targets
                    .get(&trace_id)
                    .map(String::as_str)
                    .unwrap_or("?");
                eprintln!(
                    "ghostscope: eBPF output helper failed: trace #{trace_id} ({target}) lost {} events in kernel before userspace delivery (total {total})",
                    total - *seen
                );
                *seen = total;
            }
        }
    }

    fn report_suppressed(&mut self) {
        if self.suppressed_window > 0 {
            eprintln!(
                "ghostscope: script output saturated: suppressed {} events in the last interval (total {}, limit {}/s); kernel buffers may also drop events",
                self.suppressed_window, self.suppressed_total, self.limit
            );
            self.suppressed_window = 0;
        }
    }
}
