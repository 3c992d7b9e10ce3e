//! Captured bytes of a typed value → text (output.md §3).

use std::fmt::Write as _;

use super::enums::{enum_parts, write_enum, write_enum_variant_alone, EnumView};
use crate::meta::ValueOrigin;
use crate::types::{
    AggregateKind, BaseEncoding, Member, TypeDesc, ANONYMOUS_STRUCT, ANONYMOUS_UNION,
};

/// The label of an anonymous struct or union member: `member_<index>`.
pub const ANONYMOUS_MEMBER_PREFIX: &str = "member_";

/// Aggregates nested deeper than this render `<MAX_DEPTH_EXCEEDED>`.
pub const MAX_RENDER_DEPTH: usize = 32;

/// Renders a value of type `ty` from its captured bytes, reached directly
/// (a variable, member or array element).
///
/// `bytes` may be shorter than the type (a partial capture): arrays show the
/// captured elements, struct members outside the bytes show `<OUT_OF_BOUNDS>`.
pub fn render_value(ty: &TypeDesc, bytes: &[u8]) -> String {
    render_value_as(ty, bytes, ValueOrigin::Direct)
}

/// Renders a value reached as `origin` says, which changes only how a C enum
/// at the top is spelled (output.md §3.2): `e(e::POS(7))` through a pointer
/// dereference, `POS` in a bitfield.
pub fn render_value_as(ty: &TypeDesc, bytes: &[u8], origin: ValueOrigin) -> String {
    let mut out = String::new();
    match (origin, enum_parts(ty)) {
        (ValueOrigin::PointerDeref, Some((own_name, e))) if !e.scoped => {
            let _ = write!(out, "{own_name}(");
            write_enum(&mut out, &own_name, &e, bytes);
            out.push(')');
        }
        (ValueOrigin::Bitfield, Some((_, e))) => match read_int(bytes, e.size, e.signed) {
            Some(v) => write_enum_variant_alone(&mut out, &e, v as i64 as i128),
            None => out.push_str("<OUT_OF_BOUNDS>"),
        },
        _ => write_value(&mut out, ty, bytes, 0),
    }
    out
}

fn write_value(out: &mut String, ty: &TypeDesc, bytes: &[u8], depth: usize) {
    if depth > MAX_RENDER_DEPTH {
        out.push_str("<MAX_DEPTH_EXCEEDED>");
        return;
    }
    match ty {
        TypeDesc::Qualified { target, .. } => write_value(out, target, bytes, depth),
        // Typedefs are transparent (output.md §3.3), except that an enum
        // shows the typedef's name and an anonymous struct or union is
        // named after the typedef. The outermost typedef's name wins.
        TypeDesc::Typedef { name, target } => match target.strip() {
            TypeDesc::Aggregate {
                kind,
                name: None,
                members,
                ..
            } => write_aggregate(out, *kind, Some(name), members, bytes, depth),
            underlying => match EnumView::of(underlying) {
                Some(e) => write_enum(out, name, &e, bytes),
                None => write_value(out, underlying, bytes, depth),
            },
        },
        TypeDesc::Base { size, encoding, .. } => write_base(out, *size, *encoding, bytes),
        TypeDesc::Enum { name, .. } => {
            let e = EnumView::of(ty).expect("an enum");
            write_enum(out, name.as_deref().unwrap_or(""), &e, bytes)
        }
        TypeDesc::Pointer {
            pointee_display, ..
        } => match read_int(bytes, 8, false) {
            Some(0) => {
                let _ = write!(out, "NULL ({pointee_display}*)");
            }
            Some(addr) => {
                let _ = write!(out, "0x{addr:x} ({pointee_display}*)");
            }
            None => out.push_str("<INVALID_POINTER>"),
        },
        TypeDesc::Aggregate {
            kind,
            name,
            members,
            ..
        } => write_aggregate(out, *kind, name.as_deref(), members, bytes, depth),
        TypeDesc::Array { element, count } => write_array(out, element, *count, bytes, depth),
        TypeDesc::Function { .. } => match read_int(bytes, 8, false) {
            Some(addr) => {
                let _ = write!(out, "<FUNCTION@0x{addr:x}>");
            }
            None => out.push_str("<INVALID_POINTER>"),
        },
        TypeDesc::Void => out.push_str("<UNKNOWN_TYPE_void_0_BYTES>"),
        TypeDesc::Unknown { name, size } => {
            let _ = write!(out, "<UNKNOWN_TYPE_{name}_{size}_BYTES>");
        }
    }
}

fn write_base(out: &mut String, size: u32, encoding: BaseEncoding, bytes: &[u8]) {
    if bytes.len() < size as usize {
        out.push_str("<OUT_OF_BOUNDS>");
        return;
    }
    let b = &bytes[..size as usize];
    match encoding {
        BaseEncoding::Bool => {
            out.push_str(if b.iter().any(|&x| x != 0) {
                "true"
            } else {
                "false"
            });
        }
        BaseEncoding::Float => match size {
            4 => write_float(out, f32::from_le_bytes(b.try_into().unwrap()) as f64, true),
            8 => write_float(out, f64::from_le_bytes(b.try_into().unwrap()), false),
            16 => out.push_str("<UNSUPPORTED_FLOAT_SIZE_16>"),
            n => {
                let _ = write!(out, "<UNSUPPORTED_FLOAT_SIZE_{n}>");
            }
        },
        BaseEncoding::Signed | BaseEncoding::SignedChar => match size {
            1 | 2 | 4 | 8 => {
                let _ = write!(out, "{}", read_int(b, size, true).unwrap() as i64);
            }
            16 => {
                let _ = write!(out, "{}", i128::from_le_bytes(b.try_into().unwrap()));
            }
            n => {
                let _ = write!(out, "<UNSUPPORTED_SIGNED_SIZE_{n}>");
            }
        },
        BaseEncoding::Unsigned | BaseEncoding::UnsignedChar => match size {
            1 | 2 | 4 | 8 => {
                let _ = write!(out, "{}", read_int(b, size, false).unwrap());
            }
            16 => {
                let _ = write!(out, "{}", u128::from_le_bytes(b.try_into().unwrap()));
            }
            n => {
                let _ = write!(out, "<UNSUPPORTED_UNSIGNED_SIZE_{n}>");
            }
        },
        BaseEncoding::Other(enc) => {
            let _ = write!(out, "<UNKNOWN_ENCODING_{enc}_SIZE_{size}_BYTES>");
        }
    }
}

/// Shortest round-trip text; integral values without `.0`.
fn write_float(out: &mut String, v: f64, single: bool) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "inf" } else { "-inf" });
    } else if single {
        // Shortest text for the f32, not for its f64 widening (0.1f, not 0.10000000149011612).
        let _ = write!(out, "{}", v as f32);
    } else {
        let _ = write!(out, "{v}");
    }
}

/// A struct or union body. An anonymous one is named `<anon_struct>` /
/// `union <anon_union>` (output.md §3.6), unless a typedef names it.
fn write_aggregate(
    out: &mut String,
    kind: AggregateKind,
    name: Option<&str>,
    members: &[Member],
    bytes: &[u8],
    depth: usize,
) {
    if kind == AggregateKind::Union {
        let _ = write!(out, "union {} {{", name.unwrap_or(ANONYMOUS_UNION));
        if let Some(m) = members.first() {
            let _ = write!(out, " {} = ", member_label(m, 0));
            write_member(out, m, bytes, depth);
            out.push_str(" }");
        } else {
            out.push('}');
        }
        return;
    }
    let _ = write!(out, "{} {{", name.unwrap_or(ANONYMOUS_STRUCT));
    for (i, m) in members.iter().enumerate() {
        out.push_str(if i == 0 { " " } else { ", " });
        let _ = write!(out, "{}: ", member_label(m, i));
        write_member(out, m, bytes, depth);
    }
    out.push_str(if members.is_empty() { "}" } else { " }" });
}

/// A member's label: its name, or `member_<index>` for an anonymous member.
fn member_label(m: &Member, index: usize) -> std::borrow::Cow<'_, str> {
    if m.name.is_empty() {
        format!("{ANONYMOUS_MEMBER_PREFIX}{index}").into()
    } else {
        m.name.as_str().into()
    }
}

fn write_member(out: &mut String, m: &Member, bytes: &[u8], depth: usize) {
    if let Some(bf) = m.bitfield {
        match extract_bitfield(bytes, m.offset, bf.bit_offset, bf.bit_size, &m.ty) {
            Some(v) => write_bitfield_value(out, &m.ty, v),
            None => out.push_str("<OUT_OF_BOUNDS>"),
        }
        return;
    }
    let size = m.ty.size().unwrap_or(0);
    let start = m.offset as usize;
    if start > bytes.len() || (size > 0 && start + size as usize > bytes.len()) {
        // An array may still show its captured prefix.
        if matches!(m.ty.strip(), TypeDesc::Array { .. }) && start < bytes.len() {
            write_value(out, &m.ty, &bytes[start..], depth + 1);
        } else {
            out.push_str("<OUT_OF_BOUNDS>");
        }
        return;
    }
    write_value(out, &m.ty, &bytes[start..], depth + 1);
}

/// Reads a bitfield as a sign- or zero-extended integer.
fn extract_bitfield(
    bytes: &[u8],
    byte_offset: u64,
    bit_offset: u32,
    bit_size: u32,
    ty: &TypeDesc,
) -> Option<i128> {
    if bit_size == 0 || bit_size > 64 {
        return None;
    }
    let first_bit = byte_offset * 8 + bit_offset as u64;
    let last_bit = first_bit + bit_size as u64 - 1;
    if (last_bit / 8) as usize >= bytes.len() {
        return None;
    }
    let mut raw: u128 = 0;
    for i in (first_bit / 8)..=(last_bit / 8) {
        raw |= (bytes[i as usize] as u128) << ((i - first_bit / 8) * 8);
    }
    let raw = (raw >> (first_bit % 8)) & ((1u128 << bit_size) - 1);
    let signed = ty.integer_layout().is_some_and(|(_, s)| s);
    if signed && raw & (1u128 << (bit_size - 1)) != 0 {
        Some(raw as i128 - (1i128 << bit_size))
    } else {
        Some(raw as i128)
    }
}

fn write_bitfield_value(out: &mut String, ty: &TypeDesc, v: i128) {
    if let Some(e) = EnumView::of(ty) {
        write_enum_variant_alone(out, &e, v);
        return;
    }
    match ty.strip() {
        TypeDesc::Base {
            encoding: BaseEncoding::Bool,
            ..
        } => out.push_str(if v != 0 { "true" } else { "false" }),
        _ => {
            let _ = write!(out, "{v}");
        }
    }
}

fn write_array(
    out: &mut String,
    element: &TypeDesc,
    count: Option<u64>,
    bytes: &[u8],
    depth: usize,
) {
    let elem_size = element.size().unwrap_or(0);
    if element.is_byte_like() {
        let n = count.map_or(bytes.len(), |c| (c as usize).min(bytes.len()));
        let text = &bytes[..n];
        let text = text.split(|&b| b == 0).next().unwrap_or(&[]);
        out.push('"');
        push_escaped_c_string(out, text);
        out.push('"');
        return;
    }
    if elem_size == 0 {
        out.push_str("<ZERO_SIZE_ELEMENT>");
        return;
    }
    let available = bytes.len() as u64 / elem_size;
    let n = count.map_or(available, |c| c.min(available));
    out.push('[');
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        let start = (i * elem_size) as usize;
        write_value(
            out,
            element,
            &bytes[start..start + elem_size as usize],
            depth + 1,
        );
    }
    out.push(']');
}

/// Escapes bytes for a quoted C string: `"` and `\` escaped, printable ASCII
/// as is, everything else `\xNN`.
pub fn push_escaped_c_string(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

/// Reads a little-endian integer of `size` bytes, sign- or zero-extended to 64 bits.
pub fn read_int(bytes: &[u8], size: u32, signed: bool) -> Option<u64> {
    let size = size as usize;
    if !(1..=8).contains(&size) || bytes.len() < size {
        return None;
    }
    let mut buf = [0u8; 8];
    buf[..size].copy_from_slice(&bytes[..size]);
    let raw = u64::from_le_bytes(buf);
    if signed && size < 8 && raw & (1 << (size * 8 - 1)) != 0 {
        Some(raw | (!0u64 << (size * 8)))
    } else {
        Some(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Bitfield, Qualifier};

    fn int() -> TypeDesc {
        TypeDesc::int()
    }
    fn uint() -> TypeDesc {
        TypeDesc::base("unsigned int", 4, BaseEncoding::Unsigned)
    }
    fn char_t() -> TypeDesc {
        TypeDesc::base("char", 1, BaseEncoding::SignedChar)
    }
    fn member(name: &str, offset: u64, ty: TypeDesc) -> Member {
        Member {
            name: name.into(),
            offset,
            bitfield: None,
            ty,
            base_class: false,
        }
    }

    #[test]
    fn integers_of_every_width() {
        assert_eq!(render_value(&int(), &(-5i32).to_le_bytes()), "-5");
        assert_eq!(
            render_value(
                &TypeDesc::base("long", 8, BaseEncoding::Signed),
                &(-9000000000000000000i64).to_le_bytes()
            ),
            "-9000000000000000000"
        );
        assert_eq!(
            render_value(
                &TypeDesc::base("unsigned char", 1, BaseEncoding::UnsignedChar),
                &[250]
            ),
            "250"
        );
        assert_eq!(render_value(&char_t(), &[65]), "65");
        assert_eq!(
            render_value(
                &TypeDesc::base("long unsigned int", 8, BaseEncoding::Unsigned),
                &18446744073709551610u64.to_le_bytes()
            ),
            "18446744073709551610"
        );
        assert_eq!(
            render_value(
                &TypeDesc::base("__int128", 16, BaseEncoding::Signed),
                &(-2i128).to_le_bytes()
            ),
            "-2"
        );
        assert_eq!(
            render_value(&TypeDesc::base("short", 2, BaseEncoding::Signed), &[0xff]),
            "<OUT_OF_BOUNDS>"
        );
    }

    #[test]
    fn floats_bools_and_unsupported_sizes() {
        let d = TypeDesc::base("double", 8, BaseEncoding::Float);
        assert_eq!(render_value(&d, &(-12.5f64).to_le_bytes()), "-12.5");
        assert_eq!(render_value(&d, &3.0f64.to_le_bytes()), "3");
        assert_eq!(render_value(&d, &f64::NAN.to_le_bytes()), "NaN");
        assert_eq!(render_value(&d, &f64::NEG_INFINITY.to_le_bytes()), "-inf");
        let f = TypeDesc::base("float", 4, BaseEncoding::Float);
        assert_eq!(render_value(&f, &0.1f32.to_le_bytes()), "0.1");
        let ld = TypeDesc::base("long double", 16, BaseEncoding::Float);
        assert_eq!(render_value(&ld, &[0; 16]), "<UNSUPPORTED_FLOAT_SIZE_16>");
        assert_eq!(render_value(&TypeDesc::bool(), &[1]), "true");
        assert_eq!(render_value(&TypeDesc::bool(), &[0]), "false");
        assert_eq!(
            render_value(&TypeDesc::base("x", 2, BaseEncoding::Other(9)), &[0, 0]),
            "<UNKNOWN_ENCODING_9_SIZE_2_BYTES>"
        );
    }

    fn ptr(pointee: &TypeDesc) -> TypeDesc {
        TypeDesc::pointer_to(pointee)
    }
    fn node() -> TypeDesc {
        TypeDesc::Aggregate {
            kind: AggregateKind::Struct,
            name: Some("node".into()),
            size: 8,
            members: vec![member("v", 0, int())],
        }
    }

    #[test]
    fn pointers_show_the_display_name_of_their_pointee() {
        let addr = 0x7ffd2a10u64.to_le_bytes();
        let node_ptr = ptr(&node());
        assert_eq!(render_value(&node_ptr, &addr), "0x7ffd2a10 (node*)");
        assert_eq!(render_value(&node_ptr, &0u64.to_le_bytes()), "NULL (node*)");
        assert_eq!(render_value(&node_ptr, &[1, 2]), "<INVALID_POINTER>");
        // Typedefs and qualifiers of the pointee are stripped.
        let node_t = TypeDesc::typedef("node_t", node());
        assert_eq!(render_value(&ptr(&node_t), &addr), "0x7ffd2a10 (node*)");
        let cnode = TypeDesc::qualified(Qualifier::Const, node());
        assert_eq!(render_value(&ptr(&cnode), &addr), "0x7ffd2a10 (node*)");
        let cchar = TypeDesc::qualified(Qualifier::Const, char_t());
        assert_eq!(render_value(&ptr(&cchar), &addr), "0x7ffd2a10 (char*)");
        let uchar = TypeDesc::base("unsigned char", 1, BaseEncoding::UnsignedChar);
        let u8_t = TypeDesc::typedef("uint8_t", TypeDesc::typedef("__uint8_t", uchar));
        assert_eq!(
            render_value(&ptr(&u8_t), &addr),
            "0x7ffd2a10 (unsigned char*)"
        );
        // Pointers to pointers, functions and arrays show (void*).
        let int_ptr = ptr(&int());
        assert_eq!(render_value(&ptr(&int_ptr), &addr), "0x7ffd2a10 (void*)");
        let f = TypeDesc::Function {
            signature: "int (int)".into(),
        };
        assert_eq!(render_value(&ptr(&f), &addr), "0x7ffd2a10 (void*)");
        assert_eq!(
            render_value(&TypeDesc::typedef("fn_t", ptr(&f)), &addr),
            "0x7ffd2a10 (void*)"
        );
        let arr = TypeDesc::Array {
            element: Box::new(int()),
            count: Some(4),
        };
        assert_eq!(render_value(&ptr(&arr), &addr), "0x7ffd2a10 (void*)");
        // ... unless a typedef names them (`ip_t *`).
        assert_eq!(
            render_value(&ptr(&TypeDesc::typedef("ip_t", int_ptr)), &addr),
            "0x7ffd2a10 (ip_t*)"
        );
        assert_eq!(
            render_value(&ptr(&TypeDesc::Void), &addr),
            "0x7ffd2a10 (void*)"
        );
        // A typedef of a pointer is transparent.
        assert_eq!(
            render_value(&TypeDesc::typedef("node_ptr", node_ptr), &addr),
            "0x7ffd2a10 (node*)"
        );
        // An anonymous struct takes the typedef's name, else none.
        let anon = TypeDesc::Aggregate {
            kind: AggregateKind::Struct,
            name: None,
            size: 4,
            members: vec![],
        };
        assert_eq!(
            render_value(&ptr(&TypeDesc::typedef("anon_t", anon.clone())), &addr),
            "0x7ffd2a10 (anon_t*)"
        );
        assert_eq!(render_value(&ptr(&anon), &addr), "0x7ffd2a10 (void*)");
    }

    #[test]
    fn addresses_of_objects_keep_the_c_spelling_of_structs() {
        let addr = 0x10u64.to_le_bytes();
        assert_eq!(
            render_value(&TypeDesc::address_of(&node()), &addr),
            "0x10 (struct node*)"
        );
        assert_eq!(
            render_value(&TypeDesc::address_of(&int()), &addr),
            "0x10 (int*)"
        );
        assert_eq!(
            render_value(&TypeDesc::address_of(&ptr(&node())), &addr),
            "0x10 (node**)"
        );
    }

    #[test]
    fn typedefs_of_scalars_and_arrays_are_transparent() {
        let pid_t = TypeDesc::typedef("pid_t", TypeDesc::typedef("__pid_t", int()));
        assert_eq!(render_value(&pid_t, &4121i32.to_le_bytes()), "4121");
        let i16_t = TypeDesc::typedef(
            "int16_t",
            TypeDesc::base("short int", 2, BaseEncoding::Signed),
        );
        assert_eq!(render_value(&i16_t, &(-2i16).to_le_bytes()), "-2");
        let flag = TypeDesc::typedef("myflag", TypeDesc::bool());
        assert_eq!(render_value(&flag, &[1]), "true");
        let name_t = TypeDesc::typedef(
            "name_t",
            TypeDesc::Array {
                element: Box::new(char_t()),
                count: Some(8),
            },
        );
        assert_eq!(render_value(&name_t, b"bob\0\0\0\0\0"), "\"bob\"");
        let cint = TypeDesc::qualified(Qualifier::Const, int());
        assert_eq!(render_value(&cint, &7i32.to_le_bytes()), "7");
        let vtd = TypeDesc::qualified(Qualifier::Volatile, i16_t);
        assert_eq!(render_value(&vtd, &5i16.to_le_bytes()), "5");
    }

    fn point() -> TypeDesc {
        TypeDesc::Aggregate {
            kind: AggregateKind::Struct,
            name: Some("point".into()),
            size: 8,
            members: vec![member("x", 0, int()), member("y", 4, int())],
        }
    }

    #[test]
    fn structs_unions_and_typedefd_structs() {
        let mut b = 1i32.to_le_bytes().to_vec();
        b.extend_from_slice(&2i32.to_le_bytes());
        assert_eq!(render_value(&point(), &b), "point { x: 1, y: 2 }");
        // A typedef of a named struct renders under the struct's own name.
        let td = TypeDesc::typedef("Point", point());
        assert_eq!(render_value(&td, &b), "point { x: 1, y: 2 }");
        assert_eq!(
            render_value(&point(), &b[..4]),
            "point { x: 1, y: <OUT_OF_BOUNDS> }"
        );
        let u = TypeDesc::Aggregate {
            kind: AggregateKind::Union,
            name: Some("val".into()),
            size: 4,
            members: vec![member("i", 0, int()), member("u", 0, uint())],
        };
        assert_eq!(render_value(&u, &b[..4]), "union val { i = 1 }");
        let anon = TypeDesc::Aggregate {
            kind: AggregateKind::Struct,
            name: None,
            size: 4,
            members: vec![member("a", 0, int())],
        };
        assert_eq!(render_value(&anon, &b[..4]), "<anon_struct> { a: 1 }");
        assert_eq!(
            render_value(&TypeDesc::typedef("anonrec_t", anon.clone()), &b[..4]),
            "anonrec_t { a: 1 }"
        );
        let anon_union = TypeDesc::Aggregate {
            kind: AggregateKind::Union,
            name: None,
            size: 4,
            members: vec![member("raw", 0, int())],
        };
        assert_eq!(
            render_value(&anon_union, &b[..4]),
            "union <anon_union> { raw = 1 }"
        );
        assert_eq!(
            render_value(&TypeDesc::typedef("u_t", anon_union.clone()), &b[..4]),
            "union u_t { raw = 1 }"
        );
        let named_union = TypeDesc::Aggregate {
            kind: AggregateKind::Union,
            name: Some("val".into()),
            size: 4,
            members: vec![member("", 0, anon.clone())],
        };
        assert_eq!(
            render_value(&TypeDesc::typedef("val_t", named_union), &b[..4]),
            "union val { member_0 = <anon_struct> { a: 1 } }"
        );
        // Anonymous members are labelled by their position.
        let outer = TypeDesc::Aggregate {
            kind: AggregateKind::Struct,
            name: Some("gadget".into()),
            size: 8,
            members: vec![member("id", 0, int()), member("", 4, anon_union)],
        };
        assert_eq!(
            render_value(&outer, &b),
            "gadget { id: 1, member_1: union <anon_union> { raw = 2 } }"
        );
    }

    #[test]
    fn char_arrays_are_quoted_and_escaped() {
        let arr = TypeDesc::Array {
            element: Box::new(char_t()),
            count: Some(16),
        };
        assert_eq!(render_value(&arr, b"Alice\0garbage\0\0\0"), "\"Alice\"");
        assert_eq!(
            render_value(&arr, b"tab\tend\"\\\0"),
            "\"tab\\x09end\\\"\\\\\""
        );
        let ints = TypeDesc::Array {
            element: Box::new(int()),
            count: Some(3),
        };
        let mut b = Vec::new();
        for v in [3, 0, -1i32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(render_value(&ints, &b), "[3, 0, -1]");
        assert_eq!(render_value(&ints, &b[..8]), "[3, 0]");
        let empty = TypeDesc::Array {
            element: Box::new(int()),
            count: Some(0),
        };
        assert_eq!(render_value(&empty, &[]), "[]");
    }

    #[test]
    fn bitfields_are_extracted_and_sign_extended() {
        let flags = TypeDesc::Aggregate {
            kind: AggregateKind::Struct,
            name: Some("flags".into()),
            size: 4,
            members: vec![
                Member {
                    name: "on".into(),
                    offset: 0,
                    bitfield: Some(Bitfield {
                        bit_offset: 0,
                        bit_size: 1,
                    }),
                    ty: TypeDesc::bool(),
                    base_class: false,
                },
                Member {
                    name: "level".into(),
                    offset: 0,
                    bitfield: Some(Bitfield {
                        bit_offset: 1,
                        bit_size: 3,
                    }),
                    ty: int(),
                    base_class: false,
                },
                Member {
                    name: "mode".into(),
                    offset: 0,
                    bitfield: Some(Bitfield {
                        bit_offset: 4,
                        bit_size: 6,
                    }),
                    ty: uint(),
                    base_class: false,
                },
            ],
        };
        // on=1, level=-2 (0b110), mode=33 (0b100001)
        let raw: u32 = 1 | (0b110 << 1) | (33 << 4);
        assert_eq!(
            render_value(&flags, &raw.to_le_bytes()),
            "flags { on: true, level: -2, mode: 33 }"
        );
    }

    #[test]
    fn depth_limit_stops_runaway_nesting() {
        let mut t = int();
        for _ in 0..40 {
            t = TypeDesc::Aggregate {
                kind: AggregateKind::Struct,
                name: Some("n".into()),
                size: 4,
                members: vec![member("v", 0, t)],
            };
        }
        assert!(render_value(&t, &[0; 4]).contains("<MAX_DEPTH_EXCEEDED>"));
    }
}
