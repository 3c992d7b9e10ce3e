//! What script mode prints when compilation fails (script-language §13.2).

use ghostscope_compiler::{CompileOutput, ParseError, TraceFailure};

/// The message for a parse error: one `Error:` line, then the source line
/// with a caret under the spot when known.
pub fn parse_error_message(e: &ParseError) -> String {
    let mut s = format!(
        "Script compilation failed: {}. Please check your script syntax and try again.",
        e.message
    );
    if let Some(snippet) = &e.snippet {
        s.push('\n');
        s.push_str(snippet);
    }
    s
}

fn failure_lines(failures: &[TraceFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("  - {} at 0x{:x}: {}", f.target, f.pc, f.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The message when nothing compiled, or None when something did.
pub fn total_failure_message(out: &CompileOutput) -> Option<String> {
    if !out.traces.is_empty() {
        return None;
    }
    let first = out.failures.first()?;
    if out.unresolved > 0 {
        Some(format!(
            "Script compilation failed: {}\n\nFailed targets:\n{}\n\nTip: fix the reported compile-time errors above.. Please check your script syntax and try again.",
            first.message,
            failure_lines(&out.failures)
        ))
    } else {
        Some(format!(
            "No uprobe configurations created because all {} target(s) failed to compile.\n\nFailed targets:\n{}\n\nTip: fix the reported compile-time errors above (e.g., avoid struct/union/array arithmetic; select a scalar field or use '&expr + <non-negative literal>' in an alias/address context).",
            out.failures.len(),
            failure_lines(&out.failures)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unresolved_targets_use_the_script_failed_form() {
        let out = CompileOutput {
            failures: vec![TraceFailure {
                target: "nosuch".into(),
                pc: 0,
                message: "No addresses resolved for function 'nosuch' - function not found in debug symbols".into(),
            }],
            unresolved: 1,
            ..CompileOutput::default()
        };
        assert_eq!(
            total_failure_message(&out).unwrap(),
            "Script compilation failed: No addresses resolved for function 'nosuch' - function not found in debug symbols\n\nFailed targets:\n  - nosuch at 0x0: No addresses resolved for function 'nosuch' - function not found in debug symbols\n\nTip: fix the reported compile-time errors above.. Please check your script syntax and try again."
        );
    }

    #[test]
    fn codegen_failures_use_the_no_uprobe_form() {
        let out = CompileOutput {
            failures: vec![TraceFailure {
                target: "f".into(),
                pc: 0x1139,
                message: "Variable not found: 'x'".into(),
            }],
            ..CompileOutput::default()
        };
        let m = total_failure_message(&out).unwrap();
        assert!(m.starts_with("No uprobe configurations created because all 1 target(s) failed to compile.\n\nFailed targets:\n  - f at 0x1139: Variable not found: 'x'"));
    }
}
