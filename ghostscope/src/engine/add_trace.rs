//! Adding one trace block while the session runs (`trace <target>` in the
//! TUI): parse the body the user typed, resolve the pattern, then compile,
//! load and attach each selected address on its own. Other traces are not
//! touched.

use ghostscope_compiler::ast::TracePattern;
use ghostscope_compiler::{parse_trace_block, resolve_pattern, Compiler, ParseError, SiteUnit};
use ghostscope_loader::LoaderError;
use ghostscope_protocol::session::{AddressOutcome, AddressResult, TraceOutcome};

use super::{is_inline, source_position, Engine};

impl Engine {
    /// Compiles and loads `trace <target> { <body> }`, one program per
    /// resolved address (only address `index`, 1-based, when given), and
    /// attaches each unless `enabled` is false. A trace id is used only by
    /// an address that loaded.
    pub fn add_trace(
        &mut self,
        target: &str,
        body: &str,
        index: Option<usize>,
        enabled: bool,
    ) -> TraceOutcome {
        let whole_failure = |error: String| {
            tracing::warn!("trace {target} failed: {error}");
            TraceOutcome {
                target: target.to_string(),
                addresses: Vec::new(),
                error: Some(error),
            }
        };
        let Some(session) = self.session.clone() else {
            return whole_failure("the debug info was released".to_string());
        };
        let block = match parse_trace_block(target, body) {
            Ok(b) => b,
            Err(e) => return whole_failure(parse_error_text(&e)),
        };
        let sites = match resolve_pattern(&session, &block.pattern) {
            Ok(sites) => sites,
            Err(message) => return whole_failure(message),
        };
        if let Some(k) = index {
            if k == 0 || k > sites.len() {
                return whole_failure(index_out_of_range(&block.pattern, target, k, sites.len()));
            }
        }
        if block_uses_backtrace(&block) {
            if let Err(e) = self.prepare_backtraces(&session) {
                return whole_failure(e);
            }
        }
        let maps = self.maps();
        let mut addresses = Vec::new();
        for (i, site) in sites.into_iter().enumerate() {
            let pc = site.pc;
            if index.is_some_and(|k| k != i + 1) {
                addresses.push(AddressOutcome {
                    pc,
                    result: AddressResult::Skipped(format!(
                        "index {} selected",
                        index.unwrap_or_default()
                    )),
                });
                continue;
            }
            let trace_id = self.next_trace_id;
            let compiler = Compiler {
                session: &session,
                codegen: &self.codegen,
                maps,
                options: &self.options.compile,
            };
            let unit = SiteUnit {
                block: &block,
                block_index: 0,
                address_index: i,
                trace_id,
            };
            let compiled = match compiler.compile_site(&unit, site) {
                Ok(t) => t,
                Err(f) => {
                    tracing::warn!("trace {target} at 0x{pc:x} did not compile: {}", f.message);
                    addresses.push(AddressOutcome {
                        pc,
                        result: AddressResult::Failed(f.message),
                    });
                    continue;
                }
            };
            let loaded = self
                .load_compiled(&compiled, body, index)
                .and_then(|()| match enabled {
                    true => self.enable_loaded(trace_id),
                    false => Ok(()),
                });
            let result = match loaded {
                Ok(()) => {
                    tracing::info!(
                        "trace {target} at 0x{:x} loaded as trace id {trace_id} ({})",
                        compiled.site.pc,
                        if enabled { "attached" } else { "disabled" }
                    );
                    self.next_trace_id += 1;
                    AddressResult::Attached {
                        trace_id,
                        inline: is_inline(&compiled.site),
                        source: source_position(&session, &compiled.site),
                    }
                }
                Err(e) => {
                    tracing::warn!("trace {target} at 0x{pc:x} did not load: {e}");
                    AddressResult::Failed(loader_failure_text(&e))
                }
            };
            addresses.push(AddressOutcome {
                pc: compiled.site.pc,
                result,
            });
        }
        TraceOutcome {
            target: target.to_string(),
            addresses,
            error: None,
        }
    }
}

/// A parse error as the TUI shows it: the script-language §13 message
/// without the `Script compilation failed` wrapper, then the source line
/// with a caret when known.
pub fn parse_error_text(e: &ParseError) -> String {
    match &e.snippet {
        Some(snippet) => format!("{}\n{snippet}", e.message),
        None => e.message.clone(),
    }
}

/// The loader's reason, without the trace id it had while being tried
/// (an id is only kept by a trace that loaded).
pub(crate) fn loader_failure_text(e: &LoaderError) -> String {
    match e {
        LoaderError::Verifier { reason, .. } => {
            format!("the kernel verifier rejected the program: {reason}")
        }
        LoaderError::Object { message, .. } => {
            format!("failed to parse the BPF object: {message}")
        }
        LoaderError::Load { message, .. } => format!("failed to load the program: {message}"),
        other => other.to_string(),
    }
}

/// tui.md §6.6: the `[index]` of `trace <target> [index]` is out of range.
fn index_out_of_range(pattern: &TracePattern, target: &str, k: usize, n: usize) -> String {
    match pattern {
        TracePattern::Function { name, .. } => format!(
            "Selected index {k} is out of range for function '{name}' (valid 1..={n}). Use 'info function {name}' to view indices."
        ),
        _ => format!(
            "Selected index {k} is out of range for {target} (valid 1..={n}). Use 'info' to view indices."
        ),
    }
}

/// Whether a block has a `bt` anywhere in its body.
fn block_uses_backtrace(block: &ghostscope_compiler::ast::TraceBlock) -> bool {
    ghostscope_compiler::uses_backtrace(&ghostscope_compiler::ast::Script {
        traces: vec![block.clone()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_messages_name_the_pattern() {
        let f = TracePattern::Function {
            name: "place_order".into(),
            at_return: false,
        };
        assert_eq!(
            index_out_of_range(&f, "place_order", 3, 2),
            "Selected index 3 is out of range for function 'place_order' (valid 1..=2). Use 'info function place_order' to view indices."
        );
        let l = TracePattern::SourceLine {
            file: "cart.c".into(),
            line: 88,
        };
        assert_eq!(
            index_out_of_range(&l, "cart.c:88", 0, 1),
            "Selected index 0 is out of range for cart.c:88 (valid 1..=1). Use 'info' to view indices."
        );
    }

    #[test]
    fn parse_errors_keep_their_snippet() {
        let e = parse_trace_block("f", "print x").unwrap_err();
        let text = parse_error_text(&e);
        assert!(text.starts_with("Parse error: "), "{text}");
        assert!(text.contains("\n  1 | print x\n"), "{text}");
    }
}
