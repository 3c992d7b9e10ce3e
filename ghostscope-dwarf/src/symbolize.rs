//! Backtrace frames → function names, parameters, source positions and
//! inlined calls (output.md §6.1), from each module's DWARF.
//!
//! A [`Symbolizer`] holds the session's modules (not the session), so it
//! keeps working after the session is dropped, and caches each answer:
//! a hot stack repeats the same few PCs on every hit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ghostscope_protocol::backtrace::{FrameSymbolizer, InlinedCall, SourcePos, SymbolizedFrame};

use crate::dwarf_data::{Die, DwarfData};
use crate::module::Module;
use crate::session::DebugSession;

/// Symbolizes frames of one session's modules.
pub struct Symbolizer {
    modules: Vec<Arc<Module>>,
    cache: Mutex<HashMap<(u16, u64), SymbolizedFrame>>,
}

impl std::fmt::Debug for Symbolizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Symbolizer")
            .field("modules", &self.modules.len())
            .finish()
    }
}

impl Symbolizer {
    /// A symbolizer for the modules of `session`, by session index.
    pub fn new(session: &DebugSession) -> Symbolizer {
        Symbolizer {
            modules: session.modules().iter().map(|m| m.module.clone()).collect(),
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl FrameSymbolizer for Symbolizer {
    fn symbolize(&self, module: u16, pc: u64) -> SymbolizedFrame {
        if let Some(hit) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(&(module, pc)).cloned())
        {
            return hit;
        }
        let frame = self
            .modules
            .get(module as usize)
            .map(|m| symbolize(m, pc))
            .unwrap_or_default();
        if let Ok(mut c) = self.cache.lock() {
            c.insert((module, pc), frame.clone());
        }
        frame
    }
}

/// Everything DWARF says about `pc` in `module`.
pub(crate) fn symbolize(module: &Module, pc: u64) -> SymbolizedFrame {
    let Some(data) = module.dwarf_data() else {
        return SymbolizedFrame::default();
    };
    let location = module.source_location(pc).map(|l| SourcePos {
        file: l.file,
        line: l.line,
        column: l.column,
    });
    let Some(function) = module.containing_function(pc) else {
        return SymbolizedFrame {
            known: location.is_some(),
            location,
            ..SymbolizedFrame::default()
        };
    };
    let Some((u, entry)) = data.entry(function) else {
        return SymbolizedFrame::default();
    };
    let params = data
        .children(u, &entry)
        .iter()
        .filter(|c| c.tag() == gimli::DW_TAG_formal_parameter)
        .filter_map(|c| {
            let die = data.global(u, c.offset());
            if is_artificial(data, die) {
                return None;
            }
            let name = data.name_of(die)?;
            let ty = data
                .type_of(die)
                .map(|t| display_name(data, t, false, 0))
                .unwrap_or_else(|| "void".to_string());
            Some(format!("{ty} {name}"))
        })
        .collect();
    let mut chain = Vec::new();
    inlined_chain(data, u, &entry, pc, &mut chain, 0);
    let files = module.unit_files(u);
    let inlined = chain
        .iter()
        .rev()
        .map(|inl| InlinedCall {
            function: data.name_of(data.global(u, inl.offset())),
            call_site: call_site(inl, &files),
        })
        .collect();
    SymbolizedFrame {
        function: data.name_of(function),
        params,
        location,
        inlined,
        known: true,
    }
}

/// Whether a parameter is compiler-made (`this`), also through its origin.
fn is_artificial(data: &DwarfData, die: u64) -> bool {
    matches!(
        data.inherited_attr(die, gimli::DW_AT_artificial),
        Some((_, gimli::AttributeValue::Flag(true)))
    )
}

/// Inlined subroutines that contain `pc` below `entry`, outermost first.
fn inlined_chain(data: &DwarfData, u: usize, entry: &Die, pc: u64, out: &mut Vec<Die>, depth: u32) {
    if depth > 64 {
        return;
    }
    for child in data.children(u, entry) {
        let tag = child.tag();
        if tag != gimli::DW_TAG_inlined_subroutine && tag != gimli::DW_TAG_lexical_block {
            continue;
        }
        if !data.ranges(u, &child).iter().any(|r| r.contains(&pc)) {
            continue;
        }
        if tag == gimli::DW_TAG_inlined_subroutine {
            out.push(child.clone());
        }
        inlined_chain(data, u, &child, pc, out, depth + 1);
        return;
    }
}

/// `DW_AT_call_file`/`call_line`/`call_column` of an inlined subroutine.
fn call_site(inl: &Die, files: &[String]) -> Option<SourcePos> {
    let file = DwarfData::udata(inl, gimli::DW_AT_call_file)?;
    let line = DwarfData::udata(inl, gimli::DW_AT_call_line)?;
    Some(SourcePos {
        file: files.get(file as usize).cloned().unwrap_or_default(),
        line: line as u32,
        column: DwarfData::udata(inl, gimli::DW_AT_call_column).unwrap_or(0) as u32,
    })
}

/// The display name of a type (output.md §3.9): typedefs and qualifiers
/// see through to the named type, no `struct` keyword, and a pointer is
/// its pointee's display name plus `*`, where a pointee that is itself a
/// pointer, function or array shows as `void` (`char **` → `void*`).
fn display_name(data: &DwarfData, die: u64, as_pointee: bool, depth: u32) -> String {
    let Some((u, entry)) = data.entry(die).filter(|_| depth < 16) else {
        return "void".to_string();
    };
    let name = || data.string(u, &entry, gimli::DW_AT_name);
    let target = || data.reference(u, &entry, gimli::DW_AT_type);
    match entry.tag() {
        gimli::DW_TAG_base_type
        | gimli::DW_TAG_structure_type
        | gimli::DW_TAG_class_type
        | gimli::DW_TAG_union_type
        | gimli::DW_TAG_enumeration_type => name().unwrap_or_default(),
        gimli::DW_TAG_typedef => match target() {
            None => name().unwrap_or_default(),
            Some(t) => {
                let inner = display_name(data, t, as_pointee, depth + 1);
                // An anonymous struct, or a pointee with no name of its own, takes the typedef's name.
                if inner.is_empty() || (as_pointee && inner == "void" && !is_void(data, t)) {
                    name().unwrap_or(inner)
                } else {
                    inner
                }
            }
        },
        gimli::DW_TAG_const_type
        | gimli::DW_TAG_volatile_type
        | gimli::DW_TAG_restrict_type
        | gimli::DW_TAG_atomic_type => match target() {
            Some(t) => display_name(data, t, as_pointee, depth + 1),
            None => "void".to_string(),
        },
        gimli::DW_TAG_pointer_type
        | gimli::DW_TAG_reference_type
        | gimli::DW_TAG_rvalue_reference_type => {
            if as_pointee {
                "void".to_string()
            } else {
                let pointee = target()
                    .map(|t| display_name(data, t, true, depth + 1))
                    .unwrap_or_else(|| "void".to_string());
                format!("{pointee}*")
            }
        }
        gimli::DW_TAG_array_type if !as_pointee => match target() {
            Some(t) => format!("{}[]", display_name(data, t, false, depth + 1)),
            None => "void[]".to_string(),
        },
        _ => "void".to_string(),
    }
}

/// Whether a type DIE is `void` (no type) after qualifiers and typedefs.
fn is_void(data: &DwarfData, die: u64) -> bool {
    let mut current = die;
    for _ in 0..16 {
        let Some((u, entry)) = data.entry(current) else {
            return true;
        };
        match entry.tag() {
            gimli::DW_TAG_typedef
            | gimli::DW_TAG_const_type
            | gimli::DW_TAG_volatile_type
            | gimli::DW_TAG_restrict_type => match data.reference(u, &entry, gimli::DW_AT_type) {
                Some(t) => current = t,
                None => return true,
            },
            gimli::DW_TAG_unspecified_type => return true,
            _ => return false,
        }
    }
    true
}
