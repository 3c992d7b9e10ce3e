//! The one-line status bar (tui.md §10): per-trace hits and losses.

use ghostscope_protocol::session::{TraceInfo, TraceState};
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::App;
use crate::styled::{colored, plain, width};

const SEP: &str = " │ ";

/// A `file:line` target with only the file name (click-to-trace writes
/// the whole DWARF path); other targets as written.
fn short_target(target: &str) -> &str {
    match crate::source::markers::split_file_line(target) {
        Some((file, _)) if file.contains('/') => &target[file.rfind('/').map_or(0, |i| i + 1)..],
        _ => target,
    }
}

fn trace_item(t: &TraceInfo) -> Vec<Span<'static>> {
    let head = format!("#{} {} ", t.trace_id, short_target(&t.target));
    match t.state {
        TraceState::Disabled => vec![Span::raw(head), colored("off", Color::DarkGray)],
        TraceState::Pending => vec![Span::raw(head), colored("pending", Color::LightYellow)],
        TraceState::Failed => vec![Span::raw(head), colored("failed", Color::Red)],
        TraceState::Active => {
            let lost = format!("{} lost", t.lost);
            vec![
                Span::raw(format!("{head}{} hits ", t.hits)),
                if t.lost > 0 {
                    colored(lost, Color::Yellow)
                } else {
                    Span::raw(lost)
                },
            ]
        }
    }
}

/// The status line for these traces, fitted to `max` cells.
pub fn status_line(traces: &[&TraceInfo], max: usize) -> Line<'static> {
    let on = traces
        .iter()
        .filter(|t| t.state == TraceState::Active)
        .count();
    let mut spans = vec![Span::raw(format!("traces {} ({on} on)", traces.len()))];
    let items: Vec<Vec<Span<'static>>> = traces.iter().map(|t| trace_item(t)).collect();
    let all: usize = items
        .iter()
        .map(|i| width(SEP) + width(&plain(&Line::from(i.clone()))))
        .sum();
    if width(&plain(&Line::from(spans.clone()))) + all <= max {
        for i in items {
            spans.push(Span::raw(SEP));
            spans.extend(i);
        }
        return Line::from(spans);
    }
    // Too long: the busiest first, then `+<n> more`.
    let mut order: Vec<usize> = (0..traces.len()).collect();
    order.sort_by(|&a, &b| traces[b].hits.cmp(&traces[a].hits).then(a.cmp(&b)));
    let mut used = width(&plain(&Line::from(spans.clone())));
    let mut shown = 0;
    for (k, &i) in order.iter().enumerate() {
        let item_w = width(SEP) + width(&plain(&Line::from(items[i].clone())));
        let left = order.len() - k - 1;
        let more_w = if left > 0 {
            width(SEP) + format!("+{left} more").len()
        } else {
            0
        };
        if used + item_w + more_w > max {
            break;
        }
        spans.push(Span::raw(SEP));
        spans.extend(items[i].clone());
        used += item_w;
        shown += 1;
    }
    let rest = traces.len() - shown;
    if rest > 0 {
        spans.push(Span::raw(SEP));
        spans.push(Span::raw(format!("+{rest} more")));
    }
    Line::from(spans)
}

/// Draws the status bar.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let style = Style::default().bg(Color::Rgb(30, 30, 40));
    let line = match app.ready.as_ref().and_then(|r| r.launch_program.as_ref()) {
        Some(program) if app.traces.is_empty() => Line::from(colored(
            format!("Program not started: submit a trace to start {program}"),
            Color::Yellow,
        )),
        _ => status_line(&app.trace_list(), area.width as usize),
    };
    frame.render_widget(Paragraph::new(line).style(style), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: u32, target: &str, state: TraceState, hits: u64, lost: u64) -> TraceInfo {
        TraceInfo {
            hits,
            lost,
            ..crate::test_support::trace_info(id, target, 1, state)
        }
    }

    #[test]
    fn spec_example_and_overflow() {
        let a = t(0, "place_order", TraceState::Active, 1204, 0);
        let b = t(1, "cart.c:88", TraceState::Disabled, 0, 0);
        let c = t(2, "0x4a1c", TraceState::Active, 77, 3);
        let line = status_line(&[&a, &b, &c], 200);
        assert_eq!(
            plain(&line),
            "traces 3 (2 on) │ #0 place_order 1204 hits 0 lost │ #1 cart.c:88 off │ #2 0x4a1c 77 hits 3 lost"
        );
        assert_eq!(line.spans.last().unwrap().style.fg, Some(Color::Yellow));
        let d = t(3, "/build/src/cart.c:12", TraceState::Disabled, 0, 0);
        assert_eq!(
            plain(&status_line(&[&d], 80)),
            "traces 1 (0 on) │ #3 cart.c:12 off"
        );
        let short = status_line(&[&a, &b, &c], 60);
        assert_eq!(
            plain(&short),
            "traces 3 (2 on) │ #0 place_order 1204 hits 0 lost │ +2 more"
        );
    }
}
