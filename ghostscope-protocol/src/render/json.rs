//! JSON forms of captured values and statement outputs (output.md §7),
//! written by hand so this crate stays free of heavy dependencies.

use std::fmt::Write as _;

use super::value::{read_int, render_value_as};
use super::{expr_error_reason, failure_marker, push_hex};
use crate::meta::{DumpStyle, FormatPiece, FormatSpec, SlotKind, ValueOrigin, ValueSlot};
use crate::types::{AggregateKind, BaseEncoding, TypeDesc};
use crate::wire::{FailureDetail, ReadStatus, Record};

/// Appends `s` as a JSON string literal: quotes, backslashes and every
/// control character are escaped, so the result is always one valid line.
pub fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // U+2028/2029 are valid JSON but break JavaScript line readers.
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `"key":` (with a leading comma unless first).
fn key(out: &mut String, name: &str) {
    if !out.ends_with('{') && !out.ends_with('[') {
        out.push(',');
    }
    push_json_string(out, name);
    out.push(':');
}

/// Appends `"key":"text"`.
pub fn push_str_field(out: &mut String, name: &str, value: &str) {
    key(out, name);
    push_json_string(out, value);
}

/// Appends `"key":<raw JSON>`.
pub fn push_raw_field(out: &mut String, name: &str, raw: &str) {
    key(out, name);
    out.push_str(raw);
}

/// The JSON value object (§7.3) of one slot; `text` is its text rendering.
pub fn slot_json(slot: &ValueSlot, event: &[u8]) -> String {
    let ty = match &slot.kind {
        SlotKind::Constant(text) => return constant_json(text),
        SlotKind::Typed(ty) => ty,
    };
    let Some(rec) = Record::parse(event, slot.offset, slot.capacity) else {
        return error_json(&ty.display_name(), "<MISSING_ARG>", "unknown", None, None);
    };
    match rec.status() {
        Ok(ReadStatus::Ok) => {
            let text = render_value_as(ty, rec.payload, slot.origin);
            value_json(ty, rec.payload, &text, 0)
        }
        Ok(ReadStatus::NotRun) => {
            error_json(&ty.display_name(), "<MISSING_ARG>", "unknown", None, None)
        }
        status => failure_json(ty, slot.origin, status, rec.failure()),
    }
}

/// The `"error"` value object of a failed read.
pub fn failure_json(
    ty: &TypeDesc,
    origin: ValueOrigin,
    status: Result<ReadStatus, u8>,
    detail: FailureDetail,
) -> String {
    let text = failure_marker(ty, origin, status, detail);
    let name = match status {
        Ok(ReadStatus::NullDeref) => "null_deref",
        Ok(ReadStatus::ReadError) => "read_error",
        Ok(ReadStatus::AccessError) => "access_error",
        Ok(ReadStatus::Truncated) => "truncated",
        Ok(ReadStatus::OffsetsUnavailable) => "offsets_unavailable",
        Ok(ReadStatus::ZeroLength) => "zero_length",
        Ok(ReadStatus::EntryMissing) => "entry_missing",
        _ => "unknown",
    };
    let errno = (detail.errno != 0).then_some(detail.errno as i64);
    let addr = (detail.addr != 0).then_some(detail.addr);
    error_json(&ty.display_name(), &text, name, errno, addr)
}

fn error_json(
    ctype: &str,
    text: &str,
    status: &str,
    errno: Option<i64>,
    addr: Option<u64>,
) -> String {
    let mut out = String::from("{");
    push_str_field(&mut out, "kind", "error");
    push_str_field(&mut out, "ctype", ctype);
    push_str_field(&mut out, "text", text);
    push_str_field(&mut out, "status", status);
    push_raw_field(
        &mut out,
        "errno",
        &errno.map_or("null".into(), |e| e.to_string()),
    );
    match addr {
        Some(a) => push_str_field(&mut out, "addr", &format!("0x{a:x}")),
        None => push_raw_field(&mut out, "addr", "null"),
    }
    out.push('}');
    out
}

/// A compile-time value: a script string, number, bool, or `<optimized out>`.
fn constant_json(text: &str) -> String {
    let mut out = String::from("{");
    if text == "<optimized out>" || text.starts_with("<optimized") {
        return error_json("unknown", text, "optimized_out", None, None);
    }
    if let Ok(n) = text.parse::<i64>() {
        push_str_field(&mut out, "kind", "int");
        push_str_field(&mut out, "ctype", "i64");
        push_str_field(&mut out, "text", text);
        push_raw_field(&mut out, "value", &n.to_string());
    } else if text == "true" || text == "false" {
        push_str_field(&mut out, "kind", "bool");
        push_str_field(&mut out, "ctype", "bool");
        push_str_field(&mut out, "text", text);
        push_raw_field(&mut out, "value", text);
    } else {
        let value = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        push_str_field(&mut out, "kind", "string");
        push_str_field(&mut out, "ctype", "string");
        push_str_field(&mut out, "text", text);
        push_str_field(&mut out, "value", value);
        let mut hex = String::new();
        push_hex(&mut hex, value.as_bytes(), false);
        push_str_field(&mut out, "bytes_hex", &hex);
        push_raw_field(&mut out, "truncated", "false");
    }
    out.push('}');
    out
}

/// The value object of captured bytes of type `ty`, whose text is `text`.
fn value_json(ty: &TypeDesc, bytes: &[u8], text: &str, depth: usize) -> String {
    let mut out = String::from("{");
    let ctype = ty.display_name();
    let head = |out: &mut String, kind: &str| {
        push_str_field(out, "kind", kind);
        push_str_field(out, "ctype", &ctype);
        push_str_field(out, "text", text);
    };
    let under = ty.strip();
    match under {
        TypeDesc::Base { size, encoding, .. } if bytes.len() >= *size as usize => {
            let b = &bytes[..*size as usize];
            match encoding {
                BaseEncoding::Bool => {
                    head(&mut out, "bool");
                    push_raw_field(
                        &mut out,
                        "value",
                        if b.iter().any(|&x| x != 0) {
                            "true"
                        } else {
                            "false"
                        },
                    );
                }
                BaseEncoding::Float if *size == 4 || *size == 8 => {
                    head(&mut out, "float");
                    let v = if *size == 4 {
                        f32::from_le_bytes(b.try_into().unwrap()) as f64
                    } else {
                        f64::from_le_bytes(b.try_into().unwrap())
                    };
                    if v.is_finite() {
                        push_raw_field(&mut out, "value", &format!("{v:?}"));
                    } else {
                        push_str_field(&mut out, "value", &format!("{v}"));
                    }
                }
                BaseEncoding::Signed | BaseEncoding::SignedChar if *size <= 8 => {
                    head(&mut out, "int");
                    let v = read_int(b, *size, true).unwrap_or(0) as i64;
                    push_raw_field(&mut out, "value", &v.to_string());
                }
                BaseEncoding::Unsigned | BaseEncoding::UnsignedChar if *size <= 8 => {
                    head(&mut out, "int");
                    let v = read_int(b, *size, false).unwrap_or(0);
                    push_raw_field(&mut out, "value", &v.to_string());
                }
                BaseEncoding::Signed | BaseEncoding::SignedChar if *size == 16 => {
                    head(&mut out, "int");
                    push_str_field(
                        &mut out,
                        "value",
                        &i128::from_le_bytes(b.try_into().unwrap()).to_string(),
                    );
                }
                BaseEncoding::Unsigned | BaseEncoding::UnsignedChar if *size == 16 => {
                    head(&mut out, "int");
                    push_str_field(
                        &mut out,
                        "value",
                        &u128::from_le_bytes(b.try_into().unwrap()).to_string(),
                    );
                }
                _ => return error_json(&ctype, text, "unknown", None, None),
            }
        }
        TypeDesc::Enum {
            name,
            size,
            signed,
            variants,
            ..
        } if bytes.len() >= *size as usize => {
            head(&mut out, "enum");
            let v = read_int(bytes, *size, *signed).unwrap_or(0) as i64;
            push_raw_field(&mut out, "value", &v.to_string());
            match variants.iter().find(|e| e.value == v) {
                Some(e) => push_str_field(&mut out, "variant", &e.name),
                None => push_raw_field(&mut out, "variant", "null"),
            }
            push_str_field(&mut out, "enum", name.as_deref().unwrap_or(&ctype));
        }
        TypeDesc::Pointer { .. } | TypeDesc::Function { .. } if bytes.len() >= 8 => {
            head(&mut out, "pointer");
            let addr = read_int(bytes, 8, false).unwrap_or(0);
            push_str_field(&mut out, "addr", &format!("0x{addr:x}"));
            push_raw_field(&mut out, "null", if addr == 0 { "true" } else { "false" });
        }
        TypeDesc::Array { element, count } if element.is_byte_like() => {
            head(&mut out, "string");
            let n = count.map_or(bytes.len(), |c| (c as usize).min(bytes.len()));
            let raw = bytes[..n].split(|&b| b == 0).next().unwrap_or(&[]);
            push_str_field(&mut out, "value", &String::from_utf8_lossy(raw));
            let mut hex = String::new();
            push_hex(&mut hex, raw, false);
            push_str_field(&mut out, "bytes_hex", &hex);
            let truncated = count.is_some_and(|c| (c as usize) > bytes.len());
            push_raw_field(
                &mut out,
                "truncated",
                if truncated { "true" } else { "false" },
            );
        }
        TypeDesc::Array { element, count } => {
            head(&mut out, "array");
            let size = element.size().unwrap_or(0) as usize;
            let available = bytes.len().checked_div(size).unwrap_or(0);
            let n = count.map_or(available, |c| (c as usize).min(available));
            key(&mut out, "elements");
            out.push('[');
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&nested_json(element, &bytes[i * size..], depth));
            }
            out.push(']');
            let truncated = count.is_some_and(|c| c as usize > n);
            push_raw_field(
                &mut out,
                "truncated",
                if truncated { "true" } else { "false" },
            );
        }
        TypeDesc::Aggregate {
            kind,
            name,
            members,
            ..
        } => {
            let union = *kind == AggregateKind::Union;
            head(&mut out, if union { "union" } else { "struct" });
            push_str_field(&mut out, "name", name.as_deref().unwrap_or(&ctype));
            if union {
                match members.first() {
                    Some(m) => {
                        push_str_field(&mut out, "member", &m.name);
                        let v = member_json(m, bytes, depth);
                        push_raw_field(&mut out, "value", &v);
                    }
                    None => {
                        push_raw_field(&mut out, "member", "null");
                        push_raw_field(&mut out, "value", "null");
                    }
                }
            } else {
                key(&mut out, "fields");
                out.push('[');
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('{');
                    push_str_field(&mut out, "name", &m.name);
                    push_raw_field(&mut out, "value", &member_json(m, bytes, depth));
                    out.push('}');
                }
                out.push(']');
            }
        }
        _ => return error_json(&ctype, text, "unknown", None, None),
    }
    out.push('}');
    out
}

fn member_json(m: &crate::types::Member, bytes: &[u8], depth: usize) -> String {
    let start = m.offset as usize;
    if start > bytes.len() {
        return error_json(
            &m.ty.display_name(),
            "<OUT_OF_BOUNDS>",
            "truncated",
            None,
            None,
        );
    }
    if let Some(bf) = m.bitfield {
        let text = render_value_as(&m.ty, &bytes[start..], ValueOrigin::Direct);
        let raw = read_int(
            &bytes[start..],
            m.ty.size().unwrap_or(4).min(8) as u32,
            false,
        )
        .unwrap_or(0);
        let v = (raw >> bf.bit_offset) & ((1u64 << bf.bit_size.min(63)) - 1);
        let mut out = String::from("{");
        push_str_field(&mut out, "kind", "int");
        push_str_field(&mut out, "ctype", &m.ty.display_name());
        push_str_field(&mut out, "text", &text);
        push_raw_field(&mut out, "value", &v.to_string());
        out.push('}');
        return out;
    }
    nested_json(&m.ty, &bytes[start..], depth)
}

fn nested_json(ty: &TypeDesc, bytes: &[u8], depth: usize) -> String {
    let text = render_value_as(ty, bytes, ValueOrigin::Direct);
    if depth >= super::MAX_RENDER_DEPTH {
        return error_json(&ty.display_name(), &text, "unknown", None, None);
    }
    value_json(ty, bytes, &text, depth + 1)
}

/// The `"text"` item of `print "literal";`.
pub fn text_item(text: &str) -> String {
    let mut out = String::from("{");
    push_str_field(&mut out, "kind", "text");
    push_str_field(&mut out, "text", text);
    out.push('}');
    out
}

/// The `"value"` item of `print expr;`; `value` is a value object.
pub fn value_item(expr: &str, value: &str, line: &str) -> String {
    let mut out = String::from("{");
    push_str_field(&mut out, "kind", "value");
    push_str_field(&mut out, "expr", expr);
    push_raw_field(&mut out, "value", value);
    push_str_field(&mut out, "text", line);
    out.push('}');
    out
}

/// The `"format"` item of `print "fmt", args…;`: one value per placeholder.
pub fn format_item(
    format: &str,
    pieces: &[FormatPiece],
    args: &[ValueSlot],
    event: &[u8],
    line: &str,
) -> String {
    let mut out = String::from("{");
    push_str_field(&mut out, "kind", "format");
    push_str_field(&mut out, "format", format);
    key(&mut out, "args");
    out.push('[');
    let mut first = true;
    for piece in pieces {
        let FormatPiece::Placeholder { arg, spec } = piece else {
            continue;
        };
        if !first {
            out.push(',');
        }
        first = false;
        match args.get(*arg) {
            Some(slot) if *spec == FormatSpec::Default => out.push_str(&slot_json(slot, event)),
            Some(slot) => out.push_str(&dump_json(spec, slot, event)),
            None => out.push_str(&error_json(
                "unknown",
                "<MISSING_ARG>",
                "unknown",
                None,
                None,
            )),
        }
    }
    out.push(']');
    push_str_field(&mut out, "text", line);
    out.push('}');
    out
}

/// The `"dump"` value of a `{:x}`/`{:s}`/`{:p}`/`{:x.N}` placeholder.
fn dump_json(spec: &FormatSpec, slot: &ValueSlot, event: &[u8]) -> String {
    let mut text = String::new();
    super::render_format(
        &[FormatPiece::Placeholder {
            arg: 0,
            spec: spec.clone(),
        }],
        std::slice::from_ref(slot),
        event,
    )
    .clone_into(&mut text);
    let (ctype, bytes): (String, Vec<u8>) = match &slot.kind {
        SlotKind::Constant(t) => ("string".into(), t.trim_matches('"').as_bytes().to_vec()),
        SlotKind::Typed(ty) => match Record::parse(event, slot.offset, slot.capacity) {
            Some(rec) if rec.status() == Ok(ReadStatus::Ok) => {
                (ty.display_name(), rec.payload.to_vec())
            }
            Some(rec) if rec.status() != Ok(ReadStatus::NotRun) => {
                return failure_json(ty, slot.origin, rec.status(), rec.failure())
            }
            _ => return error_json(&ty.display_name(), &text, "unknown", None, None),
        },
    };
    let spec_text = match spec {
        FormatSpec::Default => "",
        FormatSpec::Hex { upper: false } => ":x",
        FormatSpec::Hex { upper: true } => ":X",
        FormatSpec::Pointer => ":p",
        FormatSpec::Ascii => ":s",
        FormatSpec::Dump { style } => match style {
            DumpStyle::HexLower => ":x.*",
            DumpStyle::HexUpper => ":X.*",
            DumpStyle::Ascii => ":s.*",
        },
    };
    let mut out = String::from("{");
    push_str_field(&mut out, "kind", "dump");
    push_str_field(&mut out, "ctype", &ctype);
    push_str_field(&mut out, "text", &text);
    push_str_field(&mut out, "spec", spec_text);
    let mut hex = String::new();
    push_hex(&mut hex, &bytes, false);
    push_str_field(&mut out, "bytes_hex", &hex);
    push_raw_field(&mut out, "len", &bytes.len().to_string());
    out.push('}');
    out
}

/// The `"backtrace"` item: the block's plain lines and a frame count.
pub fn backtrace_item(depth: u8, raw: bool, lines: &[String]) -> String {
    let mut out = String::from("{");
    push_str_field(&mut out, "kind", "backtrace");
    let frames = lines
        .iter()
        .filter(|l| l.trim_start().starts_with('#'))
        .count();
    push_raw_field(&mut out, "frame_count", &frames.to_string());
    push_raw_field(&mut out, "max_depth", &depth.to_string());
    push_raw_field(&mut out, "raw", if raw { "true" } else { "false" });
    key(&mut out, "lines");
    out.push('[');
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, l);
    }
    out.push(']');
    out.push('}');
    out
}

/// The `"expr_error"` item of a failed condition or builtin.
pub fn expr_error_item(
    expr: &str,
    status: Result<ReadStatus, u8>,
    flags: u8,
    addr: u64,
    text: &str,
) -> String {
    let mut out = String::from("{");
    push_str_field(&mut out, "kind", "expr_error");
    push_str_field(&mut out, "expr", expr);
    let code = match status {
        Ok(s) => s as u8,
        Err(c) => c,
    };
    push_raw_field(&mut out, "code", &code.to_string());
    push_str_field(&mut out, "reason", expr_error_reason(status));
    push_raw_field(&mut out, "flags", &flags.to_string());
    key(&mut out, "flag_names");
    out.push('[');
    if flags != 0 {
        for (i, name) in super::expr_error_flags(expr, flags).split(',').enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(&mut out, name);
        }
    }
    out.push(']');
    if addr == 0 {
        push_raw_field(&mut out, "addr", "null");
    } else {
        push_str_field(&mut out, "addr", &format!("0x{addr:x}"));
    }
    push_str_field(&mut out, "text", text);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_quotes_backslashes_and_control_bytes() {
        let mut out = String::new();
        push_json_string(&mut out, "a\"b\\c\n\u{1}\u{7f}\u{fffd}é");
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001\\u007f\u{fffd}é\"");
    }

    #[test]
    fn struct_values_nest() {
        use crate::types::Member;
        let ty = TypeDesc::Aggregate {
            kind: AggregateKind::Struct,
            name: Some("pt".into()),
            size: 8,
            members: vec![
                Member {
                    name: "x".into(),
                    offset: 0,
                    bitfield: None,
                    base_class: false,
                    ty: TypeDesc::int(),
                },
                Member {
                    name: "y".into(),
                    offset: 4,
                    bitfield: None,
                    base_class: false,
                    ty: TypeDesc::int(),
                },
            ],
        };
        let bytes = [1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff];
        let text = render_value_as(&ty, &bytes, ValueOrigin::Direct);
        let json = value_json(&ty, &bytes, &text, 0);
        assert!(
            json.starts_with("{\"kind\":\"struct\",\"ctype\":\"pt\""),
            "{json}"
        );
        assert!(json.contains("{\"name\":\"y\",\"value\":{\"kind\":\"int\",\"ctype\":\"int\",\"text\":\"-2\",\"value\":-2}}"), "{json}");
    }
}
