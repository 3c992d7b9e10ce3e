//! Variables visible at a PC: a function's parameters and locals, the
//! lexical blocks and inlined calls that contain (or, for inlined calls,
//! start at) the PC, innermost first; then, as optimized out, the locals of
//! the function's other blocks and the parameters an inlined copy dropped.

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
    let ctx = frame_context(module, data, function_die, pc, at_function_entry);
    let cfa = ctx.cfa.clone();
    let (_, mut found) = collect(module, data, u, &func, pc, 0);
    // Name lookup takes the first match: in-scope variables, innermost
    // scope first, then the function's other locals; declaration order
    // within a scope.
    found.sort_by_key(|f| (!f.in_scope, std::cmp::Reverse(f.depth)));
    let (mut vars, type_dies): (Vec<Variable>, Vec<Option<u64>>) =
        with_callers(module, data, function_die, pc, ctx, |ctx| {
            variables(module, data, &found, pc, ctx)
        })
        .into_iter()
        .unzip();
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
    vars
}

/// Runs `locate` with `ctx`, and once more with the callers' call-site
/// values when an expression needed them.
fn with_callers<T>(
    module: &Module,
    data: &DwarfData,
    function_die: u64,
    pc: u64,
    mut ctx: EvalContext,
    locate: impl Fn(&EvalContext) -> T,
) -> T {
    let found = locate(&ctx);
    if !ctx.wants_callers.get() {
        return found;
    }
    ctx.callers = Some(crate::entry_values::caller_values(
        module,
        data,
        function_die,
        pc,
    ));
    locate(&ctx)
}

/// The variables `found` with their types and locations at `pc`, each with
/// its type DIE. Unnamed ones are kept: they still take argument registers.
fn variables(
    module: &Module,
    data: &DwarfData,
    found: &[Found],
    pc: u64,
    ctx: &EvalContext,
) -> Vec<(Variable, Option<u64>)> {
    found
        .iter()
        .filter_map(|f| {
            let (_, entry) = data.entry(f.die)?;
            let type_die = data.type_of(f.die);
            let ty = module.type_desc(type_die);
            let var = Variable {
                name: data.name_of(f.die).unwrap_or_default(),
                is_parameter: entry.tag() == gimli::DW_TAG_formal_parameter,
                is_global: false,
                location: match &f.concrete {
                    Some((unit, concrete)) if f.in_scope => {
                        variable_location(data, *unit, concrete, &ty, pc, ctx)
                    }
                    _ => Location::OptimizedOut,
                },
                ty,
                scope_depth: f.depth,
            };
            Some((var, type_die))
        })
        .collect()
}

/// What location expressions in the concrete function `function_die` refer
/// to at `pc`: its frame base and the CFA (its callers' call-site values
/// are added by [`with_callers`] when needed).
fn frame_context(
    module: &Module,
    data: &DwarfData,
    function_die: u64,
    pc: u64,
    at_function_entry: bool,
) -> EvalContext {
    let cfa = module.cfa_at(pc);
    let frame_base = data
        .entry(function_die)
        .and_then(|(u, func)| frame_base(data, u, &func, cfa.clone()));
    EvalContext {
        frame_base,
        cfa,
        at_function_entry,
        static_tls: module.static_tls(),
        ..Default::default()
    }
}

/// Ops that push the frame base (`DW_AT_frame_base`) of the function DIE
/// `func`, given ops that push the CFA at the PC.
pub(crate) fn frame_base(
    data: &DwarfData,
    u: usize,
    func: &Die,
    cfa: Option<Vec<ReadOp>>,
) -> Option<Vec<ReadOp>> {
    let expr = func.attr(gimli::DW_AT_frame_base)?.exprloc_value()?;
    let ctx = EvalContext {
        cfa,
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
}

/// The location at `pc` of the object an implicit pointer points into:
/// the DIE `object`, read in the frame of the concrete function `function_die`.
pub(crate) fn object_location(
    module: &Module,
    data: &DwarfData,
    function_die: u64,
    pc: u64,
    at_function_entry: bool,
    object: u64,
) -> Location {
    let Some((u, entry)) = data.entry(object) else {
        return Location::Unavailable(
            "the implicit pointer's target is not in the debug info".into(),
        );
    };
    let ctx = frame_context(module, data, function_die, pc, at_function_entry);
    let ty = module.type_desc(data.type_of(object));
    with_callers(module, data, function_die, pc, ctx, |ctx| {
        variable_location(data, u, &entry, &ty, pc, ctx)
    })
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

/// A variable DIE of the function's scope tree.
struct Found {
    /// The DIE that names and types the variable.
    die: u64,
    /// The concrete DIE and its unit, whose location applies; `None` for a
    /// parameter or local the concrete copy has no DIE for at all (clang
    /// drops them from inlined copies when the value is gone).
    concrete: Option<(usize, Die)>,
    depth: u32,
    /// Whether its block is entered at the PC. A local of a block the PC is
    /// not in exists in the function but has no value here.
    in_scope: bool,
}

/// Collects the variables of `scope` and of its nested lexical blocks and
/// inlined copies. Returns whether `scope` or a scope nested in it is
/// entered at `pc`, and the variables: those of blocks not entered are
/// marked out of scope, and inlined copies not entered are left out (their
/// variables belong to another function).
fn collect(
    module: &Module,
    data: &DwarfData,
    u: usize,
    scope: &Die,
    pc: u64,
    depth: u32,
) -> (bool, Vec<Found>) {
    let mut own = Vec::new();
    let mut nested = Vec::new();
    let mut inner_entered = false;
    for child in data.children(u, scope) {
        match child.tag() {
            // A block-scope `extern` declaration names a global, found later.
            gimli::DW_TAG_variable if DwarfData::flag(&child, gimli::DW_AT_declaration) => {}
            gimli::DW_TAG_formal_parameter | gimli::DW_TAG_variable => own.push(Found {
                die: data.global(u, child.offset()),
                concrete: Some((u, child)),
                depth,
                in_scope: true,
            }),
            tag @ (gimli::DW_TAG_lexical_block | gimli::DW_TAG_inlined_subroutine) => {
                let (entered, vars) = collect(module, data, u, &child, pc, depth + 1);
                inner_entered |= entered;
                if entered || tag == gimli::DW_TAG_lexical_block {
                    nested.extend(vars);
                }
            }
            _ => {}
        }
    }
    let entered = inner_entered || scope_entered(data, u, scope, pc);
    if entered {
        own.extend(missing_from_origin(module, data, u, scope, depth));
    } else {
        for f in &mut own {
            f.in_scope = false;
        }
    }
    own.extend(nested);
    (entered, own)
}

/// Whether a lexical block or inlined copy is entered at `pc`: one of its
/// ranges contains the PC or starts there, it has no ranges at all (a block
/// that spans its parent), or it is an inlined copy whose entry PC is the
/// PC. gcc starts an inlined copy and its body block with an empty range
/// at the call (the scope begins there, at a later location view), and the
/// entry PC often lies outside every non-empty range.
fn scope_entered(data: &DwarfData, u: usize, scope: &Die, pc: u64) -> bool {
    if scope.tag() == gimli::DW_TAG_subprogram {
        return true;
    }
    let has_ranges =
        scope.attr(gimli::DW_AT_low_pc).is_some() || scope.attr(gimli::DW_AT_ranges).is_some();
    if !has_ranges
        || data.ranges(u, scope).iter().any(|r| r.contains(&pc))
        || data.range_starts(u, scope).contains(&pc)
    {
        return true;
    }
    scope.tag() == gimli::DW_TAG_inlined_subroutine
        && crate::index::code_entry(data, u, scope).is_some_and(|(entry, _)| entry == pc)
}

/// The abstract origins referenced by the variable DIEs anywhere under
/// `scope`, in blocks entered at the PC or not.
fn origins_under(data: &DwarfData, u: usize, scope: &Die, out: &mut Vec<u64>) {
    for child in data.children(u, scope) {
        match child.tag() {
            gimli::DW_TAG_formal_parameter | gimli::DW_TAG_variable => {
                out.extend(data.reference(u, &child, gimli::DW_AT_abstract_origin));
            }
            gimli::DW_TAG_lexical_block => origins_under(data, u, &child, out),
            _ => {}
        }
    }
}

/// Parameters and top-level locals of the abstract origin of `scope` (an
/// inlined copy, or an out-of-line copy of an inline function) that no DIE
/// of the concrete copy stands for: they exist in the source, so they are
/// visible, but the compiler kept no value for them.
fn missing_from_origin(
    module: &Module,
    data: &DwarfData,
    u: usize,
    scope: &Die,
    depth: u32,
) -> Vec<Found> {
    let Some(origin) = data.reference(u, scope, gimli::DW_AT_abstract_origin) else {
        return Vec::new();
    };
    let Some((ou, origin_entry)) = data.entry(origin) else {
        return Vec::new();
    };
    let mut covered = Vec::new();
    origins_under(data, u, scope, &mut covered);
    data.children(ou, &origin_entry)
        .into_iter()
        .filter(|c| {
            matches!(
                c.tag(),
                gimli::DW_TAG_formal_parameter | gimli::DW_TAG_variable
            ) && !DwarfData::flag(c, gimli::DW_AT_declaration)
        })
        .filter(|c| !covered.contains(&data.global(ou, c.offset())))
        .map(|c| {
            // A static local lives at one address for every copy, so only
            // the abstract instance describes it (or, with gcc -flto, one
            // other instance of the function).
            let die = data.global(ou, c.offset());
            let fixed = c.attr(gimli::DW_AT_location).is_some()
                || c.attr(gimli::DW_AT_const_value).is_some();
            let concrete = if fixed {
                Some((ou, c))
            } else {
                module.static_local(die).and_then(|d| data.entry(d))
            };
            Found {
                die,
                concrete,
                depth,
                in_scope: true,
            }
        })
        .collect()
}

/// The location of a variable DIE of type `ty` at `pc`.
pub(crate) fn variable_location(
    data: &DwarfData,
    u: usize,
    entry: &Die,
    ty: &TypeDesc,
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
            return Location::Unavailable("the location list is unreadable".into());
        };
        // A DWARF 5 default entry applies only where no bounded entry does.
        let mut default = None;
        loop {
            match list.next() {
                Ok(Some(item)) if item.range.begin == 0 && item.range.end == u64::MAX => {
                    default = Some(item.data);
                }
                Ok(Some(item)) if item.range.begin <= pc && pc < item.range.end => {
                    return translate(item.data, unit.encoding(), ctx, &addrs);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return Location::Unavailable(format!("malformed location list: {e}")),
            }
        }
        return match default {
            Some(expr) => translate(expr, unit.encoding(), ctx, &addrs),
            None => Location::OptimizedOut,
        };
    }
    match entry.attr_value(gimli::DW_AT_const_value) {
        Some(value) => {
            const_bytes(data, u, value, ty).map_or(Location::OptimizedOut, Location::Implicit)
        }
        None => Location::OptimizedOut,
    }
}

/// The bytes of a `DW_AT_const_value`, sized to the variable's type: the
/// constant forms are as small as the value (gcc writes 11 as one byte),
/// and are sign-extended when the form or the type is signed.
fn const_bytes(
    data: &DwarfData,
    u: usize,
    value: AttributeValue<crate::dwarf_data::Slice>,
    ty: &TypeDesc,
) -> Option<Vec<u8>> {
    let signed_type = ty.integer_layout().is_some_and(|(_, signed)| signed);
    let (mut bytes, sign_extend) = match value {
        AttributeValue::Sdata(v) => (v.to_le_bytes().to_vec(), true),
        AttributeValue::Udata(v) => (v.to_le_bytes().to_vec(), false),
        AttributeValue::Data1(v) => (vec![v], signed_type),
        AttributeValue::Data2(v) => (v.to_le_bytes().to_vec(), signed_type),
        AttributeValue::Data4(v) => (v.to_le_bytes().to_vec(), signed_type),
        AttributeValue::Data8(v) => (v.to_le_bytes().to_vec(), signed_type),
        AttributeValue::Block(b) => (b.slice().to_vec(), false),
        // A string constant (DW_FORM_strp and friends) for a char array.
        other => {
            let s = data.dwarf.attr_string(&data.units[u].unit, other).ok()?;
            let mut b = s.slice().to_vec();
            b.push(0);
            (b, false)
        }
    };
    let Some(size) = ty.size().filter(|s| *s > 0) else {
        return Some(bytes);
    };
    let fill = if sign_extend && bytes.last().is_some_and(|b| b & 0x80 != 0) {
        0xff
    } else {
        0
    };
    bytes.resize(size as usize, fill);
    Some(bytes)
}
