//! Drawing the whole screen from the [`App`] state. Views read the state
//! and never change it.

use std::time::Instant;

use ratatui::style::{Color, Style};
use ratatui::widgets::{Block, BorderType, Borders};
use ratatui::Frame;

use crate::app::{App, Phase};
use crate::{loading, status_bar, Panel};

/// A panel's frame: thick and cyan when focused, plain otherwise.
pub fn panel_block(title: String, focused: bool) -> Block<'static> {
    let block = Block::default().borders(Borders::ALL).title(title);
    if focused {
        block
            .border_type(BorderType::Thick)
            .border_style(Style::default().fg(Color::Cyan))
    } else {
        block.border_type(BorderType::Plain)
    }
}

/// Draws one frame.
pub fn render(app: &App, frame: &mut Frame, now: Instant) {
    match &app.phase {
        Phase::Loading | Phase::Summary(_) | Phase::LoadFailed(_) => {
            loading::render(app, frame, now);
            return;
        }
        Phase::Main => {}
    }
    let rects = app.rects();
    if let Some(r) = rects.source {
        crate::source::view::render(app, frame, r, app.focus == Panel::Source);
    }
    if let Some(r) = rects.output {
        crate::output::view::render(app, frame, r, app.focus == Panel::EbpfInfo);
    }
    if let Some(r) = rects.command {
        crate::command::view::render(app, frame, r, app.focus == Panel::InteractiveCommand);
    }
    if let Some(r) = rects.status {
        status_bar::render(app, frame, r);
    }
    if rects.source.is_some() {
        crate::source::view::render_popup(app, frame);
    }
}
