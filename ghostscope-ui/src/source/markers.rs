//! Trace markers in the source gutter (tui.md §4.1): which lines of the
//! open file have enabled, disabled, pending (compiling) or failed traces.

use std::collections::BTreeMap;

use ghostscope_protocol::session::{TraceInfo, TraceState};

/// The colour class of a marked line number, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkerKind {
    /// Green bold: an enabled trace.
    Enabled,
    /// Light yellow: a trace is being compiled.
    Compiling,
    /// Yellow: only disabled traces.
    Disabled,
    /// Red: the last attempt on the line failed.
    Failed,
}

/// The marker of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineMarker {
    /// Colour class.
    pub kind: MarkerKind,
    /// A return trace of the function starting here (`↩`).
    pub ret: bool,
}

/// Whether two source paths name the same file: equal, or one is a suffix
/// of the other at a `/` boundary (the line table may record either).
pub fn same_file(a: &str, b: &str) -> bool {
    a == b
        || a.strip_suffix(b).is_some_and(|p| p.ends_with('/'))
        || b.strip_suffix(a).is_some_and(|p| p.ends_with('/'))
}

/// `file:line` split, when the text has that form.
pub fn split_file_line(target: &str) -> Option<(&str, u32)> {
    let (file, line) = target.rsplit_once(':')?;
    Some((file, line.parse().ok()?))
}

/// What the UI knows about one line-shaped attempt in flight or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineAttempt {
    /// File as written in the target.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

/// The markers of `file` (a DWARF path).
pub fn markers<'a>(
    file: &str,
    traces: impl Iterator<Item = &'a TraceInfo>,
    compiling: &[LineAttempt],
    failed: &[LineAttempt],
) -> BTreeMap<u32, LineMarker> {
    let mut out: BTreeMap<u32, LineMarker> = BTreeMap::new();
    let mut put = |line: u32, kind: MarkerKind, ret: bool| {
        let m = out.entry(line).or_insert(LineMarker { kind, ret });
        m.kind = m.kind.min(kind);
        m.ret |= ret;
    };
    for a in failed.iter().filter(|a| same_file(&a.file, file)) {
        put(a.line, MarkerKind::Failed, false);
    }
    for t in traces {
        let ret = t.target.ends_with("%return");
        let place = match &t.source {
            Some(s) => Some((s.file.as_str(), s.line)),
            None => split_file_line(&t.target),
        };
        let Some((f, line)) = place else { continue };
        if !same_file(f, file) {
            continue;
        }
        let kind = match t.state {
            TraceState::Active | TraceState::Pending => MarkerKind::Enabled,
            TraceState::Disabled => MarkerKind::Disabled,
            TraceState::Failed => MarkerKind::Failed,
        };
        put(line, kind, ret);
    }
    for a in compiling.iter().filter(|a| same_file(&a.file, file)) {
        put(a.line, MarkerKind::Compiling, false);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ghostscope_protocol::session::SourcePosition;

    fn trace(target: &str, file: &str, line: u32, state: TraceState) -> TraceInfo {
        TraceInfo {
            source: Some(SourcePosition {
                file: file.into(),
                line,
                column: 0,
            }),
            ..crate::test_support::trace_info(0, target, line, state)
        }
    }

    #[test]
    fn enabled_wins_over_disabled_and_return_is_marked() {
        let t = [
            trace("a.c:3", "/b/src/a.c", 3, TraceState::Disabled),
            trace("a.c:3", "/b/src/a.c", 3, TraceState::Active),
            trace("f%return", "/b/src/a.c", 10, TraceState::Active),
            trace("g", "/b/src/other.c", 4, TraceState::Active),
            trace("h", "src/a.c", 7, TraceState::Disabled),
        ];
        let compiling = [LineAttempt {
            file: "a.c".into(),
            line: 20,
        }];
        let failed = [LineAttempt {
            file: "/b/src/a.c".into(),
            line: 21,
        }];
        let m = markers("/b/src/a.c", t.iter(), &compiling, &failed);
        let kinds: Vec<(u32, MarkerKind, bool)> =
            m.iter().map(|(l, m)| (*l, m.kind, m.ret)).collect();
        assert_eq!(
            kinds,
            vec![
                (3, MarkerKind::Enabled, false),
                (7, MarkerKind::Disabled, false),
                (10, MarkerKind::Enabled, true),
                (20, MarkerKind::Compiling, false),
                (21, MarkerKind::Failed, false),
            ]
        );
    }

    #[test]
    fn path_suffixes_match_at_slashes() {
        assert!(same_file("/x/src/a.c", "src/a.c"));
        assert!(same_file("a.c", "/x/a.c"));
        assert!(!same_file("/x/ba.c", "a.c"));
        assert_eq!(split_file_line("x/a.c:12"), Some(("x/a.c", 12)));
        assert_eq!(split_file_line("main"), None);
    }
}
