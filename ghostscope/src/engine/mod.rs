//! The session engine: one long-lived object that owns the debug index,
//! the code generator and the BPF loader, and compiles, loads and attaches
//! traces one at a time while it runs. Script mode drives it directly
//! ([`Engine`] and [`pump::EventPump`] on one thread); the TUI drives it
//! through [`server`], which runs it on its own threads and speaks the
//! messages of [`ghostscope_protocol::session`].
//!
//! ```text
//! requests ─▶ control thread (Engine: compile, load, attach, detach)
//!                   │ registry (TraceMeta before attach)
//!                   ▼
//! ring buffer ─▶ drain thread (EventPump ─▶ sink) ─▶ bounded outlet ─▶ front end
//! ```

mod add_trace;
mod backtrace;
mod loading;
pub mod outlet;
pub mod pump;
pub mod queries;
pub mod server;
mod sink;
pub mod traces;

use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;

use ghostscope_compiler::{
    compile_script, BpfCodegen, CompileOptions, CompileOutput, CompiledTrace, EventTransport,
    MapFds, ParseError,
};
use ghostscope_dwarf::{DebugSession, ProbeSite, SiteKind};
use ghostscope_loader::{LoaderError, TraceLoader, TransportConfig};
use ghostscope_protocol::session::{SourcePosition, TraceInfo, TraceSelector, TraceState};
use thiserror::Error;

pub use add_trace::parse_error_text;
pub use loading::LoadTarget;
pub use pump::{EventPump, EventSink, PumpEnd, PumpError};
use pump::{RegistryChange, RegistrySender};
pub use sink::FrontEndSink;
use traces::SharedTraces;

/// Default ring buffer size (config `ebpf.ringbuf_size`).
pub const RINGBUF_SIZE: u32 = 262144;
/// Default pages per CPU of the perf transport (config `ebpf.perf_page_count`).
pub const DEFAULT_PERF_PAGES: u32 = 64;

/// How an engine compiles and attaches.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The `-p` process: uprobes fire only in it.
    pub pid: Option<u32>,
    /// How events reach user space.
    pub transport: TransportConfig,
    /// Settings of the generated programs.
    pub compile: CompileOptions,
    /// Most unwind rows loaded for `bt` (`ebpf.backtrace_unwind_rows_max_entries`).
    pub unwind_rows_max: u32,
}

impl EngineOptions {
    /// Default program settings, filtered to `pid` when given.
    pub fn new(pid: Option<u32>) -> EngineOptions {
        EngineOptions {
            pid,
            transport: TransportConfig::RingBuf { size: RINGBUF_SIZE },
            compile: CompileOptions {
                pid_filter: pid,
                input_pid: pid,
                ringbuf_size: RINGBUF_SIZE,
                ..CompileOptions::default()
            },
            unwind_rows_max: DEFAULT_UNWIND_ROWS,
        }
    }
}

/// Default `ebpf.backtrace_unwind_rows_max_entries`.
pub const DEFAULT_UNWIND_ROWS: u32 = 65_536;

/// What can stop an engine from starting or working.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The loader failed (maps, load, attach, ring buffer).
    #[error(transparent)]
    Loader(#[from] LoaderError),
    /// LLVM's BPF target could not be set up.
    #[error("{0}")]
    Codegen(String),
    /// The event drain was already taken.
    #[error("the event drain was already started")]
    PumpTaken,
    /// A thread or the event loop could not be started.
    #[error("failed to start the event drain: {0}")]
    Start(String),
}

/// A trace whose program could not be attached (script mode stops there).
#[derive(Debug, Error)]
#[error("Failed to attach uprobe for trace_id {trace_id}")]
pub struct AttachFailure {
    /// The trace id.
    pub trace_id: u32,
    /// Why.
    #[source]
    pub source: LoaderError,
}

/// The long-lived session: debug info, code generator, loader and traces.
pub struct Engine {
    session: Option<Arc<DebugSession>>,
    codegen: BpfCodegen,
    loader: TraceLoader,
    options: EngineOptions,
    traces: SharedTraces,
    registry: RegistrySender,
    registry_rx: Option<Receiver<RegistryChange>>,
    next_trace_id: u32,
    /// The unwind maps (rows, index) once a trace with `bt` needed them.
    unwind: Option<(i32, i32)>,
}

/// What an engine needs besides the debug info: the shared maps with the
/// BPF loader, and LLVM's BPF target. Made before the debug info is
/// loaded, so the kernel BTF is parsed (in the background) meanwhile.
pub struct EngineParts {
    loader: TraceLoader,
    codegen: BpfCodegen,
}

impl EngineParts {
    /// Creates the shared maps and sets up LLVM.
    pub fn new(options: &EngineOptions) -> Result<EngineParts, EngineError> {
        Ok(EngineParts {
            loader: TraceLoader::new(options.transport)?,
            codegen: BpfCodegen::new().map_err(EngineError::Codegen)?,
        })
    }
}

impl Engine {
    /// An engine for a loaded session: creates the shared maps and LLVM's
    /// BPF target. No trace exists yet; ids start at 0.
    pub fn new(session: Arc<DebugSession>, options: EngineOptions) -> Result<Engine, EngineError> {
        let parts = EngineParts::new(&options)?;
        Ok(Engine::assemble(session, options, parts))
    }

    /// An engine from parts made earlier.
    pub fn assemble(
        session: Arc<DebugSession>,
        options: EngineOptions,
        parts: EngineParts,
    ) -> Engine {
        let EngineParts { loader, codegen } = parts;
        let (registry, registry_rx) = channel();
        Engine {
            session: Some(session),
            codegen,
            loader,
            options,
            traces: SharedTraces::default(),
            registry,
            registry_rx: Some(registry_rx),
            next_trace_id: 0,
            unwind: None,
        }
    }

    /// The debug session, unless it was released.
    pub fn session(&self) -> Option<&Arc<DebugSession>> {
        self.session.as_ref()
    }

    /// Drops the engine's hold on the debug info (script mode, once every
    /// trace is attached). Traces added later fail.
    pub fn release_debug_info(&mut self) {
        self.session = None;
    }

    /// The trace table, shared with the event side.
    pub fn traces(&self) -> SharedTraces {
        self.traces.clone()
    }

    /// The event drain; it can be taken once, inside a tokio runtime.
    pub fn take_event_pump(&mut self) -> Result<EventPump, EngineError> {
        let registry = self.registry_rx.take().ok_or(EngineError::PumpTaken)?;
        let losses = self.loader.loss_reader()?;
        let stream = self.loader.take_event_stream()?;
        Ok(EventPump::new(stream, registry, losses))
    }

    fn maps(&self) -> MapFds {
        let (unwind_rows, unwind_index) = self.unwind.unwrap_or_default();
        MapFds {
            events: self.loader.events_fd(),
            losses: self.loader.losses_fd(),
            unwind_rows,
            unwind_index,
            transport: match self.loader.event_scratch_fd() {
                Some(scratch) => EventTransport::PerfEventArray { scratch },
                None => EventTransport::RingBuf,
            },
        }
    }

    /// Loads the unwind tables and gives the drain a symbolizer, the first
    /// time a trace uses `bt`. Later traces share them.
    fn prepare_backtraces(&mut self, session: &DebugSession) -> Result<(), String> {
        if self.unwind.is_some() {
            return Ok(());
        }
        let fds =
            backtrace::load_unwind_tables(&mut self.loader, session, self.options.unwind_rows_max)?;
        self.unwind = Some(fds);
        let _ = self
            .registry
            .send(RegistryChange::Symbolizer(backtrace::symbolizer(session)));
        Ok(())
    }

    /// Compiles a whole script in one call (script mode). Trace ids continue
    /// from the engine's next id; failures of single targets are in the output.
    pub fn compile_script(&mut self, script: &str) -> Result<CompileOutput, ParseError> {
        let Some(session) = self.session.clone() else {
            return Err(ParseError::plain(
                "the debug info was released; nothing more can be compiled".to_string(),
            ));
        };
        if ghostscope_compiler::parse_script(script)
            .is_ok_and(|s| ghostscope_compiler::uses_backtrace(&s))
        {
            self.prepare_backtraces(&session)
                .map_err(ParseError::plain)?;
        }
        let maps = self.maps();
        let out = compile_script(
            script,
            &session,
            &self.codegen,
            maps,
            &self.options.compile,
            self.next_trace_id,
        )?;
        self.next_trace_id = out.next_trace_id;
        Ok(out)
    }

    /// Loads and attaches compiled traces, in order; stops at the first
    /// that fails.
    pub fn attach_compiled(&mut self, compiled: &[CompiledTrace]) -> Result<(), AttachFailure> {
        for t in compiled {
            self.load_compiled(t, "", None)
                .and_then(|()| self.enable_loaded(t.trace_id))
                .map_err(|source| AttachFailure {
                    trace_id: t.trace_id,
                    source,
                })?;
        }
        Ok(())
    }

    /// Announces a compiled trace to the drain, loads its program and
    /// enters it in the table as disabled. On failure nothing is left.
    fn load_compiled(
        &mut self,
        t: &CompiledTrace,
        body: &str,
        index: Option<usize>,
    ) -> Result<(), LoaderError> {
        let Some(session) = self.session.clone() else {
            return Err(LoaderError::UnknownTrace(t.trace_id));
        };
        // The drain must know the trace before its first event can exist.
        let _ = self.registry.send(RegistryChange::Add {
            meta: t.meta.clone(),
            target: t.target.clone(),
        });
        let path = session.module_path(t.site.module);
        if let Err(e) = self.loader.load(
            t.trace_id,
            &t.object,
            &t.program_name,
            &path,
            t.site.file_offset,
            self.options.pid,
        ) {
            let _ = self.registry.send(RegistryChange::Remove(t.trace_id));
            return Err(e);
        }
        self.traces.lock().insert(TraceInfo {
            trace_id: t.trace_id,
            target: t.target.clone(),
            body: body.to_string(),
            index,
            state: TraceState::Disabled,
            pc: t.site.pc,
            module: path.display().to_string(),
            function: t.site.function_name.clone(),
            source: source_position(&session, &t.site),
            pid: self.options.pid,
            host_pid: None,
            hits: 0,
            lost: 0,
        });
        Ok(())
    }

    /// Attaches a loaded trace; a trace that fails is unloaded and forgotten.
    fn enable_loaded(&mut self, trace_id: u32) -> Result<(), LoaderError> {
        match self.loader.enable(trace_id) {
            Ok(()) => {
                self.traces.lock().set_state(trace_id, TraceState::Active);
                Ok(())
            }
            Err(e) => {
                self.forget(trace_id);
                Err(e)
            }
        }
    }

    /// Unloads a trace and removes it everywhere.
    fn forget(&mut self, trace_id: u32) {
        tracing::debug!("trace id {trace_id} unloaded");
        self.loader.unload(trace_id);
        let _ = self.registry.send(RegistryChange::Remove(trace_id));
        self.traces.lock().remove(trace_id);
    }

    /// What the front end shows about a trace.
    pub fn trace_info(&self, trace_id: u32) -> Option<TraceInfo> {
        self.traces.lock().get(trace_id).cloned()
    }

    /// How many traces have their uprobe attached.
    pub fn attached_count(&self) -> usize {
        self.loader.attached().len()
    }

    /// Whether a trace's uprobe is attached.
    pub fn is_attached(&self, trace_id: u32) -> bool {
        self.loader.is_attached(trace_id)
    }

    /// Ids a selector names, or `Trace ID not found`.
    fn select(&self, selector: TraceSelector) -> Result<Vec<u32>, String> {
        self.traces
            .lock()
            .select(selector)
            .ok_or_else(|| "Trace ID not found".to_string())
    }

    /// Applies `change` to every trace `selector` names; the ids it
    /// succeeded for, or all its error lines.
    fn change_each(
        &mut self,
        selector: TraceSelector,
        mut change: impl FnMut(&mut Engine, u32) -> Result<(), String>,
    ) -> Result<Vec<u32>, String> {
        let ids = self.select(selector)?;
        let mut errors = Vec::new();
        let mut changed = Vec::new();
        for id in ids {
            match change(self, id) {
                Ok(()) => changed.push(id),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(changed)
        } else {
            Err(errors.join("\n"))
        }
    }

    /// Re-attaches traces (`enable`); their programs are still loaded.
    pub fn enable(&mut self, selector: TraceSelector) -> Result<Vec<u32>, String> {
        self.change_each(selector, |engine, id| {
            let result = engine.loader.enable(id);
            let state = match result {
                Ok(()) => TraceState::Active,
                Err(_) => TraceState::Failed,
            };
            engine.traces.lock().set_state(id, state);
            result.map_err(|e| {
                format!(
                    "Failed to enable trace {id}: {}",
                    add_trace::loader_failure_text(&e)
                )
            })
        })
    }

    /// Detaches traces (`disable`) and keeps their programs loaded.
    pub fn disable(&mut self, selector: TraceSelector) -> Result<Vec<u32>, String> {
        self.change_each(selector, |engine, id| {
            engine
                .loader
                .disable(id)
                .map_err(|e| format!("Failed to disable trace {id}: {e}"))?;
            engine.traces.lock().set_state(id, TraceState::Disabled);
            Ok(())
        })
    }

    /// Detaches and unloads traces (`delete`).
    pub fn delete(&mut self, selector: TraceSelector) -> Result<Vec<u32>, String> {
        let ids = self.select(selector)?;
        for &id in &ids {
            self.forget(id);
        }
        Ok(ids)
    }

    /// Detaches and unloads every trace; their ids stay used.
    pub fn unload_all(&mut self) {
        let ids: Vec<u32> = self.traces.lock().all().map(|t| t.trace_id).collect();
        for id in ids {
            self.forget(id);
        }
        self.loader.unload_all();
    }
}

/// The source position of a probe site, in the protocol's words.
pub(crate) fn source_position(session: &DebugSession, site: &ProbeSite) -> Option<SourcePosition> {
    session
        .source_location(site)
        .filter(|l| l.line != 0)
        .map(|l| SourcePosition {
            file: l.file,
            line: l.line,
            column: l.column,
        })
}

/// Whether a site is an inlined copy (`inline`) rather than a call (`call`).
pub(crate) fn is_inline(site: &ProbeSite) -> bool {
    site.kind == SiteKind::InlinedEntry
}
