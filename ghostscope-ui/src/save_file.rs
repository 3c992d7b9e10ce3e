//! Trace save files (`save traces`, tui.md §6.6) and reading script files
//! back (`source`, with `// Index: N` and `//@disabled`).

use ghostscope_protocol::session::{TraceInfo, TraceState};

use crate::command::parse::SaveFilter;

/// What the file header says about the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveHeader {
    /// `YYYY-MM-DD HH:MM:SS` local time.
    pub generated: String,
    /// Path of the main module.
    pub binary: String,
    /// The `-p` PID, if any.
    pub pid: Option<u32>,
}

/// One trace block to write: traces that one `trace` command created
/// (same target, body and index) and that share a state are one block, so
/// sourcing the file recreates them once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SaveBlock<'a> {
    first: &'a TraceInfo,
    enabled: bool,
}

fn is_enabled(t: &TraceInfo) -> bool {
    t.state != TraceState::Disabled
}

fn status_word(state: TraceState) -> &'static str {
    match state {
        TraceState::Active => "Active",
        TraceState::Disabled => "Disabled",
        TraceState::Pending => "Pending",
        TraceState::Failed => "Failed",
    }
}

fn blocks<'a>(traces: &[&'a TraceInfo], filter: SaveFilter) -> Vec<SaveBlock<'a>> {
    let mut out: Vec<SaveBlock<'a>> = Vec::new();
    for t in traces {
        let enabled = is_enabled(t);
        let wanted = match filter {
            SaveFilter::All => true,
            SaveFilter::Enabled => enabled,
            SaveFilter::Disabled => !enabled,
        };
        if !wanted {
            continue;
        }
        let same_command = out.iter().any(|b| {
            b.enabled == enabled
                && b.first.target == t.target
                && b.first.body == t.body
                && b.first.index == t.index
        });
        if !same_command {
            out.push(SaveBlock { first: t, enabled });
        }
    }
    out
}

/// The save file text; `None` when no trace passes the filter.
pub fn render(header: &SaveHeader, traces: &[&TraceInfo], filter: SaveFilter) -> Option<String> {
    let blocks = blocks(traces, filter);
    if blocks.is_empty() {
        return None;
    }
    let enabled = blocks.iter().filter(|b| b.enabled).count();
    let mut s = String::new();
    s.push_str("// GhostScope Trace Save File v1.0\n");
    s.push_str(&format!("// Generated: {}\n", header.generated));
    s.push_str(&format!("// Binary: {}\n", header.binary));
    if let Some(pid) = header.pid {
        s.push_str(&format!("// PID: {pid}\n"));
    }
    let filter_text = match filter {
        SaveFilter::All => "all",
        SaveFilter::Enabled => "enabled only",
        SaveFilter::Disabled => "disabled only",
    };
    s.push_str(&format!("// Filter: {filter_text}\n"));
    s.push_str(&format!(
        "// Traces: {} total ({} enabled, {} disabled)\n",
        blocks.len(),
        enabled,
        blocks.len() - enabled
    ));
    for b in &blocks {
        let t = b.first;
        s.push('\n');
        s.push_str("// ========================================\n");
        s.push_str(&format!(
            "// Trace {}: {} [{}]\n",
            t.trace_id,
            t.target,
            if b.enabled { "ENABLED" } else { "DISABLED" }
        ));
        s.push_str(&format!("// Target: {}\n", t.target));
        s.push_str(&format!("// Status: {}\n", status_word(t.state)));
        if let Some(index) = t.index {
            s.push_str(&format!("// Index: {index}\n"));
        }
        s.push_str("// ========================================\n");
        if !b.enabled {
            s.push_str("//@disabled\n");
        }
        s.push_str(&format!("trace {} {{\n", t.target));
        for line in t.body.lines() {
            if line.trim().is_empty() {
                s.push('\n');
            } else {
                s.push_str(&format!("    {line}\n"));
            }
        }
        s.push_str("}\n");
    }
    Some(s)
}

/// One `trace` block read from a script file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptBlock {
    /// The pattern text.
    pub target: String,
    /// The body, with the common indentation removed.
    pub body: String,
    /// `// Index: N` before the block.
    pub index: Option<usize>,
    /// `//@disabled` before the block.
    pub disabled: bool,
}

/// Why a script file could not be split into trace blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFileError {
    /// 1-based line of the problem.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Splits a script file into its trace blocks, reading the `// Index: N`
/// and `//@disabled` comments that precede each.
pub fn parse_script(text: &str) -> Result<Vec<ScriptBlock>, ScriptFileError> {
    let chars: Vec<char> = text.chars().collect();
    let mut blocks = Vec::new();
    let mut index = None;
    let mut disabled = false;
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if starts_with(&chars, i, "//") {
            let end = find_from(&chars, i, '\n').unwrap_or(chars.len());
            let comment: String = chars[i + 2..end].iter().collect();
            let comment = comment.trim();
            if comment == "@disabled" {
                disabled = true;
            } else if let Some(n) = comment.strip_prefix("Index:") {
                index = n.trim().parse().ok();
            }
            i = end;
        } else if starts_with(&chars, i, "/*") {
            let end = find_str(&chars, i + 2, "*/").ok_or(ScriptFileError {
                line,
                message: "unterminated /* comment".into(),
            })?;
            line += chars[i..end].iter().filter(|&&c| c == '\n').count();
            i = end + 2;
        } else if starts_with(&chars, i, "trace")
            && chars.get(i + 5).is_some_and(|c| c.is_whitespace())
        {
            let open = find_from(&chars, i, '{').ok_or(ScriptFileError {
                line,
                message: "expected '{' after the trace target".into(),
            })?;
            let target: String = chars[i + 5..open].iter().collect();
            let target = target.trim().to_string();
            if target.is_empty() {
                return Err(ScriptFileError {
                    line,
                    message: "trace block without a target".into(),
                });
            }
            let close = matching_brace(&chars, open).ok_or(ScriptFileError {
                line,
                message: format!("unclosed '{{' of trace {target}"),
            })?;
            let body: String = chars[open + 1..close].iter().collect();
            line += chars[i..=close].iter().filter(|&&c| c == '\n').count();
            blocks.push(ScriptBlock {
                target,
                body: dedent(&body),
                index: index.take(),
                disabled: std::mem::take(&mut disabled),
            });
            i = close + 1;
        } else {
            return Err(ScriptFileError {
                line,
                message: "only trace blocks are allowed at the top level".into(),
            });
        }
    }
    if blocks.is_empty() {
        return Err(ScriptFileError {
            line: 1,
            message: "script must contain at least one top-level trace statement".into(),
        });
    }
    Ok(blocks)
}

fn starts_with(chars: &[char], at: usize, s: &str) -> bool {
    s.chars()
        .enumerate()
        .all(|(k, c)| chars.get(at + k) == Some(&c))
}

fn find_from(chars: &[char], from: usize, c: char) -> Option<usize> {
    (from..chars.len()).find(|&k| chars[k] == c)
}

fn find_str(chars: &[char], from: usize, s: &str) -> Option<usize> {
    (from..chars.len()).find(|&k| starts_with(chars, k, s))
}

/// The `}` closing the `{` at `open`, skipping strings and comments.
fn matching_brace(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut k = open;
    while k < chars.len() {
        match chars[k] {
            '"' => k = find_from(chars, k + 1, '"')?,
            '/' if chars.get(k + 1) == Some(&'/') => {
                k = find_from(chars, k, '\n').unwrap_or(chars.len())
            }
            '/' if chars.get(k + 1) == Some(&'*') => k = find_str(chars, k + 2, "*/")? + 1,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// Drops blank leading/trailing lines and the indentation all lines share.
fn dedent(body: &str) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    let (Some(first), Some(last)) = (first, last) else {
        return String::new();
    };
    let lines = &lines[first..=last];
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(
        id: u32,
        target: &str,
        body: &str,
        index: Option<usize>,
        state: TraceState,
    ) -> TraceInfo {
        TraceInfo {
            body: body.into(),
            index,
            ..crate::test_support::trace_info(id, target, 1, state)
        }
    }

    const EXPECTED: &str = "// GhostScope Trace Save File v1.0
// Generated: 2026-03-02 11:04:17
// Binary: /opt/orderd/bin/orderd
// PID: 48211
// Filter: all
// Traces: 2 total (1 enabled, 1 disabled)

// ========================================
// Trace 0: place_order [ENABLED]
// Target: place_order
// Status: Active
// Index: 2
// ========================================
trace place_order {
    print \"id={}\", order.id;
}

// ========================================
// Trace 1: cart.c:88 [DISABLED]
// Target: cart.c:88
// Status: Disabled
// ========================================
//@disabled
trace cart.c:88 {
    print item;
}
";

    fn header() -> SaveHeader {
        SaveHeader {
            generated: "2026-03-02 11:04:17".into(),
            binary: "/opt/orderd/bin/orderd".into(),
            pid: Some(48211),
        }
    }

    #[test]
    fn save_file_matches_the_spec_example() {
        let a = trace(
            0,
            "place_order",
            "print \"id={}\", order.id;",
            Some(2),
            TraceState::Active,
        );
        let b = trace(1, "cart.c:88", "print item;", None, TraceState::Disabled);
        assert_eq!(
            render(&header(), &[&a, &b], SaveFilter::All).unwrap(),
            EXPECTED
        );
    }

    #[test]
    fn filters_and_grouping() {
        let a = trace(0, "f", "print 1;", None, TraceState::Active);
        let a2 = trace(1, "f", "print 1;", None, TraceState::Active);
        let b = trace(2, "g", "print 2;", None, TraceState::Disabled);
        let only_enabled = render(&header(), &[&a, &a2, &b], SaveFilter::Enabled).unwrap();
        assert!(only_enabled.contains("// Filter: enabled only\n"));
        assert!(only_enabled.contains("// Traces: 1 total (1 enabled, 0 disabled)\n"));
        assert!(!only_enabled.contains("trace g"));
        let only_disabled = render(&header(), &[&a, &b], SaveFilter::Disabled).unwrap();
        assert!(only_disabled.contains("// Filter: disabled only\n"));
        assert!(render(&header(), &[&a], SaveFilter::Disabled).is_none());
        let no_pid = SaveHeader {
            pid: None,
            ..header()
        };
        assert!(!render(&no_pid, &[&a], SaveFilter::All)
            .unwrap()
            .contains("// PID:"));
    }

    #[test]
    fn saved_file_reads_back() {
        let blocks = parse_script(EXPECTED).unwrap();
        assert_eq!(
            blocks,
            vec![
                ScriptBlock {
                    target: "place_order".into(),
                    body: "print \"id={}\", order.id;".into(),
                    index: Some(2),
                    disabled: false,
                },
                ScriptBlock {
                    target: "cart.c:88".into(),
                    body: "print item;".into(),
                    index: None,
                    disabled: true,
                },
            ]
        );
    }

    #[test]
    fn nested_braces_strings_and_errors() {
        let text = "/* c */ trace f {\n    if x > 1 {\n        print \"}\";\n    }\n}\n";
        let blocks = parse_script(text).unwrap();
        assert_eq!(blocks[0].body, "if x > 1 {\n    print \"}\";\n}");
        assert_eq!(parse_script("print x;").unwrap_err().line, 1);
        assert!(parse_script("trace f {")
            .unwrap_err()
            .message
            .contains("unclosed"));
        assert!(parse_script("// nothing\n").is_err());
    }
}
