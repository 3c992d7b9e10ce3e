//! Backtraces in script mode: the unwind tables the BPF programs read, and
//! the symbolizer the decoder uses for their frames.

use std::sync::Arc;

use anyhow::{anyhow, Result};
use ghostscope_dwarf::unwind::{UnwindTables, MAX_UNWIND_MODULES, MODULE_ENTRY_SIZE, ROW_SIZE};
use ghostscope_dwarf::{DebugSession, Symbolizer};
use ghostscope_loader::{TraceLoader, UnwindContents};
use ghostscope_protocol::backtrace::FrameSymbolizer;

/// Builds every module's unwind rows and loads them into the loader's
/// maps; returns their file descriptors (rows, modules) for the compiler.
pub fn load_unwind_tables(
    loader: &mut TraceLoader,
    session: &DebugSession,
    max_rows: u32,
) -> Result<(i32, i32)> {
    let started = std::time::Instant::now();
    let tables = UnwindTables::build(session, max_rows, &[session.primary_module()]);
    for &m in &tables.dropped {
        tracing::warn!(
            "backtraces: the unwind rows of {} do not fit in ebpf.backtrace_unwind_rows_max_entries = {max_rows}; its frames fall back to the frame pointer",
            session.module_path(m).display()
        );
    }
    let rows: Vec<u8> = tables.rows.iter().flat_map(|r| r.to_bytes()).collect();
    let modules: Vec<u8> = tables.modules.iter().flat_map(|m| m.to_bytes()).collect();
    let fds = loader
        .load_unwind_tables(UnwindContents {
            max_rows,
            row_size: ROW_SIZE,
            rows: &rows,
            max_modules: MAX_UNWIND_MODULES,
            module_size: MODULE_ENTRY_SIZE,
            modules: &modules,
        })
        .map_err(|e| anyhow!("failed to load the unwind tables for bt: {e}"))?;
    tracing::info!(
        "backtraces: {} unwind rows for {} modules loaded in {:?}",
        tables.rows.len(),
        tables.modules.len(),
        started.elapsed()
    );
    Ok(fds)
}

/// The symbolizer for frames of `session`'s modules.
pub fn symbolizer(session: &DebugSession) -> Arc<dyn FrameSymbolizer> {
    Arc::new(Symbolizer::new(session))
}
