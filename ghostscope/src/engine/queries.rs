//! Read-only questions about the traced program, answered from the debug
//! session: `info function|line|address`, the source file list, lines with
//! code, function names for completion, `info file` and `info share`.

use std::collections::BTreeMap;

use ghostscope_compiler::ast::TracePattern;
use ghostscope_compiler::{parse_trace_block, resolve_pattern};
use ghostscope_dwarf::{read_mappings, summarize_elf, DebugSession, ElfKind, Location, Module};
use ghostscope_protocol::session::{
    AddressDescription, FileInfo, ModuleSources, SharedLibrary, VariableDescription,
};

use super::{is_inline, source_position};

/// Every address `target` resolves to, numbered from 1 as `trace <target>
/// [index]` takes them, with the variables visible there. `verbose` adds
/// the DWARF location of each variable.
pub fn describe(
    session: &DebugSession,
    target: &str,
    verbose: bool,
) -> Result<Vec<AddressDescription>, String> {
    let block = parse_trace_block(target, "").map_err(|e| e.message)?;
    let sites =
        resolve_pattern(session, &block.pattern).map_err(|message| match &block.pattern {
            TracePattern::Function { name, .. } => {
                format!("Function '{name}' not found in any loaded module")
            }
            _ => message,
        })?;
    Ok(sites
        .iter()
        .enumerate()
        .map(|(i, site)| AddressDescription {
            index: i + 1,
            pc: site.pc,
            module: session.module_path(site.module).display().to_string(),
            function: site.function_name.clone(),
            inline: is_inline(site),
            source: source_position(session, site),
            variables: session
                .variables_at(site)
                .into_iter()
                .map(|v| VariableDescription {
                    type_name: v.ty.name(),
                    is_parameter: v.is_parameter,
                    availability: variable_availability(&v.location).0,
                    location: if verbose {
                        v.location.describe()
                    } else {
                        String::new()
                    },
                    name: v.name,
                })
                .collect(),
        })
        .collect())
}

/// Whether a variable can be read, and how: (`available`, `optimized out`,
/// `unsupported: …` — output.md §9; the lowering: `user memory read`, …).
pub fn variable_availability(loc: &Location) -> (String, &'static str) {
    let (availability, lowering): (String, &'static str) = match loc {
        Location::Memory(_) => ("available".into(), "user memory read"),
        Location::Register(_) | Location::Value(_) | Location::Implicit(_) => {
            ("available".into(), "direct value")
        }
        Location::Pieces(p) => (
            if p.iter().all(|p| p.location.is_readable()) {
                "available".into()
            } else {
                "partially available".into()
            },
            "composite",
        ),
        Location::ImplicitPointer { .. } => (
            "requires: dereference (implicit pointer)".into(),
            "unavailable",
        ),
        Location::OptimizedOut => ("optimized out".into(), "unavailable"),
        Location::Unavailable(r) => (format!("unsupported: {r}"), "unavailable"),
    };
    if loc.needs_caller_values() {
        // Readable only when the hit's caller is one whose call site
        // records the argument; other hits print `<entry not captured>`.
        return (
            "requires: the caller's call-site value (DW_OP_entry_value)".into(),
            lowering,
        );
    }
    (availability, lowering)
}

/// The source files of every module that has any, in module order.
pub fn source_files(session: &DebugSession) -> Vec<ModuleSources> {
    session
        .modules()
        .iter()
        .map(|m| ModuleSources {
            module: m.module.path().display().to_string(),
            files: m.module.source_files(),
        })
        .filter(|m| !m.files.is_empty())
        .collect()
}

/// What `f` finds in every module, sorted, without duplicates.
fn in_every_module<T: Ord>(session: &DebugSession, f: impl Fn(&Module) -> Vec<T>) -> Vec<T> {
    let mut all: Vec<T> = session
        .modules()
        .iter()
        .flat_map(|m| f(&m.module))
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Lines of `file` with code, in every module that has the file.
pub fn lines_with_code(session: &DebugSession, file: &str) -> Vec<u32> {
    in_every_module(session, |m| m.lines_with_code(file))
}

/// At most `limit` function names starting with `prefix`, sorted, from
/// every module.
pub fn function_names(session: &DebugSession, prefix: &str, limit: usize) -> Vec<String> {
    let mut names = in_every_module(session, |m| m.function_names_with_prefix(prefix));
    names.truncate(limit);
    names
}

/// `info file`: the main module.
pub fn file_info(session: &DebugSession) -> Result<FileInfo, String> {
    let main = &session.modules()[session.primary_module()].module;
    let summary = summarize_elf(main.path()).map_err(|e| e.to_string())?;
    Ok(FileInfo {
        path: main.path().display().to_string(),
        elf_type: match summary.kind {
            ElfKind::Executable => "EXEC",
            ElfKind::PieExecutable => "DYN (PIE)",
            ElfKind::SharedObject => "DYN (shared object)",
            ElfKind::Other => "OTHER",
        }
        .to_string(),
        entry: summary.entry,
        has_symbols: summary.has_symtab,
        debug: match main.debug_source().file() {
            Some(file) => format!("{} {}", main.debug_source().label(), file.display()),
            None => main.debug_source().label().to_string(),
        },
        text: summary.text,
        data: summary.data,
        mode: match session.pid() {
            Some(pid) => format!("PID {pid}"),
            None => "static target".to_string(),
        },
    })
}

/// `info share`: every library mapped by the traced process other than
/// its executable, by first address. Empty without a process.
pub fn shared_libraries(session: &DebugSession) -> Result<Vec<SharedLibrary>, String> {
    let Some(pid) = session.pid() else {
        return Ok(Vec::new());
    };
    let mappings = read_mappings(pid).map_err(|e| e.to_string())?;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut ranges: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for m in mappings
        .iter()
        .filter(|m| m.path != exe && m.path.starts_with('/'))
    {
        let r = ranges.entry(m.path.clone()).or_insert((m.start, m.end));
        r.0 = r.0.min(m.start);
        r.1 = r.1.max(m.end);
    }
    let mut libs: Vec<SharedLibrary> = ranges
        .into_iter()
        .map(|(path, (from, to))| {
            let module = session
                .modules()
                .iter()
                .map(|m| &m.module)
                .find(|m| m.path().display().to_string() == path);
            SharedLibrary {
                from,
                to,
                has_symbols: module.is_some_and(|m| !m.elf().symbols().is_empty()),
                has_debug: module.is_some_and(|m| m.has_debug_info()),
                debug_file: module
                    .and_then(|m| m.debug_source().file())
                    .map(|f| f.display().to_string()),
                path,
            }
        })
        .collect();
    libs.sort_by_key(|l| l.from);
    Ok(libs)
}
