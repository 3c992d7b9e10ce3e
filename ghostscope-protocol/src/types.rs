//! The renderer's view of a C type: everything needed to turn captured bytes
//! into text, and nothing that needs the DWARF to be open.
//!
//! Pointers are leaves: they carry the pointee's names (its C spelling for
//! error messages and its display name for the `(T*)` suffix) and an opaque
//! [`TypeRef`] the DWARF index can follow, so recursive types
//! (`struct node { struct node *next; }`) never form a cycle here.
//!
//! A type has three names:
//! - [`TypeDesc::name`], the C spelling (`const struct node*`), for error
//!   messages and `--dry-run-details`;
//! - [`TypeDesc::display_name`], output.md §3.9 (`node`, `node*`), for
//!   failure markers and pointer suffixes;
//! - [`TypeDesc::object_name`], the spelling of an object whose address is
//!   taken (`&gad` → `struct gadget*`, `&np.next` → `node**`).

/// The name the reference gives an anonymous struct (output.md §3.6).
pub const ANONYMOUS_STRUCT: &str = "<anon_struct>";

/// The name the reference gives an anonymous union (output.md §3.6).
pub const ANONYMOUS_UNION: &str = "<anon_union>";

/// Opaque handle to a type in one module's DWARF (the DIE offset in `.debug_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TypeRef(pub u64);

/// How a base type's bytes are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseEncoding {
    /// Two's-complement signed integer.
    Signed,
    /// Unsigned integer.
    Unsigned,
    /// `char` / `signed char`.
    SignedChar,
    /// `unsigned char`.
    UnsignedChar,
    /// `bool` / `_Bool`.
    Bool,
    /// IEEE float (4 or 8 bytes; 16 is reported as unsupported).
    Float,
    /// An encoding we do not render, with its DWARF `DW_ATE_*` code.
    Other(u8),
}

/// `const`, `volatile`, or a C++ reference wrapped around its pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// `const T`.
    Const,
    /// `volatile T`.
    Volatile,
    /// A C++ `T&`/`T&&`: the target is the pointer it is stored as; the
    /// checker follows it wherever it is named, so it reads as its referent.
    Reference,
}

impl Qualifier {
    /// The C keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Qualifier::Const => "const",
            Qualifier::Volatile => "volatile",
            Qualifier::Reference => "",
        }
    }
}

/// One enumerator of an enum type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enumerator {
    /// Enumerator name.
    pub name: String,
    /// Its value (unsigned enumerators above `i64::MAX` wrap).
    pub value: i64,
}

/// A member of a struct, class or union.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Member name; anonymous members get an empty name.
    pub name: String,
    /// Byte offset from the start of the aggregate.
    pub offset: u64,
    /// Bit position and width for bitfields, counted from `offset`'s first byte.
    pub bitfield: Option<Bitfield>,
    /// Member type.
    pub ty: TypeDesc,
    /// A C++ base-class subobject (`DW_TAG_inheritance`): its members are
    /// reachable by their own names through the derived object.
    pub base_class: bool,
}

/// Placement of a bitfield member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bitfield {
    /// Bits from the member's byte `offset` to its least significant bit.
    pub bit_offset: u32,
    /// Width in bits.
    pub bit_size: u32,
}

/// Struct-like aggregate kind, which decides the type name prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateKind {
    /// `struct`.
    Struct,
    /// `class` (C++).
    Class,
    /// `union`.
    Union,
}

/// A type as the renderer and the compiler's checks see it.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeDesc {
    /// `void` (only behind pointers or as a function result).
    Void,
    /// A scalar base type.
    Base {
        /// DWARF name (`int`, `long unsigned int`, ...).
        name: String,
        /// Size in bytes.
        size: u32,
        /// Interpretation of the bytes.
        encoding: BaseEncoding,
    },
    /// An enumeration.
    Enum {
        /// Tag name, if any.
        name: Option<String>,
        /// Size in bytes.
        size: u32,
        /// Whether the underlying integer is signed.
        signed: bool,
        /// `enum class` (or a Rust fieldless enum): rendered without the value.
        scoped: bool,
        /// Enumerators in declaration order.
        variants: Vec<Enumerator>,
    },
    /// A data pointer or function pointer.
    Pointer {
        /// The pointee's C spelling (`const struct node`), for error messages.
        pointee_name: String,
        /// The pointee's display name as a pointee (output.md §3.9), used in
        /// the `(T*)` suffix of the pointer's value: `node`, `void` for
        /// pointers to pointers, functions and arrays.
        pointee_display: String,
        /// The pointee, when the DWARF index can resolve it.
        pointee: Option<TypeRef>,
    },
    /// A struct, class or union.
    Aggregate {
        /// Struct, class or union.
        kind: AggregateKind,
        /// Tag name, if any.
        name: Option<String>,
        /// Size in bytes.
        size: u64,
        /// Members in declaration order.
        members: Vec<Member>,
    },
    /// A one-dimensional view of an array (inner dimensions become element arrays).
    Array {
        /// Element type.
        element: Box<TypeDesc>,
        /// Number of elements, when known.
        count: Option<u64>,
    },
    /// A typedef.
    Typedef {
        /// The typedef's name.
        name: String,
        /// The aliased type.
        target: Box<TypeDesc>,
    },
    /// A `const` or `volatile` qualified type.
    Qualified {
        /// Which qualifier.
        qualifier: Qualifier,
        /// The qualified type.
        target: Box<TypeDesc>,
    },
    /// A function type (only its name is ever rendered).
    Function {
        /// Rendered signature, for example `int (int, char*)`.
        signature: String,
    },
    /// A type ghostscope cannot render yet.
    Unknown {
        /// Best available name.
        name: String,
        /// Size in bytes.
        size: u64,
    },
}

impl TypeDesc {
    /// Shorthand for a base type.
    pub fn base(name: &str, size: u32, encoding: BaseEncoding) -> TypeDesc {
        TypeDesc::Base {
            name: name.to_string(),
            size,
            encoding,
        }
    }

    /// Shorthand for a typedef.
    pub fn typedef(name: &str, target: TypeDesc) -> TypeDesc {
        TypeDesc::Typedef {
            name: name.to_string(),
            target: Box::new(target),
        }
    }

    /// Shorthand for a qualified type.
    pub fn qualified(qualifier: Qualifier, target: TypeDesc) -> TypeDesc {
        TypeDesc::Qualified {
            qualifier,
            target: Box::new(target),
        }
    }

    /// The C `int` type, used for promoted results.
    pub fn int() -> TypeDesc {
        TypeDesc::base("int", 4, BaseEncoding::Signed)
    }

    /// The C `long` type, the type of script integers.
    pub fn long() -> TypeDesc {
        TypeDesc::base("long", 8, BaseEncoding::Signed)
    }

    /// The `bool` type of comparisons.
    pub fn bool() -> TypeDesc {
        TypeDesc::base("bool", 1, BaseEncoding::Bool)
    }

    /// Size of a value of this type in bytes, when known.
    pub fn size(&self) -> Option<u64> {
        match self {
            TypeDesc::Void | TypeDesc::Function { .. } => None,
            TypeDesc::Base { size, .. } | TypeDesc::Enum { size, .. } => Some(*size as u64),
            TypeDesc::Pointer { .. } => Some(8),
            TypeDesc::Aggregate { size, .. } => Some(*size),
            TypeDesc::Array { element, count } => Some(element.size()? * (*count)?),
            TypeDesc::Typedef { target, .. } | TypeDesc::Qualified { target, .. } => target.size(),
            TypeDesc::Unknown { size, .. } => Some(*size),
        }
    }

    /// True for a C++ reference (under any typedefs and qualifiers).
    pub fn is_reference(&self) -> bool {
        let mut t = self;
        loop {
            match t {
                TypeDesc::Qualified {
                    qualifier: Qualifier::Reference,
                    ..
                } => return true,
                TypeDesc::Typedef { target, .. } | TypeDesc::Qualified { target, .. } => t = target,
                _ => return false,
            }
        }
    }

    /// The type with typedefs and qualifiers removed.
    pub fn strip(&self) -> &TypeDesc {
        let mut t = self;
        while let TypeDesc::Typedef { target, .. } | TypeDesc::Qualified { target, .. } = t {
            t = target;
        }
        t
    }

    /// True for 1-byte integer and char types, whose arrays render as strings.
    pub fn is_byte_like(&self) -> bool {
        matches!(
            self.strip(),
            TypeDesc::Base { size: 1, encoding, .. }
                if matches!(encoding, BaseEncoding::Signed | BaseEncoding::Unsigned | BaseEncoding::SignedChar | BaseEncoding::UnsignedChar)
        )
    }

    /// Integer view of the type: `Some((size, signed))` for integers, chars,
    /// bools and enums, which all take part in C integer arithmetic.
    pub fn integer_layout(&self) -> Option<(u32, bool)> {
        match self.strip() {
            TypeDesc::Base { size, encoding, .. } => match encoding {
                BaseEncoding::Signed | BaseEncoding::SignedChar => Some((*size, true)),
                BaseEncoding::Unsigned | BaseEncoding::UnsignedChar | BaseEncoding::Bool => {
                    Some((*size, false))
                }
                BaseEncoding::Float | BaseEncoding::Other(_) => None,
            },
            TypeDesc::Enum { size, signed, .. } => Some((*size, *signed)),
            _ => None,
        }
    }

    /// A pointer to `pointee`, shown like a DWARF pointer: `(node*)`.
    pub fn pointer_to(pointee: &TypeDesc) -> TypeDesc {
        TypeDesc::Pointer {
            pointee_name: pointee.name(),
            pointee_display: pointee.pointee_display_name(),
            pointee: None,
        }
    }

    /// The address of an object of type `object` (`&x`): its suffix keeps the
    /// C spelling of a struct (`(struct gadget*)`) and the pointer levels of a
    /// pointer (`(node**)`), as the reference prints (script-language §4.1).
    pub fn address_of(object: &TypeDesc) -> TypeDesc {
        TypeDesc::Pointer {
            pointee_name: object.name(),
            pointee_display: object.object_name(),
            pointee: None,
        }
    }

    /// The display name of the type (output.md §3.9): qualifiers and
    /// typedefs stripped, no `struct`/`union`/`enum` keyword, pointer levels
    /// kept (`node*`). Failure markers use it as `(<display name>*)`.
    pub fn display_name(&self) -> String {
        match self {
            TypeDesc::Void => "void".to_string(),
            TypeDesc::Base { name, .. } | TypeDesc::Unknown { name, .. } => name.clone(),
            TypeDesc::Enum { name, .. } | TypeDesc::Aggregate { name, .. } => {
                name.clone().unwrap_or_default()
            }
            TypeDesc::Pointer {
                pointee_display, ..
            } => format!("{pointee_display}*"),
            TypeDesc::Array { element, count } => match count {
                Some(n) => format!("{}[{n}]", element.display_name()),
                None => format!("{}[]", element.display_name()),
            },
            TypeDesc::Typedef { name, target } => {
                if target.is_anonymous_tag() {
                    name.clone()
                } else {
                    target.display_name()
                }
            }
            TypeDesc::Qualified { target, .. } => target.display_name(),
            TypeDesc::Function { signature } => signature.clone(),
        }
    }

    /// The display name of the type as a pointee (output.md §3.9), as the
    /// reference spells it: a base type's name, a struct, union or enum's
    /// tag (an anonymous one takes the outermost typedef's name); for
    /// anything else (pointers, functions, arrays) the outermost typedef's
    /// name if there is one (`ip_t`), else `void`.
    pub fn pointee_display_name(&self) -> String {
        let mut typedef_name: Option<&str> = None;
        let mut t = self;
        loop {
            match t {
                TypeDesc::Typedef { name, target } => {
                    typedef_name.get_or_insert(name);
                    t = target;
                }
                TypeDesc::Qualified { target, .. } => t = target,
                TypeDesc::Base { name, .. } => return name.clone(),
                TypeDesc::Aggregate { name, .. } | TypeDesc::Enum { name, .. } => {
                    return name
                        .as_deref()
                        .or(typedef_name)
                        .unwrap_or("void")
                        .to_string()
                }
                _ => return typedef_name.unwrap_or("void").to_string(),
            }
        }
    }

    /// The name of an object of this type in an address-of suffix: the C
    /// spelling, except that pointers show their display name (`node*`).
    pub fn object_name(&self) -> String {
        match self {
            TypeDesc::Pointer { .. } => self.display_name(),
            TypeDesc::Array { element, count } => match count {
                Some(n) => format!("{}[{n}]", element.object_name()),
                None => format!("{}[]", element.object_name()),
            },
            TypeDesc::Qualified {
                qualifier: Qualifier::Reference,
                target,
            } => target.object_name(),
            TypeDesc::Qualified { qualifier, target } => {
                format!("{} {}", qualifier.keyword(), target.object_name())
            }
            TypeDesc::Aggregate {
                kind, name: None, ..
            } => match kind {
                AggregateKind::Union => format!("union {ANONYMOUS_UNION}"),
                AggregateKind::Struct => format!("struct {ANONYMOUS_STRUCT}"),
                AggregateKind::Class => format!("class {ANONYMOUS_STRUCT}"),
            },
            _ => self.name(),
        }
    }

    /// True for a struct, union or enum without a tag name, which takes the
    /// name of the typedef it is reached through.
    pub fn is_anonymous_tag(&self) -> bool {
        matches!(
            self.strip(),
            TypeDesc::Aggregate { name: None, .. } | TypeDesc::Enum { name: None, .. }
        )
    }

    /// The type's C spelling (`const struct node*`), for error messages and
    /// `--dry-run-details`; values use [`TypeDesc::display_name`].
    pub fn name(&self) -> String {
        match self {
            TypeDesc::Void => "void".to_string(),
            TypeDesc::Base { name, .. } => name.clone(),
            TypeDesc::Enum { name, .. } => format!("enum {}", name.as_deref().unwrap_or("")),
            TypeDesc::Pointer { pointee_name, .. } => format!("{pointee_name}*"),
            TypeDesc::Aggregate { kind, name, .. } => {
                let prefix = match kind {
                    AggregateKind::Struct => "struct",
                    AggregateKind::Class => "class",
                    AggregateKind::Union => "union",
                };
                format!("{prefix} {}", name.as_deref().unwrap_or(""))
            }
            TypeDesc::Array { element, count } => match count {
                Some(n) => format!("{}[{n}]", element.name()),
                None => format!("{}[]", element.name()),
            },
            TypeDesc::Typedef { name, .. } => name.clone(),
            TypeDesc::Qualified {
                qualifier: Qualifier::Reference,
                target,
            } => target.name(),
            TypeDesc::Qualified { qualifier, target } => {
                format!("{} {}", qualifier.keyword(), target.name())
            }
            TypeDesc::Function { signature } => signature.clone(),
            TypeDesc::Unknown { name, .. } => name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn char_t() -> TypeDesc {
        TypeDesc::base("char", 1, BaseEncoding::SignedChar)
    }

    #[test]
    fn names_follow_the_output_spec() {
        let cc = TypeDesc::Qualified {
            qualifier: Qualifier::Const,
            target: Box::new(char_t()),
        };
        assert_eq!(cc.name(), "const char");
        let p = TypeDesc::pointer_to(&cc);
        assert_eq!(p.name(), "const char*");
        assert_eq!(p.display_name(), "char*");
        let s = TypeDesc::Aggregate {
            kind: AggregateKind::Struct,
            name: Some("conn".into()),
            size: 8,
            members: vec![],
        };
        assert_eq!(s.name(), "struct conn");
        assert_eq!(s.display_name(), "conn");
        assert_eq!(TypeDesc::pointer_to(&s).display_name(), "conn*");
        assert_eq!(TypeDesc::address_of(&s).display_name(), "struct conn*");
        let anon = TypeDesc::Aggregate {
            kind: AggregateKind::Union,
            name: None,
            size: 4,
            members: vec![],
        };
        assert_eq!(anon.object_name(), "union <anon_union>");
        let pp = TypeDesc::pointer_to(&TypeDesc::pointer_to(&s));
        assert_eq!(pp.name(), "struct conn**");
        assert_eq!(pp.display_name(), "void*");
        let a = TypeDesc::Array {
            element: Box::new(TypeDesc::int()),
            count: Some(4),
        };
        assert_eq!(a.name(), "int[4]");
        assert_eq!(a.display_name(), "int[4]");
        assert_eq!(a.pointee_display_name(), "void");
        assert_eq!(a.size(), Some(16));
    }

    #[test]
    fn byte_like_sees_through_typedefs_but_not_bool() {
        let u8_t = TypeDesc::Typedef {
            name: "uint8_t".into(),
            target: Box::new(TypeDesc::base(
                "unsigned char",
                1,
                BaseEncoding::UnsignedChar,
            )),
        };
        assert!(u8_t.is_byte_like());
        assert!(!TypeDesc::bool().is_byte_like());
        assert!(!TypeDesc::int().is_byte_like());
    }
}
