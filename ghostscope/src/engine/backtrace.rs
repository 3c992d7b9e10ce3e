//! Backtraces: the unwind tables the BPF programs read, and the symbolizer
//! the drain's decoder uses for their frames.

use std::sync::Arc;

use ghostscope_dwarf::unwind::{UnwindTables, MAX_PAGES, PAGE_SIZE, ROWS_PER_PAGE};
use ghostscope_dwarf::{DebugSession, Symbolizer};
use ghostscope_loader::{TraceLoader, UnwindContents};
use ghostscope_protocol::backtrace::FrameSymbolizer;

/// Builds every module's unwind rows and loads them into the loader's
/// maps; returns their file descriptors (rows, index) for the compiler.
pub fn load_unwind_tables(
    loader: &mut TraceLoader,
    session: &DebugSession,
    max_rows: u32,
) -> Result<(i32, i32), String> {
    let started = std::time::Instant::now();
    let tables = UnwindTables::build(session, max_rows, &[session.primary_module()]);
    for &m in &tables.dropped {
        tracing::warn!(
            "backtraces: the unwind rows of {} do not fit in ebpf.backtrace_unwind_rows_max_entries = {max_rows}; its frames fall back to the frame pointer",
            session.module_path(m).display()
        );
    }
    let (pages, index) = tables.pages();
    let fds = loader
        .load_unwind_tables(UnwindContents {
            max_pages: max_rows.div_ceil(ROWS_PER_PAGE).clamp(1, MAX_PAGES),
            page_size: PAGE_SIZE,
            pages: &pages,
            index: &index,
        })
        .map_err(|e| format!("failed to load the unwind tables for bt: {e}"))?;
    tracing::info!(
        "backtraces: {} unwind rows for {} modules loaded in {:?}",
        tables.rows.len(),
        session.modules().len(),
        started.elapsed()
    );
    Ok(fds)
}

/// The symbolizer for frames of `session`'s modules.
pub fn symbolizer(session: &DebugSession) -> Arc<dyn FrameSymbolizer> {
    Arc::new(Symbolizer::new(session))
}
