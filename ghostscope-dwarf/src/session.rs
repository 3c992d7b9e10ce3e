//! A debug session: every module of the traced process (or the one target
//! file), and the resolution of trace patterns to probe sites.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use crate::error::DwarfError;
use crate::index::CodeKind;
use crate::lines::SourceLocation;
use crate::loading::{
    ignore_progress, is_elf_file, load_all, LoadObserver, LoadOptions, LoadRequest, ModuleFailure,
    ModuleStats,
};
use crate::location::{Location, ReadOp};
use crate::module::Module;
use crate::process::{accessible_path, load_bias, read_mappings, Mapping};
use crate::scope::Variable;

/// A module as loaded in the session.
#[derive(Debug, Clone)]
pub struct LoadedModule {
    /// The parsed module.
    pub module: Arc<Module>,
    /// Runtime address minus link-time address, when known. Fixed-address
    /// executables always have 0; a PIE or library needs a live process.
    pub load_bias: Option<u64>,
    /// What the module's name index holds.
    pub stats: ModuleStats,
    /// Time it took to open and index the module.
    pub load_time: Duration,
}

/// What kind of place a probe sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteKind {
    /// The first instruction of an out-of-line function.
    FunctionEntry,
    /// The first instruction of an inlined copy of a function.
    InlinedEntry,
    /// A function probe moved past the prologue, because a value the
    /// script needs (a float argument in an XMM register) is only readable
    /// once the prologue has stored it.
    AfterPrologue,
    /// A statement of a source line.
    SourceLine,
    /// A raw address given by the user.
    Address,
    /// A function known only from the ELF symbol table (no DWARF).
    Symbol,
}

/// One resolved probe address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSite {
    /// Index of the module in [`DebugSession::modules`].
    pub module: usize,
    /// Module-relative virtual address of the probed instruction.
    pub pc: u64,
    /// File offset of the instruction: what the uprobe is attached to.
    pub file_offset: u64,
    /// What the site is.
    pub kind: SiteKind,
    /// The outermost concrete function containing `pc`, if DWARF knows it.
    pub function_die: Option<u64>,
    /// The name of the function the site belongs to (the inlined callee for inlined entries).
    pub function_name: Option<String>,
}

/// Why a trace pattern resolved to nothing.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ResolveError {
    /// No function of that name anywhere.
    #[error("No addresses resolved for function '{0}' - function not found in debug symbols")]
    FunctionNotFound(String),
    /// The function exists, but not in the `-t` module.
    #[error("No addresses resolved for function '{name}' in -t target '{target}'. When -t and -p are combined, -t takes precedence for trace target resolution.")]
    FunctionNotInTarget {
        /// Function name.
        name: String,
        /// The -t path.
        target: String,
    },
    /// No source file matches.
    #[error("No addresses resolved for source line {file}:{line} - no source file matching '{file}' in the debug info")]
    SourceFileNotFound {
        /// File as written.
        file: String,
        /// Line number.
        line: u32,
    },
    /// Several files match a basename.
    #[error("Source file '{file}' is ambiguous; it matches: {}. Use a longer path (or 'srcpath map' in the TUI)", candidates.join(", "))]
    AmbiguousSourceFile {
        /// File as written.
        file: String,
        /// Matching recorded paths.
        candidates: Vec<String>,
    },
    /// The file matches but the line has no code.
    #[error("No addresses resolved for source line {file}:{line} - the compiler generated no code for that line")]
    NoCodeForLine {
        /// File as written.
        file: String,
        /// Line number.
        line: u32,
    },
    /// Lines exist, but none in the `-t` module.
    #[error("No addresses resolved for source line {file}:{line} in -t target '{target}'. When -t and -p are combined, -t takes precedence for trace target resolution.")]
    LineNotInTarget {
        /// File as written.
        file: String,
        /// Line number.
        line: u32,
        /// The -t path.
        target: String,
    },
    /// An address outside every loadable segment.
    #[error("Address 0x{addr:x} is not within a loadable segment of '{module}' (cannot compute file offset)")]
    AddressOutsideSegments {
        /// The address.
        addr: u64,
        /// The module path.
        module: String,
    },
    /// No module matches a `module:0x…` pattern.
    #[error("No loaded module matches '{0}'")]
    ModuleNotFound(String),
    /// Several modules match a `module:0x…` pattern.
    #[error("Module '{name}' is ambiguous; it matches: {}", candidates.join(", "))]
    AmbiguousModule {
        /// Module as written.
        name: String,
        /// Matching paths.
        candidates: Vec<String>,
    },
    /// A global name defined in several other modules.
    #[error("'{name}' is ambiguous: it is defined in {}", modules.join(", "))]
    AmbiguousGlobal {
        /// Variable name.
        name: String,
        /// Modules defining it.
        modules: Vec<String>,
    },
}

/// All modules of one traced process or target.
#[derive(Debug)]
pub struct DebugSession {
    modules: Vec<LoadedModule>,
    /// Mapped ELF files that could not be loaded (not fatal with `-p`).
    failures: Vec<ModuleFailure>,
    pid: Option<u32>,
    /// The module trace patterns resolve in (`-t`), if restricted.
    target: Option<usize>,
}

impl DebugSession {
    /// Loads every file-backed module of a running process, main executable first.
    /// With `target`, patterns resolve only in that module (`-t` with `-p`).
    pub fn for_process(pid: u32, target: Option<&Path>) -> Result<DebugSession, DwarfError> {
        DebugSession::load_process(pid, target, &LoadOptions::default(), &ignore_progress)
    }

    /// Loads one executable or library file (`-t` without `-p`).
    pub fn for_file(path: &Path) -> Result<DebugSession, DwarfError> {
        DebugSession::load_file(path, &LoadOptions::default(), &ignore_progress)
    }

    /// [`DebugSession::for_process`] with debug-info options, reporting
    /// progress to `observer`. A module that fails to load is left out and
    /// listed in [`DebugSession::failures`], unless `--debug-file` is bound
    /// to it: explicit debug-file failures fail the whole load.
    pub fn load_process(
        pid: u32,
        target: Option<&Path>,
        options: &LoadOptions,
        observer: LoadObserver<'_>,
    ) -> Result<DebugSession, DwarfError> {
        let mappings = read_mappings(pid)?;
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        let mut order: Vec<String> = Vec::new();
        for m in &mappings {
            if !order.contains(&m.path) {
                order.push(m.path.clone());
            }
        }
        let exe = exe.map(|p| {
            let p = p.to_string_lossy().into_owned();
            p.strip_suffix(" (deleted)")
                .map(str::to_string)
                .unwrap_or(p)
        });
        let mut has_exe = false;
        if let Some(exe) = exe {
            if let Some(i) = order.iter().position(|p| *p == exe) {
                let main = order.remove(i);
                order.insert(0, main);
                has_exe = true;
            }
        }
        // Only ELF files are modules (a process also maps locale archives and the like).
        let groups: Vec<(PathBuf, Vec<&Mapping>)> = order
            .iter()
            .map(|p| {
                let group: Vec<&Mapping> = mappings.iter().filter(|m| &m.path == p).collect();
                (accessible_path(pid, group[0]), group)
            })
            .filter(|(path, _)| is_elf_file(path))
            .collect();
        // `--debug-file` belongs to the -t module, else to the main executable.
        let bound = match &options.explicit_debug_file {
            None => None,
            Some(file) => {
                let wanted = target.map_or_else(
                    || PathBuf::from(format!("/proc/{pid}/exe")),
                    Path::to_path_buf,
                );
                let found = match target {
                    Some(t) => groups.iter().position(|(p, _)| same_file(p, t)),
                    None => has_exe.then_some(0),
                };
                Some(found.ok_or_else(|| {
                    DwarfError::ExplicitModuleNotLoaded {
                        debug_file: file.clone(),
                        module: wanted,
                        loaded: groups
                            .iter()
                            .take(8)
                            .map(|(p, _)| p.display().to_string())
                            .collect(),
                    }
                })?)
            }
        };
        let requests: Vec<LoadRequest<'_>> = groups
            .iter()
            .enumerate()
            .map(|(i, (path, _))| LoadRequest {
                path: path.clone(),
                explicit_debug_file: options
                    .explicit_debug_file
                    .as_deref()
                    .filter(|_| bound == Some(i)),
            })
            .collect();
        let mut modules = Vec::new();
        let mut failures = Vec::new();
        let results = load_all(&requests, options, observer);
        for (i, (result, (path, group))) in results.into_iter().zip(&groups).enumerate() {
            match result {
                Ok(loaded) => modules.push(LoadedModule {
                    load_bias: load_bias(loaded.module.elf().segments(), group),
                    module: loaded.module,
                    stats: loaded.stats,
                    load_time: loaded.elapsed,
                }),
                Err(e) if bound == Some(i) => return Err(e),
                Err(e) => failures.push(ModuleFailure {
                    path: path.clone(),
                    error: e.to_string(),
                }),
            }
        }
        let target =
            target.and_then(|t| modules.iter().position(|m| same_file(m.module.path(), t)));
        Ok(DebugSession {
            modules,
            failures,
            pid: Some(pid),
            target,
        })
    }

    /// [`DebugSession::for_file`] with debug-info options, reporting
    /// progress to `observer`.
    pub fn load_file(
        path: &Path,
        options: &LoadOptions,
        observer: LoadObserver<'_>,
    ) -> Result<DebugSession, DwarfError> {
        let request = LoadRequest {
            path: path.to_path_buf(),
            explicit_debug_file: options.explicit_debug_file.as_deref(),
        };
        let loaded = load_all(&[request], options, observer)
            .pop()
            .expect("one result per request")?;
        let bias = (!loaded.module.elf().is_position_independent()).then_some(0);
        Ok(DebugSession {
            modules: vec![LoadedModule {
                module: loaded.module,
                load_bias: bias,
                stats: loaded.stats,
                load_time: loaded.elapsed,
            }],
            failures: Vec::new(),
            pid: None,
            target: Some(0),
        })
    }

    /// Mapped modules that could not be loaded.
    pub fn failures(&self) -> &[ModuleFailure] {
        &self.failures
    }

    /// The traced process, if any.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Loaded modules; index 0 is the main executable or the target file.
    pub fn modules(&self) -> &[LoadedModule] {
        &self.modules
    }

    /// The module patterns resolve in by default: the `-t` module or the main executable.
    pub fn primary_module(&self) -> usize {
        self.target.unwrap_or(0)
    }

    /// Whether any module has DWARF.
    pub fn has_any_debug_info(&self) -> bool {
        self.modules.iter().any(|m| m.module.has_debug_info())
    }

    fn search_order(&self) -> Vec<usize> {
        match self.target {
            Some(t) => vec![t],
            None => (0..self.modules.len()).collect(),
        }
    }

    /// Every probe address of the function `name`: out-of-line entries and
    /// inlined copies, or the ELF symbol when there is no DWARF for it.
    pub fn resolve_function(&self, name: &str) -> Result<Vec<ProbeSite>, ResolveError> {
        let mut sites = Vec::new();
        for m in self.search_order() {
            let module = &self.modules[m].module;
            for code in module.function_code(name) {
                let Some(file_offset) = module.elf().file_offset_of(code.entry_pc) else {
                    continue;
                };
                let (kind, function_die) = match code.kind {
                    CodeKind::OutOfLine => (SiteKind::FunctionEntry, Some(code.die)),
                    CodeKind::Inlined => (
                        SiteKind::InlinedEntry,
                        module.containing_function(code.entry_pc),
                    ),
                };
                sites.push(ProbeSite {
                    module: m,
                    pc: code.entry_pc,
                    file_offset,
                    kind,
                    function_die,
                    function_name: Some(name.to_string()),
                });
            }
        }
        if sites.is_empty() {
            for m in self.search_order() {
                let module = &self.modules[m].module;
                for sym in module.symbols_named(name) {
                    if let Some(file_offset) = module.elf().file_offset_of(sym.address) {
                        sites.push(ProbeSite {
                            module: m,
                            pc: sym.address,
                            file_offset,
                            kind: SiteKind::Symbol,
                            function_die: None,
                            function_name: Some(name.to_string()),
                        });
                    }
                }
            }
        }
        if sites.is_empty() {
            if let (Some(t), true) = (self.target, self.pid.is_some()) {
                let elsewhere = (0..self.modules.len())
                    .any(|m| m != t && !self.modules[m].module.function_code(name).is_empty());
                if elsewhere {
                    return Err(ResolveError::FunctionNotInTarget {
                        name: name.to_string(),
                        target: self.modules[t].module.path().display().to_string(),
                    });
                }
            }
            return Err(ResolveError::FunctionNotFound(name.to_string()));
        }
        sites.sort_by_key(|s| (s.module, s.pc));
        sites.dedup_by_key(|s| (s.module, s.pc));
        Ok(sites)
    }

    /// Statement addresses of `file:line`.
    pub fn resolve_line(&self, file: &str, line: u32) -> Result<Vec<ProbeSite>, ResolveError> {
        let mut candidates: Vec<(usize, String)> = Vec::new();
        for m in 0..self.modules.len() {
            for f in self.modules[m].module.matching_source_files(file) {
                candidates.push((m, f));
            }
        }
        if candidates.is_empty() {
            return Err(ResolveError::SourceFileNotFound {
                file: file.to_string(),
                line,
            });
        }
        // An exact path wins; otherwise every match must be the same file.
        let exact: Vec<&(usize, String)> = candidates.iter().filter(|(_, f)| f == file).collect();
        let chosen: Vec<(usize, String)> = if !exact.is_empty() {
            exact.into_iter().cloned().collect()
        } else {
            let mut distinct: Vec<&String> = candidates.iter().map(|(_, f)| f).collect();
            distinct.sort();
            distinct.dedup();
            if distinct.len() > 1 {
                return Err(ResolveError::AmbiguousSourceFile {
                    file: file.to_string(),
                    candidates: distinct.into_iter().cloned().collect(),
                });
            }
            candidates.clone()
        };
        let mut sites = Vec::new();
        let mut found_anywhere = false;
        for (m, path) in chosen {
            let module = &self.modules[m].module;
            for pc in module.line_addresses(&path, line) {
                found_anywhere = true;
                if self.target.is_some_and(|t| t != m) {
                    continue;
                }
                let Some(file_offset) = module.elf().file_offset_of(pc) else {
                    continue;
                };
                sites.push(ProbeSite {
                    module: m,
                    pc,
                    file_offset,
                    kind: SiteKind::SourceLine,
                    function_die: module.containing_function(pc),
                    function_name: module
                        .containing_function(pc)
                        .and_then(|d| module.function_name(d)),
                });
            }
        }
        if sites.is_empty() {
            if found_anywhere {
                if let Some(t) = self.target {
                    return Err(ResolveError::LineNotInTarget {
                        file: file.to_string(),
                        line,
                        target: self.modules[t].module.path().display().to_string(),
                    });
                }
            }
            return Err(ResolveError::NoCodeForLine {
                file: file.to_string(),
                line,
            });
        }
        sites.sort_by_key(|s| (s.module, s.pc));
        sites.dedup_by_key(|s| (s.module, s.pc));
        Ok(sites)
    }

    /// A raw module-relative address, in `module` (a path suffix) or the primary module.
    pub fn resolve_address(
        &self,
        module: Option<&str>,
        addr: u64,
    ) -> Result<ProbeSite, ResolveError> {
        let m = match module {
            None => self.primary_module(),
            Some(name) => {
                let hits = self.modules_named(name);
                match hits.len() {
                    0 => return Err(ResolveError::ModuleNotFound(name.to_string())),
                    1 => hits[0],
                    _ => {
                        return Err(ResolveError::AmbiguousModule {
                            name: name.to_string(),
                            candidates: hits
                                .iter()
                                .map(|&i| self.modules[i].module.path().display().to_string())
                                .collect(),
                        })
                    }
                }
            }
        };
        let module_ref = &self.modules[m].module;
        let file_offset = module_ref.elf().file_offset_of(addr).ok_or_else(|| {
            ResolveError::AddressOutsideSegments {
                addr,
                module: module_ref.path().display().to_string(),
            }
        })?;
        let function_die = module_ref.containing_function(addr);
        Ok(ProbeSite {
            module: m,
            pc: addr,
            file_offset,
            kind: SiteKind::Address,
            function_die,
            function_name: function_die.and_then(|d| module_ref.function_name(d)),
        })
    }

    /// The modules a `module:0x…` name means: those whose path ends with
    /// it; else the module that the name, as a file (relative to the
    /// current directory, or beside a module), is: a symlink to it, say.
    fn modules_named(&self, name: &str) -> Vec<usize> {
        let paths: Vec<&Path> = self.modules.iter().map(|m| m.module.path()).collect();
        let by_suffix: Vec<usize> = (0..paths.len())
            .filter(|&i| crate::lines::path_matches(&paths[i].to_string_lossy(), name))
            .collect();
        if !by_suffix.is_empty() {
            return by_suffix;
        }
        (0..paths.len())
            .filter(|&i| {
                let beside = paths[i].parent().map(|dir| dir.join(name));
                [Some(PathBuf::from(name)), beside]
                    .into_iter()
                    .flatten()
                    .any(|file| same_file(&file, paths[i]))
            })
            .collect()
    }

    /// The same function probe moved to the end of the prologue, when the
    /// line table marks one.
    pub fn after_prologue(&self, site: &ProbeSite) -> Option<ProbeSite> {
        if site.kind != SiteKind::FunctionEntry {
            return None;
        }
        let module = &self.modules[site.module].module;
        let pc = module.prologue_end_of(site.function_die?)?;
        Some(ProbeSite {
            pc,
            file_offset: module.elf().file_offset_of(pc)?,
            kind: SiteKind::AfterPrologue,
            ..site.clone()
        })
    }

    /// Variables visible at a probe site, innermost scope first.
    pub fn variables_at(&self, site: &ProbeSite) -> Vec<Variable> {
        let Some(die) = site.function_die else {
            return Vec::new();
        };
        let module = &self.modules[site.module].module;
        module.variables_at(die, site.pc, self.at_function_entry(site))
    }

    /// Where the object an implicit pointer visible at `site` points into
    /// is (`object` is from [`Location::ImplicitPointer`](crate::Location)).
    pub fn object_location(&self, site: &ProbeSite, object: u64) -> crate::Location {
        let Some(die) = site.function_die else {
            return crate::Location::OptimizedOut;
        };
        let module = &self.modules[site.module].module;
        module.object_location(die, site.pc, self.at_function_entry(site), object)
    }

    /// Whether the site is the first instruction of its function. A line or
    /// address probe can land there too; the arguments are then still where
    /// the caller put them.
    fn at_function_entry(&self, site: &ProbeSite) -> bool {
        let Some(die) = site.function_die else {
            return false;
        };
        let module = &self.modules[site.module].module;
        site.kind == SiteKind::FunctionEntry
            || (site.kind != SiteKind::InlinedEntry
                && module.function_entry_pc(die) == Some(site.pc))
    }

    /// A global named `name`: the site's module first, then the others. A
    /// name found only in several other modules is ambiguous. A library's
    /// global that the executable holds a copy of is read from that copy.
    pub fn find_global(
        &self,
        name: &str,
        from_module: usize,
    ) -> Result<Option<(usize, Variable)>, ResolveError> {
        self.find_global_definition(name, from_module)
            .map(|found| found.map(|(m, v)| (m, self.with_live_storage(m, v))))
    }

    fn find_global_definition(
        &self,
        name: &str,
        from_module: usize,
    ) -> Result<Option<(usize, Variable)>, ResolveError> {
        if let Some(v) = self.modules[from_module]
            .module
            .globals(name)
            .into_iter()
            .next()
        {
            return Ok(Some((from_module, v)));
        }
        let hits: Vec<(usize, Variable)> = (0..self.modules.len())
            .filter(|&m| m != from_module)
            .filter_map(|m| {
                self.modules[m]
                    .module
                    .globals(name)
                    .into_iter()
                    .next()
                    .map(|v| (m, v))
            })
            .collect();
        match hits.len() {
            0 => Ok(None),
            1 => Ok(hits.into_iter().next()),
            _ => Err(ResolveError::AmbiguousGlobal {
                name: name.to_string(),
                modules: hits
                    .iter()
                    .map(|(m, _)| self.modules[*m].module.path().display().to_string())
                    .collect(),
            }),
        }
    }

    /// A global defined in a shared library and used by the executable
    /// lives, at run time, in the executable's copy (an `R_X86_64_COPY`
    /// relocation there): the dynamic linker binds every reference, the
    /// library's own included, to that copy, and the library's storage
    /// keeps its stale initial value. This moves the variable's location to
    /// the copy; its type stays that of module `m`'s DWARF.
    fn with_live_storage(&self, m: usize, mut v: Variable) -> Variable {
        let Location::Memory(ops) = &v.location else {
            return v;
        };
        let [ReadOp::ModuleAddress(address)] = ops.as_slice() else {
            return v;
        };
        let defining = self.modules[m].module.elf().dynamic_data();
        let Some(symbol) = defining.exported_at(*address) else {
            return v;
        };
        let copy = self.modules.iter().enumerate().find_map(|(other, lm)| {
            let at = lm.module.elf().dynamic_data().copy_of(symbol)?;
            (other != m).then_some((other, at))
        });
        if let Some((module, vaddr)) = copy {
            v.location = Location::Memory(vec![ReadOp::SessionModuleAddress { module, vaddr }]);
        }
        v
    }

    /// The source position of a site.
    pub fn source_location(&self, site: &ProbeSite) -> Option<SourceLocation> {
        self.modules[site.module].module.source_location(site.pc)
    }

    /// Path of a module.
    pub fn module_path(&self, m: usize) -> PathBuf {
        self.modules[m].module.path().to_path_buf()
    }
}

/// Whether two paths name the same file (symlinks, `/proc/PID/root/…`
/// and hard links included).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    if a == b {
        return true;
    }
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}
