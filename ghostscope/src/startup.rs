//! Startup checks in the order and with the words of cli.md §12.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use crate::cli::Cli;

const PRIVILEGE_MESSAGE: &str = "GhostScope needs elevated privileges to load eBPF programs.
Options:
  • Run with sudo: sudo ghostscope ...
  • Or grant capabilities:
    sudo setcap cap_bpf,cap_sys_ptrace,cap_sys_admin+ep $(command -v ghostscope)
Hint: verify that your kernel has CONFIG_BPF, CONFIG_BPF_SYSCALL, and CONFIG_UPROBE_EVENTS enabled.";

const CAP_SYS_PTRACE: u32 = 19;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_BPF: u32 = 39;

/// The privilege check: root, or CAP_SYS_ADMIN, or CAP_BPF with CAP_SYS_PTRACE.
/// On failure returns the exact message to print (without `Error:`).
pub fn check_privileges() -> Result<(), &'static str> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return Ok(());
    }
    let caps = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(0);
    let has = |cap: u32| caps & (1u64 << cap) != 0;
    if has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_SYS_PTRACE)) {
        Ok(())
    } else {
        Err(PRIVILEGE_MESSAGE)
    }
}

/// The message for a PID that does not exist here.
fn pid_not_running(pid: u32) -> anyhow::Error {
    anyhow!(
        "Process with PID {pid} is not running. Use 'ps -p {pid}' to verify the process exists.\nAdditional check: -p expects a PID visible in the current PID namespace."
    )
}

/// Checks that `/proc/PID` exists and its executable is an x86_64 ELF.
pub fn check_process(pid: u32) -> Result<()> {
    if !Path::new(&format!("/proc/{pid}")).exists() {
        return Err(pid_not_running(pid));
    }
    let exe = PathBuf::from(format!("/proc/{pid}/exe"));
    if let Err(e) = ghostscope_dwarf::ElfFile::open(&exe) {
        if matches!(e, ghostscope_dwarf::DwarfError::UnsupportedObject { .. }) {
            return Err(
                anyhow::Error::new(e).context(format!("target process {pid} is not supported"))
            );
        }
        // Kernel threads and vanished processes have no readable executable.
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return Err(pid_not_running(pid));
        }
        return Err(anyhow::Error::new(e).context(format!("target process {pid} is not supported")));
    }
    Ok(())
}

/// Resolves a `-t` path: the current directory, then next to the ghostscope
/// binary. The path is made absolute but keeps the name the user typed,
/// even when that is a symlink to the file.
pub fn resolve_target_path(path: &Path) -> PathBuf {
    if path.is_absolute() || path.exists() {
        return std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        let beside = dir.join(path);
        if beside.exists() {
            return beside;
        }
    }
    std::env::current_dir()
        .map(|d| d.join(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Argument validation (cli.md §12 step 8).
pub fn validate_arguments(cli: &Cli, target: Option<&Path>) -> Result<()> {
    if cli.pid.is_none() && target.is_none() && cli.launch_program().is_none() {
        bail!("No target specified. Please provide either --pid <PID> or --target <PATH>.");
    }
    if let Some(t) = target {
        if !t.exists() {
            bail!("Target file does not exist: {}", t.display());
        }
        if !t.is_file() {
            bail!("Target path is not a file: {}", t.display());
        }
        ghostscope_dwarf::ElfFile::open(t).map_err(anyhow::Error::new)?;
    }
    if let Some(pid) = cli.pid {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            bail!("Process with PID {pid} is not running. Use 'ps -p {pid}' to verify the process exists");
        }
    }
    if let Some(f) = &cli.script_file {
        if !f.exists() {
            bail!("Script file does not exist: {}", f.display());
        }
        if !f.is_file() {
            bail!("Script path is not a file: {}", f.display());
        }
    }
    if cli.dry_run && cli.script.is_none() && cli.script_file.is_none() {
        bail!("--dry-run requires --script or --script-file because there is no trace plan to resolve");
    }
    if let Some(d) = &cli.debug_file {
        if !d.exists() {
            bail!("Debug file does not exist: {}", d.display());
        }
    }
    Ok(())
}

/// The script text: `-s` wins over `--script-file`.
pub fn read_script(cli: &Cli) -> Result<String> {
    if let Some(s) = &cli.script {
        return Ok(s.clone());
    }
    let path = cli.script_file.as_ref().context("no script given")?;
    std::fs::read_to_string(path)
        .map_err(|e| anyhow!("Failed to read script file '{}': {e}", path.display()))
}
