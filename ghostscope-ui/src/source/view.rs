//! Drawing the source panel: gutter with line numbers and trace markers,
//! highlighted code, search matches, the error view, the file popup.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::file_search::FileSearch;
use super::markers::{markers, LineAttempt, LineMarker, MarkerKind};
use super::panel::{OpenFile, SourceContent};
use crate::app::App;
use crate::styled::{colored, colored_line, text_line};
use crate::view::panel_block;

/// Cells of the gutter for a file of `lines` lines: the number, the `↩`
/// mark and a space.
pub fn gutter_width(lines: usize) -> usize {
    lines.max(1).to_string().len().max(3) + 2
}

const CURSOR_LINE_BG: Color = Color::Rgb(45, 45, 60);

/// Draws the panel.
pub fn render(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let p = &app.source;
    let title = match p.dwarf_path() {
        // Keep the end of a long path: the file name matters most.
        Some(path) => format!(
            "Source Code: {}",
            tail_to_width(path, (area.width as usize).saturating_sub(16))
        ),
        None => "Source Code".to_string(),
    };
    let mut block = panel_block(title, focused);
    if p.search.editing || !p.search.query.is_empty() {
        block = block.title_bottom(
            Line::from(format!("/{}", p.search.query)).style(Style::default().fg(Color::Yellow)),
        );
    } else if !p.pending_count().is_empty() {
        block = block.title_bottom(Line::from(p.pending_count().to_string()));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = match &p.content {
        SourceContent::Empty => vec![colored_line("No source file loaded.", Color::DarkGray)],
        SourceContent::Error(e) => {
            let (dir, rel) = match e.dwarf_path.rsplit_once('/') {
                Some((d, r)) => (d.to_string(), r.to_string()),
                None => (String::new(), e.dwarf_path.clone()),
            };
            vec![
                colored_line(e.message.clone(), Color::Red),
                text_line(""),
                colored_line(format!("DWARF Directory: {dir}"), Color::Yellow),
                colored_line(format!("Relative Path: {rel}"), Color::Yellow),
                text_line(""),
                text_line("Use 'srcpath map <from> <to>' or 'srcpath add <dir>' to tell"),
                text_line("ghostscope where the sources are."),
            ]
        }
        SourceContent::File(f) => {
            let compiling: Vec<LineAttempt> =
                app.compiling.iter().map(|(_, a)| a.clone()).collect();
            let marks = markers(
                &f.dwarf_path,
                app.traces.values(),
                &compiling,
                &app.failed_lines,
            );
            file_lines(app, f, &marks, inner)
        }
    };
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Draws the file-search popup over the whole screen, if it is open.
pub fn render_popup(app: &App, frame: &mut Frame) {
    if let Some(popup) = &app.source.file_search {
        let screen = frame.area();
        render_file_search(app, popup, frame, screen);
    }
}

fn file_lines(
    app: &App,
    f: &OpenFile,
    marks: &std::collections::BTreeMap<u32, LineMarker>,
    inner: Rect,
) -> Vec<Line<'static>> {
    let p = &app.source;
    let gutter = gutter_width(f.lines.len());
    let text_width = (inner.width as usize).saturating_sub(gutter).max(1);
    let hscroll = if p.col >= text_width {
        p.col + 1 - text_width
    } else {
        0
    };
    let end = (p.scroll + inner.height as usize).min(f.lines.len());
    let mut out = Vec::new();
    for i in p.scroll..end {
        let number = i as u32 + 1;
        let has_code = f.code_lines.as_ref().is_none_or(|c| c.contains(&number));
        let mark = marks.get(&number);
        let number_style = match mark.map(|m| m.kind) {
            Some(MarkerKind::Enabled) => Style::default()
                .fg(Color::Green)
                .add_modifier(Modifier::BOLD),
            Some(MarkerKind::Disabled) => Style::default().fg(Color::Yellow),
            Some(MarkerKind::Compiling) => Style::default().fg(Color::LightYellow),
            Some(MarkerKind::Failed) => {
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
            }
            None if has_code => Style::default().fg(Color::White),
            None => Style::default().fg(Color::DarkGray),
        };
        let ret = if mark.is_some_and(|m| m.ret) {
            "↩"
        } else {
            " "
        };
        let mut spans = vec![
            Span::styled(format!("{number:>w$}", w = gutter - 2), number_style),
            colored(ret, Color::Magenta),
            Span::raw(" "),
        ];
        let code_style = if has_code {
            Style::default()
        } else {
            Style::default().fg(Color::Gray)
        };
        let cursor = if i == p.cursor { Some(p.col) } else { None };
        spans.extend(code_spans(
            &f.lines[i],
            &f.highlights[i],
            &p.search.query,
            cursor,
            hscroll,
            code_style,
        ));
        let mut line = Line::from(spans);
        if i == p.cursor {
            line = line.style(Style::default().bg(CURSOR_LINE_BG));
        }
        out.push(line);
    }
    out
}

/// The code of one line as spans: highlight colours, search matches and
/// the cursor cell, starting `hscroll` characters in.
fn code_spans(
    text: &str,
    highlights: &[super::highlight::Highlight],
    query: &str,
    cursor: Option<usize>,
    hscroll: usize,
    base: Style,
) -> Vec<Span<'static>> {
    let matches: Vec<(usize, usize)> = if query.is_empty() {
        Vec::new()
    } else {
        text.match_indices(query)
            .map(|(b, m)| (b, b + m.len()))
            .collect()
    };
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut current = String::new();
    let mut current_style = base;
    for (ci, (b, c)) in text.char_indices().enumerate() {
        if ci < hscroll {
            continue;
        }
        let mut style = highlights
            .iter()
            .find(|(r, _)| r.contains(&b))
            .map_or(base, |(_, t)| base.patch(t.style()));
        if matches.iter().any(|(s, e)| b >= *s && b < *e) {
            style = style.bg(Color::Yellow).fg(Color::Black);
        }
        if cursor == Some(ci) {
            style = style.add_modifier(Modifier::REVERSED);
        }
        if style != current_style && !current.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut current), current_style));
        }
        current_style = style;
        current.push(c);
    }
    if !current.is_empty() {
        spans.push(Span::styled(current, current_style));
    }
    if cursor.is_some_and(|c| c >= text.chars().count()) {
        spans.push(Span::styled(
            " ",
            Style::default().add_modifier(Modifier::REVERSED),
        ));
    }
    spans
}

/// The end of a path that fits in `room` cells, with `…` in front when cut.
fn tail_to_width(path: &str, room: usize) -> String {
    let n = path.chars().count();
    if n <= room || room < 2 {
        return path.to_string();
    }
    let tail: String = path.chars().skip(n - (room - 1)).collect();
    format!("…{tail}")
}

fn render_file_search(app: &App, popup: &FileSearch, frame: &mut Frame, area: Rect) {
    let width = area.width.saturating_sub(4).clamp(20, 100).min(area.width);
    let height = (crate::source::file_search::MAX_RESULTS as u16 + 4).min(area.height);
    let rect = Rect::new(
        area.x + (area.width.saturating_sub(width)) / 2,
        area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, rect);
    let block = panel_block("Open File".to_string(), true);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let mut lines = vec![Line::from(vec![
        Span::raw("🔎 "),
        Span::raw(popup.query.before_cursor().to_string()),
        Span::styled(
            popup
                .query
                .after_cursor()
                .chars()
                .next()
                .map_or(" ".to_string(), |c| c.to_string()),
            Style::default().add_modifier(Modifier::REVERSED),
        ),
        Span::raw(
            popup
                .query
                .after_cursor()
                .chars()
                .skip(1)
                .collect::<String>(),
        ),
    ])];
    if app.source_files.is_none() {
        lines.push(colored_line("Loading the file list…", Color::DarkGray));
    } else {
        let results = popup.results(&app.file_list);
        if results.is_empty() {
            lines.push(colored_line("No matching files", Color::DarkGray));
        }
        for (k, f) in results.iter().enumerate() {
            let style = if k == popup.selected {
                Style::default().fg(Color::Black).bg(Color::Cyan)
            } else {
                Style::default()
            };
            let room = (inner.width as usize).saturating_sub(2);
            lines.push(Line::from(Span::styled(
                format!("  {}", tail_to_width(&f.shown, room)),
                style,
            )));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
