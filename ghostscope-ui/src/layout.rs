//! Where the panels go (tui.md §2): three or two panels side by side or
//! stacked, sized by the configured ratios, or one panel in fullscreen;
//! the status bar takes the last row.

use ratatui::layout::{Constraint, Direction, Layout as Split, Rect};

use crate::app::App;
use crate::{Layout, Panel};

/// The rectangles of the panels that are shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PanelRects {
    /// Source panel.
    pub source: Option<Rect>,
    /// eBPF output panel.
    pub output: Option<Rect>,
    /// Command panel.
    pub command: Option<Rect>,
    /// Status bar.
    pub status: Option<Rect>,
}

impl PanelRects {
    /// The rectangle of a panel, if shown.
    pub fn of(&self, panel: Panel) -> Option<Rect> {
        match panel {
            Panel::Source => self.source,
            Panel::EbpfInfo => self.output,
            Panel::InteractiveCommand => self.command,
        }
    }

    /// The panel containing a cell.
    pub fn at(&self, x: u16, y: u16) -> Option<Panel> {
        [Panel::Source, Panel::EbpfInfo, Panel::InteractiveCommand]
            .into_iter()
            .find(|p| {
                self.of(*p).is_some_and(|r| {
                    x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height
                })
            })
    }
}

/// The panels shown, in focus order.
pub fn visible_panels(show_source: bool) -> Vec<Panel> {
    let mut v = Vec::new();
    if show_source {
        v.push(Panel::Source);
    }
    v.push(Panel::EbpfInfo);
    v.push(Panel::InteractiveCommand);
    v
}

/// Computes the panel rectangles for a screen of `size`.
pub fn panel_rects(size: Rect, app: &App) -> PanelRects {
    let mut area = size;
    let mut rects = PanelRects::default();
    if app.config.show_status_bar && area.height > 3 {
        rects.status = Some(Rect::new(area.x, area.y + area.height - 1, area.width, 1));
        area.height -= 1;
    }
    let panels = visible_panels(app.show_source);
    if app.fullscreen && panels.contains(&app.focus) {
        set(&mut rects, app.focus, area);
        return rects;
    }
    let ratios: Vec<u16> = if app.show_source {
        app.config.panel_ratios.to_vec()
    } else {
        match app.config.two_panel_ratios {
            Some(r) => r.to_vec(),
            None => app.config.panel_ratios[1..].to_vec(),
        }
    };
    let total: u32 = ratios.iter().map(|&r| r.max(1) as u32).sum();
    let constraints: Vec<Constraint> = ratios
        .iter()
        .map(|&r| Constraint::Ratio(r.max(1) as u32, total))
        .collect();
    let direction = match app.layout {
        Layout::Horizontal => Direction::Horizontal,
        Layout::Vertical => Direction::Vertical,
    };
    let chunks = Split::default()
        .direction(direction)
        .constraints(constraints)
        .split(area);
    for (panel, rect) in panels.into_iter().zip(chunks.iter()) {
        set(&mut rects, panel, *rect);
    }
    rects
}

fn set(rects: &mut PanelRects, panel: Panel, rect: Rect) {
    match panel {
        Panel::Source => rects.source = Some(rect),
        Panel::EbpfInfo => rects.output = Some(rect),
        Panel::InteractiveCommand => rects.command = Some(rect),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::config;
    use std::time::Instant;

    fn rects(f: impl FnOnce(&mut crate::UiConfig), size: Rect) -> (App, PanelRects) {
        let mut cfg = config();
        f(&mut cfg);
        let app = App::new(cfg, Instant::now());
        let r = panel_rects(size, &app);
        (app, r)
    }

    #[test]
    fn ratios_split_the_screen_above_the_status_bar() {
        let size = Rect::new(0, 0, 100, 31);
        let (_, r) = rects(|_| {}, size);
        assert_eq!(r.source, Some(Rect::new(0, 0, 40, 30)));
        assert_eq!(r.output, Some(Rect::new(40, 0, 30, 30)));
        assert_eq!(r.command, Some(Rect::new(70, 0, 30, 30)));
        assert_eq!(r.status, Some(Rect::new(0, 30, 100, 1)));
        assert_eq!(r.at(45, 3), Some(Panel::EbpfInfo));

        let (_, r) = rects(
            |c| {
                c.show_source_panel = false;
                c.show_status_bar = false;
                c.layout = Layout::Vertical;
            },
            size,
        );
        assert_eq!(r.source, None);
        assert_eq!(r.status, None);
        // Without two_panel_ratios: the last two of 4:3:3, so 1:1.
        assert_eq!(r.output.unwrap().height + r.command.unwrap().height, 31);
        assert!(r.output.unwrap().height.abs_diff(r.command.unwrap().height) <= 1);

        let (_, r) = rects(
            |c| {
                c.show_source_panel = false;
                c.two_panel_ratios = Some([3, 1]);
            },
            size,
        );
        assert_eq!(r.output.unwrap().width, 75);
        assert_eq!(r.command.unwrap().width, 25);
    }

    #[test]
    fn fullscreen_gives_the_focused_panel_everything() {
        let size = Rect::new(0, 0, 80, 20);
        let (mut app, _) = rects(|c| c.default_focus = Panel::EbpfInfo, size);
        app.fullscreen = true;
        let r = panel_rects(size, &app);
        assert_eq!(r.output, Some(Rect::new(0, 0, 80, 19)));
        assert_eq!((r.source, r.command), (None, None));
        // A hidden source panel never takes the initial focus.
        let (app, _) = rects(
            |c| {
                c.default_focus = Panel::Source;
                c.show_source_panel = false;
            },
            size,
        );
        assert_eq!(app.focus, Panel::InteractiveCommand);
    }
}
