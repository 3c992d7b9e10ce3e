//! Script mode: a thin client of the session engine. Load debug info,
//! compile the whole script in one call, attach, print events until told
//! to stop, detach.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use ghostscope::engine::{
    Engine, EngineOptions, EventSink, PumpEnd, DEFAULT_PERF_PAGES, RINGBUF_SIZE,
};
use ghostscope_compiler::{
    compile_script, BpfCodegen, CompileOptions, CompileOutput, CompiledTrace, MapFds,
};
use ghostscope_dwarf::{DebugLookup, DebugSession, LoadObserver, LoadOptions};
use ghostscope_loader::TransportConfig;
use ghostscope_protocol::render::json::push_str_field;
use ghostscope_protocol::DecodedEvent;
use tokio::signal::unix::{signal, SignalKind};

use crate::cli::{Cli, ScriptOutput, ScriptTimestamp};
use crate::compile_report::{parse_error_message, total_failure_message};
use crate::output::EventFormat;
use crate::status::{target_summary, Status};

/// Loads the debug session for the command line's target, with the startup
/// status lines (output.md §8.3).
pub fn load_session(cli: &Cli, target: Option<&Path>) -> Result<DebugSession> {
    let status = Status::for_cli(cli);
    // Only the shown report needs every module's counts; otherwise a module
    // is indexed when a lookup may find something in it.
    let options = LoadOptions {
        count_names: status.shown(),
        ..load_options(cli)
    };
    let session = status
        .load(&target_summary(cli, target), |observer| {
            open_session(cli, target, &options, observer)
        })
        .map_err(|e| anyhow!("Failed to create debug session: {e}"))?;
    check_session(cli, session)
}

/// The same load and checks as [`load_session`], without status lines,
/// reporting progress to `observer` instead (the TUI's loading screen).
pub fn load_session_reporting(
    cli: &Cli,
    target: Option<&Path>,
    observer: LoadObserver<'_>,
) -> Result<DebugSession> {
    let options = LoadOptions {
        count_names: true,
        ..load_options(cli)
    };
    let session = open_session(cli, target, &options, observer)
        .map_err(|e| anyhow!("Failed to create debug session: {e}"))?;
    check_session(cli, session)
}

fn open_session(
    cli: &Cli,
    target: Option<&Path>,
    options: &LoadOptions,
    observer: LoadObserver<'_>,
) -> Result<DebugSession, ghostscope_dwarf::DwarfError> {
    match (cli.pid, target) {
        (Some(pid), t) => DebugSession::load_process(pid, t, options, observer),
        (None, Some(t)) => DebugSession::load_file(t, options, observer),
        (None, None) => unreachable!("validated earlier"),
    }
}

/// A loaded session must have modules, and DWARF in one of them (cli.md §12).
fn check_session(cli: &Cli, session: DebugSession) -> Result<DebugSession> {
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

/// How debug info is found, from the command line. The search paths are
/// the `dwarf.search_paths` defaults until config files exist.
pub fn load_options(cli: &Cli) -> LoadOptions {
    LoadOptions {
        lookup: DebugLookup {
            allow_loose_match: cli.allow_loose_debug_match,
            ..DebugLookup::default()
        },
        explicit_debug_file: cli.debug_file.clone(),
        count_names: false,
    }
}

/// Compile options from the command line.
pub fn compile_options(cli: &Cli, keep_ir: bool) -> CompileOptions {
    CompileOptions {
        pid_filter: cli.pid,
        input_pid: cli.pid,
        ringbuf_size: cli.ringbuf_size.unwrap_or(RINGBUF_SIZE),
        keep_llvm_ir: keep_ir,
        backtrace_depth: cli.backtrace_depth.unwrap_or(128),
        ..CompileOptions::default()
    }
}

/// Bytes of event output gathered before a write(2).
const OUTPUT_BUFFER: usize = 1 << 20;

/// The event transport the command line and config ask for.
pub fn transport(cli: &Cli, compile: &CompileOptions) -> TransportConfig {
    if cli.force_perf_event_array {
        TransportConfig::PerfEventArray {
            pages_per_cpu: cli.perf_page_count.unwrap_or(DEFAULT_PERF_PAGES),
            max_event_size: compile.max_trace_event_size,
        }
    } else {
        TransportConfig::RingBuf {
            size: compile.ringbuf_size,
        }
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
    let status = Status::for_cli(cli);
    let keep_ir = artifact_enabled(cli.save_llvm_ir, cli.no_save_llvm_ir);
    let compile = compile_options(cli, keep_ir);
    let options = EngineOptions {
        pid: cli.pid,
        transport: transport(cli, &compile),
        compile,
        unwind_rows_max: cli
            .backtrace_unwind_rows_max
            .unwrap_or(ghostscope::engine::DEFAULT_UNWIND_ROWS),
    };
    let mut engine = Engine::new(Arc::new(session), options).map_err(|e| anyhow!(e))?;
    status.compiling(false);
    let compiled = engine
        .compile_script(script)
        .map_err(|e| anyhow!(parse_error_message(&e)))?;
    if let Some(message) = total_failure_message(&compiled) {
        return Err(anyhow!(message));
    }
    if let Some(session) = engine.session() {
        save_artifacts(cli, session, &compiled.traces)?;
    }
    for f in &compiled.failures {
        tracing::warn!(
            "trace {} at 0x{:x} was not attached: {}",
            f.target,
            f.pc,
            f.message
        );
        if status.shown() {
            eprintln!(
                "ghostscope: warning: trace {} at 0x{:x} was not attached: {}",
                f.target, f.pc, f.message
            );
        }
    }
    engine
        .attach_compiled(&compiled.traces)
        .map_err(anyhow::Error::new)?;
    if engine.attached_count() == 0 {
        return Err(anyhow!("No uprobes were successfully attached"));
    }
    // Release the DWARF before the long wait; nothing needs it any more.
    engine.release_debug_info();

    // Signals are handled from here on, before anyone is told we are ready.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the event loop")?;
    let (mut pump, mut sigint, mut sigterm) = {
        let _in_runtime = runtime.enter();
        (
            engine.take_event_pump().map_err(|e| anyhow!(e))?,
            signal(SignalKind::interrupt()).context("failed to install the SIGINT handler")?,
            signal(SignalKind::terminate()).context("failed to install the SIGTERM handler")?,
        )
    };
    let mut stdout = io::stdout().lock();
    let output = cli.script_output.unwrap_or(ScriptOutput::Pretty);
    let color = output == ScriptOutput::Pretty && cli.color_for(io::stdout().is_terminal());
    pump.set_json_items(output == ScriptOutput::Json);
    let json = output == ScriptOutput::Json;
    if json {
        writeln!(
            stdout,
            "{{\"type\":\"ready\",\"attached\":{}}}",
            engine.attached_count()
        )
        .and_then(|_| stdout.flush())
        .map_err(|e| anyhow!("failed to write the ready record: {e}"))?;
    }
    pump.set_backtrace_color(color);
    if let Some(marker) = &cli.ready_marker {
        writeln!(stdout, "{marker}")
            .and_then(|_| stdout.flush())
            .map_err(|e| anyhow!("failed to emit ready marker: {e}"))?;
    }
    status.attached(engine.attached_count());
    let mut sink = ScriptSink {
        format: EventFormat::new(
            output,
            cli.script_timestamp.unwrap_or(ScriptTimestamp::Local),
            color,
        ),
        // Events are written in batches, flushed at the end of each
        // (`end_batch`): a line-buffered stdout would cost a write(2) per line.
        out: io::BufWriter::with_capacity(OUTPUT_BUFFER, stdout),
        limit: cli.events_per_sec.unwrap_or(10_000),
        max_events: cli.max_events,
        written: 0,
        window_start: Instant::now(),
        window_count: 0,
        suppressed_window: 0,
        suppressed_total: 0,
        json,
        stopped_by_max: false,
    };
    let duration = cli.duration.map(Duration::from_secs);
    // Runs until SIGINT, SIGTERM, --duration, --max-events or a closed stdout.
    let stop = async move {
        let expired = async {
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = sigint.recv() => "signal",
            _ = sigterm.recv() => "signal",
            _ = expired => "duration",
        }
    };
    let end = runtime
        .block_on(pump.run(&mut sink, stop, || engine.unload_all()))
        .map_err(|e| anyhow!(e))?;
    if sink.json {
        let reason = match end {
            PumpEnd::Stopped(reason) => reason,
            PumpEnd::SinkDone if sink.stopped_by_max => "max_events",
            PumpEnd::SinkDone | PumpEnd::SinkClosed => "program_exit",
        };
        // A closed stdout cannot take the record; nothing to report then.
        let _ = writeln!(
            sink.out,
            "{{\"type\":\"exit\",\"reason\":\"{reason}\",\"code\":0}}"
        )
        .and_then(|_| sink.out.flush());
    }
    Ok(0)
}

/// Writes events to stdout, within the `--script-output-events-per-sec`
/// budget, up to `--max-events`.
struct ScriptSink<W: Write> {
    format: EventFormat,
    out: W,
    limit: u64,
    max_events: Option<u64>,
    written: u64,
    window_start: Instant,
    window_count: u64,
    suppressed_window: u64,
    suppressed_total: u64,
    /// Also write loss, suppressed and exit records (output.md §7.4).
    json: bool,
    /// `--max-events` ended the run.
    stopped_by_max: bool,
}

impl<W: Write> EventSink for ScriptSink<W> {
    fn event(&mut self, event: DecodedEvent) -> io::Result<bool> {
        // Events that print nothing do not count against the limit.
        if event.lines.is_empty() {
            return Ok(true);
        }
        if self.limit > 0 {
            if self.window_start.elapsed() >= Duration::from_secs(1) {
                self.window_start = Instant::now();
                self.window_count = 0;
            }
            if self.window_count >= self.limit {
                self.suppressed_window += 1;
                self.suppressed_total += 1;
                return Ok(true);
            }
            self.window_count += 1;
        }
        self.format.write_event(&mut self.out, &event)?;
        self.written += 1;
        let more = self.max_events.is_none_or(|m| self.written < m);
        self.stopped_by_max = !more;
        Ok(more)
    }

    fn end_batch(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn losses(&mut self, trace_id: u32, target: &str, new: u64, total: u64) {
        eprintln!(
            "ghostscope: eBPF output helper failed: trace #{trace_id} ({target}) lost {new} events in kernel before userspace delivery (total {total})"
        );
        if self.json {
            let mut line = format!("{{\"type\":\"loss\",\"trace_id\":{trace_id}");
            push_str_field(&mut line, "target", target);
            let _ = writeln!(self.out, "{line},\"lost\":{new},\"total\":{total}}}");
        }
    }

    fn every_second(&mut self) {
        if self.suppressed_window > 0 {
            eprintln!(
                "ghostscope: script output saturated: suppressed {} events in the last interval (total {}, limit {}/s); kernel buffers may also drop events",
                self.suppressed_window, self.suppressed_total, self.limit
            );
            if self.json {
                let _ = writeln!(
                    self.out,
                    "{{\"type\":\"suppressed\",\"count\":{},\"total\":{},\"limit\":{}}}",
                    self.suppressed_window, self.suppressed_total, self.limit
                );
            }
            self.suppressed_window = 0;
        }
    }
}
