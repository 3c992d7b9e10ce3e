//! Startup loading for an interactive front end: the modules to expect,
//! their per-module progress while the name indexes are built, and what
//! the front end needs once the session is ready.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ghostscope_dwarf::{read_mappings, DebugSession};
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

    /// The modules expected before any is opened: the ELF files the
    /// process maps (not its locale archives and caches), or the one file.
    fn expected_modules(&self) -> Vec<String> {
        match self {
            LoadTarget::Process { pid, .. } => {
                let mut paths: Vec<String> = Vec::new();
                for m in read_mappings(*pid).unwrap_or_default() {
                    if !paths.contains(&m.path) && is_elf(Path::new(&m.path)) {
                        paths.push(m.path);
                    }
                }
                paths
            }
            LoadTarget::File(path) => vec![path.display().to_string()],
        }
    }
}

/// Whether a file starts with the ELF magic.
fn is_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| magic == *b"\x7fELF")
}

/// Loading progress, shared between the thread that loads and the one
/// that reports.
#[derive(Debug, Clone)]
pub struct LoadTracker {
    progress: Arc<Mutex<LoadProgress>>,
    started: Instant,
}

impl LoadTracker {
    /// Starts the clock; every expected module is pending.
    pub fn new(target: &LoadTarget) -> LoadTracker {
        LoadTracker {
            progress: Arc::new(Mutex::new(LoadProgress {
                subject: target.subject(),
                modules: target
                    .expected_modules()
                    .into_iter()
                    .map(|path| ModuleLoad {
                        path,
                        state: ModuleLoadState::Pending,
                    })
                    .collect(),
                sources: DebugSourceCounts::default(),
                elapsed_ms: 0,
            })),
            started: Instant::now(),
        }
    }

    /// The progress now.
    pub fn snapshot(&self) -> LoadProgress {
        let mut p = self.lock().clone();
        p.elapsed_ms = self.started.elapsed().as_millis() as u64;
        p
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LoadProgress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_state(&self, path: &str, state: ModuleLoadState) {
        let mut p = self.lock();
        match p.modules.iter_mut().find(|m| m.path == path) {
            Some(m) => m.state = state,
            None => p.modules.push(ModuleLoad {
                path: path.to_string(),
                state,
            }),
        }
    }

    /// Builds every module's name index now, so the first trace compiles
    /// at once, reporting each module as it goes.
    pub fn warm_up(&self, session: &DebugSession) {
        let opened: Vec<String> = session
            .modules()
            .iter()
            .map(|m| m.module.path().display().to_string())
            .collect();
        // Mappings that are not ELF files (locale archives, caches) were
        // expected but are not modules.
        self.lock().modules.retain(|m| opened.contains(&m.path));
        for (m, path) in session.modules().iter().zip(&opened) {
            self.set_state(path, ModuleLoadState::Loading);
            let start = Instant::now();
            let counts = m.module.name_index_counts();
            self.set_state(
                path,
                ModuleLoadState::Done {
                    functions: counts.functions,
                    variables: counts.variables,
                    types: counts.types,
                    ms: start.elapsed().as_millis() as u64,
                },
            );
            let mut p = self.lock();
            if m.module.has_debug_info() {
                p.sources.embedded += 1;
            } else {
                p.sources.missing += 1;
            }
        }
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
