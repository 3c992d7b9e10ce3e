//! The backtrace block (output.md §6): the header, one line per frame
//! (inline lines first), and the `stopped:` line, in plain form or with
//! the colours of §6.3. Pretty mode indents every line by two more spaces,
//! which the output stage does for all payload lines alike.

use std::fmt::Write as _;

use crate::backtrace::{
    reason_label, BacktraceStatus, FrameSymbolizer, RawBacktrace, RawFrame, SourcePos,
    SymbolizedFrame,
};

const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BLUE: &str = "\x1b[34m";
const MAGENTA: &str = "\x1b[35m";
const RESET: &str = "\x1b[0m";

/// How a `bt` statement prints (its options and the global depth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacktraceStyle {
    /// `bt raw`: addresses and metadata, no symbolization.
    pub raw: bool,
    /// Expand inlined calls into `#i.inline` lines.
    pub inline: bool,
    /// The configured depth, shown as `(max N)`.
    pub depth: u8,
    /// ANSI colours of output.md §6.3.
    pub color: bool,
}

/// Wraps `text` in a colour when colours are on.
fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("{code}{text}{RESET}")
    } else {
        text.to_string()
    }
}

/// `file:line[:col]`.
fn position_text(p: &SourcePos) -> String {
    if p.column > 0 {
        format!("{}:{}:{}", p.file, p.line, p.column)
    } else {
        format!("{}:{}", p.file, p.line)
    }
}

/// `[<module>+0x<pc>]`, or `[0x<ip>]` outside every known module.
fn module_text(frame: &RawFrame, modules: &[String]) -> String {
    match frame.module.and_then(|m| modules.get(m as usize)) {
        Some(name) => format!("[{name}+0x{:x}]", frame.module_pc),
        None => format!("[0x{:x}]", frame.ip),
    }
}

/// The lines of one backtrace block. `modules` are the session's module
/// file names by index; without a symbolizer frames print as addresses.
pub fn backtrace_lines(
    bt: &RawBacktrace,
    style: BacktraceStyle,
    modules: &[String],
    symbolizer: Option<&dyn FrameSymbolizer>,
) -> Vec<String> {
    let c = style.color;
    let status = bt.status.unwrap_or(BacktraceStatus::InternalError);
    let status_color = match status {
        BacktraceStatus::Complete => GREEN,
        BacktraceStatus::Truncated => YELLOW,
        _ => RED,
    };
    let n = bt.frames.len();
    let mut lines = vec![format!(
        "{}: {}, {n} frame{} (max {})",
        paint(c, BOLD, "backtrace"),
        paint(c, status_color, status.label()),
        if n == 1 { "" } else { "s" },
        style.depth
    )];
    for (i, frame) in bt.frames.iter().enumerate() {
        let at = paint(c, YELLOW, &module_text(frame, modules));
        let index = |suffix: &str| paint(c, BLUE, &format!("#{i}{suffix}"));
        if style.raw {
            let mut meta = format!("raw=0x{:x} cookie=0x{:016x}", frame.ip, frame.cookie());
            if frame.flags != 0 {
                let _ = write!(meta, " flags=0x{:x}", frame.flags);
            }
            lines.push(format!(
                "  {} 0x{:x} {at} {}",
                index(""),
                frame.ip,
                paint(c, DIM, &meta)
            ));
            continue;
        }
        let sym = match (symbolizer, frame.module) {
            (Some(s), Some(m)) => s.symbolize(m, frame.lookup_pc(i)),
            (Some(_), None) => SymbolizedFrame::default(),
            (None, _) => {
                lines.push(format!("  {} 0x{:x} {at}", index(""), frame.ip));
                continue;
            }
        };
        let location = |p: Option<&SourcePos>| {
            paint(c, DIM, &p.map(position_text).unwrap_or_else(|| "??".into()))
        };
        if style.inline {
            for call in &sym.inlined {
                let name = call.function.as_deref().unwrap_or("<unknown function>");
                lines.push(format!(
                    "  {} {} at {} {at}",
                    index(".inline"),
                    paint(c, BOLD, name),
                    location(call.call_site.as_ref())
                ));
            }
        }
        let name = sym.function.as_deref().unwrap_or("<unknown function>");
        let params = if sym.params.is_empty() {
            String::new()
        } else {
            paint(c, MAGENTA, &format!("({})", sym.params.join(", ")))
        };
        lines.push(format!(
            "  {} {}{params} at {} {at}",
            index(""),
            paint(c, BOLD, name),
            location(sym.location.as_ref())
        ));
    }
    if status != BacktraceStatus::Complete {
        let reason = match (bt.reason, reason_label(bt.reason)) {
            (0, _) => String::new(),
            (code, Some(label)) => format!(" ({label}, code={code})"),
            (code, None) => format!(" (code={code})"),
        };
        lines.push(paint(
            c,
            RED,
            &format!("stopped: {}{reason}", status.label()),
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtrace::{InlinedCall, FRAME_FLAG_FRAME_POINTER};

    struct Fixed;

    impl FrameSymbolizer for Fixed {
        fn symbolize(&self, module: u16, pc: u64) -> SymbolizedFrame {
            let pos = |file: &str, line, column| {
                Some(SourcePos {
                    file: file.into(),
                    line,
                    column,
                })
            };
            match (module, pc) {
                (0, 0x4a1c) => SymbolizedFrame {
                    function: Some("flush_batch".into()),
                    params: vec!["batch* b".into(), "int force".into()],
                    location: pos("/src/kvstore/wal.c", 211, 9),
                    inlined: vec![],
                    known: true,
                },
                // A return address: the caller's call is at pc - 1.
                (0, 0x4cef) => SymbolizedFrame {
                    function: Some("kv_put".into()),
                    params: vec!["kv* kv".into(), "char* key".into()],
                    location: pos("/src/kvstore/wal.c", 302, 5),
                    inlined: vec![InlinedCall {
                        function: Some("wal_commit".into()),
                        call_site: pos("/src/kvstore/kv.c", 88, 12),
                    }],
                    known: true,
                },
                (2, _) => SymbolizedFrame {
                    function: Some("main".into()),
                    params: vec![],
                    location: pos("main.c", 7, 0),
                    inlined: vec![],
                    known: true,
                },
                _ => SymbolizedFrame::default(),
            }
        }
    }

    fn frame(module: Option<u16>, module_pc: u64) -> RawFrame {
        RawFrame {
            ip: 0x5500_0000_0000 + module_pc,
            module,
            module_pc,
            flags: 0,
        }
    }

    fn modules() -> Vec<String> {
        vec!["kvstore".into(), "libc.so.6".into(), "app".into()]
    }

    fn style(raw: bool, inline: bool) -> BacktraceStyle {
        BacktraceStyle {
            raw,
            inline,
            depth: 128,
            color: false,
        }
    }

    fn spec_example() -> RawBacktrace {
        RawBacktrace {
            status: Ok(BacktraceStatus::Complete),
            reason: 0,
            frames: vec![
                frame(Some(0), 0x4a1c),
                frame(Some(0), 0x4cf0),
                frame(Some(1), 0x29d90),
            ],
        }
    }

    #[test]
    fn the_plain_example_of_the_spec() {
        let lines = backtrace_lines(
            &spec_example(),
            style(false, true),
            &modules(),
            Some(&Fixed),
        );
        assert_eq!(
            lines,
            [
                "backtrace: complete, 3 frames (max 128)",
                "  #0 flush_batch(batch* b, int force) at /src/kvstore/wal.c:211:9 [kvstore+0x4a1c]",
                "  #1.inline wal_commit at /src/kvstore/kv.c:88:12 [kvstore+0x4cf0]",
                "  #1 kv_put(kv* kv, char* key) at /src/kvstore/wal.c:302:5 [kvstore+0x4cf0]",
                "  #2 <unknown function> at ?? [libc.so.6+0x29d90]",
            ]
        );
        let noinline = backtrace_lines(
            &spec_example(),
            style(false, false),
            &modules(),
            Some(&Fixed),
        );
        assert_eq!(noinline.len(), 4);
        assert!(noinline[2].starts_with("  #1 kv_put("));
    }

    #[test]
    fn no_parameters_no_parentheses_and_no_column_no_colon() {
        let bt = RawBacktrace {
            status: Ok(BacktraceStatus::Complete),
            reason: 0,
            frames: vec![frame(Some(2), 0x1139)],
        };
        let lines = backtrace_lines(&bt, style(false, true), &modules(), Some(&Fixed));
        assert_eq!(
            lines,
            [
                "backtrace: complete, 1 frame (max 128)",
                "  #0 main at main.c:7 [app+0x1139]"
            ]
        );
    }

    #[test]
    fn raw_frames_carry_cookie_and_flags() {
        let mut bt = spec_example();
        bt.frames[1].flags = FRAME_FLAG_FRAME_POINTER;
        bt.frames.push(frame(None, 0));
        bt.status = Ok(BacktraceStatus::DwarfUnavailable);
        let lines = backtrace_lines(&bt, style(true, true), &modules(), Some(&Fixed));
        assert_eq!(
            lines,
            [
                "backtrace: dwarf unavailable, 4 frames (max 128)",
                "  #0 0x550000004a1c [kvstore+0x4a1c] raw=0x550000004a1c cookie=0x0000000000004a1c",
                "  #1 0x550000004cf0 [kvstore+0x4cf0] raw=0x550000004cf0 cookie=0x0000000000004cf0 flags=0x1",
                "  #2 0x550000029d90 [libc.so.6+0x29d90] raw=0x550000029d90 cookie=0x0001000000029d90",
                "  #3 0x550000000000 [0x550000000000] raw=0x550000000000 cookie=0xffff550000000000",
                "stopped: dwarf unavailable",
            ]
        );
    }

    #[test]
    fn every_status_and_reason_prints_its_stopped_line() {
        let expected = [
            (BacktraceStatus::Complete, 0, None),
            (BacktraceStatus::Truncated, 0, Some("stopped: truncated")),
            (
                BacktraceStatus::DwarfUnavailable,
                0,
                Some("stopped: dwarf unavailable"),
            ),
            (
                BacktraceStatus::UnsupportedCfi,
                0,
                Some("stopped: unsupported CFI"),
            ),
            (
                BacktraceStatus::OffsetsUnavailable,
                0,
                Some("stopped: offsets unavailable"),
            ),
            (
                BacktraceStatus::ReadError,
                1,
                Some("stopped: read error (return-address-read-failed, code=1)"),
            ),
            (
                BacktraceStatus::ReadError,
                2,
                Some("stopped: read error (frame-pointer-read-failed, code=2)"),
            ),
            (
                BacktraceStatus::InternalError,
                0,
                Some("stopped: internal error"),
            ),
            (
                BacktraceStatus::InvalidFrame,
                3,
                Some("stopped: invalid frame (next-ip-below-user-range, code=3)"),
            ),
            (
                BacktraceStatus::InvalidFrame,
                4,
                Some("stopped: invalid frame (next-ip-kernel-like, code=4)"),
            ),
            (
                BacktraceStatus::InvalidFrame,
                5,
                Some("stopped: invalid frame (next-cfa-zero, code=5)"),
            ),
            (
                BacktraceStatus::InvalidFrame,
                6,
                Some("stopped: invalid frame (next-cfa-not-advancing, code=6)"),
            ),
            (
                BacktraceStatus::InvalidFrame,
                9,
                Some("stopped: invalid frame (code=9)"),
            ),
            (
                BacktraceStatus::NoUnwindRows,
                0,
                Some("stopped: no unwind rows for PC"),
            ),
        ];
        for (status, reason, stopped) in expected {
            let bt = RawBacktrace {
                status: Ok(status),
                reason,
                frames: vec![frame(Some(0), 0x4a1c), frame(Some(0), 0x4cf0)],
            };
            let lines = backtrace_lines(&bt, style(false, true), &modules(), Some(&Fixed));
            assert_eq!(
                lines[0],
                format!("backtrace: {}, 2 frames (max 128)", status.label())
            );
            assert_eq!(
                lines
                    .last()
                    .map(String::as_str)
                    .filter(|l| l.starts_with("stopped")),
                stopped
            );
        }
    }

    #[test]
    fn without_a_symbolizer_frames_are_addresses() {
        let lines = backtrace_lines(&spec_example(), style(false, true), &modules(), None);
        assert_eq!(lines[1], "  #0 0x550000004a1c [kvstore+0x4a1c]");
    }

    #[test]
    fn colours_follow_the_spec() {
        let mut bt = spec_example();
        bt.status = Ok(BacktraceStatus::Truncated);
        let s = BacktraceStyle {
            color: true,
            ..style(false, true)
        };
        let lines = backtrace_lines(&bt, s, &modules(), Some(&Fixed));
        assert_eq!(
            lines[0],
            "\x1b[1mbacktrace\x1b[0m: \x1b[33mtruncated\x1b[0m, 3 frames (max 128)"
        );
        assert_eq!(
            lines[1],
            "  \x1b[34m#0\x1b[0m \x1b[1mflush_batch\x1b[0m\x1b[35m(batch* b, int force)\x1b[0m at \x1b[2m/src/kvstore/wal.c:211:9\x1b[0m \x1b[33m[kvstore+0x4a1c]\x1b[0m"
        );
        assert_eq!(lines[2].split(' ').nth(2), Some("\x1b[34m#1.inline\x1b[0m"));
        assert_eq!(lines.last().unwrap(), "\x1b[31mstopped: truncated\x1b[0m");
        let complete = backtrace_lines(&spec_example(), s, &modules(), Some(&Fixed));
        assert!(complete[0].contains("\x1b[32mcomplete\x1b[0m"));
    }
}
