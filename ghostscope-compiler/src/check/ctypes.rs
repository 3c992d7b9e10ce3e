//! C's integer rules on the LP64 model (script-language §6.3).

use ghostscope_protocol::{BaseEncoding, TypeDesc};

use crate::plan::IntType;

/// Integer promotion: types narrower than `int` become `int`.
pub(crate) fn promote(t: IntType) -> IntType {
    if t.size < 4 {
        IntType::INT
    } else {
        t
    }
}

/// The usual arithmetic conversions of two operand types.
pub(crate) fn common_type(a: IntType, b: IntType) -> IntType {
    let (a, b) = (promote(a), promote(b));
    if a == b {
        return a;
    }
    if a.signed == b.signed {
        return if a.size >= b.size { a } else { b };
    }
    let (s, u) = if a.signed { (a, b) } else { (b, a) };
    if u.size >= s.size {
        u
    } else {
        // The signed type is wider, so it holds every value of the unsigned one.
        s
    }
}

/// The C spelling of an integer type, for rendering results.
pub(crate) fn describe(t: IntType) -> TypeDesc {
    let (name, encoding) = match (t.size, t.signed) {
        (1, true) => ("signed char", BaseEncoding::Signed),
        (1, false) => ("unsigned char", BaseEncoding::Unsigned),
        (2, true) => ("short", BaseEncoding::Signed),
        (2, false) => ("unsigned short", BaseEncoding::Unsigned),
        (4, true) => ("int", BaseEncoding::Signed),
        (4, false) => ("unsigned int", BaseEncoding::Unsigned),
        (_, true) => ("long", BaseEncoding::Signed),
        (_, false) => ("unsigned long", BaseEncoding::Unsigned),
    };
    TypeDesc::base(name, t.size as u32, encoding)
}

/// The integer type of a DWARF type, for integers, chars, bools and enums.
pub(crate) fn int_type_of(ty: &TypeDesc) -> Option<IntType> {
    let (size, signed) = ty.integer_layout()?;
    matches!(size, 1 | 2 | 4 | 8).then_some(IntType {
        size: size as u8,
        signed,
    })
}

/// Builtin scalar spellings accepted by `cast`.
pub(crate) fn builtin_scalar(name: &str) -> Option<(IntType, TypeDesc)> {
    let (size, signed, enc): (u8, bool, BaseEncoding) = match name {
        "bool" | "_Bool" => (1, false, BaseEncoding::Bool),
        "char" | "signed char" | "int8_t" | "i8" | "s8" => (1, true, BaseEncoding::SignedChar),
        "unsigned char" | "uint8_t" | "u8" => (1, false, BaseEncoding::UnsignedChar),
        "short" | "short int" | "int16_t" | "i16" | "s16" => (2, true, BaseEncoding::Signed),
        "unsigned short" | "short unsigned int" | "uint16_t" | "u16" => {
            (2, false, BaseEncoding::Unsigned)
        }
        "int" | "int32_t" | "i32" | "s32" => (4, true, BaseEncoding::Signed),
        "unsigned" | "unsigned int" | "uint32_t" | "u32" => (4, false, BaseEncoding::Unsigned),
        "long" | "long int" | "long long" | "long long int" | "int64_t" | "i64" | "s64"
        | "ssize_t" | "intptr_t" => (8, true, BaseEncoding::Signed),
        "unsigned long"
        | "long unsigned int"
        | "unsigned long long"
        | "long long unsigned int"
        | "uint64_t"
        | "u64"
        | "size_t"
        | "uintptr_t" => (8, false, BaseEncoding::Unsigned),
        _ => return None,
    };
    Some((
        IntType { size, signed },
        TypeDesc::base(name, size as u32, enc),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const U8: IntType = IntType {
        size: 1,
        signed: false,
    };
    const S8: IntType = IntType {
        size: 1,
        signed: true,
    };
    const U32: IntType = IntType {
        size: 4,
        signed: false,
    };
    const I32: IntType = IntType {
        size: 4,
        signed: true,
    };
    const U64: IntType = IntType {
        size: 8,
        signed: false,
    };

    #[test]
    fn usual_arithmetic_conversions() {
        assert_eq!(common_type(S8, U8), I32);
        assert_eq!(common_type(I32, U32), U32);
        assert_eq!(common_type(U32, IntType::LONG), IntType::LONG);
        assert_eq!(common_type(IntType::LONG, U64), U64);
        assert_eq!(common_type(U8, U8), I32);
    }
}
