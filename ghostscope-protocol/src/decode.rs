//! Events from the ring buffer → header plus rendered payload lines.

use std::collections::HashMap;
use std::sync::Arc;

use thiserror::Error;

use crate::backtrace::{record_payload_size, FrameSymbolizer, RawBacktrace};
use crate::meta::{StatementOutput, TraceMeta};
use crate::render::{
    backtrace_lines, expr_error_line, json, render_format, render_slot, BacktraceStyle,
};
use crate::wire::{EventHeader, ReadStatus, Record};

/// Why an event could not be decoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes are shorter than an event header.
    #[error("event of {0} bytes is shorter than its header")]
    TooShort(usize),
    /// No trace with this id is known to the decoder.
    #[error("event for unknown trace id {0}")]
    UnknownTrace(u32),
    /// The event's size does not match the trace's layout.
    #[error("event for trace {trace_id} has {actual} bytes, its layout needs {expected}")]
    SizeMismatch {
        /// Trace id from the header.
        trace_id: u32,
        /// Bytes received.
        actual: usize,
        /// Bytes the layout needs.
        expected: u32,
    },
}

/// One decoded event: its header and the lines its statements printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedEvent {
    /// The event header.
    pub header: EventHeader,
    /// Payload lines in execution order, without indentation.
    pub lines: Vec<String>,
    /// The same content as JSON item objects (output.md §7.2), one per
    /// statement output; empty unless the decoder was asked for them.
    pub items: Vec<String>,
    /// The trace's target text, filled only alongside `items`.
    pub target: String,
}

/// Decodes events of every known trace.
#[derive(Default)]
pub struct EventDecoder {
    traces: HashMap<u32, TraceMeta>,
    /// Names and source positions for backtrace frames.
    symbolizer: Option<Arc<dyn FrameSymbolizer>>,
    /// Colour backtrace blocks (output.md §6.3).
    backtrace_color: bool,
    /// Also produce JSON items (`--script-output json`).
    json_items: bool,
}

impl std::fmt::Debug for EventDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventDecoder")
            .field("traces", &self.traces)
            .field("symbolizer", &self.symbolizer.is_some())
            .field("backtrace_color", &self.backtrace_color)
            .finish()
    }
}

impl EventDecoder {
    /// An empty decoder.
    pub fn new() -> EventDecoder {
        EventDecoder::default()
    }

    /// Registers (or replaces) a trace's metadata.
    pub fn add_trace(&mut self, meta: TraceMeta) {
        self.traces.insert(meta.trace_id, meta);
    }

    /// Sets what symbolizes backtrace frames; without one, frames print
    /// as addresses.
    pub fn set_symbolizer(&mut self, symbolizer: Arc<dyn FrameSymbolizer>) {
        self.symbolizer = Some(symbolizer);
    }

    /// Colours backtrace blocks with ANSI codes (pretty output on a terminal).
    pub fn set_backtrace_color(&mut self, on: bool) {
        self.backtrace_color = on;
    }

    /// Also renders each event's JSON items (output.md §7.2).
    pub fn set_json_items(&mut self, on: bool) {
        self.json_items = on;
    }

    /// Forgets a trace.
    pub fn remove_trace(&mut self, trace_id: u32) {
        self.traces.remove(&trace_id);
    }

    /// The metadata of a trace, if known.
    pub fn trace(&self, trace_id: u32) -> Option<&TraceMeta> {
        self.traces.get(&trace_id)
    }

    /// Decodes one event from the ring buffer.
    pub fn decode(&self, bytes: &[u8]) -> Result<DecodedEvent, DecodeError> {
        let header = EventHeader::parse(bytes).ok_or(DecodeError::TooShort(bytes.len()))?;
        let meta = self
            .traces
            .get(&header.trace_id)
            .ok_or(DecodeError::UnknownTrace(header.trace_id))?;
        if bytes.len() < meta.event_size as usize || header.size != meta.event_size {
            return Err(DecodeError::SizeMismatch {
                trace_id: header.trace_id,
                actual: bytes.len(),
                expected: meta.event_size,
            });
        }
        let mut items = self.json_items.then(Vec::new);
        let lines = self.render_lines(meta, bytes, items.as_mut());
        Ok(DecodedEvent {
            header,
            lines,
            target: if items.is_some() {
                meta.target.clone()
            } else {
                String::new()
            },
            items: items.unwrap_or_default(),
        })
    }

    /// Renders the lines of every statement that ran.
    fn render_lines(
        &self,
        meta: &TraceMeta,
        event: &[u8],
        items: Option<&mut Vec<String>>,
    ) -> Vec<String> {
        render_lines(
            meta,
            event,
            items,
            &|record, depth, style, modules, biases| {
                let Some(rec) = Record::parse(event, record, record_payload_size(depth)) else {
                    return Vec::new();
                };
                match RawBacktrace::parse(rec.payload) {
                    Some(mut bt) => {
                        bt.apply_table_biases(biases);
                        backtrace_lines(
                            &bt,
                            BacktraceStyle {
                                color: self.backtrace_color,
                                ..style
                            },
                            modules,
                            self.symbolizer.as_deref(),
                        )
                    }
                    None => vec!["backtrace: internal error, 0 frames".to_string()],
                }
            },
        )
    }
}

/// Renders one backtrace record: (record offset, depth, style, module
/// names, table biases) → lines.
type BacktraceRenderer<'a> = dyn Fn(u32, u8, BacktraceStyle, &[String], &[u64]) -> Vec<String> + 'a;

/// Renders the lines of every statement that ran.
fn render_lines(
    meta: &TraceMeta,
    event: &[u8],
    mut items: Option<&mut Vec<String>>,
    backtrace: &BacktraceRenderer<'_>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut item = |f: &dyn Fn() -> String| {
        if let Some(items) = items.as_deref_mut() {
            items.push(f());
        }
    };
    for stmt in &meta.statements {
        let Some(marker) = Record::parse(event, stmt.marker, 16) else {
            continue;
        };
        let status = marker.status();
        if status == Ok(ReadStatus::NotRun) {
            continue;
        }
        match &stmt.output {
            StatementOutput::Text(text) => {
                lines.push(text.clone());
                item(&|| json::text_item(text));
            }
            StatementOutput::Value { alone, expr, slot } => {
                let value = render_slot(slot, event);
                let line = if *alone {
                    value
                } else {
                    format!("{expr} = {value}")
                };
                item(&|| json::value_item(expr, &json::slot_json(slot, event), &line));
                lines.push(line);
            }
            StatementOutput::Format {
                format,
                pieces,
                args,
            } => {
                let line = render_format(pieces, args, event);
                item(&|| json::format_item(format, pieces, args, event, &line));
                lines.push(line);
            }
            StatementOutput::Condition { expr } => {
                if status != Ok(ReadStatus::Ok) {
                    let detail = marker.failure();
                    let line = expr_error_line(expr, status, marker.flags, detail.addr);
                    item(&|| json::expr_error_item(expr, status, marker.flags, detail.addr, &line));
                    lines.push(line);
                }
            }
            StatementOutput::Backtrace {
                record,
                depth,
                raw,
                inline,
                modules,
                table_biases,
            } => {
                let style = BacktraceStyle {
                    raw: *raw,
                    inline: *inline,
                    depth: *depth,
                    color: false,
                };
                let block = backtrace(*record, *depth, style, modules, table_biases);
                item(&|| json::backtrace_item(*depth, *raw, &block));
                lines.extend(block);
            }
        }
        for slot in &stmt.expr_errors {
            let Some(record) = Record::parse(event, slot.offset, 16) else {
                continue;
            };
            let status = record.status();
            if status != Ok(ReadStatus::Ok) && status != Ok(ReadStatus::NotRun) {
                let addr = record.failure().addr;
                let line = expr_error_line(&slot.expr, status, record.flags, addr);
                item(&|| json::expr_error_item(&slot.expr, status, record.flags, addr, &line));
                lines.push(line);
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{ExprErrorSlot, SlotKind, StatementMeta, ValueSlot};
    use crate::types::TypeDesc;
    use crate::wire::write_record;

    fn meta() -> TraceMeta {
        TraceMeta {
            trace_id: 7,
            target: "update_order".into(),
            event_size: 104,
            statements: vec![
                StatementMeta {
                    marker: 24,
                    output: StatementOutput::Text("hello".into()),
                    expr_errors: vec![],
                },
                StatementMeta {
                    marker: 32,
                    output: StatementOutput::Condition {
                        expr: "(o.qty>0)".into(),
                    },
                    expr_errors: vec![],
                },
                StatementMeta {
                    marker: 56,
                    output: StatementOutput::Value {
                        expr: "qty".into(),
                        slot: ValueSlot {
                            offset: 64,
                            capacity: 8,
                            kind: SlotKind::Typed(TypeDesc::int()),
                            origin: Default::default(),
                        },
                        alone: false,
                    },
                    expr_errors: vec![ExprErrorSlot {
                        offset: 80,
                        expr: "memcmp(p, hex(\"41\"))".into(),
                    }],
                },
            ],
        }
    }

    fn event(cond_status: u8, value_ran: bool) -> Vec<u8> {
        let mut ev = vec![0u8; 104];
        EventHeader {
            trace_id: 7,
            pid: 10,
            tid: 11,
            size: 104,
            timestamp_ns: 5,
        }
        .write(&mut ev);
        write_record(&mut ev, 24, 0, 0, &[]);
        let mut fail = 0u64.to_le_bytes().to_vec();
        fail.extend_from_slice(&[0; 8]);
        write_record(&mut ev, 32, cond_status, 0, &fail);
        write_record(&mut ev, 56, if value_ran { 0 } else { 0xff }, 0, &[]);
        write_record(&mut ev, 64, 0, 0, &42i32.to_le_bytes());
        // The builtin failed only when the condition failed, in this fixture.
        write_record(
            &mut ev,
            80,
            if cond_status == 0 { 0xff } else { 2 },
            1,
            &fail,
        );
        ev
    }

    #[test]
    fn decodes_statements_that_ran() {
        let mut d = EventDecoder::new();
        d.add_trace(meta());
        let e = d.decode(&event(0, true)).unwrap();
        assert_eq!(e.header.pid, 10);
        assert_eq!(e.lines, vec!["hello", "qty = 42"]);
        let e = d.decode(&event(1, true)).unwrap();
        assert_eq!(
            e.lines,
            vec![
                "hello",
                "ExprError: (o.qty>0) (null deref at NULL)",
                "qty = 42",
                "ExprError: memcmp(p, hex(\"41\")) (read error at NULL, flags: first-arg read-fail)"
            ]
        );
    }

    #[test]
    fn a_value_printed_alone_has_no_expression_prefix() {
        let mut m = meta();
        if let StatementOutput::Value { alone, .. } = &mut m.statements[2].output {
            *alone = true;
        }
        let mut d = EventDecoder::new();
        d.add_trace(m);
        assert_eq!(
            d.decode(&event(0, true)).unwrap().lines,
            vec!["hello", "42"]
        );
    }

    #[test]
    fn rejects_unknown_traces_and_bad_sizes() {
        let mut d = EventDecoder::new();
        assert_eq!(d.decode(&event(0, true)), Err(DecodeError::UnknownTrace(7)));
        d.add_trace(meta());
        assert!(matches!(
            d.decode(&event(0, true)[..60]),
            Err(DecodeError::SizeMismatch { .. })
        ));
        assert_eq!(d.decode(&[0; 3]), Err(DecodeError::TooShort(3)));
    }
}
