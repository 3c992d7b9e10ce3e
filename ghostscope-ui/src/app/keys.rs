//! Keys, mouse and paste: which panel or mode gets an input event, and the
//! global keys of tui.md §3.

use std::time::{Duration, Instant};

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::{App, Pending, Phase, CTRL_C_WINDOW};
use crate::command::panel::{CommandMode, InputOutcome};
use crate::command::script_editor::ScriptOutcome;
use crate::layout::visible_panels;
use crate::source::file_search::{FileSearch, FileSearchOutcome};
use crate::source::panel::SourceOutcome;
use crate::source::view::gutter_width;
use crate::{Layout, Panel, UiExit};
use ghostscope_protocol::session::Request;

/// Two clicks on one card within this time expand it.
const DOUBLE_CLICK: Duration = Duration::from_millis(400);

fn is_ctrl(key: &KeyEvent, c: char) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
}

impl App {
    /// Applies one key press.
    pub fn on_key(&mut self, key: KeyEvent, now: Instant) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        // Esc quickly followed by a key reaches us as Alt+key (the terminal
        // sends both bytes at once). No binding uses Alt, so take it apart.
        if key.modifiers.contains(KeyModifiers::ALT) {
            self.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE), now);
            let mut rest = key;
            rest.modifiers.remove(KeyModifiers::ALT);
            return self.on_key(rest, now);
        }
        match &self.phase {
            Phase::LoadFailed(e) => {
                self.exit = Some(UiExit::LoadFailed(e.clone()));
                return;
            }
            Phase::Loading => {
                if is_ctrl(&key, 'c') {
                    self.ctrl_c(now);
                }
                return;
            }
            Phase::Summary(_) => {
                self.phase = Phase::Main;
                return;
            }
            Phase::Main => {}
        }
        let typing = self.focus == Panel::InteractiveCommand
            && matches!(self.command.mode, CommandMode::Input | CommandMode::Script);
        if self.focus == Panel::InteractiveCommand && self.command.mode == CommandMode::Script {
            return self.script_key(key);
        }
        if !is_ctrl(&key, 'c') {
            self.ctrl_c_at = None;
        }
        // Ctrl+W prefix (not while typing, where Ctrl+W deletes a word).
        if self.ctrl_w && !typing {
            self.ctrl_w = false;
            return self.window_key(key);
        }
        // Views that Esc / Ctrl+C close keep those keys for themselves.
        let popup_open = self.focus == Panel::Source && self.source.file_search.is_some();
        let searching = self.focus == Panel::Source && self.source.search.editing;
        let expanded = self.focus == Panel::EbpfInfo && self.output.expanded.is_some();
        if !popup_open && !searching && !expanded {
            match key.code {
                KeyCode::F(1) => return self.toggle_fullscreen(),
                KeyCode::F(2) => return self.toggle_layout(),
                _ => {}
            }
            if is_ctrl(&key, 'c') && !(typing && self.command.rsearch.is_some()) {
                return self.ctrl_c(now);
            }
            if !typing {
                match key.code {
                    KeyCode::Tab => return self.cycle_focus(true),
                    KeyCode::BackTab => return self.cycle_focus(false),
                    _ if is_ctrl(&key, 'w') => {
                        self.ctrl_w = true;
                        return;
                    }
                    _ => {}
                }
            }
        }
        match self.focus {
            Panel::Source => self.source_key(key),
            Panel::EbpfInfo => self.output.key(key),
            Panel::InteractiveCommand => match self.command.mode {
                CommandMode::Input => match self.command.input_key(key, now) {
                    InputOutcome::Run(line) => self.run_command(&line, now),
                    InputOutcome::Complete => self.complete_input(),
                    InputOutcome::None => {}
                },
                CommandMode::Command => self.command.command_key(key),
                CommandMode::Script => {}
            },
        }
    }

    fn script_key(&mut self, key: KeyEvent) {
        let Some(editor) = &mut self.command.script else {
            self.command.mode = CommandMode::Input;
            return;
        };
        match editor.key(key) {
            ScriptOutcome::Editing => {}
            ScriptOutcome::Submit(_) => self.submit_script(),
            ScriptOutcome::Cancel => self.cancel_script(),
        }
    }

    fn ctrl_c(&mut self, now: Instant) {
        match self.ctrl_c_at {
            Some(t) if now.duration_since(t) <= CTRL_C_WINDOW => {
                self.ctrl_c_at = None;
                self.hint = None;
                self.begin_quit(now);
            }
            _ => {
                self.ctrl_c_at = Some(now);
                self.hint = Some(("Press Ctrl+C again to exit".into(), now + CTRL_C_WINDOW));
            }
        }
    }

    fn window_key(&mut self, key: KeyEvent) {
        let panels = visible_panels(self.show_source);
        let pos = panels.iter().position(|p| *p == self.focus).unwrap_or(0);
        let step = |forward: bool| {
            if forward {
                panels.get(pos + 1).copied()
            } else {
                pos.checked_sub(1).and_then(|i| panels.get(i).copied())
            }
        };
        let target = match (key.code, self.layout) {
            (KeyCode::Char('h'), Layout::Horizontal) => step(false),
            (KeyCode::Char('l'), Layout::Horizontal) => step(true),
            (KeyCode::Char('k'), Layout::Vertical) => step(false),
            (KeyCode::Char('j'), Layout::Vertical) => step(true),
            (KeyCode::Char('v'), _) => return self.toggle_layout(),
            (KeyCode::Char('z'), _) => return self.toggle_fullscreen(),
            _ => None,
        };
        if let Some(p) = target {
            self.focus = p;
        }
    }

    fn cycle_focus(&mut self, forward: bool) {
        let panels = visible_panels(self.show_source);
        let pos = panels.iter().position(|p| *p == self.focus).unwrap_or(0);
        let n = panels.len();
        self.focus = panels[if forward {
            (pos + 1) % n
        } else {
            (pos + n - 1) % n
        }];
        self.resize(self.size);
    }

    fn toggle_layout(&mut self) {
        self.layout = match self.layout {
            Layout::Horizontal => Layout::Vertical,
            Layout::Vertical => Layout::Horizontal,
        };
        self.resize(self.size);
    }

    fn toggle_fullscreen(&mut self) {
        self.fullscreen = !self.fullscreen;
        self.resize(self.size);
    }

    fn source_key(&mut self, key: KeyEvent) {
        if let Some(mut popup) = self.source.file_search.take() {
            match popup.key(key, &self.file_list) {
                FileSearchOutcome::Open => self.source.file_search = Some(popup),
                FileSearchOutcome::Cancelled => {}
                FileSearchOutcome::Chosen(entry) => self.open_source(&entry.dwarf, 1),
            }
            return;
        }
        match self.source.key(key) {
            SourceOutcome::None => {}
            SourceOutcome::Trace(target) => self.open_script(&target, None),
            SourceOutcome::ReturnTrace(line) => {
                if let Some(file) = self.source.dwarf_path().map(str::to_string) {
                    self.send(
                        Request::Describe {
                            target: format!("{file}:{line}"),
                            verbose: false,
                        },
                        Pending::ReturnLookup { file, line },
                    );
                }
            }
            SourceOutcome::OpenFileSearch => {
                if self.source_files.is_none() {
                    self.send(Request::SourceFiles, Pending::SourceFilesCache);
                }
                self.source.file_search = Some(FileSearch::default());
            }
            SourceOutcome::Message(m) => self.error(m),
        }
    }

    /// Bracketed paste: into the input line or the script editor.
    pub fn on_paste(&mut self, text: &str) {
        if self.phase != Phase::Main || self.focus != Panel::InteractiveCommand {
            return;
        }
        match self.command.mode {
            CommandMode::Input => self.command.paste_input(text),
            CommandMode::Script => {
                if let Some(ed) = &mut self.command.script {
                    ed.paste(text);
                }
            }
            CommandMode::Command => {}
        }
    }

    /// Applies one mouse event (tui.md §9).
    pub fn on_mouse(&mut self, event: MouseEvent, now: Instant) {
        if self.phase != Phase::Main || !self.mouse {
            return;
        }
        let rects = self.rects();
        let Some(panel) = rects.at(event.column, event.row) else {
            return;
        };
        let Some(rect) = rects.of(panel) else { return };
        // Position inside the border.
        let row = event.row.saturating_sub(rect.y + 1) as usize;
        let col = event.column.saturating_sub(rect.x + 1) as usize;
        let inside = event.row > rect.y && event.row + 1 < rect.y + rect.height;
        match event.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let typing_script = self.command.mode == CommandMode::Script;
                if !(typing_script && panel != Panel::InteractiveCommand) {
                    self.focus = panel;
                }
                if !inside {
                    return;
                }
                match panel {
                    Panel::Source => {
                        let Some(file) = self.source.file() else {
                            return;
                        };
                        let line = self.source.scroll + row;
                        let Some(text) = file.lines.get(line) else {
                            return;
                        };
                        let line_chars = text.chars().count();
                        let gutter = gutter_width(file.lines.len());
                        self.source.goto_line(line);
                        if col < gutter {
                            if !typing_script {
                                if let Some(t) = self.source.trace_target() {
                                    self.open_script(&t, None);
                                }
                            }
                        } else {
                            self.source.col = (col - gutter).min(line_chars.saturating_sub(1));
                        }
                    }
                    Panel::EbpfInfo => {
                        if self.output.expanded.is_some() {
                            return;
                        }
                        if let Some(i) = self.output.card_at_row(row) {
                            let double = self.last_click.is_some_and(|(t, c)| {
                                c == i && now.duration_since(t) <= DOUBLE_CLICK
                            });
                            self.output.select(i);
                            if double {
                                self.output.expanded = Some(0);
                                self.last_click = None;
                            } else {
                                self.last_click = Some((now, i));
                            }
                        }
                    }
                    Panel::InteractiveCommand => {}
                }
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = event.kind == MouseEventKind::ScrollDown;
                match panel {
                    Panel::Source => {
                        let max = self
                            .source
                            .file()
                            .map_or(0, |f| f.lines.len().saturating_sub(1));
                        self.source.scroll = if down {
                            (self.source.scroll + 3).min(max)
                        } else {
                            self.source.scroll.saturating_sub(3)
                        };
                        let h = self.source.height.max(1);
                        let c = self
                            .source
                            .cursor
                            .clamp(self.source.scroll, self.source.scroll + h - 1);
                        self.source.cursor = c.min(max);
                    }
                    Panel::EbpfInfo => {
                        let code = if down { KeyCode::Down } else { KeyCode::Up };
                        self.output.key(KeyEvent::new(code, KeyModifiers::NONE));
                    }
                    Panel::InteractiveCommand => {
                        if self.command.mode == CommandMode::Input {
                            self.command
                                .input_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE), now);
                        }
                        if self.command.mode == CommandMode::Command {
                            let code = if down {
                                KeyCode::Char('j')
                            } else {
                                KeyCode::Char('k')
                            };
                            for _ in 0..3 {
                                self.command
                                    .command_key(KeyEvent::new(code, KeyModifiers::NONE));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
