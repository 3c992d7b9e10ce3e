//! One module (executable or shared library) with its debug info, indexed
//! lazily: opening maps the file and parses unit headers; the name index is
//! built on the first lookup.

mod catalog;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use ghostscope_protocol::{TypeDesc, TypeRef};

use crate::cfi::{FrameRow, FrameTables};
use crate::debug_source::{open_explicit, DebugLookup, DebugSource};
use crate::dwarf_data::DwarfData;
use crate::elf::{ElfFile, ElfSymbol};
use crate::error::DwarfError;
use crate::index::{CallSite, FunctionCode, ModuleIndex};
use crate::lines::{LineTable, SourceLocation};
use crate::loading::{IndexKind, ModuleStats};
use crate::location::{EvalContext, Location, ReadOp, StaticTls};
use crate::scope::{object_location, variable_location, visible_variables, Variable};
use crate::types::{type_desc, DefinitionLookup};

/// An ELF module and its DWARF.
///
/// The module's own ELF provides segments, symbols, file offsets and
/// `.eh_frame`; the DWARF (and `.debug_frame`) may come from a separate
/// debug file, whose section addresses are the module's.
pub struct Module {
    // Declared before the files so it is dropped before the bytes it points into.
    /// Unit headers, parsed on first use: a module the script never looks
    /// into costs only its ELF headers and symbols.
    dwarf: OnceLock<Option<DwarfData>>,
    /// Whether the file the DWARF is read from has `.debug_info`.
    has_dwarf: bool,
    frames: FrameTables,
    elf: ElfFile,
    /// The separate file the DWARF was read from, kept mapped.
    debug_file: Option<ElfFile>,
    source: DebugSource,
    index: OnceLock<ModuleIndex>,
    type_cache: Mutex<HashMap<Option<u64>, TypeDesc>>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("path", &self.elf.path())
            .field("source", &self.source)
            .finish()
    }
}

impl Module {
    /// Opens a module, looking for separate debug info the default way; a
    /// module with no DWARF anywhere opens fine, as `missing`.
    pub fn open(path: &Path) -> Result<Module, DwarfError> {
        Module::open_with(path, &DebugLookup::default(), None)
    }

    /// Opens a module with its DWARF from `explicit_debug_file` when given
    /// (checked against the module), else from its own sections, else from
    /// a separate debug file found through `lookup`.
    pub fn open_with(
        path: &Path,
        lookup: &DebugLookup,
        explicit_debug_file: Option<&Path>,
    ) -> Result<Module, DwarfError> {
        let elf = ElfFile::open(path)?;
        let (debug_file, source) = match explicit_debug_file {
            Some(file) => (
                Some(open_explicit(&elf, file, lookup.allow_loose_match)?),
                DebugSource::Explicit(file.to_path_buf()),
            ),
            None if elf.has_debug_info() => (None, DebugSource::Embedded),
            None => match lookup.find_separate(&elf) {
                Some((file, source)) => (Some(file), source),
                None => (None, DebugSource::Missing),
            },
        };
        let dwarf_file = debug_file.as_ref().unwrap_or(&elf);
        let has_dwarf = dwarf_file.has_debug_info();
        let debug_frame = match dwarf_file.section(".debug_frame") {
            [] => elf.section(".debug_frame"),
            own => own,
        };
        let frames = FrameTables::new(
            elf.section(".eh_frame"),
            elf.eh_frame_address(),
            debug_frame,
        );
        Ok(Module {
            dwarf: OnceLock::new(),
            has_dwarf,
            frames,
            elf,
            debug_file,
            source,
            index: OnceLock::new(),
            type_cache: Mutex::new(HashMap::new()),
        })
    }

    /// Where the module's DWARF came from.
    pub fn debug_source(&self) -> &DebugSource {
        &self.source
    }

    /// The separate debug file the DWARF was read from, if any.
    pub fn debug_file(&self) -> Option<&ElfFile> {
        self.debug_file.as_ref()
    }

    /// What the name index holds (building it if needed); zeros without DWARF.
    pub fn stats(&self) -> ModuleStats {
        let Some(index) = self.index() else {
            return ModuleStats::default();
        };
        ModuleStats {
            functions: index.functions.values().map(Vec::len).sum(),
            variables: index.globals.values().map(Vec::len).sum(),
            types: index.types.values().map(Vec::len).sum(),
            index: IndexKind::FullScan,
        }
    }

    /// The module's file.
    pub fn path(&self) -> &Path {
        self.elf.path()
    }

    /// The ELF layer (segments, symbols, file offsets).
    pub fn elf(&self) -> &ElfFile {
        &self.elf
    }

    /// Whether the module has DWARF.
    pub fn has_debug_info(&self) -> bool {
        self.has_dwarf
    }

    /// The parsed unit headers, read on first use; None without DWARF or
    /// when the headers are malformed (logged, and the module then acts as
    /// one without debug info).
    fn dwarf(&self) -> Option<&DwarfData> {
        self.dwarf
            .get_or_init(|| {
                if !self.has_dwarf {
                    return None;
                }
                let file = self.debug_file.as_ref().unwrap_or(&self.elf);
                DwarfData::load(file)
                    .map_err(|e| {
                        log::warn!("{}: malformed DWARF: {e}", file.path().display());
                    })
                    .ok()
            })
            .as_ref()
    }

    fn index(&self) -> Option<&ModuleIndex> {
        let data = self.dwarf()?;
        Some(self.index.get_or_init(|| ModuleIndex::build(data)))
    }

    /// Whether DWARF of this module may name `name` (a function, global or
    /// type): its string bytes occur in `.debug_str` or, inline, in the DIE
    /// sections. A cheap superset test, so a lookup in a large module the
    /// script does not touch (libc's separate debug file) builds no index.
    fn may_name(&self, name: &str) -> bool {
        if self.index.get().is_some() {
            return true;
        }
        let Some(file) = self.dwarf_file() else {
            return false;
        };
        let mut needle = Vec::with_capacity(name.len() + 1);
        needle.extend_from_slice(name.as_bytes());
        needle.push(0);
        [".debug_str", ".debug_info", ".debug_types"]
            .iter()
            .any(|section| file.section_contains(section, &needle))
    }

    /// Whether a line table of this module may list a file whose path ends
    /// with the last component of `wanted` (same idea as [`Module::may_name`]).
    fn may_list_file(&self, wanted: &str) -> bool {
        let Some(file) = self.dwarf_file() else {
            return false;
        };
        let base = wanted.rsplit('/').next().unwrap_or(wanted);
        let mut needle = Vec::with_capacity(base.len() + 1);
        needle.extend_from_slice(base.as_bytes());
        needle.push(0);
        [".debug_line_str", ".debug_line", ".debug_str"]
            .iter()
            .any(|section| file.section_contains(section, &needle))
    }

    /// The file the DWARF is read from, when there is DWARF.
    fn dwarf_file(&self) -> Option<&ElfFile> {
        self.has_dwarf
            .then(|| self.debug_file.as_ref().unwrap_or(&self.elf))
    }

    /// Every place where code of the function `name` starts.
    pub fn function_code(&self, name: &str) -> Vec<FunctionCode> {
        if !self.may_name(name) {
            return Vec::new();
        }
        self.index()
            .and_then(|i| i.functions.get(name))
            .cloned()
            .unwrap_or_default()
    }

    /// ELF function symbols with this exact name.
    pub fn symbols_named(&self, name: &str) -> Vec<&ElfSymbol> {
        self.elf
            .symbols()
            .iter()
            .filter(|s| s.name == name)
            .collect()
    }

    /// Names of globals and statics, sorted (for suggestions).
    pub fn global_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .index()
            .map(|i| i.globals.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Globals and file-scope statics named `name`.
    pub fn globals(&self, name: &str) -> Vec<Variable> {
        if !self.may_name(name) {
            return Vec::new();
        }
        let (Some(data), Some(index)) = (self.dwarf(), self.index()) else {
            return Vec::new();
        };
        let Some(dies) = index.globals.get(name) else {
            return Vec::new();
        };
        dies.iter()
            .filter_map(|&die| {
                let (u, entry) = data.entry(die)?;
                let ty = self.type_desc(data.type_of(die));
                Some(Variable {
                    name: name.to_string(),
                    is_parameter: false,
                    is_global: true,
                    location: variable_location(data, u, &entry, &ty, 0, &self.global_context()),
                    ty,
                    scope_depth: 0,
                })
            })
            .collect()
    }

    /// What evaluating a global's location needs: only where TLS is.
    fn global_context(&self) -> EvalContext {
        EvalContext {
            static_tls: self.static_tls(),
            ..Default::default()
        }
    }

    /// Where this module's thread-local variables are: only the
    /// executable's static block has a place fixed at link time.
    pub(crate) fn static_tls(&self) -> StaticTls {
        match (self.elf.is_executable(), self.elf.tls_segment()) {
            (false, _) => StaticTls::SharedObject,
            (true, Some(segment)) => StaticTls::Executable {
                block_offset: segment.executable_block_offset(),
            },
            (true, None) => StaticTls::None,
        }
    }

    /// Converts a type DIE (None = `void`), cached.
    pub(crate) fn type_desc(&self, die: Option<u64>) -> TypeDesc {
        if let Some(t) = self.type_cache.lock().unwrap().get(&die) {
            return t.clone();
        }
        let Some(data) = self.dwarf() else {
            return TypeDesc::Void;
        };
        let t = type_desc(data, self, die);
        self.type_cache.lock().unwrap().insert(die, t.clone());
        t
    }

    /// The type a pointer points to.
    pub fn resolve_type(&self, r: TypeRef) -> TypeDesc {
        self.type_desc(Some(r.0))
    }

    /// A named type, for `cast(…, "T")`: struct/union/enum prefixes are ignored.
    pub fn find_type(&self, name: &str) -> Option<TypeDesc> {
        let bare = name.rsplit(' ').next().unwrap_or(name);
        if !self.may_name(bare) {
            return None;
        }
        let index = self.index()?;
        let dies = index.types.get(name)?;
        // Prefer a full definition over a typedef of the same name.
        let die = dies
            .iter()
            .find(|(tag, _)| *tag != gimli::DW_TAG_typedef)
            .or_else(|| dies.first())?
            .1;
        Some(self.type_desc(Some(die)))
    }

    /// Ops that push the CFA at `pc`.
    pub fn cfa_at(&self, pc: u64) -> Option<Vec<ReadOp>> {
        self.frames.cfa_at(pc)
    }

    /// The CFI row at `pc`.
    pub(crate) fn frame_row(&self, pc: u64) -> Option<FrameRow> {
        self.frames.row_at(pc)
    }

    /// The DIE holding the address of the static local whose abstract DIE
    /// is `abstract_die`, when that is not the abstract DIE itself.
    pub(crate) fn static_local(&self, abstract_die: u64) -> Option<u64> {
        self.index()?.static_locals.get(&abstract_die).copied()
    }

    /// Functions the function `name` tail-calls directly.
    pub(crate) fn tail_callees(&self, name: &str) -> &[String] {
        self.index()
            .and_then(|i| i.tail_calls.get(name))
            .map_or(&[], |v| v.as_slice())
    }

    /// Direct calls to functions named `name` that DWARF records.
    pub(crate) fn call_sites(&self, name: &str) -> &[CallSite] {
        self.index()
            .and_then(|i| i.call_sites.get(name))
            .map_or(&[], |v| v.as_slice())
    }

    /// The module's compact unwind rows for in-kernel unwinding (see [`crate::unwind`]).
    pub fn unwind_rows(&self) -> Vec<crate::unwind::UnwindRow> {
        crate::unwind::rows_from_sections(
            self.elf.section(".eh_frame"),
            self.elf.eh_frame_address(),
            self.elf.section(".debug_frame"),
        )
    }

    /// The outermost concrete function whose code contains `pc`.
    pub fn containing_function(&self, pc: u64) -> Option<u64> {
        let data = self.dwarf()?;
        for (u, unit) in data.units.iter().enumerate() {
            let covers = data
                .dwarf
                .unit_ranges(&unit.unit)
                .ok()
                .map(|mut it| {
                    let mut hit = false;
                    while let Ok(Some(r)) = it.next() {
                        if r.begin <= pc && pc < r.end {
                            hit = true;
                            break;
                        }
                    }
                    hit
                })
                .unwrap_or(false);
            if !covers {
                continue;
            }
            let mut cursor = unit.unit.entries();
            while let Ok(Some(entry)) = cursor.next_dfs() {
                if entry.tag() == gimli::DW_TAG_subprogram
                    && data.ranges(u, entry).iter().any(|r| r.contains(&pc))
                {
                    return Some(data.global(u, entry.offset()));
                }
            }
        }
        None
    }

    /// The first instruction of a concrete function.
    pub fn function_entry_pc(&self, function_die: u64) -> Option<u64> {
        let data = self.dwarf()?;
        let (u, entry) = data.entry(function_die)?;
        data.address(u, &entry, gimli::DW_AT_entry_pc)
            .or_else(|| data.ranges(u, &entry).first().map(|r| r.start))
    }

    /// Variables visible at `pc` inside the concrete function `function_die`.
    pub fn variables_at(
        &self,
        function_die: u64,
        pc: u64,
        at_function_entry: bool,
    ) -> Vec<Variable> {
        match self.dwarf() {
            Some(data) => visible_variables(self, data, function_die, pc, at_function_entry),
            None => Vec::new(),
        }
    }

    /// The location at `pc` of the object DIE an implicit pointer points
    /// into, in the frame of the concrete function `function_die`.
    pub fn object_location(
        &self,
        function_die: u64,
        pc: u64,
        at_function_entry: bool,
        object: u64,
    ) -> Location {
        match self.dwarf() {
            Some(data) => object_location(self, data, function_die, pc, at_function_entry, object),
            None => Location::OptimizedOut,
        }
    }

    /// The name of a function DIE (following abstract origins).
    pub fn function_name(&self, die: u64) -> Option<String> {
        self.dwarf()?.name_of(die)
    }

    fn line_table(&self, u: usize) -> Option<&LineTable> {
        let data = self.dwarf()?;
        Some(
            data.units[u]
                .lines
                .get_or_init(|| LineTable::decode(data, u)),
        )
    }

    /// The file paths of unit `u`'s line table, read from its header
    /// only, so a file lookup decodes just the units that list the file.
    fn unit_file_names(&self, u: usize) -> &[String] {
        let Some(data) = self.dwarf() else {
            return &[];
        };
        data.units[u]
            .files
            .get_or_init(|| crate::lines::file_names(data, u))
    }

    fn unit_for_pc(&self, pc: u64) -> Option<usize> {
        let data = self.dwarf()?;
        data.units.iter().position(|unit| {
            data.dwarf
                .unit_ranges(&unit.unit)
                .ok()
                .map(|mut it| {
                    while let Ok(Some(r)) = it.next() {
                        if r.begin <= pc && pc < r.end {
                            return true;
                        }
                    }
                    false
                })
                .unwrap_or(false)
        })
    }

    /// The parsed DWARF, for the symbolizer.
    pub(crate) fn dwarf_data(&self) -> Option<&DwarfData> {
        self.dwarf()
    }

    /// The file names of unit `u`'s line table, by DWARF file index.
    pub(crate) fn unit_files(&self, u: usize) -> Vec<String> {
        self.line_table(u)
            .map(|t| t.files.clone())
            .unwrap_or_default()
    }

    /// The source position of `pc`.
    pub fn source_location(&self, pc: u64) -> Option<SourceLocation> {
        let u = self.unit_for_pc(pc)?;
        self.line_table(u)?.location(pc)
    }

    /// The first PC after the prologue of a concrete function, from the
    /// line table.
    pub fn prologue_end_of(&self, function_die: u64) -> Option<u64> {
        let data = self.dwarf()?;
        let (u, entry) = data.entry(function_die)?;
        let entry_pc = self.function_entry_pc(function_die)?;
        let end = data
            .ranges(u, &entry)
            .into_iter()
            .find(|r| r.contains(&entry_pc))?
            .end;
        let unit = self.unit_for_pc(entry_pc)?;
        self.line_table(unit)?.prologue_end(entry_pc, end)
    }

    /// All source files known to the line tables that match `wanted`.
    pub fn matching_source_files(&self, wanted: &str) -> Vec<String> {
        if !self.may_list_file(wanted) {
            return Vec::new();
        }
        let Some(data) = self.dwarf() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for u in 0..data.units.len() {
            for f in self.unit_file_names(u) {
                if crate::lines::path_matches(f, wanted) {
                    out.push(f.clone());
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Statement addresses of `file:line`, where `file` is an exact recorded
    /// path; a line with no statement row anywhere resolves to its other
    /// rows, as the reference does (script-language §3.2).
    pub fn line_addresses(&self, file: &str, line: u32) -> Vec<u64> {
        let statements = self.line_rows(file, line, true);
        if !statements.is_empty() {
            return statements;
        }
        self.line_rows(file, line, false)
    }

    fn line_rows(&self, file: &str, line: u32, statements: bool) -> Vec<u64> {
        let Some(data) = self.dwarf() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for u in 0..data.units.len() {
            if !self.unit_file_names(u).iter().any(|f| f == file) {
                continue;
            }
            if let Some(table) = self.line_table(u) {
                let files: Vec<u32> = table
                    .files
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| *f == file)
                    .map(|(i, _)| i as u32)
                    .collect();
                if !files.is_empty() {
                    out.extend(table.line_addresses(&files, line, statements));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl DefinitionLookup for Module {
    fn definition(&self, tag: gimli::DwTag, name: &str) -> Option<u64> {
        self.index()?
            .types
            .get(name)?
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, die)| *die)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lookup of a name the module's strings do not hold must not parse
    /// its DWARF or build its index (the cost libc's debug file used to add
    /// to every `-p` startup).
    #[test]
    fn lookups_of_absent_names_stay_cheap() {
        let module = Module::open(Path::new("/proc/self/exe")).unwrap();
        assert!(module.has_debug_info(), "test binaries carry DWARF");
        assert!(
            module.dwarf.get().is_none(),
            "opening parses no unit headers"
        );
        let absent = "no_function_is_called_this_7f3a9c";
        assert!(module.function_code(&absent[..absent.len() - 1]).is_empty());
        assert!(module.globals("no_global_is_called_this_7f3a9").is_empty());
        assert!(module
            .find_type("struct no_type_is_called_this_7f3a9")
            .is_none());
        assert!(module
            .matching_source_files("no_file_is_called_this_7f3a9.c")
            .is_empty());
        assert!(
            module.dwarf.get().is_none(),
            "no lookup parsed unit headers"
        );
        assert!(module.index.get().is_none(), "no lookup built the index");
    }
}
