//! Small helpers over ratatui text: the plain text of a line, coloured
//! spans, and wrapping a styled line to a width (the command panel keeps
//! its scrollback unwrapped and wraps at render time).

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// The text of a line without its styles.
pub fn plain(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// The text of each line.
#[cfg(test)]
pub fn plain_lines(lines: &[Line<'_>]) -> Vec<String> {
    lines.iter().map(plain).collect()
}

/// A span in one colour.
pub fn colored(text: impl Into<String>, color: Color) -> Span<'static> {
    Span::styled(text.into(), Style::default().fg(color))
}

/// A line in one colour.
pub fn colored_line(text: impl Into<String>, color: Color) -> Line<'static> {
    Line::from(colored(text, color))
}

/// A bold span in one colour.
pub fn bold(text: impl Into<String>, color: Color) -> Span<'static> {
    Span::styled(
        text.into(),
        Style::default().fg(color).add_modifier(Modifier::BOLD),
    )
}

/// An unstyled line.
pub fn text_line(text: impl Into<String>) -> Line<'static> {
    Line::from(text.into())
}

/// Display width of a string in terminal cells.
pub fn width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Splits a styled line into lines of at most `width` cells. An empty line
/// stays one empty line.
pub fn wrap(line: &Line<'static>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    for span in &line.spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width && used > 0 {
                if !piece.is_empty() {
                    current.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                out.push(Line::from(std::mem::take(&mut current)).style(line.style));
                used = 0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            current.push(Span::styled(piece, span.style));
        }
    }
    out.push(Line::from(current).style(line.style));
    out
}

/// Drops the first `skip` cells of a styled line (horizontal scrolling).
pub fn skip_cells(line: &Line<'static>, skip: usize) -> Line<'static> {
    if skip == 0 {
        return line.clone();
    }
    let mut skipped = 0usize;
    let mut spans = Vec::new();
    for span in &line.spans {
        let mut kept = String::new();
        for c in span.content.chars() {
            if skipped < skip {
                skipped += c.width().unwrap_or(0);
            } else {
                kept.push(c);
            }
        }
        if !kept.is_empty() {
            spans.push(Span::styled(kept, span.style));
        }
    }
    Line::from(spans).style(line.style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_splits_at_width_and_keeps_styles() {
        let line = Line::from(vec![colored("abcd", Color::Red), Span::raw("efg")]);
        let lines = wrap(&line, 3);
        let texts: Vec<String> = lines.iter().map(plain).collect();
        assert_eq!(texts, ["abc", "def", "g"]);
        assert_eq!(lines[1].spans[0].style.fg, Some(Color::Red));
        assert_eq!(wrap(&Line::from(""), 5).len(), 1);
    }

    #[test]
    fn skip_cells_drops_leading_text() {
        let line = Line::from(vec![Span::raw("ab"), Span::raw("cd")]);
        assert_eq!(plain(&skip_cells(&line, 3)), "d");
    }
}
