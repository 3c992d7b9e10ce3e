//! The response after a script is submitted (tui.md §6.3).

use ghostscope_protocol::session::{AddressResult, TraceOutcome};
use ratatui::style::Color;
use ratatui::text::{Line, Span};

use super::{hex, place};
use crate::styled::{bold, colored, colored_line, text_line};

/// The script as submitted: `trace <target> {`, the body indented, `}`.
pub fn script_echo(target: &str, body: &str) -> Vec<Line<'static>> {
    let mut out = vec![colored_line(format!("trace {target} {{"), Color::Cyan)];
    for l in body.lines() {
        out.push(colored_line(format!("    {l}"), Color::Cyan));
    }
    out.push(colored_line("}", Color::Cyan));
    out
}

fn count_span(n: usize, word: &str, color: Color) -> Span<'static> {
    let text = format!("{n} {word}");
    if n > 0 {
        colored(text, color)
    } else {
        Span::raw(text)
    }
}

fn summary(ok: usize, failed: usize) -> Line<'static> {
    let emoji = if failed > 0 || ok == 0 { "❌" } else { "✅" };
    Line::from(vec![
        Span::raw(format!("{emoji} Trace Results: ")),
        count_span(ok, "successful", Color::Green),
        Span::raw(", "),
        count_span(failed, "failed", Color::Red),
    ])
}

/// The `🎯 Target:` block and results of one trace block.
pub fn trace_outcome(outcome: &TraceOutcome) -> Vec<Line<'static>> {
    let target = &outcome.target;
    let mut out = vec![
        Line::from(vec![
            Span::raw("🎯 Target: "),
            bold(target.clone(), Color::White),
        ]),
        text_line(""),
    ];
    if let Some(error) = &outcome.error {
        out.push(summary(0, 1));
        for l in error.lines() {
            out.push(colored_line(l.to_string(), Color::Red));
        }
        return out;
    }
    let ok = outcome
        .addresses
        .iter()
        .filter(|a| matches!(a.result, AddressResult::Attached { .. }))
        .count();
    let failed = outcome
        .addresses
        .iter()
        .filter(|a| matches!(a.result, AddressResult::Failed(_)))
        .count();
    out.push(summary(ok, failed));
    for a in &outcome.addresses {
        let pc = hex(a.pc);
        match &a.result {
            AddressResult::Attached {
                trace_id,
                inline,
                source,
            } => {
                let place = place(*inline, source.as_ref());
                out.push(Line::from(vec![
                    colored("  • ", Color::Green),
                    Span::raw(format!("{target} ({pc}){place} → ")),
                    colored(format!("trace_id: {trace_id}"), Color::Green),
                ]));
            }
            AddressResult::Failed(e) => out.push(colored_line(
                format!("  ✗ {target} ({pc}): {e}"),
                Color::Red,
            )),
            AddressResult::Skipped(r) => out.push(colored_line(
                format!("  ⊘ {target} ({pc}): {r}"),
                Color::DarkGray,
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::styled::{plain, plain_lines as texts};
    use ghostscope_protocol::session::{AddressOutcome, SourcePosition};

    #[test]
    fn mixed_results() {
        let outcome = TraceOutcome {
            target: "update_order".into(),
            addresses: vec![
                AddressOutcome {
                    pc: 0x1149,
                    result: AddressResult::Attached {
                        trace_id: 0,
                        inline: false,
                        source: Some(SourcePosition {
                            file: "orders.c".into(),
                            line: 42,
                            column: 0,
                        }),
                    },
                },
                AddressOutcome {
                    pc: 0x1200,
                    result: AddressResult::Attached {
                        trace_id: 1,
                        inline: true,
                        source: None,
                    },
                },
                AddressOutcome {
                    pc: 0x1300,
                    result: AddressResult::Failed("verifier rejected the program".into()),
                },
                AddressOutcome {
                    pc: 0x1400,
                    result: AddressResult::Skipped("not the selected index".into()),
                },
            ],
            error: None,
        };
        let lines = trace_outcome(&outcome);
        assert_eq!(
            texts(&lines),
            vec![
                "🎯 Target: update_order",
                "",
                "❌ Trace Results: 2 successful, 1 failed",
                "  • update_order (0x1149) — call @ orders.c:42 → trace_id: 0",
                "  • update_order (0x1200) → trace_id: 1",
                "  ✗ update_order (0x1300): verifier rejected the program",
                "  ⊘ update_order (0x1400): not the selected index",
            ]
        );
        assert_eq!(lines[2].spans[1].style.fg, Some(Color::Green));
        assert_eq!(lines[2].spans[3].style.fg, Some(Color::Red));
    }

    #[test]
    fn all_successful_and_whole_failure() {
        let ok = TraceOutcome {
            target: "f".into(),
            addresses: vec![AddressOutcome {
                pc: 0x10,
                result: AddressResult::Attached {
                    trace_id: 3,
                    inline: false,
                    source: None,
                },
            }],
            error: None,
        };
        let lines = trace_outcome(&ok);
        assert_eq!(plain(&lines[2]), "✅ Trace Results: 1 successful, 0 failed");
        assert_eq!(lines[2].spans[3].style.fg, None, "0 failed is not red");
        let bad = TraceOutcome {
            target: "nosuch".into(),
            addresses: vec![],
            error: Some(
                "No addresses resolved for function 'nosuch' - function not found in debug symbols"
                    .into(),
            ),
        };
        assert_eq!(
            texts(&trace_outcome(&bad)),
            vec![
                "🎯 Target: nosuch",
                "",
                "❌ Trace Results: 0 successful, 1 failed",
                "No addresses resolved for function 'nosuch' - function not found in debug symbols",
            ]
        );
        assert_eq!(
            texts(&script_echo("f", "print a;\nprint b;")),
            vec!["trace f {", "    print a;", "    print b;", "}"]
        );
    }
}
