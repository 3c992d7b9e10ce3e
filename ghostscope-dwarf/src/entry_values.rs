//! Recovering `DW_OP_entry_value` away from a function's first instruction.
//!
//! Optimized code often describes a parameter as "the value register R had
//! when the function was entered" once R has been reused. A uprobe cannot
//! look back in time, but the caller can: gcc and clang record, at each
//! call site (`DW_TAG_call_site`), how to recompute every argument register
//! in the caller's frame (`DW_AT_call_value`), usually from a callee-saved
//! register, a stack slot or a constant. At a probe, the frame's return
//! address (found through CFI) says which call site the call came from,
//! and the callee's CFI row says where the caller's callee-saved registers
//! are now. A return address that matches no call site that records the
//! value yields a failure at run time, never a guess.

use std::sync::Arc;

use crate::cfi::FrameRow;
use crate::dwarf_data::{Die, DwarfData};
use crate::index::CallSite;
use crate::location::{
    translate, CallArgument, CallSiteArguments, CallerValues, EvalContext, Location, ReadOp,
};
use crate::module::Module;
use crate::registers::RIP;
use crate::scope::frame_base;

/// Call sites whose values one probe considers at most; every one costs a
/// few instructions in the BPF program for each value that needs it.
const MAX_CALL_SITES: usize = 64;

/// What the callers of the concrete function `function_die` record about
/// its arguments, as seen from a probe at `pc` inside it.
pub(crate) fn caller_values(
    module: &Module,
    data: &DwarfData,
    function_die: u64,
    pc: u64,
) -> Arc<CallerValues> {
    Arc::new(
        build(module, data, function_die, pc).unwrap_or_else(|why| CallerValues {
            refused: Some(why),
            ..CallerValues::default()
        }),
    )
}

fn build(
    module: &Module,
    data: &DwarfData,
    function_die: u64,
    pc: u64,
) -> Result<CallerValues, String> {
    let name = data.name_of(function_die).unwrap_or_default();
    let sites: Vec<&CallSite> = module
        .call_sites(&name)
        .iter()
        .filter(|c| calls_function(data, c.callee, function_die))
        .collect();
    if reenters_by_tail_calls(module, &name) {
        return Err(format!(
            "'{name}' can re-enter itself by tail calls, so its entry values are ambiguous"
        ));
    }
    if sites.len() > MAX_CALL_SITES {
        return Err(format!(
            "'{name}' is called from {} places; entry values are recovered for at most {MAX_CALL_SITES}",
            sites.len()
        ));
    }
    let row = module
        .frame_row(pc)
        .ok_or("no call frame information at this PC to find the caller")?;
    let return_address = row
        .caller_register(RIP)
        .ok_or("the return address is not recoverable at this PC")?;
    let sites = sites
        .into_iter()
        .filter(|c| c.return_pc != 0)
        .filter_map(|c| {
            Some(CallSiteArguments {
                return_pc: c.return_pc,
                arguments: site_values(module, data, c, &row)?,
            })
        })
        .collect();
    Ok(CallerValues {
        return_address,
        sites,
        refused: None,
    })
}

/// Whether the function `name` can reach itself through direct tail calls:
/// its frame's return address then names the first call, but the
/// arguments are those of the last. A tail call into it from another
/// function is harmless: that frame's return address names a call of the
/// other function, which matches none of its call sites.
fn reenters_by_tail_calls(module: &Module, name: &str) -> bool {
    let mut seen: Vec<&str> = Vec::new();
    let mut todo = vec![name];
    while let Some(caller) = todo.pop() {
        for callee in module.tail_callees(caller) {
            if callee == name {
                return true;
            }
            if !seen.contains(&callee.as_str()) {
                seen.push(callee);
                todo.push(callee);
            }
        }
    }
    false
}

/// Whether a call site's callee DIE is the function `function_die`: the
/// same DIE or abstract instance, or (from another unit) a declaration of
/// the same external function.
fn calls_function(data: &DwarfData, callee: u64, function_die: u64) -> bool {
    let chain = |die: u64| {
        let mut out = vec![die];
        let mut current = die;
        for _ in 0..8 {
            let Some((u, entry)) = data.entry(current) else {
                break;
            };
            let Some(next) = data
                .reference(u, &entry, gimli::DW_AT_abstract_origin)
                .or_else(|| data.reference(u, &entry, gimli::DW_AT_specification))
            else {
                break;
            };
            out.push(next);
            current = next;
        }
        out
    };
    let function = chain(function_die);
    let called = chain(callee);
    if called.iter().any(|d| function.contains(d)) {
        return true;
    }
    let attr_of = |dies: &[u64], at| {
        dies.iter().find_map(|&d| {
            let (u, entry) = data.entry(d)?;
            Some((u, entry)).filter(|(_, e)| e.attr(at).is_some())
        })
    };
    let declaration = called
        .last()
        .and_then(|&d| data.entry(d))
        .is_some_and(|(_, e)| DwarfData::flag(&e, gimli::DW_AT_declaration));
    let external = attr_of(&function, gimli::DW_AT_external).is_some();
    let linkage = |dies: &[u64]| {
        attr_of(dies, gimli::DW_AT_linkage_name)
            .and_then(|(u, e)| data.string(u, &e, gimli::DW_AT_linkage_name))
    };
    declaration && external && linkage(&called) == linkage(&function)
}

/// Per argument, the ops that compute the value the call site passed,
/// unwound into the callee's frame described by `row`.
fn site_values(
    module: &Module,
    data: &DwarfData,
    site: &CallSite,
    row: &FrameRow,
) -> Option<Vec<(CallArgument, Vec<ReadOp>)>> {
    let (u, entry) = data.entry(site.die)?;
    // The caller's frame as it is at the call: its CFA rule at the call
    // instruction (the return address may start another row).
    let caller_cfa = module.frame_row(site.return_pc - 1)?.cfa;
    let frame_base = data
        .entry(site.caller)
        .and_then(|(cu, caller)| frame_base(data, cu, &caller, Some(caller_cfa.clone())));
    let ctx = EvalContext {
        frame_base,
        cfa: Some(caller_cfa),
        ..Default::default()
    };
    let mut out = Vec::new();
    for param in data.children(u, &entry) {
        if let Some(found) = parameter_value(data, u, &param, &ctx, row) {
            out.push(found);
        }
    }
    Some(out)
}

/// The argument a call-site parameter stands for (the register it is passed
/// in, or the parameter a clone no longer receives) and the ops that compute
/// its value, or `None` when the caller's record cannot be used here.
fn parameter_value(
    data: &DwarfData,
    u: usize,
    param: &Die,
    ctx: &EvalContext,
    row: &FrameRow,
) -> Option<(CallArgument, Vec<ReadOp>)> {
    if !matches!(
        param.tag(),
        gimli::DW_TAG_call_site_parameter | gimli::DW_TAG_GNU_call_site_parameter
    ) {
        return None;
    }
    let unit = &data.units[u].unit;
    let addrs = data.address_index(u);
    let argument = match param
        .attr(gimli::DW_AT_location)
        .and_then(|a| a.exprloc_value())
    {
        Some(location) => match translate(location, unit.encoding(), ctx, &addrs) {
            Location::Register(reg) => CallArgument::Register(reg),
            _ => return None,
        },
        None => CallArgument::Parameter(
            data.reference(u, param, gimli::DW_AT_call_parameter)
                .or_else(|| data.reference(u, param, gimli::DW_AT_abstract_origin))?,
        ),
    };
    let value = param
        .attr(gimli::DW_AT_call_value)
        .or_else(|| param.attr(gimli::DW_AT_GNU_call_site_value))?
        .exprloc_value()?;
    // A call value is an expression whose result is the argument itself.
    let ops = match translate(value, unit.encoding(), ctx, &addrs) {
        Location::Memory(ops) | Location::Value(ops) => ops,
        Location::Register(r) => vec![ReadOp::Register(r)],
        Location::Implicit(bytes) if bytes.len() <= 8 => {
            let mut b = [0u8; 8];
            b[..bytes.len()].copy_from_slice(&bytes);
            vec![ReadOp::Const(u64::from_le_bytes(b))]
        }
        _ => return None,
    };
    Some((argument, unwind(&ops, row)?))
}

/// Rewrites ops written in the caller's registers into ops on the callee's
/// registers and stack.
fn unwind(ops: &[ReadOp], row: &FrameRow) -> Option<Vec<ReadOp>> {
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        match op {
            ReadOp::Register(r) => out.extend(row.caller_register(*r)?),
            ReadOp::EntryValue(_) => return None,
            other => out.push(other.clone()),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_registers_come_from_the_callee_frame() {
        // CFA = rsp + 16; the callee pushed rbx at CFA-16; rip is at CFA-8.
        let cfa = vec![ReadOp::Register(7), ReadOp::Const(16), ReadOp::Add];
        let row = FrameRow::for_test(cfa.clone(), &[(3, -16), (16, -8)]);
        let at = |n: i64| {
            let mut ops = cfa.clone();
            ops.extend([
                ReadOp::Const(n as u64),
                ReadOp::Add,
                ReadOp::Deref { size: 8 },
            ]);
            ops
        };
        // The caller's rbx was saved; rbp is untouched; rsp is the CFA.
        let caller = [
            ReadOp::Register(3),
            ReadOp::Register(6),
            ReadOp::Add,
            ReadOp::Register(7),
            ReadOp::Add,
        ];
        let mut want = at(-16);
        want.push(ReadOp::Register(6));
        want.push(ReadOp::Add);
        want.extend(cfa.clone());
        want.push(ReadOp::Add);
        assert_eq!(unwind(&caller, &row), Some(want));
        assert_eq!(row.caller_register(RIP), Some(at(-8)));
        // rdi is not preserved across a call: a caller value in rdi is lost.
        assert_eq!(unwind(&[ReadOp::Register(5)], &row), None);
    }
}
