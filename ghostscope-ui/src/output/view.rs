//! Drawing the eBPF output panel: event cards in list view, the expanded
//! card, and the mode on the bottom border.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};
use ratatui::Frame;

use super::panel::{Card, OutputMode, LIST_LINES};
use crate::app::App;
use crate::styled::{bold, colored_line, skip_cells};
use crate::view::panel_block;

/// Draws the panel.
pub fn render(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let p = &app.output;
    let title = format!("eBPF Trace Output ({} events)", p.total());
    let mode = match (p.expanded.is_some(), p.mode) {
        (true, _) => " Expanded: j/k scroll, Esc close ".to_string(),
        (false, OutputMode::Auto) => " Auto-refresh ".to_string(),
        (false, OutputMode::Scroll) => format!(" Scroll {}", p.pending_count()),
    };
    let block = panel_block(title, focused).title_bottom(Line::from(mode).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if p.cards().is_empty() {
        frame.render_widget(
            Paragraph::new(colored_line("Waiting for events…", Color::DarkGray)),
            inner,
        );
        return;
    }
    if let (Some(scroll), Some(i)) = (p.expanded, p.current()) {
        let card = &p.cards()[i];
        let lines: Vec<Line<'static>> = card
            .lines()
            .iter()
            .map(|l| skip_cells(&Line::from(l.to_string()), p.hscroll))
            .collect();
        let block = card_block(card, true, true);
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .scroll((scroll as u16, 0)),
            inner,
        );
        return;
    }
    let current = p.current();
    for placed in p.placed() {
        let card = &p.cards()[placed.index];
        let rect = Rect::new(
            inner.x,
            inner.y + placed.y as u16,
            inner.width,
            placed.height as u16,
        );
        let highlighted = current == Some(placed.index);
        let block = card_block(card, highlighted, p.mode == OutputMode::Scroll);
        let body: Vec<Line<'static>> = list_body(card)
            .into_iter()
            .map(|l| skip_cells(&l, p.hscroll))
            .collect();
        frame.render_widget(Paragraph::new(body).block(block), rect);
    }
}

fn card_block(card: &Card, highlighted: bool, selected: bool) -> Block<'static> {
    let color = if card.is_error() {
        Color::Red
    } else if card.is_system() {
        Color::Yellow
    } else if highlighted {
        Color::Cyan
    } else {
        Color::DarkGray
    };
    let title = if card.is_system() {
        "⚠ System".to_string()
    } else {
        card.header()
    };
    let mut title_style = Style::default().fg(if card.is_error() {
        Color::Red
    } else {
        Color::White
    });
    if highlighted {
        title_style = title_style.add_modifier(Modifier::BOLD);
    }
    Block::default()
        .borders(Borders::ALL)
        .border_type(if highlighted && selected {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(Style::default().fg(color))
        .title(Span::styled(title, title_style))
}

/// A frame line of a backtrace block (`#3 …` or `#3.inline …`).
fn is_frame_line(line: &str) -> bool {
    let t = line.trim_start();
    t.strip_prefix('#')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// The list-view body: at most [`LIST_LINES`] lines; a cut card ends with a
/// bold yellow ` …`, and a cut inside a backtrace says how many frames are
/// hidden.
pub fn list_body(card: &Card) -> Vec<Line<'static>> {
    let lines = card.lines();
    if lines.len() <= LIST_LINES {
        return lines.iter().map(|l| Line::from(l.to_string())).collect();
    }
    let mut out: Vec<Line<'static>> = lines[..LIST_LINES - 1]
        .iter()
        .map(|l| Line::from(l.to_string()))
        .collect();
    let hidden = &lines[LIST_LINES - 1..];
    let hidden_frames = hidden.iter().filter(|l| is_frame_line(l)).count();
    let third = if is_frame_line(hidden[0]) && hidden_frames > 1 {
        let indent: String = hidden[0].chars().take_while(|c| *c == ' ').collect();
        format!("{indent}... {hidden_frames} more frames")
    } else {
        hidden[0].to_string()
    };
    out.push(Line::from(vec![
        Span::raw(third),
        bold(" …", Color::Yellow),
    ]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::panel::CardBody;
    use crate::styled::plain;
    use ghostscope_protocol::session::TraceEvent;

    fn card(lines: &[&str]) -> Card {
        Card {
            number: Some(1),
            body: CardBody::Event(TraceEvent {
                trace_id: 0,
                pid: 1,
                tid: 1,
                timestamp_ns: 0,
                time: "t".into(),
                lines: lines.iter().map(|s| s.to_string()).collect(),
                error: false,
            }),
        }
    }

    #[test]
    fn list_body_cuts_at_three_lines() {
        let c = card(&["a", "b", "c", "d"]);
        let body = list_body(&c);
        assert_eq!(body.len(), 3);
        assert_eq!(plain(&body[2]), "c …");
        let last = body[2].spans.last().unwrap();
        assert_eq!(last.style.fg, Some(Color::Yellow));
        assert!(last.style.add_modifier.contains(Modifier::BOLD));
        assert_eq!(list_body(&card(&["a", "b", "c"])).len(), 3);
    }

    #[test]
    fn cut_backtraces_count_hidden_frames() {
        let c = card(&[
            "backtrace: complete, 4 frames (max 128)",
            "  #0 f() at a.c:1:1 [app+0x10]",
            "  #1 g() at a.c:2:1 [app+0x20]",
            "  #2 h() at a.c:3:1 [app+0x30]",
            "  #3 main() at a.c:4:1 [app+0x40]",
        ]);
        let body = list_body(&c);
        assert_eq!(plain(&body[2]), "  ... 3 more frames …");
    }
}
