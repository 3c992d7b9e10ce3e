//! Loading the modules of a session, in parallel, with progress reported as
//! it happens (for the startup status line and the TUI loading screen) and
//! per-module figures for the startup load report.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::debug_source::DebugLookup;
use crate::error::DwarfError;
use crate::module::Module;

/// How a module's name index was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IndexKind {
    /// One pass over every DIE.
    #[default]
    FullScan,
}

impl IndexKind {
    /// The label of the startup report (`full-scan`).
    pub fn label(&self) -> &'static str {
        match self {
            IndexKind::FullScan => "full-scan",
        }
    }
}

/// What a module's name index holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModuleStats {
    /// Function entries: out-of-line and inlined copies.
    pub functions: usize,
    /// Global and static variable definitions.
    pub variables: usize,
    /// Named type definitions.
    pub types: usize,
    /// How the index was built.
    pub index: IndexKind,
}

/// How a session finds and opens debug info.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Where separate debug files are looked for.
    pub lookup: DebugLookup,
    /// `--debug-file`: bound to the `-t` module, else to the main executable.
    pub explicit_debug_file: Option<PathBuf>,
    /// Build every module's name index while loading, so the load events
    /// carry its counts (the startup report and TUI loading screen show
    /// them). Off, a module's index is built only when a lookup may find
    /// something in it, and the counts are reported as zero.
    pub count_names: bool,
}

/// A module that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleFailure {
    /// The module's path.
    pub path: PathBuf,
    /// Why, in words.
    pub error: String,
}

/// Progress of loading, reported while it happens. `index` is the module's
/// position in the load order (the main module is 0).
#[derive(Debug)]
pub enum LoadEvent<'a> {
    /// The modules to load are known.
    Discovered {
        /// How many.
        total: usize,
    },
    /// A module started loading.
    Started {
        /// Its position.
        index: usize,
        /// Its path.
        path: &'a Path,
    },
    /// A module was opened and indexed.
    Loaded {
        /// Its position.
        index: usize,
        /// The module.
        module: &'a Module,
        /// What its index holds.
        stats: ModuleStats,
        /// Time to open and index it.
        elapsed: Duration,
    },
    /// A module could not be loaded.
    Failed {
        /// Its position.
        index: usize,
        /// What went wrong.
        failure: &'a ModuleFailure,
    },
}

/// Receives [`LoadEvent`]s, from several threads at once.
pub type LoadObserver<'a> = &'a (dyn Fn(LoadEvent<'_>) + Sync);

/// An observer that ignores every event.
pub fn ignore_progress(_: LoadEvent<'_>) {}

/// One module to load: its path and whether `--debug-file` is bound to it.
pub(crate) struct LoadRequest<'a> {
    pub(crate) path: PathBuf,
    pub(crate) explicit_debug_file: Option<&'a Path>,
}

/// A loaded module with its figures.
pub(crate) struct Loaded {
    pub(crate) module: Arc<Module>,
    pub(crate) stats: ModuleStats,
    pub(crate) elapsed: Duration,
}

/// Opens and indexes every requested module, one thread each, reporting
/// progress to `observer`. Results come back in request order.
pub(crate) fn load_all(
    requests: &[LoadRequest<'_>],
    options: &LoadOptions,
    observer: LoadObserver<'_>,
) -> Vec<Result<Loaded, DwarfError>> {
    observer(LoadEvent::Discovered {
        total: requests.len(),
    });
    std::thread::scope(|s| {
        let handles: Vec<_> = requests
            .iter()
            .enumerate()
            .map(|(index, request)| s.spawn(move || load_one(index, request, options, observer)))
            .collect();
        handles
            .into_iter()
            .zip(requests)
            .map(|(h, request)| {
                h.join().unwrap_or_else(|_| {
                    Err(DwarfError::Malformed {
                        path: request.path.clone(),
                        message: "the DWARF reader panicked".to_string(),
                    })
                })
            })
            .collect()
    })
}

fn load_one(
    index: usize,
    request: &LoadRequest<'_>,
    options: &LoadOptions,
    observer: LoadObserver<'_>,
) -> Result<Loaded, DwarfError> {
    observer(LoadEvent::Started {
        index,
        path: &request.path,
    });
    let start = Instant::now();
    let opened = Module::open_with(&request.path, &options.lookup, request.explicit_debug_file);
    let module = match opened {
        Ok(m) => m,
        Err(e) => {
            let failure = ModuleFailure {
                path: request.path.clone(),
                error: e.to_string(),
            };
            observer(LoadEvent::Failed {
                index,
                failure: &failure,
            });
            return Err(e);
        }
    };
    // When counts are wanted the index is built now, in parallel with the
    // other modules, so the report can say what each module holds.
    let stats = if options.count_names {
        module.stats()
    } else {
        ModuleStats::default()
    };
    let elapsed = start.elapsed();
    observer(LoadEvent::Loaded {
        index,
        module: &module,
        stats,
        elapsed,
    });
    Ok(Loaded {
        module: Arc::new(module),
        stats,
        elapsed,
    })
}

/// Whether a file starts with the ELF magic (other mapped files, such as
/// locale archives, are not modules).
pub(crate) fn is_elf_file(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_label() {
        assert_eq!(IndexKind::FullScan.label(), "full-scan");
        assert_eq!(ModuleStats::default().index, IndexKind::FullScan);
    }

    #[test]
    fn elf_magic() {
        assert!(is_elf_file(Path::new("/proc/self/exe")));
        assert!(!is_elf_file(Path::new("/proc/self/maps")));
        assert!(!is_elf_file(Path::new("/no/such/file")));
    }
}
