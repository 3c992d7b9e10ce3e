//! Startup loading for an interactive front end: per-module progress from
//! the DWARF layer's load events (each module is opened and its name index
//! built), and what the front end needs once the session is ready.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ghostscope_dwarf::{DebugSession, DebugSource, LoadEvent};
use ghostscope_protocol::session::{
    DebugSourceCounts, LoadProgress, ModuleLoad, ModuleLoadState, SessionReady, SourcePosition,
};

use super::source_position;

/// What is being loaded.
#[derive(Debug, Clone)]
pub enum LoadTarget {
    /// A running process (`-p`), optionally resolving in one module (`-t`).
    Process {
        /// The process id.
        pid: u32,
        /// The `-t` module, when given with `-p`.
        target: Option<PathBuf>,
    },
    /// One executable or library file (`-t` alone).
    File(PathBuf),
}

impl LoadTarget {
    /// The text of `Loading debug information for <subject>...`.
    pub fn subject(&self) -> String {
        match self {
            LoadTarget::Process { pid, .. } => format!("PID {pid}"),
            LoadTarget::File(path) => path.display().to_string(),
        }
    }

    /// The `-p` process, if any.
    pub fn pid(&self) -> Option<u32> {
        match self {
            LoadTarget::Process { pid, .. } => Some(*pid),
            LoadTarget::File(_) => None,
        }
    }
}

/// Loading progress, shared between the threads that load (they report
/// [`LoadEvent`]s) and the one that sends it to the front end.
#[derive(Debug, Clone)]
pub struct LoadTracker {
    progress: Arc<Mutex<Tally>>,
    started: Instant,
}

/// What the load events said so far.
#[derive(Debug)]
struct Tally {
    subject: String,
    /// By load order; None until the module is announced.
    modules: Vec<Option<ModuleLoad>>,
    sources: DebugSourceCounts,
}

impl LoadTracker {
    /// Starts the clock; no module is known yet.
    pub fn new(target: &LoadTarget) -> LoadTracker {
        LoadTracker {
            progress: Arc::new(Mutex::new(Tally {
                subject: target.subject(),
                modules: Vec::new(),
                sources: DebugSourceCounts::default(),
            })),
            started: Instant::now(),
        }
    }

    /// The progress now.
    pub fn snapshot(&self) -> LoadProgress {
        let t = self.lock();
        LoadProgress {
            subject: t.subject.clone(),
            modules: t.modules.iter().flatten().cloned().collect(),
            sources: t.sources,
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one event of the DWARF layer's loader (from any thread).
    pub fn record(&self, event: LoadEvent<'_>) {
        let mut t = self.lock();
        let (index, path, state) = match event {
            LoadEvent::Discovered { total } => {
                if t.modules.len() < total {
                    t.modules.resize(total, None);
                }
                return;
            }
            LoadEvent::Started { index, path } => (index, path, ModuleLoadState::Loading),
            LoadEvent::Loaded {
                index,
                module,
                stats,
                elapsed,
            } => {
                let counts = &mut t.sources;
                match module.debug_source() {
                    DebugSource::Embedded => counts.embedded += 1,
                    DebugSource::Explicit(_) => counts.explicit += 1,
                    DebugSource::Debuglink(_) => counts.debuglink += 1,
                    DebugSource::Debuginfod(_) => counts.debuginfod += 1,
                    DebugSource::Missing => counts.missing += 1,
                }
                let state = ModuleLoadState::Done {
                    functions: stats.functions as u64,
                    variables: stats.variables as u64,
                    types: stats.types as u64,
                    ms: elapsed.as_millis() as u64,
                };
                (index, module.path(), state)
            }
            LoadEvent::Failed { index, failure } => (
                index,
                failure.path.as_path(),
                ModuleLoadState::Failed(failure.error.clone()),
            ),
        };
        if t.modules.len() <= index {
            t.modules.resize(index + 1, None);
        }
        t.modules[index] = Some(ModuleLoad {
            path: path.display().to_string(),
            state,
        });
    }

    /// The `Ready` message for a loaded session.
    pub fn ready(&self, session: &DebugSession) -> SessionReady {
        SessionReady {
            pid: session.pid(),
            main_module: session
                .module_path(session.primary_module())
                .display()
                .to_string(),
            main_source: main_source(session),
            progress: self.snapshot(),
            launch_program: None,
        }
    }
}

/// Where the source panel opens: `main`, else the first function (by
/// name) of the primary module that has a source position.
fn main_source(session: &DebugSession) -> Option<SourcePosition> {
    let at = |name: &str| {
        session
            .resolve_function(name)
            .ok()?
            .iter()
            .filter(|s| s.module == session.primary_module())
            .find_map(|s| source_position(session, s))
    };
    at("main").or_else(|| {
        session.modules()[session.primary_module()]
            .module
            .function_names_with_prefix("")
            .iter()
            .find_map(|name| at(name))
    })
}
