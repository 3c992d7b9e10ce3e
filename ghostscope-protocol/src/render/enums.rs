//! Enum text (output.md §3.2): `Name::VARIANT(value)` by value, the
//! variant alone in a bitfield, and the enumerator lookup in the enum's own
//! size and signedness.

use std::fmt::Write as _;

use super::read_int;
use crate::types::{Enumerator, TypeDesc};

/// The fields of an enum type, borrowed.
pub(super) struct EnumView<'a> {
    pub(super) size: u32,
    pub(super) signed: bool,
    pub(super) scoped: bool,
    pub(super) variants: &'a [Enumerator],
}

impl<'a> EnumView<'a> {
    /// The enum under typedefs and qualifiers, if `ty` is one.
    pub(super) fn of(ty: &'a TypeDesc) -> Option<EnumView<'a>> {
        match ty.strip() {
            TypeDesc::Enum {
                size,
                signed,
                scoped,
                variants,
                ..
            } => Some(EnumView {
                size: *size,
                signed: *signed,
                scoped: *scoped,
                variants,
            }),
            _ => None,
        }
    }
}

/// The enum under typedefs and qualifiers, with its own name (an anonymous
/// enum takes the outermost typedef's name).
pub(super) fn enum_parts(ty: &TypeDesc) -> Option<(String, EnumView<'_>)> {
    let e = EnumView::of(ty)?;
    let TypeDesc::Enum { name, .. } = ty.strip() else {
        return None;
    };
    let own = match (name, outer_typedef_name(ty)) {
        (Some(n), _) => n.clone(),
        (None, Some(t)) => t.to_string(),
        (None, None) => String::new(),
    };
    Some((own, e))
}

/// The first typedef name met while stripping qualifiers and typedefs.
fn outer_typedef_name(ty: &TypeDesc) -> Option<&str> {
    let mut t = ty;
    loop {
        match t {
            TypeDesc::Typedef { name, .. } => return Some(name),
            TypeDesc::Qualified { target, .. } => t = target,
            _ => return None,
        }
    }
}

/// An enum read by value: `Name::VARIANT(value)`, `Name(value)` without a
/// match, `Name::VARIANT` for an enum class.
pub(super) fn write_enum(out: &mut String, name: &str, e: &EnumView, bytes: &[u8]) {
    let Some(raw) = read_int(bytes, e.size, e.signed) else {
        out.push_str("<OUT_OF_BOUNDS>");
        return;
    };
    let value = EnumValue::new(raw, e.signed);
    match find_variant(e, value.as_i128()) {
        Some(v) if e.scoped => {
            let _ = write!(out, "{name}::{}", v.name);
        }
        Some(v) => {
            let _ = write!(out, "{name}::{}({value})", v.name);
        }
        None => {
            let _ = write!(out, "{name}({value})");
        }
    }
}

/// An enum in a bitfield: the variant name alone, or the number.
pub(super) fn write_enum_variant_alone(out: &mut String, e: &EnumView, v: i128) {
    match find_variant(e, v) {
        Some(found) => out.push_str(&found.name),
        None => {
            let _ = write!(out, "{v}");
        }
    }
}

/// The enumerator whose value, taken in the enum's own size and
/// signedness, is `v` (`BIG = 4000000000U` of a 4-byte unsigned enum).
fn find_variant<'a>(e: &EnumView<'a>, v: i128) -> Option<&'a Enumerator> {
    e.variants.iter().find(|x| {
        let raw = read_int(&x.value.to_le_bytes(), e.size.min(8), e.signed);
        raw.is_some_and(|r| EnumValue::new(r, e.signed).as_i128() == v)
    })
}

/// A 64-bit enum value printed in its signedness.
struct EnumValue {
    raw: u64,
    signed: bool,
}

impl EnumValue {
    fn new(raw: u64, signed: bool) -> EnumValue {
        EnumValue { raw, signed }
    }

    fn as_i128(&self) -> i128 {
        if self.signed {
            self.raw as i64 as i128
        } else {
            self.raw as i128
        }
    }
}

impl std::fmt::Display for EnumValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.as_i128())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{render_value, render_value_as};
    use crate::meta::ValueOrigin;
    use crate::types::{AggregateKind, Bitfield, Enumerator, Member, Qualifier, TypeDesc};

    fn int() -> TypeDesc {
        TypeDesc::int()
    }

    fn status_enum(scoped: bool) -> TypeDesc {
        TypeDesc::Enum {
            name: Some("Status".into()),
            size: 4,
            signed: true,
            scoped,
            variants: vec![
                Enumerator {
                    name: "ACTIVE".into(),
                    value: 1,
                },
                Enumerator {
                    name: "NEG".into(),
                    value: -3,
                },
            ],
        }
    }

    #[test]
    fn enums_show_variant_and_value() {
        assert_eq!(
            render_value(&status_enum(false), &1i32.to_le_bytes()),
            "Status::ACTIVE(1)"
        );
        assert_eq!(
            render_value(&status_enum(false), &(-3i32).to_le_bytes()),
            "Status::NEG(-3)"
        );
        assert_eq!(
            render_value(&status_enum(false), &7i32.to_le_bytes()),
            "Status(7)"
        );
        assert_eq!(
            render_value(&status_enum(true), &1i32.to_le_bytes()),
            "Status::ACTIVE"
        );
        let TypeDesc::Enum { variants, .. } = status_enum(false) else {
            unreachable!()
        };
        let anonymous = TypeDesc::Typedef {
            name: "level_t".into(),
            target: Box::new(TypeDesc::Enum {
                name: None,
                size: 4,
                signed: true,
                scoped: false,
                variants,
            }),
        };
        assert_eq!(
            render_value(&anonymous, &(-3i32).to_le_bytes()),
            "level_t::NEG(-3)"
        );
    }

    fn e_enum() -> TypeDesc {
        TypeDesc::Enum {
            name: Some("e".into()),
            size: 4,
            signed: true,
            scoped: false,
            variants: vec![
                Enumerator {
                    name: "NEG".into(),
                    value: -3,
                },
                Enumerator {
                    name: "POS".into(),
                    value: 7,
                },
            ],
        }
    }

    #[test]
    fn enums_through_typedefs_pointers_and_bitfields() {
        let pos = 7i32.to_le_bytes();
        let e_t = TypeDesc::typedef("e_t", e_enum());
        assert_eq!(render_value(&e_t, &pos), "e_t::POS(7)");
        assert_eq!(
            render_value(&TypeDesc::typedef("e2_t", e_t.clone()), &pos),
            "e2_t::POS(7)"
        );
        let deref = |t: &TypeDesc, b: &[u8]| render_value_as(t, b, ValueOrigin::PointerDeref);
        assert_eq!(deref(&e_enum(), &pos), "e(e::POS(7))");
        assert_eq!(deref(&e_t, &pos), "e(e::POS(7))");
        assert_eq!(
            deref(&TypeDesc::qualified(Qualifier::Const, e_enum()), &pos),
            "e(e::POS(7))"
        );
        assert_eq!(deref(&e_enum(), &9i32.to_le_bytes()), "e(e(9))");
        // Only enums change; other values read through a pointer do not.
        assert_eq!(deref(&int(), &pos), "7");
        let bitfield = |t: &TypeDesc, b: &[u8]| render_value_as(t, b, ValueOrigin::Bitfield);
        assert_eq!(bitfield(&e_enum(), &pos), "POS");
        assert_eq!(bitfield(&e_t, &9i32.to_le_bytes()), "9");
        // Enumerators compare in the enum's own size and signedness.
        let big = TypeDesc::Enum {
            name: Some("big".into()),
            size: 4,
            signed: false,
            scoped: false,
            variants: vec![Enumerator {
                name: "BIG".into(),
                value: 4000000000u32 as i32 as i64,
            }],
        };
        assert_eq!(
            render_value(&big, &4000000000u32.to_le_bytes()),
            "big::BIG(4000000000)"
        );
        let arr = TypeDesc::Array {
            element: Box::new(e_enum()),
            count: Some(2),
        };
        let mut b = (-3i32).to_le_bytes().to_vec();
        b.extend_from_slice(&pos);
        assert_eq!(render_value(&arr, &b), "[e::NEG(-3), e::POS(7)]");
        let holder = TypeDesc::Aggregate {
            kind: AggregateKind::Struct,
            name: Some("holder".into()),
            size: 4,
            members: vec![Member {
                name: "mode".into(),
                offset: 0,
                bitfield: Some(Bitfield {
                    bit_offset: 0,
                    bit_size: 4,
                }),
                ty: e_t.clone(),
                base_class: false,
            }],
        };
        assert_eq!(render_value(&holder, &pos), "holder { mode: POS }");
    }
}
