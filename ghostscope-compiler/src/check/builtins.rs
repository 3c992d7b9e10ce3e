//! The comparison builtins `strncmp`, `starts_with`, `memcmp` and `hex`
//! (script-language §7).

use ghostscope_protocol::{ExprErrorSlot, TypeDesc};

use super::{Checker, Typed};
use crate::ast::{BinOp, Expr};
use crate::plan::{ByteOperand, BytesEq, CompareBuiltin, DumpLen, Scalar};

/// A checked operand of a comparison builtin.
enum Operand {
    /// A script string.
    Text(Vec<u8>),
    /// `hex("…")` bytes.
    Hex(Vec<u8>),
    /// Memory at an address, and how many bytes are there when known (an array's size).
    Memory(Scalar, Option<u64>),
}

impl Operand {
    fn into_byte_operand(self) -> ByteOperand {
        match self {
            Operand::Text(b) | Operand::Hex(b) => ByteOperand::Bytes(b),
            Operand::Memory(a, _) => ByteOperand::Memory(a),
        }
    }
}

/// `-N` as the parser writes it: `0 - N`.
fn negative_literal(e: &Expr) -> bool {
    matches!(e, Expr::Binary(BinOp::Sub, l, r) if **l == Expr::Int(0) && matches!(**r, Expr::Int(n) if n > 0))
}

/// Decodes the content of `hex("…")`.
pub(super) fn hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| *c != ' ').collect();
    if let Some(bad) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("hex literal contains non-hex character: '{bad}'"));
    }
    if !digits.len().is_multiple_of(2) {
        return Err("hex literal must contain an even number of hex digits".to_string());
    }
    Ok((0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex digits"))
        .collect())
}

impl Checker<'_> {
    /// Checks a builtin call; `text` is the call's expression text.
    pub(super) fn builtin(
        &mut self,
        name: &str,
        args: &[Expr],
        text: &str,
    ) -> Result<Typed, String> {
        let eq = match name {
            "strncmp" => self.strncmp(args)?,
            "starts_with" => self.starts_with(args)?,
            "memcmp" => self.memcmp(args)?,
            "hex" => return Err("hex(...) can only be used as a memcmp argument".to_string()),
            other => return Err(format!("Unknown builtin function: {other}")),
        };
        let value = match eq {
            Err(folded) => Scalar::Const(folded as i64),
            Ok(mut cmp) => {
                // Inside a print, a read failure gets its own ExprError line
                // and the value reads as false; in a condition it aborts softly.
                if let Some(errors) = self.print_errors.as_mut() {
                    let offset = self.layout.marker();
                    errors.push(ExprErrorSlot {
                        offset,
                        expr: text.to_string(),
                    });
                    cmp.error_record = Some(offset);
                }
                Scalar::BytesEq(Box::new(cmp))
            }
        };
        Ok(Typed::Int {
            value,
            int: crate::plan::IntType {
                size: 1,
                signed: false,
            },
            desc: TypeDesc::bool(),
        })
    }

    fn builtin_operand(&mut self, e: &Expr, builtin: &str) -> Result<Operand, String> {
        if let Expr::Call(name, args) = e {
            if name == "hex" {
                return match args.as_slice() {
                    [Expr::Str(s)] => Ok(Operand::Hex(hex_bytes(s)?)),
                    _ => Err("hex expects a string literal".to_string()),
                };
            }
        }
        let t = self.expr(e)?;
        match t {
            Typed::Str(_) if builtin == "memcmp" && matches!(e, Expr::Str(_)) => {
                Err("memcmp does not accept string literals; use strncmp for strings".to_string())
            }
            // A string variable holds no target memory either.
            Typed::Str(_) if builtin == "memcmp" => {
                Err("expression is not a pointer/address".to_string())
            }
            Typed::Str(s) => Ok(Operand::Text(s.into_bytes())),
            Typed::Int { ref desc, .. }
                if matches!(
                    desc.strip(),
                    TypeDesc::Base {
                        encoding: ghostscope_protocol::BaseEncoding::Bool,
                        ..
                    }
                ) =>
            {
                Err(
                    "memcmp pointer arguments cannot be boolean; use an address or hex(...)"
                        .to_string(),
                )
            }
            Typed::Int { .. } => Err("expression is not a pointer/address".to_string()),
            other => {
                let readable = match &other {
                    Typed::Place(p) if matches!(p.ty.strip(), TypeDesc::Array { .. }) => {
                        p.ty.size()
                    }
                    _ => None,
                };
                let (address, _) = self.memory_source(other, &e.text())?;
                Ok(Operand::Memory(address, readable))
            }
        }
    }

    /// A computed length argument of `builtin`: any integer expression.
    fn length(&mut self, e: &Expr, builtin: &str) -> Result<Scalar, String> {
        let t = self.expr(e)?;
        if let Typed::Int { desc, .. } = &t {
            if matches!(
                desc.strip(),
                TypeDesc::Base {
                    encoding: ghostscope_protocol::BaseEncoding::Bool,
                    ..
                }
            ) {
                return Err(format!(
                    "{builtin} length must be an integer or expression, not boolean"
                ));
            }
        }
        Ok(self.scalar(t, &e.text())?.0)
    }

    /// `strncmp(a, b, n)`: `Ok(cmp)` to run, or `Err(result)` when folded.
    fn strncmp(&mut self, args: &[Expr]) -> Result<Result<BytesEq, bool>, String> {
        let [a, b, n] = args else {
            return Err("strncmp expects three arguments: strncmp(a, b, n)".to_string());
        };
        if negative_literal(n) {
            return Err("strncmp third argument must be non-negative".to_string());
        }
        let (a, b) = (
            self.builtin_operand(a, "strncmp")?,
            self.builtin_operand(b, "strncmp")?,
        );
        // A computed length is clamped at run time: below 0 it compares
        // nothing, above the string it compares the string (as the reference does).
        let n = match n {
            Expr::Int(n) => DumpLen::Fixed((*n as u64).min(u32::MAX as u64) as u32),
            e => DumpLen::Dynamic(self.length(e, "strncmp")?),
        };
        self.compare_with_text(a, b, n, "strncmp")
    }

    /// `starts_with(a, b)`: strncmp with the string side's length.
    fn starts_with(&mut self, args: &[Expr]) -> Result<Result<BytesEq, bool>, String> {
        let [a, b] = args else {
            return Err("starts_with expects two arguments: starts_with(a, b)".to_string());
        };
        let (a, b) = (
            self.builtin_operand(a, "starts_with")?,
            self.builtin_operand(b, "starts_with")?,
        );
        let n = match (&b, &a) {
            (Operand::Text(t), _) | (_, Operand::Text(t)) => DumpLen::Fixed(t.len() as u32),
            _ => {
                return Err(
                    "starts_with needs a string literal or string variable on one side".to_string(),
                )
            }
        };
        self.compare_with_text(a, b, n, "starts_with")
    }

    fn compare_with_text(
        &mut self,
        a: Operand,
        b: Operand,
        n: DumpLen,
        builtin: &str,
    ) -> Result<Result<BytesEq, bool>, String> {
        let text_len = match (&a, &b) {
            (Operand::Text(x), Operand::Text(y)) => x.len().min(y.len()),
            (Operand::Text(x), _) | (_, Operand::Text(x)) => x.len(),
            _ => {
                return Err(format!(
                    "{builtin} needs a string literal or string variable on one side"
                ))
            }
        } as u64;
        // An array operand has only its own bytes to compare (script-language §7.1).
        let readable = [&a, &b]
            .into_iter()
            .filter_map(|o| match o {
                Operand::Memory(_, bytes) => *bytes,
                _ => None,
            })
            .min()
            .unwrap_or(u64::MAX);
        let limit = (self.options.compare_cap as u64)
            .min(text_len)
            .min(readable) as u32;
        let len = match n {
            DumpLen::Fixed(n) => DumpLen::Fixed(n.min(limit)),
            dynamic => dynamic,
        };
        if let (Operand::Text(x), Operand::Text(y), DumpLen::Fixed(l)) = (&a, &b, &len) {
            let l = *l as usize;
            return Ok(Err(x[..l] == y[..l]));
        }
        Ok(Ok(BytesEq {
            left: a.into_byte_operand(),
            right: b.into_byte_operand(),
            len,
            limit,
            builtin: CompareBuiltin::Strncmp,
            error_record: None,
        }))
    }

    /// `memcmp(a, b [, len])`.
    fn memcmp(&mut self, args: &[Expr]) -> Result<Result<BytesEq, bool>, String> {
        let (a, b, len_expr) = match args {
            [a, b] => (a, b, None),
            [a, b, len] => (a, b, Some(len)),
            _ => {
                return Err(
                    "memcmp expects two or three arguments: memcmp(a, b [, len])".to_string(),
                )
            }
        };
        let (a, b) = (
            self.builtin_operand(a, "memcmp")?,
            self.builtin_operand(b, "memcmp")?,
        );
        let hex_len = |o: &Operand| match o {
            Operand::Hex(h) => Some(h.len() as u64),
            _ => None,
        };
        let len = match len_expr {
            None => match (hex_len(&a), hex_len(&b)) {
                (Some(x), Some(y)) if x != y => {
                    return Err(
                        "memcmp hex operands have different sizes; provide explicit len"
                            .to_string(),
                    )
                }
                (Some(x), _) | (_, Some(x)) => DumpLen::Fixed(x as u32),
                (None, None) => {
                    return Err(
                        "memcmp without len requires at least one hex(...) operand".to_string()
                    )
                }
            },
            Some(e) if negative_literal(e) => {
                return Err("memcmp length must be non-negative".to_string())
            }
            Some(Expr::Int(n)) => {
                let n = *n as u64;
                for (side, o) in [("left", &a), ("right", &b)] {
                    if let Some(h) = hex_len(o) {
                        if n > h {
                            return Err(format!(
                                "memcmp length ({n}) exceeds hex pattern size on {side} side ({h} bytes)"
                            ));
                        }
                    }
                }
                DumpLen::Fixed(n.min(u32::MAX as u64) as u32)
            }
            Some(e) => DumpLen::Dynamic(self.length(e, "memcmp")?),
        };
        if let (Operand::Hex(x), Operand::Hex(y), DumpLen::Fixed(n)) = (&a, &b, &len) {
            let l = (*n as usize).min(x.len()).min(y.len());
            return Ok(Err(x[..l] == y[..l]));
        }
        Ok(Ok(BytesEq {
            left: a.into_byte_operand(),
            right: b.into_byte_operand(),
            len,
            limit: self.options.compare_cap,
            builtin: CompareBuiltin::Memcmp,
            error_record: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_literals() {
        assert_eq!(
            hex_bytes("7f 45 4c46").unwrap(),
            vec![0x7f, 0x45, 0x4c, 0x46]
        );
        assert_eq!(
            hex_bytes("4g").unwrap_err(),
            "hex literal contains non-hex character: 'g'"
        );
        assert_eq!(
            hex_bytes("123").unwrap_err(),
            "hex literal must contain an even number of hex digits"
        );
    }
}
