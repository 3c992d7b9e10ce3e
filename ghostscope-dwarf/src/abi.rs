//! Where the System V x86-64 calling convention puts parameters at a
//! function's first instruction.
//!
//! Function probes sit on the first instruction, where the kernel can
//! emulate the probed instruction instead of single-stepping it (about ten
//! times cheaper per hit, toolchain.md §12). There, unoptimized code has not
//! yet stored its parameters into the stack slots its DWARF describes, so
//! those parameters are read where the caller put them: argument registers
//! or the caller's outgoing stack area just above the return address.
//!
//! That is only true of code that follows the C convention. Other languages
//! (Rust passes aggregates by reference and orders scalar pairs its own way)
//! are read through their DWARF after the prologue instead.

use ghostscope_protocol::{BaseEncoding, TypeDesc};
use gimli::AttributeValue;

use crate::dwarf_data::{Die, DwarfData};
use crate::location::{Location, Piece, ReadOp};
use crate::registers::{unreadable_register_reason, ARGUMENT_REGISTERS};

/// Whether functions of a unit written in `language` take their arguments
/// by the System V C calling convention: C, C++ and Objective-C units.
/// Rust `extern "C"` functions do too, but DWARF does not tell them apart
/// from Rust-ABI ones, so all Rust code is read after the prologue.
pub(crate) fn follows_c_convention(language: Option<gimli::DwLang>) -> bool {
    matches!(
        language,
        Some(
            gimli::DW_LANG_C89
                | gimli::DW_LANG_C
                | gimli::DW_LANG_C99
                | gimli::DW_LANG_C11
                | gimli::DW_LANG_C17
                | gimli::DW_LANG_C_plus_plus
                | gimli::DW_LANG_C_plus_plus_03
                | gimli::DW_LANG_C_plus_plus_11
                | gimli::DW_LANG_C_plus_plus_14
                | gimli::DW_LANG_C_plus_plus_17
                | gimli::DW_LANG_C_plus_plus_20
                | gimli::DW_LANG_ObjC
                | gimli::DW_LANG_ObjC_plus_plus
        )
    )
}

/// Whether a C++ class is "non-trivial for the purposes of calls" (Itanium
/// C++ ABI §3.1.2): it has a user-provided copy or move constructor or
/// destructor, virtual functions or bases, or such a base or member. Such a
/// value is passed by invisible reference and returned through a hidden
/// pointer, whatever its size. `DW_AT_calling_convention`, when the
/// compiler writes it (clang does, gcc does not), decides instead.
pub(crate) fn nontrivial_for_calls(data: &DwarfData, type_die: Option<u64>) -> bool {
    nontrivial_within(data, type_die, 0)
}

fn nontrivial_within(data: &DwarfData, type_die: Option<u64>, depth: u32) -> bool {
    // Deep enough for real class hierarchies; a bound against malformed cycles.
    if depth > 16 {
        return false;
    }
    let Some((u, class, class_die)) = strip_to_class(data, type_die) else {
        return false;
    };
    if let Some(AttributeValue::CallingConvention(cc)) =
        class.attr_value(gimli::DW_AT_calling_convention)
    {
        return cc == gimli::DW_CC_pass_by_reference;
    }
    let class_name = data
        .string(u, &class, gimli::DW_AT_name)
        .unwrap_or_default();
    let class_name = class_name.split('<').next().unwrap_or_default();
    let mut copy_or_move = 0;
    let mut deleted = 0;
    for child in data.children(u, &class) {
        let nested =
            |e: &Die| nontrivial_within(data, data.reference(u, e, gimli::DW_AT_type), depth + 1);
        // A virtual base, or a base or data member that is itself non-trivial.
        let nontrivial_part = match child.tag() {
            gimli::DW_TAG_inheritance => {
                child.attr_value(gimli::DW_AT_virtuality).is_some() || nested(&child)
            }
            gimli::DW_TAG_member => {
                !DwarfData::flag(&child, gimli::DW_AT_external)
                    && !DwarfData::flag(&child, gimli::DW_AT_declaration)
                    && nested(&child)
            }
            _ => false,
        };
        if nontrivial_part {
            return true;
        }
        if child.tag() != gimli::DW_TAG_subprogram {
            continue;
        }
        if matches!(
            child.attr_value(gimli::DW_AT_virtuality),
            Some(AttributeValue::Virtuality(v)) if v != gimli::DW_VIRTUALITY_none
        ) {
            return true;
        }
        let Some(special) = special_member(data, u, &child, class_name, class_die) else {
            continue;
        };
        let is_copy_or_move = usize::from(special == Special::CopyOrMove);
        copy_or_move += is_copy_or_move;
        if DwarfData::flag(&child, gimli::DW_AT_deleted) {
            deleted += is_copy_or_move;
            continue;
        }
        // Implicit members (artificial) and ones defaulted in the class are
        // trivial unless a base or member is not: that is checked above.
        let defaulted_in_class = matches!(
            child.attr_value(gimli::DW_AT_defaulted),
            Some(AttributeValue::Udata(1)) | Some(AttributeValue::Data1(1))
        );
        if !DwarfData::flag(&child, gimli::DW_AT_artificial) && !defaulted_in_class {
            return true;
        }
    }
    // A class whose copy and move constructors are all deleted cannot be
    // copied into registers either.
    copy_or_move > 0 && deleted == copy_or_move
}

/// A special member function that decides how a class is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    Destructor,
    CopyOrMove,
}

/// Whether a member function of `class_name` is its destructor or a copy or
/// move constructor.
fn special_member(
    data: &DwarfData,
    u: usize,
    function: &Die,
    class_name: &str,
    class_die: u64,
) -> Option<Special> {
    let name = data.string(u, function, gimli::DW_AT_name)?;
    if name.starts_with('~') {
        Some(Special::Destructor)
    } else if !class_name.is_empty()
        && name == class_name
        && copies_class(data, u, function, class_die)
    {
        Some(Special::CopyOrMove)
    } else {
        None
    }
}

/// Follows typedefs, qualifiers and array elements to a class type DIE.
fn strip_to_class(data: &DwarfData, mut die: Option<u64>) -> Option<(usize, Die, u64)> {
    for _ in 0..16 {
        let (u, entry) = data.entry(die?)?;
        match entry.tag() {
            gimli::DW_TAG_typedef
            | gimli::DW_TAG_const_type
            | gimli::DW_TAG_volatile_type
            | gimli::DW_TAG_array_type => die = data.reference(u, &entry, gimli::DW_AT_type),
            gimli::DW_TAG_structure_type | gimli::DW_TAG_class_type | gimli::DW_TAG_union_type => {
                return Some((u, entry, die?))
            }
            _ => return None,
        }
    }
    None
}

/// Whether a constructor's first explicit parameter is a reference to its
/// own class: a copy or move constructor.
fn copies_class(data: &DwarfData, u: usize, ctor: &Die, class_die: u64) -> bool {
    let first = data
        .children(u, ctor)
        .into_iter()
        .filter(|c| c.tag() == gimli::DW_TAG_formal_parameter)
        .find(|c| !DwarfData::flag(c, gimli::DW_AT_artificial));
    let Some(param) = first else { return false };
    let Some((ru, reference)) = data
        .reference(u, &param, gimli::DW_AT_type)
        .and_then(|t| data.entry(t))
    else {
        return false;
    };
    if !matches!(
        reference.tag(),
        gimli::DW_TAG_reference_type | gimli::DW_TAG_rvalue_reference_type
    ) {
        return false;
    }
    // The same class, or another DIE of it (a declaration, another unit).
    let name_of = |die: u64| data.name_of(die);
    strip_to_class(data, data.reference(ru, &reference, gimli::DW_AT_type))
        .is_some_and(|(_, _, target)| target == class_die || name_of(target) == name_of(class_die))
}

/// ABI class of one eightbyte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    None,
    Integer,
    Sse,
    Memory,
}

fn merge(a: Class, b: Class) -> Class {
    match (a, b) {
        (x, y) if x == y => x,
        (Class::None, x) | (x, Class::None) => x,
        (Class::Memory, _) | (_, Class::Memory) => Class::Memory,
        (Class::Integer, _) | (_, Class::Integer) => Class::Integer,
        _ => Class::Sse,
    }
}

/// Classifies a type into its eightbytes, or `None` when it goes to memory.
fn classify(ty: &TypeDesc) -> Option<Vec<Class>> {
    let size = ty.size()?;
    if size == 0 || size > 16 {
        return None;
    }
    let mut classes = vec![Class::None; size.div_ceil(8) as usize];
    classify_into(ty, 0, &mut classes)?;
    if classes.contains(&Class::Memory) {
        return None;
    }
    Some(
        classes
            .into_iter()
            .map(|c| if c == Class::None { Class::Sse } else { c })
            .collect(),
    )
}

fn classify_into(ty: &TypeDesc, offset: u64, classes: &mut [Class]) -> Option<()> {
    let slot = (offset / 8) as usize;
    match ty.strip() {
        TypeDesc::Base { size, encoding, .. } => {
            let class = match (encoding, size) {
                (BaseEncoding::Float, 16) => Class::Memory,
                (BaseEncoding::Float, _) => Class::Sse,
                _ => Class::Integer,
            };
            for c in classes
                .iter_mut()
                .skip(slot)
                .take((*size as usize).div_ceil(8).max(1))
            {
                *c = merge(*c, class);
            }
        }
        TypeDesc::Enum { .. } | TypeDesc::Pointer { .. } | TypeDesc::Function { .. } => {
            let c = classes.get_mut(slot)?;
            *c = merge(*c, Class::Integer);
        }
        TypeDesc::Aggregate { members, .. } => {
            for m in members {
                let at = offset + m.offset;
                if m.bitfield.is_some() {
                    let c = classes.get_mut((at / 8) as usize)?;
                    *c = merge(*c, Class::Integer);
                } else if !at.is_multiple_of(natural_alignment(&m.ty)) {
                    // A packed struct's unaligned field makes it MEMORY.
                    let c = classes.get_mut((at / 8) as usize)?;
                    *c = Class::Memory;
                } else {
                    classify_into(&m.ty, offset + m.offset, classes)?;
                }
            }
        }
        TypeDesc::Array { element, count } => {
            let elem_size = element.size()?;
            for i in 0..count.unwrap_or(0) {
                classify_into(element, offset + i * elem_size, classes)?;
            }
        }
        TypeDesc::Void | TypeDesc::Unknown { .. } => return None,
        TypeDesc::Typedef { .. } | TypeDesc::Qualified { .. } => unreachable!("stripped"),
    }
    Some(())
}

/// The alignment a type has in an unpacked struct.
fn natural_alignment(ty: &TypeDesc) -> u64 {
    match ty.strip() {
        TypeDesc::Base { size, .. } => u64::from(*size).clamp(1, 16),
        TypeDesc::Enum { size, .. } => u64::from(*size).max(1),
        TypeDesc::Aggregate { members, .. } => members
            .iter()
            .map(|m| natural_alignment(&m.ty))
            .max()
            .unwrap_or(1),
        TypeDesc::Array { element, .. } => natural_alignment(element),
        _ => 8,
    }
}

/// The alignment of an argument's slot in the caller's stack area.
fn alignment(ty: &TypeDesc) -> u64 {
    match ty.strip() {
        TypeDesc::Base { size: 16, .. } => 16,
        TypeDesc::Aggregate { members, .. } => {
            members.iter().map(|m| alignment(&m.ty)).max().unwrap_or(8)
        }
        TypeDesc::Array { element, .. } => alignment(element),
        _ => 8,
    }
}

/// How one parameter is passed, for [`entry_locations`].
#[derive(Debug, Clone)]
pub(crate) struct EntryParam {
    /// The parameter's type.
    pub(crate) ty: TypeDesc,
    /// Passed by invisible reference (C++ non-trivially-copyable class).
    pub(crate) by_reference: bool,
}

/// Locations of every parameter at the function's first instruction.
///
/// `cfa` pushes the canonical frame address, which at entry is the address
/// just above the return address, where stack-passed arguments begin.
pub(crate) fn entry_locations(
    params: &[EntryParam],
    returns_in_memory: bool,
    cfa: &[ReadOp],
) -> Vec<Location> {
    let mut next_gpr = usize::from(returns_in_memory);
    let mut next_sse = 0usize;
    let mut stack_offset = 0u64;
    let mut out = Vec::with_capacity(params.len());
    for p in params {
        let classes = if p.by_reference {
            Some(vec![Class::Integer])
        } else {
            classify(&p.ty)
        };
        let in_regs = classes.as_ref().filter(|cls| {
            let ints = cls.iter().filter(|c| **c == Class::Integer).count();
            let sses = cls.iter().filter(|c| **c == Class::Sse).count();
            next_gpr + ints <= ARGUMENT_REGISTERS.len() && next_sse + sses <= 8
        });
        match in_regs {
            Some(cls) => {
                let size = p.ty.size().unwrap_or(8);
                let mut pieces = Vec::new();
                let mut unavailable = None;
                for (i, c) in cls.iter().enumerate() {
                    let piece_size = if p.by_reference {
                        8
                    } else {
                        (size - i as u64 * 8).min(8)
                    };
                    let location = match c {
                        Class::Integer => {
                            let r = ARGUMENT_REGISTERS[next_gpr];
                            next_gpr += 1;
                            Location::Register(r)
                        }
                        _ => {
                            let reason = unreadable_register_reason(17 + next_sse as u16);
                            next_sse += 1;
                            unavailable = Some(reason.clone());
                            Location::Unavailable(reason)
                        }
                    };
                    pieces.push(Piece {
                        size: piece_size,
                        location,
                    });
                }
                // A struct with one part in an XMM register keeps its
                // integer parts readable.
                let all_lost = pieces.iter().all(|p| !p.location.is_readable());
                out.push(if let (Some(reason), true) = (&unavailable, all_lost) {
                    Location::Unavailable(reason.clone())
                } else if p.by_reference {
                    match &pieces[0].location {
                        Location::Register(r) => Location::Memory(vec![ReadOp::Register(*r)]),
                        other => other.clone(),
                    }
                } else if pieces.len() == 1 {
                    pieces.pop().unwrap().location
                } else {
                    Location::Pieces(pieces)
                });
            }
            None => {
                let align = alignment(&p.ty).max(8);
                stack_offset = stack_offset.div_ceil(align) * align;
                let mut ops = cfa.to_vec();
                if stack_offset != 0 {
                    ops.push(ReadOp::Const(stack_offset));
                    ops.push(ReadOp::Add);
                }
                out.push(Location::Memory(ops));
                stack_offset += p.ty.size().unwrap_or(8).div_ceil(8) * 8;
            }
        }
    }
    out
}

/// Whether a function returning `ty` takes a hidden result pointer in `rdi`.
pub(crate) fn returns_in_memory(ty: &TypeDesc) -> bool {
    match ty.strip() {
        TypeDesc::Void => false,
        TypeDesc::Aggregate { .. } | TypeDesc::Array { .. } => classify(ty).is_none(),
        TypeDesc::Base {
            size: 16,
            encoding: BaseEncoding::Float,
            ..
        } => false,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ghostscope_protocol::{AggregateKind, Member};

    fn base(name: &str, size: u32, enc: BaseEncoding) -> TypeDesc {
        TypeDesc::base(name, size, enc)
    }
    fn param(ty: TypeDesc) -> EntryParam {
        EntryParam {
            ty,
            by_reference: false,
        }
    }
    fn cfa() -> Vec<ReadOp> {
        vec![ReadOp::Register(7), ReadOp::Const(8), ReadOp::Add]
    }
    fn strukt(members: Vec<(u64, TypeDesc)>, size: u64) -> TypeDesc {
        TypeDesc::Aggregate {
            kind: AggregateKind::Struct,
            name: Some("s".into()),
            size,
            members: members
                .into_iter()
                .enumerate()
                .map(|(i, (offset, ty))| Member {
                    name: format!("m{i}"),
                    offset,
                    bitfield: None,
                    ty,
                    base_class: false,
                })
                .collect(),
        }
    }

    #[test]
    fn integers_fill_the_six_argument_registers_then_the_stack() {
        let int = base("int", 4, BaseEncoding::Signed);
        let params: Vec<EntryParam> = (0..8).map(|_| param(int.clone())).collect();
        let locs = entry_locations(&params, false, &cfa());
        let regs: Vec<Location> = [5, 4, 1, 2, 8, 9]
            .iter()
            .map(|r| Location::Register(*r))
            .collect();
        assert_eq!(&locs[..6], &regs[..]);
        let mut seventh = cfa();
        assert_eq!(locs[6], Location::Memory(seventh.clone()));
        seventh.extend([ReadOp::Const(8), ReadOp::Add]);
        assert_eq!(locs[7], Location::Memory(seventh));
    }

    #[test]
    fn floats_are_unavailable_and_do_not_consume_integer_registers() {
        let d = base("double", 8, BaseEncoding::Float);
        let l = base("long", 8, BaseEncoding::Signed);
        let locs = entry_locations(&[param(d), param(l)], false, &cfa());
        assert!(matches!(&locs[0], Location::Unavailable(m) if m.contains("XMM0")));
        assert_eq!(locs[1], Location::Register(5));
    }

    #[test]
    fn small_structs_use_register_pairs_and_large_ones_the_stack() {
        let l = base("long", 8, BaseEncoding::Signed);
        let pair = strukt(vec![(0, l.clone()), (8, l.clone())], 16);
        let big = strukt(vec![(0, l.clone()), (8, l.clone()), (16, l.clone())], 24);
        let locs = entry_locations(&[param(big), param(pair), param(l)], false, &cfa());
        assert_eq!(locs[0], Location::Memory(cfa()));
        assert_eq!(
            locs[1],
            Location::Pieces(vec![
                Piece {
                    size: 8,
                    location: Location::Register(5)
                },
                Piece {
                    size: 8,
                    location: Location::Register(4)
                },
            ])
        );
        assert_eq!(locs[2], Location::Register(1));
    }

    #[test]
    fn a_packed_struct_with_an_unaligned_field_goes_to_the_stack() {
        let c = base("char", 1, BaseEncoding::SignedChar);
        let int = base("int", 4, BaseEncoding::Signed);
        let l = base("long", 8, BaseEncoding::Signed);
        let packed = strukt(vec![(0, c.clone()), (1, int.clone())], 5);
        let aligned = strukt(vec![(0, c), (4, int)], 8);
        let locs = entry_locations(&[param(packed), param(l), param(aligned)], false, &cfa());
        assert_eq!(locs[0], Location::Memory(cfa()));
        assert_eq!(locs[1], Location::Register(5));
        assert_eq!(locs[2], Location::Register(4));
    }

    #[test]
    fn a_memory_returned_struct_takes_rdi() {
        let l = base("long", 8, BaseEncoding::Signed);
        let big = strukt(vec![(0, l.clone()), (8, l.clone()), (16, l.clone())], 24);
        assert!(returns_in_memory(&big));
        let locs = entry_locations(&[param(l)], returns_in_memory(&big), &cfa());
        assert_eq!(locs[0], Location::Register(4));
    }
}
