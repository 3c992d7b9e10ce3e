//! Drawing the command panel: wrapped scrollback, then the prompt (or the
//! reverse-search prompt) in Input mode, or the script editor.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::line_edit::LineEdit;
use super::panel::{CommandMode, CommandPanel, PROMPT};
use super::script_editor::{ScriptEditor, HEADER};
use crate::app::App;
use crate::source::highlight::{highlight_line, Language};
use crate::styled::{bold, colored, plain, wrap};
use crate::view::panel_block;

fn reversed() -> Style {
    Style::default().add_modifier(Modifier::REVERSED)
}

/// The text of a line edit as spans, with a reversed cursor cell.
fn edit_spans(edit: &LineEdit, show_cursor: bool) -> Vec<Span<'static>> {
    let after = edit.after_cursor();
    let mut spans = vec![Span::raw(edit.before_cursor().to_string())];
    if show_cursor {
        let mut chars = after.chars();
        let at = chars.next().map_or(" ".to_string(), |c| c.to_string());
        spans.push(Span::styled(at, reversed()));
        spans.push(Span::raw(chars.collect::<String>()));
    } else {
        spans.push(Span::raw(after.to_string()));
    }
    spans
}

fn input_line(p: &CommandPanel, focused: bool) -> Line<'static> {
    if let Some(s) = &p.rsearch {
        let prompt = s.prompt(&p.history);
        return Line::from(vec![
            colored(prompt, Color::Yellow),
            Span::styled(" ", reversed()),
        ]);
    }
    let mut spans = vec![colored(PROMPT, Color::Cyan)];
    let show_cursor = focused && p.mode == CommandMode::Input;
    spans.extend(edit_spans(&p.input, show_cursor));
    if let Some(rest) = p.suggestion() {
        // The cursor cell already shows a blank at the end; the suggestion follows it.
        if show_cursor {
            spans.pop();
            spans.pop();
            let mut chars = rest.chars();
            let first = chars.next().map(|c| c.to_string()).unwrap_or_default();
            spans.push(Span::styled(first, reversed().fg(Color::DarkGray)));
            spans.push(colored(chars.collect::<String>(), Color::DarkGray));
        } else {
            spans.push(colored(rest, Color::DarkGray));
        }
    }
    Line::from(spans)
}

fn script_lines(ed: &ScriptEditor, focused: bool) -> (Vec<Line<'static>>, usize) {
    let mut out = vec![bold(HEADER, Color::Yellow).into()];
    let index = ed
        .index
        .map(|i| format!(" [index {i}]"))
        .unwrap_or_default();
    out.push(Line::from(vec![
        Span::raw("🎯 Target: "),
        bold(ed.target.clone(), Color::White),
        Span::raw(index),
    ]));
    let mut in_comment = false;
    for (k, text) in ed.lines.iter().enumerate() {
        let (marks, still) = highlight_line(text, Language::Script, in_comment);
        in_comment = still;
        let mut spans = vec![colored(format!("{:>3} │ ", k + 1), Color::DarkGray)];
        let cursor = (focused && k == ed.row).then_some(ed.col);
        for (ci, (b, c)) in text.char_indices().enumerate() {
            let mut style = marks
                .iter()
                .find(|(r, _)| r.contains(&b))
                .map_or(Style::default(), |(_, t)| t.style());
            if cursor == Some(ci) {
                style = style.add_modifier(Modifier::REVERSED);
            }
            spans.push(Span::styled(c.to_string(), style));
        }
        if cursor.is_some_and(|c| c >= text.chars().count()) {
            spans.push(Span::styled(" ", reversed()));
        }
        out.push(Line::from(spans));
    }
    (out, 2 + ed.row)
}

/// Draws the panel.
pub fn render(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let p = &app.command;
    let mut block = panel_block(format!("Interactive Command ({})", p.mode.title()), focused);
    if let Some((hint, _)) = &app.hint {
        block = block.title_bottom(Line::from(colored(format!(" {hint} "), Color::Yellow)));
    } else if app.is_quitting() {
        block = block.title_bottom(Line::from(colored(" Stopping… ", Color::Yellow)));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width.max(1) as usize;
    let height = inner.height as usize;
    // The rows under the scrollback, and the row that must stay visible.
    let (tail, keep_row): (Vec<Line<'static>>, usize) = match p.mode {
        CommandMode::Script => match &p.script {
            Some(ed) => script_lines(ed, focused),
            None => (Vec::new(), 0),
        },
        _ => (vec![input_line(p, focused)], 0),
    };
    let mut tail_rows: Vec<Line<'static>> = Vec::new();
    let mut keep = 0;
    for (k, l) in tail.iter().enumerate() {
        if k == keep_row {
            keep = tail_rows.len();
        }
        tail_rows.extend(wrap(l, width));
    }
    if tail_rows.len() > height {
        // Only the editor is visible: keep its cursor row on screen.
        let start = (keep + 1).saturating_sub(height);
        tail_rows = tail_rows[start..(start + height).min(tail_rows.len())].to_vec();
    }
    let room = height - tail_rows.len();
    let mut rows = scrollback_rows(p, width, room);
    rows.extend(tail_rows);
    frame.render_widget(Paragraph::new(rows), inner);
}

/// The scrollback rows that fit in `room` rows: the newest ones, or in
/// Command mode a window that shows the cursor line (highlighted).
fn scrollback_rows(p: &CommandPanel, width: usize, room: usize) -> Vec<Line<'static>> {
    if room == 0 || p.scrollback.is_empty() {
        return Vec::new();
    }
    let browsing = p.mode == CommandMode::Command;
    let last = p.scrollback.len() - 1;
    let cursor = p.view_line.min(last);
    // Rows from the end back to `end_line`, newest last.
    let collect_back = |end_line: usize| {
        let mut rows: Vec<Line<'static>> = Vec::new();
        let mut i = end_line as isize;
        while i >= 0 && rows.len() < room {
            let line = &p.scrollback[i as usize];
            let mut wrapped = if browsing && i as usize == cursor {
                cursor_line(line, p.view_col, width)
            } else {
                wrap(line, width)
            };
            wrapped.reverse();
            rows.extend(wrapped);
            i -= 1;
        }
        rows.truncate(room);
        rows.reverse();
        rows
    };
    if !browsing {
        return collect_back(last);
    }
    // Does the cursor line show when the view ends at the newest line?
    let mut after = 0;
    for l in &p.scrollback[cursor + 1..] {
        after += wrap(l, width).len();
        if after >= room {
            break;
        }
    }
    let fits = after < room;
    collect_back(if fits { last } else { cursor })
}

fn cursor_line(line: &Line<'static>, col: usize, width: usize) -> Vec<Line<'static>> {
    let text = plain(line);
    let mut spans = Vec::new();
    for (k, c) in text.chars().enumerate() {
        let style = if k == col {
            reversed()
        } else {
            Style::default().bg(Color::Rgb(45, 45, 60))
        };
        spans.push(Span::styled(c.to_string(), style));
    }
    if spans.is_empty() {
        spans.push(Span::styled(" ", reversed()));
    }
    wrap(&Line::from(spans), width)
}
