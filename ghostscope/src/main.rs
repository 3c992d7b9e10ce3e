//! ghostscope: printf debugging for live processes, without stopping them.

mod bpffs;
mod cli;
mod compile_report;
mod config;
mod dry_run;
mod load_report;
mod logging;
mod output;
mod script_mode;
mod startup;
mod status;
mod tui_mode;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use clap::Parser;

use cli::Cli;

const SCRIPT_HELP: &str = include_str!("script_help.txt");

fn main() -> ExitCode {
    install_panic_hook();
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            ghostscope_ui::restore_terminal();
            eprintln!("{}", error_report(&e));
            ExitCode::from(1)
        }
    }
}

fn run() -> Result<u8> {
    let args: Vec<String> = std::env::args().collect();
    if bpffs::is_prune(&args) {
        return bpffs::run(&args[3..]);
    }
    // --script-help needs no other argument, check or privilege.
    let before_launch = args.iter().take_while(|a| *a != "--");
    if before_launch.clone().any(|a| a == "--script-help") {
        print!("{SCRIPT_HELP}");
        return Ok(0);
    }
    let mut cli = Cli::parse();

    let config = match config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", e.report());
            return Ok(1);
        }
    };
    // Backtrace settings from the config file, unless the command line set them.
    let ebpf = &config.config.ebpf;
    cli.backtrace_depth
        .get_or_insert(ebpf.backtrace_depth.clamp(1, 128) as u8);
    cli.backtrace_unwind_rows_max = Some(ebpf.backtrace_unwind_rows_max_entries);
    // Event transport settings; the flag or the config key picks perf buffers.
    cli.ringbuf_size = Some(ebpf.ringbuf_size as u32);
    cli.perf_page_count = Some(ebpf.perf_page_count);
    cli.force_perf_event_array |= ebpf.force_perf_event_array;
    // Script settings from the config file, unless the command line set them.
    let script_cfg = &config.config.script;
    cli.script_output.get_or_insert(match script_cfg.output {
        config::OutputFormat::Pretty => cli::ScriptOutput::Pretty,
        config::OutputFormat::Plain => cli::ScriptOutput::Plain,
        config::OutputFormat::Json => cli::ScriptOutput::Json,
    });
    cli.script_timestamp
        .get_or_insert(match script_cfg.timestamp {
            config::Timestamp::Local => cli::ScriptTimestamp::Local,
            config::Timestamp::Boot => cli::ScriptTimestamp::Boot,
            config::Timestamp::None => cli::ScriptTimestamp::None,
        });
    cli.events_per_sec
        .get_or_insert(script_cfg.output_events_per_sec);
    cli.color = script_cfg.color;
    let has_script = cli.script.is_some() || cli.script_file.is_some();
    let tui = !cli.dry_run && (cli.tui || !has_script);
    let log = logging::LogSettings::resolve(&cli, &config.config.general, tui);
    if let Err(e) = logging::init(&log) {
        eprintln!("Failed to initialize logging: {e}");
        return Ok(1);
    }
    if let Some(path) = &config.path {
        tracing::info!("configuration loaded from {}", path.display());
    }
    if let Err(message) = startup::check_privileges() {
        eprintln!("{message}");
        return Ok(1);
    }
    if let Some(pid) = cli.pid {
        startup::check_process(pid)?;
    }
    let target = cli.target.as_deref().map(startup::resolve_target_path);
    startup::validate_arguments(&cli, target.as_deref())?;
    if cli.launch_program().is_some() {
        if cli.pid.is_some() {
            bail!("--pid cannot be combined with a program to launch");
        }
        bail!("launching a program (ghostscope -- PROGRAM) is not supported yet; start the program first and use -p PID");
    }
    // cli.md §2: --dry-run, then --tui, then a script, else the TUI.
    if tui {
        return tui_mode::run(&cli, &config.config, target);
    }

    let session = script_mode::load_session(&cli, target.as_deref())?;
    let script = startup::read_script(&cli)?;
    if cli.dry_run {
        return dry_run(&cli, &session, &script);
    }
    let code = script_mode::run(&cli, session, &script)?;
    Ok(code as u8)
}

fn dry_run(cli: &Cli, session: &ghostscope_dwarf::DebugSession, script: &str) -> Result<u8> {
    let options = script_mode::compile_options(cli, false);
    let status = status::Status::for_cli(cli);
    status.compiling(true);
    // Programs are generated but never loaded, so the map descriptors are placeholders.
    let out = script_mode::compile(script, session, Default::default(), &options)?;
    status.dry_run_complete();
    let main = session.module_path(session.primary_module());
    let primary = match cli.pid {
        Some(pid) => format!("pid={pid} binary={}", main.display()),
        None => format!("target={}", main.display()),
    };
    let plan = dry_run::render_plan(session, script, &out, &primary, cli.dry_run_details);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(plan.as_bytes())
        .and_then(|_| stdout.flush())
        .map_err(|e| anyhow!("failed to write the plan: {e}"))?;
    Ok(0)
}

/// `Error: <message>`, then its causes under `Caused by:` (cli.md §12),
/// without the stack trace anyhow adds when RUST_BACKTRACE is set.
fn error_report(e: &anyhow::Error) -> String {
    let mut s = format!("Error: {e}");
    let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
    match causes.len() {
        0 => {}
        1 => s.push_str(&format!("\n\nCaused by:\n    {}", causes[0])),
        _ => {
            s.push_str("\n\nCaused by:");
            for (i, c) in causes.iter().enumerate() {
                s.push_str(&format!("\n    {i}: {c}"));
            }
        }
    }
    s
}

/// Panics print a recognisable block and exit 101 (cli.md §14).
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        // The block must be readable: leave the TUI's screen first.
        ghostscope_ui::restore_terminal();
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_else(|| "unknown".to_string());
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let backtrace = std::backtrace::Backtrace::force_capture();
        eprintln!(
            "=== GHOSTSCOPE PANIC ===\nLocation: {location}\nMessage: {message}\nBacktrace:\n{backtrace}\nTerminal state has been restored. You can now see this panic message."
        );
        // _exit: LLVM's static destructors must not run on a half-torn-down process.
        // SAFETY: _exit has no preconditions.
        unsafe { libc::_exit(101) };
    }));
}
