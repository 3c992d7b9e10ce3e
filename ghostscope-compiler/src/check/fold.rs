//! Constant folding with the same semantics as the generated BPF code, so
//! `print 7 / 2;` and a computed value agree.

use crate::plan::{ArithOp, CmpOp, IntType, Scalar};

/// Truncates or extends `v` to the width and signedness of `t`.
pub(super) fn normalize(v: i64, t: IntType) -> i64 {
    match (t.size, t.signed) {
        (1, true) => v as i8 as i64,
        (1, false) => v as u8 as i64,
        (2, true) => v as i16 as i64,
        (2, false) => v as u16 as i64,
        (4, true) => v as i32 as i64,
        (4, false) => v as u32 as i64,
        _ => v,
    }
}

pub(super) fn convert(v: Scalar, to: IntType) -> Scalar {
    match v {
        Scalar::Const(c) => Scalar::Const(normalize(c, to)),
        other => Scalar::Convert(Box::new(other), to),
    }
}

/// Folds arithmetic on constants with the same semantics the BPF code has.
pub(super) fn fold_arith(op: ArithOp, a: i64, b: i64, t: IntType) -> i64 {
    let bits = t.size as u32 * 8;
    let (ua, ub) = (a as u64, b as u64);
    let r = match op {
        ArithOp::Add => a.wrapping_add(b),
        ArithOp::Sub => a.wrapping_sub(b),
        ArithOp::Mul => a.wrapping_mul(b),
        ArithOp::Div if b == 0 => 0,
        ArithOp::Rem if b == 0 => a,
        ArithOp::Div if t.signed => a.wrapping_div(b),
        ArithOp::Rem if t.signed => a.wrapping_rem(b),
        ArithOp::Div => (mask(ua, bits) / mask(ub, bits)) as i64,
        ArithOp::Rem => (mask(ua, bits) % mask(ub, bits)) as i64,
        ArithOp::And => a & b,
        ArithOp::Or => a | b,
        ArithOp::Xor => a ^ b,
        ArithOp::Shl => a.wrapping_shl(b as u32 & (bits - 1)),
        ArithOp::Shr if t.signed => a.wrapping_shr(b as u32 & (bits - 1)),
        ArithOp::Shr => (mask(ua, bits) >> (b as u32 & (bits - 1))) as i64,
    };
    normalize(r, t)
}

fn mask(v: u64, bits: u32) -> u64 {
    if bits >= 64 {
        v
    } else {
        v & ((1u64 << bits) - 1)
    }
}

pub(super) fn fold_compare(op: CmpOp, a: i64, b: i64, signed: bool) -> bool {
    let ord = if signed {
        a.cmp(&b)
    } else {
        (a as u64).cmp(&(b as u64))
    };
    match op {
        CmpOp::Eq => ord.is_eq(),
        CmpOp::Ne => !ord.is_eq(),
        CmpOp::Lt => ord.is_lt(),
        CmpOp::Le => ord.is_le(),
        CmpOp::Gt => ord.is_gt(),
        CmpOp::Ge => ord.is_ge(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U32: IntType = IntType {
        size: 4,
        signed: false,
    };

    #[test]
    fn folding_matches_c_and_ebpf_semantics() {
        // Signed division truncates toward zero; remainder takes the dividend's sign.
        assert_eq!(fold_arith(ArithOp::Div, -7, 2, IntType::INT), -3);
        assert_eq!(fold_arith(ArithOp::Rem, -7, 2, IntType::INT), -1);
        // Division by zero gives 0, remainder by zero the dividend (eBPF).
        assert_eq!(fold_arith(ArithOp::Div, 5, 0, IntType::INT), 0);
        assert_eq!(fold_arith(ArithOp::Rem, 5, 0, IntType::INT), 5);
        // Results wrap in their type; unsigned values stay non-negative.
        assert_eq!(
            fold_arith(ArithOp::Add, i32::MAX as i64, 1, IntType::INT),
            i32::MIN as i64
        );
        assert_eq!(fold_arith(ArithOp::Sub, 0, 1, U32), u32::MAX as i64);
        // Shift counts are masked to the width.
        assert_eq!(fold_arith(ArithOp::Shl, 1, 33, IntType::INT), 2);
        assert_eq!(fold_arith(ArithOp::Shr, -8, 1, IntType::INT), -4);
        assert_eq!(fold_arith(ArithOp::Shr, u32::MAX as i64, 28, U32), 15);
        // Comparisons honour signedness.
        assert!(fold_compare(CmpOp::Lt, -1, 1, true));
        assert!(!fold_compare(CmpOp::Lt, -1, 1, false));
        assert_eq!(normalize(0x1_0000_0005, U32), 5);
    }
}
