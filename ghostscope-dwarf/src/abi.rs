//! Where the System V x86-64 calling convention puts parameters at a
//! function's first instruction.
//!
//! Function probes sit on the first instruction, where the kernel can
//! emulate the probed instruction instead of single-stepping it (about ten
//! times cheaper per hit, toolchain.md §12). There, unoptimized code has not
//! yet stored its parameters into the stack slots its DWARF describes, so
//! those parameters are read where the caller put them: argument registers
//! or the caller's outgoing stack area just above the return address.

use ghostscope_protocol::{BaseEncoding, TypeDesc};

use crate::location::{Location, Piece, ReadOp};
use crate::registers::{unreadable_register_reason, ARGUMENT_REGISTERS};

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
                if m.bitfield.is_some() {
                    let c = classes.get_mut(((offset + m.offset) / 8) as usize)?;
                    *c = merge(*c, Class::Integer);
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
                out.push(if let Some(reason) = unavailable {
                    Location::Unavailable(reason)
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
    fn a_memory_returned_struct_takes_rdi() {
        let l = base("long", 8, BaseEncoding::Signed);
        let big = strukt(vec![(0, l.clone()), (8, l.clone()), (16, l.clone())], 24);
        assert!(returns_in_memory(&big));
        let locs = entry_locations(&[param(l)], returns_in_memory(&big), &cfa());
        assert_eq!(locs[0], Location::Register(4));
    }
}
