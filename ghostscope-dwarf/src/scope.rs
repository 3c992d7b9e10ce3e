//! Variables visible at a PC: a function's parameters and locals, the
//! lexical blocks and inlined calls that contain the PC, innermost first.

use ghostscope_protocol::TypeDesc;
use gimli::AttributeValue;

use crate::abi::{
    entry_locations, follows_c_convention, nontrivial_for_calls, returns_in_memory, EntryParam,
};
use crate::dwarf_data::{Die, DwarfData};
use crate::location::{translate, EvalContext, Location, ReadOp};
use crate::module::Module;
use crate::registers::{RBP, RSP};

/// A variable as seen from one probe PC.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Source name.
    pub name: String,
    /// Whether it is a formal parameter.
    pub is_parameter: bool,
    /// Whether it is a global or file/namespace-scope static.
    pub is_global: bool,
    /// Its type.
    pub ty: TypeDesc,
    /// Where its bytes are at the PC.
    pub location: Location,
    /// 0 for the function's own scope, larger for nested blocks and inlined calls.
    pub scope_depth: u32,
}

/// Walks the scope tree of the concrete function `function_die` at `pc`.
pub(crate) fn visible_variables(
    module: &Module,
    data: &DwarfData,
    function_die: u64,
    pc: u64,
    at_function_entry: bool,
) -> Vec<Variable> {
    let Some((u, func)) = data.entry(function_die) else {
        return Vec::new();
    };
    let cfa = module.cfa_at(pc);
    let frame_base = func.attr(gimli::DW_AT_frame_base).and_then(|a| {
        let expr = a.exprloc_value()?;
        let ctx = EvalContext {
            cfa: cfa.clone(),
            ..Default::default()
        };
        match translate(
            expr,
            data.units[u].unit.encoding(),
            &ctx,
            &data.address_index(u),
        ) {
            Location::Register(r) => Some(vec![ReadOp::Register(r)]),
            Location::Memory(ops) | Location::Value(ops) => Some(ops),
            _ => None,
        }
    });
    let ctx = EvalContext {
        frame_base,
        cfa: cfa.clone(),
        at_function_entry,
        static_tls: module.static_tls(),
    };
    let mut found: Vec<(Die, usize, u32)> = Vec::new();
    collect(data, u, &func, pc, 0, &mut found);

    let mut vars: Vec<Variable> = Vec::with_capacity(found.len());
    let mut type_dies: Vec<Option<u64>> = Vec::with_capacity(found.len());
    for (entry, unit, depth) in &found {
        let die = data.global(*unit, entry.offset());
        let type_die = data.type_of(die);
        vars.push(Variable {
            name: data.name_of(die).unwrap_or_default(),
            is_parameter: entry.tag() == gimli::DW_TAG_formal_parameter,
            is_global: false,
            ty: module.type_desc(type_die),
            location: variable_location(data, *unit, entry, pc, &ctx),
            scope_depth: *depth,
        });
        type_dies.push(type_die);
    }

    if at_function_entry {
        let language = data.language(u);
        if follows_c_convention(language) {
            // Unnamed parameters still take their argument registers, so
            // the ABI is applied before they are dropped.
            apply_entry_abi(
                module,
                data,
                function_die,
                &mut vars,
                &type_dies,
                cfa.as_deref(),
            );
        } else {
            mark_unstored_parameters(&mut vars, language);
        }
    }
    vars.retain(|v| !v.name.is_empty());
    // Innermost scope first; declaration order within a scope.
    vars.sort_by_key(|v| std::cmp::Reverse(v.scope_depth));
    vars
}

/// Replaces frame-relative parameter locations, which are not yet valid at
/// the first instruction, with where the caller passed the arguments.
/// `type_dies` holds the type DIE of each variable.
fn apply_entry_abi(
    module: &Module,
    data: &DwarfData,
    function_die: u64,
    vars: &mut [Variable],
    type_dies: &[Option<u64>],
    cfa: Option<&[ReadOp]>,
) {
    let Some(cfa) = cfa else { return };
    let params: Vec<usize> = vars
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_parameter && v.scope_depth == 0)
        .map(|(i, _)| i)
        .collect();
    if !params.iter().any(|&i| is_frame_relative(&vars[i].location)) {
        return;
    }
    let entry_params: Vec<EntryParam> = params
        .iter()
        .map(|&i| EntryParam {
            ty: vars[i].ty.clone(),
            // -O0 code describes by-reference arguments as a frame slot that
            // holds the address: `DW_OP_fbreg N; DW_OP_deref`.
            by_reference: matches!(&vars[i].location, Location::Memory(ops)
                if ops.iter().any(|op| matches!(op, ReadOp::Deref { .. })))
                || nontrivial_for_calls(data, type_dies[i]),
        })
        .collect();
    let ret_die = data.type_of(function_die);
    let ret = module.type_desc(ret_die);
    let hidden_result = returns_in_memory(&ret) || nontrivial_for_calls(data, ret_die);
    let locations = entry_locations(&entry_params, hidden_result, cfa);
    for (&i, loc) in params.iter().zip(locations) {
        if is_frame_relative(&vars[i].location) {
            vars[i].location = loc;
        }
    }
}

/// Whether a location is a stack slot: memory addressed from the stack or
/// frame pointer (or the CFA, which is `rsp + 8` at entry). The prologue of
/// unoptimised code has not yet filled such slots at the first instruction.
/// Memory addressed from another register (a by-reference argument in
/// `rdi`) is where DWARF says already.
fn is_frame_relative(location: &Location) -> bool {
    match location {
        Location::Memory(ops) => ops
            .iter()
            .any(|op| matches!(op, ReadOp::Register(RSP | RBP))),
        _ => false,
    }
}

/// In code that does not follow the C calling convention, where a parameter
/// is at the first instruction is not known: a frame-relative parameter is
/// reported unreadable there (the probe then moves past the prologue, where
/// the DWARF location holds).
fn mark_unstored_parameters(vars: &mut [Variable], language: Option<gimli::DwLang>) {
    let language = match language {
        Some(gimli::DW_LANG_Rust) => "Rust".to_string(),
        Some(other) => other.static_string().unwrap_or("this language").to_string(),
        None => "code without a DW_AT_language".to_string(),
    };
    for v in vars
        .iter_mut()
        .filter(|v| v.is_parameter && v.scope_depth == 0 && is_frame_relative(&v.location))
    {
        v.location = Location::Unavailable(format!(
            "{language} does not pass arguments by the C calling convention, and at the function's first instruction the prologue has not yet stored '{}' where its DWARF location says",
            v.name
        ));
    }
}

fn collect(
    data: &DwarfData,
    u: usize,
    scope: &Die,
    pc: u64,
    depth: u32,
    out: &mut Vec<(Die, usize, u32)>,
) {
    for child in data.children(u, scope) {
        match child.tag() {
            gimli::DW_TAG_formal_parameter | gimli::DW_TAG_variable => out.push((child, u, depth)),
            gimli::DW_TAG_lexical_block | gimli::DW_TAG_inlined_subroutine => {
                let ranges = data.ranges(u, &child);
                if ranges.is_empty() || ranges.iter().any(|r| r.contains(&pc)) {
                    collect(data, u, &child, pc, depth + 1, out);
                }
            }
            _ => {}
        }
    }
}

/// The location of a variable DIE at `pc`.
pub(crate) fn variable_location(
    data: &DwarfData,
    u: usize,
    entry: &Die,
    pc: u64,
    ctx: &EvalContext,
) -> Location {
    let unit = &data.units[u].unit;
    let addrs = data.address_index(u);
    if let Some(attr) = entry.attr(gimli::DW_AT_location) {
        if let Some(expr) = attr.exprloc_value() {
            return translate(expr, unit.encoding(), ctx, &addrs);
        }
        let Ok(Some(mut list)) = data.dwarf.attr_locations(unit, attr.value()) else {
            return Location::Unavailable("unreadable location list".into());
        };
        while let Ok(Some(item)) = list.next() {
            if item.range.begin <= pc && pc < item.range.end {
                return translate(item.data, unit.encoding(), ctx, &addrs);
            }
        }
        return Location::OptimizedOut;
    }
    match entry.attr_value(gimli::DW_AT_const_value) {
        Some(value) => const_bytes(value).map_or(Location::OptimizedOut, Location::Implicit),
        None => Location::OptimizedOut,
    }
}

fn const_bytes(value: AttributeValue<crate::dwarf_data::Slice>) -> Option<Vec<u8>> {
    Some(match value {
        AttributeValue::Sdata(v) => v.to_le_bytes().to_vec(),
        AttributeValue::Udata(v) => v.to_le_bytes().to_vec(),
        AttributeValue::Data1(v) => vec![v],
        AttributeValue::Data2(v) => v.to_le_bytes().to_vec(),
        AttributeValue::Data4(v) => v.to_le_bytes().to_vec(),
        AttributeValue::Data8(v) => v.to_le_bytes().to_vec(),
        AttributeValue::Block(b) => b.slice().to_vec(),
        _ => return None,
    })
}
