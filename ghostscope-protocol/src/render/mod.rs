//! Text rendering of captured values, failure markers, format strings and
//! ExprError lines, shared by the script-mode output and the TUI.

mod backtrace;
mod enums;
pub mod json;
mod value;

use std::fmt::Write as _;

pub use backtrace::{backtrace_lines, BacktraceStyle};
pub use value::{
    push_escaped_c_string, read_int, render_value, render_value_as, ANONYMOUS_MEMBER_PREFIX,
    MAX_RENDER_DEPTH,
};

use crate::meta::{DumpStyle, FormatPiece, FormatSpec, SlotKind, ValueOrigin, ValueSlot};
use crate::types::TypeDesc;
use crate::wire::{FailureDetail, ReadStatus, Record};

/// The marker printed in place of a value that could not be read (output.md §4).
///
/// `<T>` names the value's own type with its pointer levels kept, as the
/// reference prints it: a value read through `*p` uses the pointee's display
/// name (`*nul` → `(node*)`), any other value the spelling of its type as an
/// object (`nul.v` → `(int*)`, a `struct node *` member → `(node**)`).
pub fn failure_marker(
    ty: &TypeDesc,
    origin: ValueOrigin,
    status: Result<ReadStatus, u8>,
    detail: FailureDetail,
) -> String {
    let t = match origin {
        ValueOrigin::PointerDeref => ty.pointee_display_name(),
        ValueOrigin::Direct | ValueOrigin::Bitfield => ty.object_name(),
    };
    match status {
        Ok(ReadStatus::NullDeref) => format!("<error: null pointer dereference> ({t}*)"),
        Ok(ReadStatus::ReadError) if detail.errno != 0 => format!(
            "<read_user failed errno={} at 0x{:x}> ({t}*)",
            detail.errno, detail.addr
        ),
        Ok(ReadStatus::ReadError) => format!("<read_user failed> ({t}*)"),
        Ok(ReadStatus::AccessError) => format!("<address compute failed> ({t}*)"),
        Ok(ReadStatus::Truncated) => format!("<truncated> ({t}*)"),
        Ok(ReadStatus::OffsetsUnavailable) => format!("<proc offsets unavailable> ({t}*)"),
        Ok(ReadStatus::ZeroLength) => format!("<len<=0> ({t})"),
        Ok(ReadStatus::EntryMissing) => "<entry not captured>".to_string(),
        Ok(ReadStatus::Ok) | Ok(ReadStatus::NotRun) => format!("<error status=0> ({t}*)"),
        Err(code) => format!("<error status={code}> ({t}*)"),
    }
}

/// A slot's captured record, or `None` for constants and missing records.
fn slot_record<'a>(slot: &ValueSlot, event: &'a [u8]) -> Option<Record<'a>> {
    match slot.kind {
        SlotKind::Typed(_) => Record::parse(event, slot.offset, slot.capacity),
        SlotKind::Constant(_) => None,
    }
}

/// Default rendering of one slot: the value, or its failure marker.
pub fn render_slot(slot: &ValueSlot, event: &[u8]) -> String {
    let ty = match &slot.kind {
        SlotKind::Constant(text) => return text.clone(),
        SlotKind::Typed(ty) => ty,
    };
    let Some(rec) = slot_record(slot, event) else {
        return "<MISSING_ARG>".to_string();
    };
    match rec.status() {
        Ok(ReadStatus::Ok) => render_value_as(ty, rec.payload, slot.origin),
        Ok(ReadStatus::NotRun) => "<MISSING_ARG>".to_string(),
        status => failure_marker(ty, slot.origin, status, rec.failure()),
    }
}

/// Renders a format statement's line from its pieces and argument slots.
pub fn render_format(pieces: &[FormatPiece], args: &[ValueSlot], event: &[u8]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            FormatPiece::Literal(text) => out.push_str(text),
            FormatPiece::Placeholder { arg, spec } => match args.get(*arg) {
                Some(slot) => render_placeholder(&mut out, spec, slot, event),
                None => out.push_str("<MISSING_ARG>"),
            },
        }
    }
    out
}

fn render_placeholder(out: &mut String, spec: &FormatSpec, slot: &ValueSlot, event: &[u8]) {
    if *spec == FormatSpec::Default {
        out.push_str(&render_slot(slot, event));
        return;
    }
    let (ty, bytes): (&TypeDesc, &[u8]) = match &slot.kind {
        SlotKind::Constant(text) => {
            // Script strings are the only constants worth dumping; show their bytes.
            let raw = text.trim_matches('"').as_bytes();
            render_bytes(out, spec, raw);
            return;
        }
        SlotKind::Typed(ty) => match slot_record(slot, event) {
            Some(rec) => match rec.status() {
                Ok(ReadStatus::Ok) => (ty, rec.payload),
                Ok(ReadStatus::NotRun) => {
                    out.push_str("<MISSING_ARG>");
                    return;
                }
                status => {
                    out.push_str(&failure_marker(ty, slot.origin, status, rec.failure()));
                    return;
                }
            },
            None => {
                out.push_str("<MISSING_ARG>");
                return;
            }
        },
    };
    let _ = ty;
    render_bytes(out, spec, bytes);
}

fn render_bytes(out: &mut String, spec: &FormatSpec, bytes: &[u8]) {
    match spec {
        FormatSpec::Default => unreachable!("handled by the caller"),
        FormatSpec::Hex { upper } => push_hex(out, bytes, *upper),
        FormatSpec::Pointer => {
            let addr = read_int(bytes, bytes.len().min(8) as u32, false).unwrap_or(0);
            let _ = write!(out, "0x{addr:x}");
        }
        FormatSpec::Ascii => push_ascii(out, bytes),
        FormatSpec::Dump { style } => match style {
            DumpStyle::HexLower => push_hex(out, bytes, false),
            DumpStyle::HexUpper => push_hex(out, bytes, true),
            DumpStyle::Ascii => push_ascii(out, bytes),
        },
    }
}

/// Hex pairs separated by single spaces.
pub fn push_hex(out: &mut String, bytes: &[u8], upper: bool) {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if upper {
            let _ = write!(out, "{b:02X}");
        } else {
            let _ = write!(out, "{b:02x}");
        }
    }
}

/// Printable ASCII as is, other bytes as `\xNN`, stopping at the first NUL.
pub fn push_ascii(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        match b {
            0 => break,
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

/// The reason text of an ExprError code (output.md §5).
pub fn expr_error_reason(status: Result<ReadStatus, u8>) -> &'static str {
    match status {
        Ok(ReadStatus::NullDeref) => "null deref",
        Ok(ReadStatus::ReadError) => "read error",
        Ok(ReadStatus::AccessError) => "access error",
        Ok(ReadStatus::Truncated) => "truncated",
        Ok(ReadStatus::OffsetsUnavailable) => "offsets unavailable",
        Ok(ReadStatus::ZeroLength) => "zero length",
        Ok(ReadStatus::EntryMissing) => "entry not captured",
        _ => "error",
    }
}

/// The ExprError line of a failed condition or builtin (output.md §5).
pub fn expr_error_line(expr: &str, status: Result<ReadStatus, u8>, flags: u8, addr: u64) -> String {
    let mut line = format!("ExprError: {expr} ({} ", expr_error_reason(status));
    if addr == 0 {
        line.push_str("at NULL");
    } else {
        let _ = write!(line, "at 0x{addr:016x}");
    }
    if flags != 0 {
        line.push_str(", flags: ");
        line.push_str(&expr_error_flags(expr, flags));
    }
    line.push(')');
    line
}

pub(crate) fn expr_error_flags(expr: &str, flags: u8) -> String {
    let names: &[(u8, &str)] = if expr.contains("memcmp(") {
        &[
            (0x01, "first-arg read-fail"),
            (0x02, "second-arg read-fail"),
            (0x04, "len-clamped"),
            (0x08, "len=0"),
        ]
    } else if expr.contains("strncmp(") || expr.contains("starts_with(") {
        &[(0x01, "read-fail"), (0x04, "len-clamped"), (0x08, "len=0")]
    } else {
        return format!("0x{flags:02x}");
    };
    names
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::BaseEncoding;
    use crate::wire::write_record;

    fn failure_payload(addr: u64, errno: i32) -> Vec<u8> {
        let mut p = addr.to_le_bytes().to_vec();
        p.extend_from_slice(&errno.to_le_bytes());
        p.extend_from_slice(&[0; 4]);
        p
    }

    #[test]
    fn failure_markers_follow_the_spec() {
        let peer = TypeDesc::Aggregate {
            kind: crate::types::AggregateKind::Struct,
            name: Some("peer".into()),
            size: 4,
            members: vec![],
        };
        let d = FailureDetail::default();
        assert_eq!(
            failure_marker(
                &peer,
                ValueOrigin::PointerDeref,
                Ok(ReadStatus::NullDeref),
                d
            ),
            "<error: null pointer dereference> (peer*)"
        );
        // Pointer levels are kept: a `struct peer *` read through NULL.
        assert_eq!(
            failure_marker(
                &TypeDesc::pointer_to(&peer),
                ValueOrigin::Direct,
                Ok(ReadStatus::NullDeref),
                d
            ),
            "<error: null pointer dereference> (peer**)"
        );
        let cpeer_t = TypeDesc::Typedef {
            name: "peer_t".into(),
            target: Box::new(TypeDesc::Qualified {
                qualifier: crate::types::Qualifier::Const,
                target: Box::new(peer.clone()),
            }),
        };
        assert_eq!(
            failure_marker(
                &cpeer_t,
                ValueOrigin::PointerDeref,
                Ok(ReadStatus::NullDeref),
                d
            ),
            "<error: null pointer dereference> (peer*)"
        );
        // A member keeps the spelling of its declared type.
        assert_eq!(
            failure_marker(&cpeer_t, ValueOrigin::Direct, Ok(ReadStatus::NullDeref), d),
            "<error: null pointer dereference> (peer_t*)"
        );
        assert_eq!(
            failure_marker(&peer, ValueOrigin::Direct, Ok(ReadStatus::NullDeref), d),
            "<error: null pointer dereference> (struct peer*)"
        );
        assert_eq!(
            failure_marker(
                &TypeDesc::int(),
                ValueOrigin::Direct,
                Ok(ReadStatus::ReadError),
                FailureDetail {
                    addr: 0x1000,
                    errno: -14
                }
            ),
            "<read_user failed errno=-14 at 0x1000> (int*)"
        );
        assert_eq!(
            failure_marker(
                &TypeDesc::int(),
                ValueOrigin::Direct,
                Ok(ReadStatus::ReadError),
                d
            ),
            "<read_user failed> (int*)"
        );
        assert_eq!(
            failure_marker(
                &TypeDesc::int(),
                ValueOrigin::Direct,
                Ok(ReadStatus::ZeroLength),
                d
            ),
            "<len<=0> (int)"
        );
        assert_eq!(
            failure_marker(&TypeDesc::int(), ValueOrigin::Direct, Err(42), d),
            "<error status=42> (int*)"
        );
    }

    #[test]
    fn format_renders_hex_pointer_ascii_and_failures() {
        let int_slot = ValueSlot {
            offset: 0,
            capacity: 16,
            kind: SlotKind::Typed(TypeDesc::int()),
            origin: Default::default(),
        };
        let str_slot = ValueSlot {
            offset: 24,
            capacity: 16,
            kind: SlotKind::Typed(TypeDesc::base("char", 1, BaseEncoding::SignedChar)),
            origin: Default::default(),
        };
        let mut ev = vec![0u8; 48];
        write_record(&mut ev, 0, 0, 0, &10i32.to_le_bytes());
        write_record(&mut ev, 24, 0, 0, b"hi\x01\0zz");
        let pieces = vec![
            FormatPiece::Literal("n=".into()),
            FormatPiece::Placeholder {
                arg: 0,
                spec: FormatSpec::Default,
            },
            FormatPiece::Literal(" x=".into()),
            FormatPiece::Placeholder {
                arg: 0,
                spec: FormatSpec::Hex { upper: false },
            },
            FormatPiece::Literal(" s=".into()),
            FormatPiece::Placeholder {
                arg: 1,
                spec: FormatSpec::Dump {
                    style: DumpStyle::Ascii,
                },
            },
            FormatPiece::Literal(" X=".into()),
            FormatPiece::Placeholder {
                arg: 1,
                spec: FormatSpec::Dump {
                    style: DumpStyle::HexUpper,
                },
            },
        ];
        let args = vec![int_slot.clone(), str_slot.clone()];
        assert_eq!(
            render_format(&pieces, &args, &ev),
            "n=10 x=0a 00 00 00 s=hi\\x01 X=68 69 01 00 7A 7A"
        );
        write_record(
            &mut ev,
            24,
            ReadStatus::NullDeref as u8,
            0,
            &failure_payload(0, 0),
        );
        assert_eq!(
            render_format(&pieces[4..6], &args, &ev),
            " s=<error: null pointer dereference> (char*)"
        );
        assert_eq!(render_format(&pieces[..2], &[], &ev), "n=<MISSING_ARG>");
    }

    #[test]
    fn pointer_placeholder_prints_the_address() {
        let slot = ValueSlot {
            offset: 0,
            capacity: 8,
            kind: SlotKind::Typed(TypeDesc::long()),
            origin: Default::default(),
        };
        let mut ev = vec![0u8; 16];
        write_record(&mut ev, 0, 0, 0, &0x7ffd1234u64.to_le_bytes());
        let pieces = vec![FormatPiece::Placeholder {
            arg: 0,
            spec: FormatSpec::Pointer,
        }];
        assert_eq!(render_format(&pieces, &[slot], &ev), "0x7ffd1234");
    }

    #[test]
    fn expr_error_lines() {
        assert_eq!(
            expr_error_line(
                "memcmp(hdr, hex(\"4745\"), 2)",
                Ok(ReadStatus::ReadError),
                1,
                0x7f3a10000000
            ),
            "ExprError: memcmp(hdr, hex(\"4745\"), 2) (read error at 0x00007f3a10000000, flags: first-arg read-fail)"
        );
        assert_eq!(
            expr_error_line("(req.len>0)", Ok(ReadStatus::NullDeref), 0, 0),
            "ExprError: (req.len>0) (null deref at NULL)"
        );
        assert_eq!(
            expr_error_line("(a>0)", Ok(ReadStatus::ReadError), 0x10, 8),
            "ExprError: (a>0) (read error at 0x0000000000000008, flags: 0x10)"
        );
    }
}
