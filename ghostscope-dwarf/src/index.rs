//! The name index of one module, built by one pass over every DIE.
//!
//! It answers "where is code for function F", "which DIE defines global G",
//! and "which DIE defines type T". Everything else is read on demand.

use std::collections::HashMap;

use gimli::AttributeValue;

use crate::dwarf_data::{Die, DwarfData};

/// How a piece of code for a function came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// An out-of-line copy with its own entry.
    OutOfLine,
    /// A copy inlined into a caller.
    Inlined,
}

/// One place in the module where a function's code starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCode {
    /// The concrete DIE: a `DW_TAG_subprogram` or `DW_TAG_inlined_subroutine`.
    pub die: u64,
    /// Out-of-line or inlined.
    pub kind: CodeKind,
    /// Module-relative entry address.
    pub entry_pc: u64,
    /// End of the range that holds the entry (for prologue analysis).
    pub entry_range_end: u64,
}

/// A call recorded in DWARF (`DW_TAG_call_site`, or gcc's DWARF 4
/// `DW_TAG_GNU_call_site`), for recovering the callee's entry values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallSite {
    /// The call-site DIE; its children are the parameters.
    pub(crate) die: u64,
    /// The callee DIE it names (a definition, abstract instance or declaration).
    pub(crate) callee: u64,
    /// The outermost concrete function the call is in.
    pub(crate) caller: u64,
    /// Module-relative address the call returns to (0 for a tail call).
    pub(crate) return_pc: u64,
    /// A tail call: the callee returns to the caller's caller.
    pub(crate) tail: bool,
}

/// Name → DIE maps of one module.
#[derive(Debug, Default)]
pub(crate) struct ModuleIndex {
    pub(crate) functions: HashMap<String, Vec<FunctionCode>>,
    pub(crate) globals: HashMap<String, Vec<u64>>,
    pub(crate) types: HashMap<String, Vec<(gimli::DwTag, u64)>>,
    /// Direct calls, by the callee's name.
    pub(crate) call_sites: HashMap<String, Vec<CallSite>>,
    /// Direct tail calls: caller name → callee names.
    pub(crate) tail_calls: HashMap<String, Vec<String>>,
    /// Static locals described away from their abstract DIE (gcc -flto
    /// puts the address in a separate instance of the function): abstract
    /// variable DIE → the DIE with the location.
    pub(crate) static_locals: HashMap<u64, u64>,
}

/// What one thread's scan of some units found.
#[derive(Default)]
struct PartialIndex {
    index: ModuleIndex,
    subprograms: HashMap<u64, SubprogramInfo>,
    candidates: Vec<CodeCandidate>,
    calls: Vec<CallSite>,
}

/// What the scan remembers about each subprogram DIE, to name the concrete
/// copies that only point at it.
struct SubprogramInfo {
    name: Option<String>,
    link: Option<u64>,
}

struct CodeCandidate {
    die: u64,
    origin: Option<u64>,
    own_name: Option<String>,
    kind: CodeKind,
    entry_pc: u64,
    entry_range_end: u64,
}

impl ModuleIndex {
    /// Scans every unit of `data`, splitting the units across the CPUs.
    pub(crate) fn build(data: &DwarfData) -> ModuleIndex {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(data.units.len().max(1));
        let chunk = data.units.len().div_ceil(threads).max(1);
        let units: Vec<usize> = (0..data.units.len()).collect();
        let parts: Vec<PartialIndex> = std::thread::scope(|s| {
            let handles: Vec<_> = units
                .chunks(chunk)
                .map(|us| {
                    s.spawn(move || {
                        let mut part = PartialIndex::default();
                        for &u in us {
                            scan_unit(data, u, &mut part);
                        }
                        part
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut index = ModuleIndex::default();
        let mut subprograms: HashMap<u64, SubprogramInfo> = HashMap::new();
        let mut candidates: Vec<CodeCandidate> = Vec::new();
        let mut calls: Vec<CallSite> = Vec::new();
        for part in parts {
            for (k, v) in part.index.globals {
                index.globals.entry(k).or_default().extend(v);
            }
            for (k, v) in part.index.types {
                index.types.entry(k).or_default().extend(v);
            }
            index.static_locals.extend(part.index.static_locals);
            subprograms.extend(part.subprograms);
            candidates.extend(part.candidates);
            calls.extend(part.calls);
        }
        // Units were scanned out of order; keep the lists in DIE order.
        for dies in index.globals.values_mut() {
            dies.sort_unstable();
        }
        for dies in index.types.values_mut() {
            dies.sort_unstable_by_key(|(_, die)| *die);
        }
        let name_of = |mut link: Option<u64>| {
            for _ in 0..8 {
                let info = subprograms.get(&link?)?;
                if let Some(n) = &info.name {
                    return Some(n.clone());
                }
                link = info.link;
            }
            None
        };
        for call in calls {
            let Some(name) = name_of(Some(call.callee)) else {
                continue;
            };
            if call.tail {
                if let Some(caller) = name_of(Some(call.caller)) {
                    index
                        .tail_calls
                        .entry(caller)
                        .or_default()
                        .push(name.clone());
                }
            }
            index.call_sites.entry(name).or_default().push(call);
        }
        for c in candidates {
            let name = c.own_name.clone().or_else(|| name_of(c.origin));
            let Some(name) = name else { continue };
            index.functions.entry(name).or_default().push(FunctionCode {
                die: c.die,
                kind: c.kind,
                entry_pc: c.entry_pc,
                entry_range_end: c.entry_range_end,
            });
        }
        for codes in index.functions.values_mut() {
            codes.sort_by_key(|c| (c.entry_pc, c.die));
            codes.dedup_by_key(|c| c.entry_pc);
        }
        index
    }
}

fn scan_unit(data: &DwarfData, u: usize, part: &mut PartialIndex) {
    let PartialIndex {
        index,
        subprograms,
        candidates,
        calls,
    } = part;
    let unit = &data.units[u].unit;
    let mut cursor = unit.entries();
    // Depth and DIE of the outermost enclosing subprogram, if any.
    let mut function_depth: Option<isize> = None;
    let mut function_die = 0;
    while let Ok(Some(entry)) = cursor.next_dfs() {
        let depth = entry.depth();
        if function_depth.is_some_and(|d| depth <= d) {
            function_depth = None;
        }
        let die = data.global(u, entry.offset());
        match entry.tag() {
            gimli::DW_TAG_subprogram => {
                let name = data.string(u, entry, gimli::DW_AT_name);
                let link = data
                    .reference(u, entry, gimli::DW_AT_abstract_origin)
                    .or_else(|| data.reference(u, entry, gimli::DW_AT_specification));
                if let Some((entry_pc, end)) = code_entry(data, u, entry) {
                    candidates.push(CodeCandidate {
                        die,
                        origin: link,
                        own_name: name.clone(),
                        kind: CodeKind::OutOfLine,
                        entry_pc,
                        entry_range_end: end,
                    });
                }
                subprograms.insert(die, SubprogramInfo { name, link });
                if function_depth.is_none() {
                    function_depth = Some(depth);
                    function_die = die;
                }
            }
            gimli::DW_TAG_call_site | gimli::DW_TAG_GNU_call_site if function_depth.is_some() => {
                let callee = data
                    .reference(u, entry, gimli::DW_AT_call_origin)
                    .or_else(|| data.reference(u, entry, gimli::DW_AT_abstract_origin));
                let tail = DwarfData::flag(entry, gimli::DW_AT_call_tail_call)
                    || DwarfData::flag(entry, gimli::DW_AT_GNU_tail_call);
                let return_pc = data
                    .address(u, entry, gimli::DW_AT_call_return_pc)
                    .or_else(|| data.address(u, entry, gimli::DW_AT_low_pc))
                    .unwrap_or(0);
                if let Some(callee) = callee {
                    calls.push(CallSite {
                        die,
                        callee,
                        caller: function_die,
                        return_pc: if tail { 0 } else { return_pc },
                        tail,
                    });
                }
            }
            gimli::DW_TAG_inlined_subroutine => {
                if let Some((entry_pc, end)) = code_entry(data, u, entry) {
                    candidates.push(CodeCandidate {
                        die,
                        origin: data.reference(u, entry, gimli::DW_AT_abstract_origin),
                        own_name: None,
                        kind: CodeKind::Inlined,
                        entry_pc,
                        entry_range_end: end,
                    });
                }
            }
            // Globals and file-scope statics: variables outside any function
            // that have storage (or a constant value).
            gimli::DW_TAG_variable
                if function_depth.is_none()
                    && !DwarfData::flag(entry, gimli::DW_AT_declaration)
                    && (entry.attr(gimli::DW_AT_location).is_some()
                        || entry.attr(gimli::DW_AT_const_value).is_some()) =>
            {
                // gcc -flto gives the definition only an abstract origin
                // (the early-debug DIE) that carries the name.
                let name = data.string(u, entry, gimli::DW_AT_name).or_else(|| {
                    data.reference(u, entry, gimli::DW_AT_specification)
                        .or_else(|| data.reference(u, entry, gimli::DW_AT_abstract_origin))
                        .and_then(|s| data.name_of(s))
                });
                if let Some(name) = name {
                    index.globals.entry(name).or_default().push(die);
                }
            }
            gimli::DW_TAG_variable if function_depth.is_some() && has_static_storage(entry) => {
                if let Some(origin) = data.reference(u, entry, gimli::DW_AT_abstract_origin) {
                    index.static_locals.insert(origin, die);
                }
            }
            tag @ (gimli::DW_TAG_base_type
            | gimli::DW_TAG_structure_type
            | gimli::DW_TAG_class_type
            | gimli::DW_TAG_union_type
            | gimli::DW_TAG_enumeration_type
            | gimli::DW_TAG_typedef)
                if !DwarfData::flag(entry, gimli::DW_AT_declaration) =>
            {
                if let Some(name) = data.string(u, entry, gimli::DW_AT_name) {
                    index.types.entry(name).or_default().push((tag, die));
                }
            }
            _ => {}
        }
    }
}

/// Whether a variable's location is a fixed address (`DW_OP_addr` or
/// `DW_OP_addrx` first): a static, not a value in a frame.
fn has_static_storage(entry: &Die) -> bool {
    let Some(expr) = entry
        .attr(gimli::DW_AT_location)
        .and_then(|a| a.exprloc_value())
    else {
        return false;
    };
    matches!(
        expr.0.slice().first().copied().map(gimli::DwOp),
        Some(gimli::DW_OP_addr | gimli::DW_OP_addrx)
    )
}

/// The entry PC of a concrete function or inlined copy, and the end of the
/// range holding it: `DW_AT_entry_pc`, else `DW_AT_low_pc`, else the first
/// range of `DW_AT_ranges` (the hot part of a hot/cold split).
pub(crate) fn code_entry(data: &DwarfData, u: usize, entry: &Die) -> Option<(u64, u64)> {
    let ranges = data.ranges(u, entry);
    let first = ranges.first()?.clone();
    let entry_pc = match entry.attr_value(gimli::DW_AT_entry_pc) {
        // DWARF 5 allows a constant offset from the DIE's base address.
        Some(AttributeValue::Udata(off)) => Some(first.start + off),
        Some(_) => data.address(u, entry, gimli::DW_AT_entry_pc),
        None => None,
    }
    .unwrap_or(first.start);
    let end = ranges
        .iter()
        .find(|r| r.contains(&entry_pc))
        .map_or(first.end, |r| r.end);
    if entry_pc == 0 {
        return None;
    }
    Some((entry_pc, end))
}
