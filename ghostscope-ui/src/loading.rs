//! The loading screen (tui.md §1): spinner, per-module progress, debug
//! source counters, elapsed time; then a short summary; or the load error.

use std::time::Instant;

use ghostscope_protocol::session::{DebugSourceCounts, LoadProgress, ModuleLoadState};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Gauge, Paragraph, Wrap};
use ratatui::Frame;

use crate::app::{App, Phase};
use crate::styled::{bold, colored, colored_line, text_line};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// `1.2s` or `1m3.4s`.
pub fn format_elapsed(ms: u64) -> String {
    let secs = ms as f64 / 1000.0;
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        format!("{}m{:.1}s", (secs / 60.0) as u64, secs % 60.0)
    }
}

/// The debug-source counters, coloured as the CLI report colours them.
pub fn counter_spans(c: &DebugSourceCounts) -> Vec<Span<'static>> {
    let items = [
        ("embedded", c.embedded, Color::Green),
        ("explicit", c.explicit, Color::Cyan),
        ("debuglink", c.debuglink, Color::Blue),
        ("debuginfod", c.debuginfod, Color::Magenta),
        ("missing", c.missing, Color::Yellow),
    ];
    let mut out = Vec::new();
    for (k, (label, n, color)) in items.into_iter().enumerate() {
        if k > 0 {
            out.push(Span::raw("  "));
        }
        out.push(colored(format!("{label}:{n}"), color));
    }
    out
}

fn module_line(path: &str, state: &ModuleLoadState) -> Line<'static> {
    match state {
        ModuleLoadState::Pending => colored_line(format!("  · {path}  pending"), Color::DarkGray),
        ModuleLoadState::Loading => colored_line(format!("  ⟳ {path}  loading…"), Color::Yellow),
        ModuleLoadState::Done {
            functions,
            variables,
            types,
            ms,
        } => Line::from(vec![
            colored("  ✓ ", Color::Green),
            Span::raw(format!("{path}  ")),
            colored(
                format!("{functions} functions, {variables} variables, {types} types, {ms}ms"),
                Color::DarkGray,
            ),
        ]),
        ModuleLoadState::Failed(e) => colored_line(format!("  ✗ {path}: {e}"), Color::Red),
    }
}

/// The module lines that fit in `room` rows: around the module being
/// loaded (or the newest), with `… n more above/below` where cut.
fn module_window(p: &LoadProgress, room: usize) -> Vec<Line<'static>> {
    let all: Vec<Line<'static>> = p
        .modules
        .iter()
        .map(|m| module_line(&m.path, &m.state))
        .collect();
    let n = all.len();
    if n <= room || room < 3 {
        return all.into_iter().take(room).collect();
    }
    let shown = room - 2;
    let anchor = p
        .modules
        .iter()
        .position(|m| m.state == ModuleLoadState::Loading)
        .unwrap_or(n - 1);
    let start = anchor.saturating_sub(shown / 3).min(n - shown);
    let mut out = vec![colored_line(
        if start > 0 {
            format!("  … {start} more above")
        } else {
            String::new()
        },
        Color::DarkGray,
    )];
    out.extend(all[start..start + shown].iter().cloned());
    let below = n - start - shown;
    if below > 0 {
        out.push(colored_line(
            format!("  … {below} more below"),
            Color::DarkGray,
        ));
    }
    out
}

fn totals(p: &LoadProgress) -> (usize, usize, u64, u64, u64) {
    let mut done = 0;
    let (mut f, mut v, mut t) = (0, 0, 0);
    for m in &p.modules {
        match &m.state {
            ModuleLoadState::Done {
                functions,
                variables,
                types,
                ..
            } => {
                done += 1;
                f += functions;
                v += variables;
                t += types;
            }
            ModuleLoadState::Failed(_) => done += 1,
            _ => {}
        }
    }
    (done, p.modules.len(), f, v, t)
}

/// Draws the loading, summary or failure screen.
pub fn render(app: &App, frame: &mut Frame, now: Instant) {
    let area = frame.area();
    let tick = (now.saturating_duration_since(app.started).as_millis() / 100) as usize;
    let spinner = SPINNER[tick % SPINNER.len()];
    let (title, color) = match &app.phase {
        Phase::LoadFailed(_) => ("Loading Ghostscope... failed".to_string(), Color::Red),
        Phase::Summary(_) => ("Ghostscope ready".to_string(), Color::Green),
        _ => (format!("Loading Ghostscope... {spinner}"), Color::Cyan),
    };
    let width = area.width.saturating_sub(4).min(100);
    // Room for the head, the gauge, the module list and the footer.
    let modules = app.progress.as_ref().map_or(0, |(p, _)| p.modules.len()) as u16;
    let height = area.height.saturating_sub(2).min(modules + 12);
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(Style::default().fg(color))
        .title(bold(title, color));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let progress = app.progress.as_ref().map(|(p, _)| p);
    let elapsed_ms = match (&app.progress, &app.phase) {
        (Some((p, at)), Phase::Loading) => {
            p.elapsed_ms + now.saturating_duration_since(*at).as_millis() as u64
        }
        (Some((p, _)), _) => p.elapsed_ms,
        (None, _) => now.saturating_duration_since(app.started).as_millis() as u64,
    };
    let [head, gauge, list, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(4),
    ])
    .areas(inner);
    let subject = progress.map_or(String::new(), |p| format!(" for {}", p.subject));
    frame.render_widget(
        Paragraph::new(text_line(format!("Loading debug information{subject}..."))),
        head,
    );
    let (done, total, f, v, t) = progress.map_or((0, 0, 0, 0, 0), totals);
    let ratio = if total == 0 {
        0.0
    } else {
        done as f64 / total as f64
    };
    frame.render_widget(
        Gauge::default()
            .gauge_style(Style::default().fg(Color::Cyan).bg(Color::Black))
            .ratio(ratio)
            .label(format!("{done}/{total} modules")),
        gauge,
    );
    let lines = progress.map_or_else(Vec::new, |p| {
        module_window(p, (list.height as usize).saturating_sub(1))
    });
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::TOP)),
        list,
    );
    let mut foot_lines = vec![Line::from(progress.map_or_else(
        || counter_spans(&DebugSourceCounts::default()),
        |p| counter_spans(&p.sources),
    ))];
    foot_lines.push(text_line(format!(
        "Elapsed: {}",
        format_elapsed(elapsed_ms)
    )));
    match &app.phase {
        Phase::Summary(_) => foot_lines.push(colored_line(
            format!(
                "✓ DWARF ready: {total} modules, {f} functions, {v} variables, {t} types in {}",
                format_elapsed(elapsed_ms)
            ),
            Color::Green,
        )),
        Phase::LoadFailed(e) => {
            foot_lines.push(colored_line(format!("✗ {e}"), Color::Red));
            foot_lines.push(text_line("Press any key to exit"));
        }
        _ => {}
    }
    frame.render_widget(Paragraph::new(foot_lines).wrap(Wrap { trim: false }), foot);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_format() {
        assert_eq!(format_elapsed(1234), "1.2s");
        assert_eq!(format_elapsed(63_400), "1m3.4s");
    }
}
