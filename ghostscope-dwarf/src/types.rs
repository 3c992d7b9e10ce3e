//! DWARF type DIEs → [`TypeDesc`].

use ghostscope_protocol::{
    AggregateKind, BaseEncoding, Bitfield, Enumerator, Member, Qualifier, TypeDesc, TypeRef,
};
use gimli::AttributeValue;

use crate::dwarf_data::{Die, DwarfData};

/// Type nesting deeper than this in one conversion is treated as malformed.
const MAX_TYPE_DEPTH: usize = 48;

/// Finds the definition of a struct/union/enum known here only by declaration.
pub(crate) trait DefinitionLookup {
    /// A defining DIE for the tag `name` of the given DWARF tag, if any.
    fn definition(&self, tag: gimli::DwTag, name: &str) -> Option<u64>;
}

/// Converts the type DIE at `die` (None = `void`).
pub(crate) fn type_desc(
    data: &DwarfData,
    lookup: &dyn DefinitionLookup,
    die: Option<u64>,
) -> TypeDesc {
    convert(data, lookup, die, 0)
}

fn convert(
    data: &DwarfData,
    lookup: &dyn DefinitionLookup,
    die: Option<u64>,
    depth: usize,
) -> TypeDesc {
    let Some(die) = die else {
        return TypeDesc::Void;
    };
    if depth > MAX_TYPE_DEPTH {
        return TypeDesc::Unknown {
            name: "<recursive type>".into(),
            size: 0,
        };
    }
    let Some((u, entry)) = data.entry(die) else {
        return TypeDesc::Unknown {
            name: "<bad type reference>".into(),
            size: 0,
        };
    };
    // A type described in a type unit is a skeleton here that names it by signature.
    if let Some(def) = data.reference(u, &entry, gimli::DW_AT_signature) {
        if def != die {
            return convert(data, lookup, Some(def), depth + 1);
        }
    }
    let name = data.string(u, &entry, gimli::DW_AT_name);
    let size = DwarfData::udata(&entry, gimli::DW_AT_byte_size);
    let target = data.reference(u, &entry, gimli::DW_AT_type);
    match entry.tag() {
        gimli::DW_TAG_base_type => {
            let encoding = match entry.attr_value(gimli::DW_AT_encoding) {
                Some(AttributeValue::Encoding(e)) => e,
                _ => gimli::DwAte(0),
            };
            let encoding = match encoding {
                gimli::DW_ATE_signed => BaseEncoding::Signed,
                gimli::DW_ATE_unsigned | gimli::DW_ATE_UTF => BaseEncoding::Unsigned,
                gimli::DW_ATE_signed_char => BaseEncoding::SignedChar,
                gimli::DW_ATE_unsigned_char => BaseEncoding::UnsignedChar,
                gimli::DW_ATE_boolean => BaseEncoding::Bool,
                gimli::DW_ATE_float => BaseEncoding::Float,
                other => BaseEncoding::Other(other.0),
            };
            TypeDesc::Base {
                name: name.unwrap_or_else(|| "<base>".into()),
                size: size.unwrap_or(0) as u32,
                encoding,
            }
        }
        gimli::DW_TAG_reference_type | gimli::DW_TAG_rvalue_reference_type => TypeDesc::Qualified {
            qualifier: Qualifier::Reference,
            target: Box::new(TypeDesc::Pointer {
                pointee_name: type_name(data, target, 0),
                pointee_display: pointee_display_name(data, target),
                pointee: target.map(TypeRef),
            }),
        },
        gimli::DW_TAG_pointer_type | gimli::DW_TAG_ptr_to_member_type => TypeDesc::Pointer {
            pointee_name: type_name(data, target, 0),
            pointee_display: pointee_display_name(data, target),
            pointee: target.map(TypeRef),
        },
        gimli::DW_TAG_const_type | gimli::DW_TAG_volatile_type => TypeDesc::Qualified {
            qualifier: if entry.tag() == gimli::DW_TAG_const_type {
                Qualifier::Const
            } else {
                Qualifier::Volatile
            },
            target: Box::new(convert(data, lookup, target, depth + 1)),
        },
        gimli::DW_TAG_restrict_type | gimli::DW_TAG_atomic_type => {
            convert(data, lookup, target, depth + 1)
        }
        gimli::DW_TAG_typedef => TypeDesc::Typedef {
            name: name.unwrap_or_default(),
            target: Box::new(convert(data, lookup, target, depth + 1)),
        },
        gimli::DW_TAG_structure_type | gimli::DW_TAG_class_type | gimli::DW_TAG_union_type => {
            if DwarfData::flag(&entry, gimli::DW_AT_declaration) {
                if let Some(def) = name
                    .as_deref()
                    .and_then(|n| lookup.definition(entry.tag(), n))
                {
                    if def != die {
                        return convert(data, lookup, Some(def), depth + 1);
                    }
                }
                return TypeDesc::Unknown {
                    name: type_name(data, Some(die), 0),
                    size: 0,
                };
            }
            let kind = match entry.tag() {
                gimli::DW_TAG_union_type => AggregateKind::Union,
                gimli::DW_TAG_class_type => AggregateKind::Class,
                _ => AggregateKind::Struct,
            };
            TypeDesc::Aggregate {
                kind,
                name,
                size: size.unwrap_or(0),
                members: members(data, lookup, u, &entry, depth),
            }
        }
        gimli::DW_TAG_enumeration_type => {
            let underlying = convert(data, lookup, target, depth + 1);
            let signed = match underlying.integer_layout() {
                Some((_, s)) => s,
                // Without DW_AT_type, C enums are int unless a value is negative-only.
                None => true,
            };
            TypeDesc::Enum {
                name,
                size: size.unwrap_or(4) as u32,
                signed,
                scoped: DwarfData::flag(&entry, gimli::DW_AT_enum_class),
                variants: enumerators(data, u, &entry),
            }
        }
        gimli::DW_TAG_array_type => array(data, lookup, u, &entry, target, depth),
        gimli::DW_TAG_subroutine_type => TypeDesc::Function {
            signature: type_name(data, Some(die), 0),
        },
        gimli::DW_TAG_unspecified_type => TypeDesc::Unknown {
            name: name.unwrap_or_else(|| "void".into()),
            size: size.unwrap_or(0),
        },
        _ => TypeDesc::Unknown {
            name: name.unwrap_or_else(|| format!("{}", entry.tag())),
            size: size.unwrap_or(0),
        },
    }
}

fn members(
    data: &DwarfData,
    lookup: &dyn DefinitionLookup,
    u: usize,
    entry: &Die,
    depth: usize,
) -> Vec<Member> {
    let mut out = Vec::new();
    for child in data.children(u, entry) {
        let is_base = child.tag() == gimli::DW_TAG_inheritance;
        if child.tag() != gimli::DW_TAG_member && !is_base {
            continue;
        }
        // Static members have no offset and are not part of the object.
        if DwarfData::flag(&child, gimli::DW_AT_external)
            || DwarfData::flag(&child, gimli::DW_AT_declaration)
        {
            continue;
        }
        let ty_die = data.reference(u, &child, gimli::DW_AT_type);
        let ty = convert(data, lookup, ty_die, depth + 1);
        let name = if is_base {
            type_name(data, ty_die, 0)
        } else {
            data.string(u, &child, gimli::DW_AT_name)
                .unwrap_or_default()
        };
        let byte_offset = member_offset(&child);
        let bit_size = DwarfData::udata(&child, gimli::DW_AT_bit_size);
        let (offset, bitfield) = match bit_size {
            None => (byte_offset.unwrap_or(0), None),
            Some(bits) => {
                if let Some(data_bit) = DwarfData::udata(&child, gimli::DW_AT_data_bit_offset) {
                    // DWARF 4+: bit offset from the start of the aggregate.
                    (
                        data_bit / 8,
                        Some(Bitfield {
                            bit_offset: (data_bit % 8) as u32,
                            bit_size: bits as u32,
                        }),
                    )
                } else {
                    // DWARF 2/3: bit offset from the most significant bit of
                    // a storage unit of DW_AT_byte_size at the member offset.
                    let storage = DwarfData::udata(&child, gimli::DW_AT_byte_size)
                        .or_else(|| ty.size())
                        .unwrap_or(4);
                    let msb_offset = DwarfData::udata(&child, gimli::DW_AT_bit_offset).unwrap_or(0);
                    let lsb = (storage * 8).saturating_sub(msb_offset + bits);
                    (
                        byte_offset.unwrap_or(0) + lsb / 8,
                        Some(Bitfield {
                            bit_offset: (lsb % 8) as u32,
                            bit_size: bits as u32,
                        }),
                    )
                }
            }
        };
        out.push(Member {
            name,
            offset,
            bitfield,
            ty,
            base_class: is_base,
        });
    }
    out
}

/// `DW_AT_data_member_location` as a constant, or as the DWARF 2 form
/// `DW_OP_plus_uconst N`.
fn member_offset(entry: &Die) -> Option<u64> {
    let attr = entry.attr(gimli::DW_AT_data_member_location)?;
    if let Some(v) = attr.udata_value() {
        return Some(v);
    }
    let expr = attr.exprloc_value()?;
    let bytes = expr.0.slice();
    // DW_OP_plus_uconst ULEB128
    if bytes.first() == Some(&0x23) {
        let mut r = gimli::EndianSlice::new(&bytes[1..], gimli::LittleEndian);
        return gimli::leb128::read::unsigned(&mut r).ok();
    }
    None
}

fn enumerators(data: &DwarfData, u: usize, entry: &Die) -> Vec<Enumerator> {
    data.children(u, entry)
        .into_iter()
        .filter(|c| c.tag() == gimli::DW_TAG_enumerator)
        .filter_map(|c| {
            let name = data.string(u, &c, gimli::DW_AT_name)?;
            let value = match c.attr_value(gimli::DW_AT_const_value)? {
                AttributeValue::Sdata(v) => v,
                AttributeValue::Udata(v) => v as i64,
                AttributeValue::Data1(v) => v as i8 as i64,
                AttributeValue::Data2(v) => v as i16 as i64,
                AttributeValue::Data4(v) => v as i32 as i64,
                AttributeValue::Data8(v) => v as i64,
                _ => return None,
            };
            Some(Enumerator { name, value })
        })
        .collect()
}

fn array(
    data: &DwarfData,
    lookup: &dyn DefinitionLookup,
    u: usize,
    entry: &Die,
    element: Option<u64>,
    depth: usize,
) -> TypeDesc {
    let counts: Vec<Option<u64>> = data
        .children(u, entry)
        .into_iter()
        .filter(|c| c.tag() == gimli::DW_TAG_subrange_type)
        .map(|c| {
            DwarfData::udata(&c, gimli::DW_AT_count).or_else(|| {
                // upper_bound may be signed (-1 for flexible arrays).
                match c.attr_value(gimli::DW_AT_upper_bound)? {
                    AttributeValue::Sdata(v) if v < 0 => Some(0),
                    AttributeValue::Sdata(v) => Some(v as u64 + 1),
                    other => other.udata_value().map(|v| v + 1),
                }
            })
        })
        .collect();
    let mut ty = convert(data, lookup, element, depth + 1);
    let counts = if counts.is_empty() {
        vec![None]
    } else {
        counts
    };
    // int a[2][3] is an array of 2 arrays of 3: wrap from the innermost dimension.
    for count in counts.into_iter().rev() {
        ty = TypeDesc::Array {
            element: Box::new(ty),
            count,
        };
    }
    ty
}

/// The name of a type as output.md §3.9 spells it, without expanding members.
pub(crate) fn type_name(data: &DwarfData, die: Option<u64>, depth: usize) -> String {
    let Some(die) = die else {
        return "void".into();
    };
    if depth > MAX_TYPE_DEPTH {
        return "<recursive type>".into();
    }
    let Some((u, entry)) = data.entry(die) else {
        return "<bad type>".into();
    };
    if let Some(def) = data.reference(u, &entry, gimli::DW_AT_signature) {
        if def != die {
            return type_name(data, Some(def), depth + 1);
        }
    }
    let name = data.string(u, &entry, gimli::DW_AT_name);
    let target = data.reference(u, &entry, gimli::DW_AT_type);
    match entry.tag() {
        gimli::DW_TAG_base_type | gimli::DW_TAG_typedef | gimli::DW_TAG_unspecified_type => {
            name.unwrap_or_default()
        }
        gimli::DW_TAG_pointer_type
        | gimli::DW_TAG_reference_type
        | gimli::DW_TAG_rvalue_reference_type
        | gimli::DW_TAG_ptr_to_member_type => format!("{}*", type_name(data, target, depth + 1)),
        gimli::DW_TAG_const_type => format!("const {}", type_name(data, target, depth + 1)),
        gimli::DW_TAG_volatile_type => format!("volatile {}", type_name(data, target, depth + 1)),
        gimli::DW_TAG_restrict_type | gimli::DW_TAG_atomic_type => {
            type_name(data, target, depth + 1)
        }
        gimli::DW_TAG_structure_type => format!("struct {}", name.unwrap_or_default()),
        gimli::DW_TAG_class_type => format!("class {}", name.unwrap_or_default()),
        gimli::DW_TAG_union_type => format!("union {}", name.unwrap_or_default()),
        gimli::DW_TAG_enumeration_type => format!("enum {}", name.unwrap_or_default()),
        gimli::DW_TAG_array_type => {
            let count = data
                .children(u, &entry)
                .into_iter()
                .find(|c| c.tag() == gimli::DW_TAG_subrange_type)
                .and_then(|c| {
                    DwarfData::udata(&c, gimli::DW_AT_count)
                        .or_else(|| DwarfData::udata(&c, gimli::DW_AT_upper_bound).map(|v| v + 1))
                });
            match count {
                Some(n) => format!("{}[{n}]", type_name(data, target, depth + 1)),
                None => format!("{}[]", type_name(data, target, depth + 1)),
            }
        }
        gimli::DW_TAG_subroutine_type => {
            let params: Vec<String> = data
                .children(u, &entry)
                .into_iter()
                .filter(|c| c.tag() == gimli::DW_TAG_formal_parameter)
                .map(|c| type_name(data, data.reference(u, &c, gimli::DW_AT_type), depth + 1))
                .collect();
            let params = if params.is_empty() {
                "void".to_string()
            } else {
                params.join(", ")
            };
            format!("{} ({params})", type_name(data, target, depth + 1))
        }
        _ => name.unwrap_or_else(|| "<unknown>".into()),
    }
}

/// The display name of a pointer's pointee (output.md §3.9), as the
/// reference spells it: typedefs and qualifiers are looked through to a base
/// type (its name) or a struct, union or enum (its tag name, or for an
/// anonymous one the outermost typedef's name). Anything else (a pointer,
/// function or array) shows the outermost typedef's name if there was one
/// (`ip_t *` → `ip_t`), else `void` (`int **` → `void`).
pub(crate) fn pointee_display_name(data: &DwarfData, die: Option<u64>) -> String {
    let mut typedef_name: Option<String> = None;
    let mut die = die;
    for _ in 0..MAX_TYPE_DEPTH {
        let Some(offset) = die else { break };
        let Some((u, entry)) = data.entry(offset) else {
            break;
        };
        let name = data.string(u, &entry, gimli::DW_AT_name);
        match entry.tag() {
            gimli::DW_TAG_typedef => {
                if typedef_name.is_none() {
                    typedef_name = name;
                }
            }
            gimli::DW_TAG_const_type
            | gimli::DW_TAG_volatile_type
            | gimli::DW_TAG_restrict_type
            | gimli::DW_TAG_atomic_type => {}
            gimli::DW_TAG_base_type => return name.unwrap_or_default(),
            gimli::DW_TAG_structure_type
            | gimli::DW_TAG_class_type
            | gimli::DW_TAG_union_type
            | gimli::DW_TAG_enumeration_type => {
                return name.or(typedef_name).unwrap_or_else(|| "void".into());
            }
            _ => break,
        }
        die = data.reference(u, &entry, gimli::DW_AT_type);
    }
    typedef_name.unwrap_or_else(|| "void".into())
}
