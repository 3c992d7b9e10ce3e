//! Script-mode event output: the pretty header and indentation, or plain
//! payload lines (output.md §2).

use std::io::{self, Write};

use ghostscope::clock::{boot_text, LocalTimes};
use std::fmt::Write as _;

use ghostscope_protocol::render::json::{push_json_string, push_str_field};
use ghostscope_protocol::DecodedEvent;

use crate::cli::{ScriptOutput, ScriptTimestamp};

const DIM: &str = "\x1b[2m";
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

/// How events are written to stdout.
#[derive(Debug, Clone)]
pub struct EventFormat {
    output: ScriptOutput,
    timestamp: ScriptTimestamp,
    /// For `local` timestamps.
    clock: LocalTimes,
    color: bool,
}

impl EventFormat {
    /// A format; `color` applies to the pretty header only.
    pub fn new(output: ScriptOutput, timestamp: ScriptTimestamp, color: bool) -> EventFormat {
        EventFormat {
            output,
            timestamp,
            clock: LocalTimes::new(),
            color,
        }
    }

    /// Writes one event; events without payload lines print nothing.
    pub fn write_event(&mut self, out: &mut impl Write, event: &DecodedEvent) -> io::Result<()> {
        if event.lines.is_empty() {
            return Ok(());
        }
        match self.output {
            ScriptOutput::Json => {
                let line = self.json_event(event);
                writeln!(out, "{line}")?;
            }
            ScriptOutput::Plain => {
                for line in &event.lines {
                    out.write_all(line.as_bytes())?;
                    out.write_all(b"\n")?;
                }
            }
            ScriptOutput::Pretty => {
                self.write_header(out, event)?;
                for line in &event.lines {
                    out.write_all(b"  ")?;
                    out.write_all(line.as_bytes())?;
                    out.write_all(b"\n")?;
                }
            }
        }
        Ok(())
    }

    /// One `event` record of output.md §7.1 on a single line.
    fn json_event(&mut self, event: &DecodedEvent) -> String {
        let h = &event.header;
        let mut o = String::from("{\"type\":\"event\"");
        let _ = write!(o, ",\"trace_id\":{}", h.trace_id);
        push_str_field(&mut o, "probe", "entry");
        push_str_field(&mut o, "target", &event.target);
        let _ = write!(
            o,
            ",\"pid\":{},\"tid\":{},\"timestamp_ns\":{}",
            h.pid, h.tid, h.timestamp_ns
        );
        if let Some(ts) = self.timestamp_text(h.timestamp_ns) {
            push_str_field(&mut o, "time", &ts);
        }
        o.push_str(",\"lines\":[");
        for (i, line) in event.lines.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            push_json_string(&mut o, line);
        }
        o.push_str("],\"items\":[");
        o.push_str(&event.items.join(","));
        o.push_str("]}");
        o
    }

    /// Writes the pretty header line straight to `out` (no per-event String).
    fn write_header(&mut self, out: &mut impl Write, event: &DecodedEvent) -> io::Result<()> {
        let h = &event.header;
        let (c, r, d) = if self.color {
            (CYAN, RESET, DIM)
        } else {
            ("", "", "")
        };
        if let Some(ts) = self.timestamp_text(h.timestamp_ns) {
            write!(out, "{d}[{ts}]{r} ")?;
        }
        writeln!(
            out,
            "{c}TraceID{r}:{} {c}PID{r}:{} {c}TID{r}:{}",
            h.trace_id, h.pid, h.tid
        )
    }

    /// The text inside the header brackets, or None for `--script-timestamp none`.
    pub fn timestamp_text(&mut self, ns: u64) -> Option<String> {
        match self.timestamp {
            ScriptTimestamp::None => None,
            ScriptTimestamp::Boot => Some(boot_text(ns)),
            ScriptTimestamp::Local => Some(self.clock.text(ns).unwrap_or_else(|| boot_text(ns))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ghostscope_protocol::EventHeader;

    fn event(lines: &[&str]) -> DecodedEvent {
        DecodedEvent {
            header: EventHeader {
                trace_id: 3,
                pid: 48211,
                tid: 48219,
                size: 0,
                timestamp_ns: 1_234_567_890,
            },
            lines: lines.iter().map(|s| s.to_string()).collect(),
            items: Vec::new(),
            target: String::new(),
        }
    }

    fn render(f: &mut EventFormat, e: &DecodedEvent) -> String {
        let mut out = Vec::new();
        f.write_event(&mut out, e).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn pretty_plain_and_boot_headers() {
        let e = event(&["order.id = 90412", "total=129.5 items=3"]);
        let mut none = EventFormat::new(ScriptOutput::Pretty, ScriptTimestamp::None, false);
        assert_eq!(
            render(&mut none, &e),
            "TraceID:3 PID:48211 TID:48219\n  order.id = 90412\n  total=129.5 items=3\n"
        );
        let mut boot = EventFormat::new(ScriptOutput::Pretty, ScriptTimestamp::Boot, false);
        assert!(render(&mut boot, &e).starts_with("[boot+1.234s] TraceID:3 PID:48211 TID:48219\n"));
        let mut plain = EventFormat::new(ScriptOutput::Plain, ScriptTimestamp::Local, false);
        assert_eq!(
            render(&mut plain, &e),
            "order.id = 90412\ntotal=129.5 items=3\n"
        );
        assert_eq!(render(&mut none, &event(&[])), "");
    }

    #[test]
    fn local_timestamps_have_millisecond_precision() {
        let mut f = EventFormat::new(ScriptOutput::Pretty, ScriptTimestamp::Local, false);
        let text = f.timestamp_text(5_000_000_000).unwrap();
        // YYYY-MM-DD HH:MM:SS.mmm
        assert_eq!(text.len(), 23, "{text}");
        assert_eq!(&text[19..20], ".");
    }
}
