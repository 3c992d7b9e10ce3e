//! Variables visible at a PC: a function's parameters and locals, the
//! lexical blocks and inlined calls that contain the PC, innermost first.

use ghostscope_protocol::TypeDesc;
use gimli::AttributeValue;

use crate::abi::{entry_locations, returns_in_memory, EntryParam};
use crate::dwarf_data::{Die, DwarfData};
use crate::location::{translate, EvalContext, Location, ReadOp};
use crate::module::Module;

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
    };
    let mut found: Vec<(Die, usize, u32)> = Vec::new();
    collect(data, u, &func, pc, 0, &mut found);

    let mut vars: Vec<Variable> = found
        .iter()
        .map(|(entry, unit, depth)| {
            let die = data.global(*unit, entry.offset());
            Variable {
                name: data.name_of(die).unwrap_or_default(),
                is_parameter: entry.tag() == gimli::DW_TAG_formal_parameter,
                is_global: false,
                ty: module.type_desc(data.type_of(die)),
                location: variable_location(data, *unit, entry, pc, &ctx),
                scope_depth: *depth,
            }
        })
        .filter(|v| !v.name.is_empty())
        .collect();

    if at_function_entry {
        apply_entry_abi(module, data, function_die, &mut vars, cfa.as_deref());
    }
    // Innermost scope first; declaration order within a scope.
    vars.sort_by_key(|v| std::cmp::Reverse(v.scope_depth));
    vars
}

/// Replaces frame-relative parameter locations, which are not yet valid at
/// the first instruction, with where the caller passed the arguments.
fn apply_entry_abi(
    module: &Module,
    data: &DwarfData,
    function_die: u64,
    vars: &mut [Variable],
    cfa: Option<&[ReadOp]>,
) {
    let Some(cfa) = cfa else { return };
    let params: Vec<usize> = vars
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_parameter && v.scope_depth == 0)
        .map(|(i, _)| i)
        .collect();
    let frame_based = |loc: &Location| match loc {
        Location::Memory(ops) => ops.iter().any(|op| matches!(op, ReadOp::Register(_))),
        _ => false,
    };
    if !params.iter().any(|&i| frame_based(&vars[i].location)) {
        return;
    }
    let entry_params: Vec<EntryParam> = params
        .iter()
        .map(|&i| EntryParam {
            ty: vars[i].ty.clone(),
            // -O0 code describes by-reference arguments as a frame slot that
            // holds the address: `DW_OP_fbreg N; DW_OP_deref`.
            by_reference: matches!(&vars[i].location, Location::Memory(ops)
                if ops.iter().any(|op| matches!(op, ReadOp::Deref { .. }))),
        })
        .collect();
    let ret = module.type_desc(data.type_of(function_die));
    let locations = entry_locations(&entry_params, returns_in_memory(&ret), cfa);
    for (&i, loc) in params.iter().zip(locations) {
        if frame_based(&vars[i].location) {
            vars[i].location = loc;
        }
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
