//! Command panel state: the three modes, the input line with history and
//! reverse search, the scrollback browsed in Command mode, and the script
//! editor (tui.md §6.1–§6.5).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::text::Line;

use super::history::{History, ReverseSearch};
use super::line_edit::LineEdit;
use super::script_editor::ScriptEditor;

/// The prompt of the input line.
pub const PROMPT: &str = "(ghostscope) ";
/// Lines of scrollback kept.
pub const MAX_SCROLLBACK: usize = 10_000;
/// `j` then `k` within this time leaves Input mode.
pub const JK_WINDOW: Duration = Duration::from_millis(150);

/// The command panel's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandMode {
    /// Typing commands.
    Input,
    /// Browsing the scrollback.
    Command,
    /// Editing a script.
    Script,
}

impl CommandMode {
    /// The name shown in the panel title.
    pub fn title(self) -> &'static str {
        match self {
            CommandMode::Input => "input mode",
            CommandMode::Command => "command mode",
            CommandMode::Script => "script mode",
        }
    }
}

/// What an Input-mode key asks the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputOutcome {
    /// Nothing more.
    None,
    /// Run this command line.
    Run(String),
    /// Tab: complete the word under the cursor.
    Complete,
}

/// The command panel.
#[derive(Debug, Clone)]
pub struct CommandPanel {
    /// Current mode.
    pub mode: CommandMode,
    /// The input line.
    pub input: LineEdit,
    /// Commands and responses, oldest first.
    pub scrollback: Vec<Line<'static>>,
    /// Command-mode cursor: scrollback line.
    pub view_line: usize,
    /// Command-mode cursor: column.
    pub view_col: usize,
    /// The editor, in Script mode.
    pub script: Option<ScriptEditor>,
    /// Last body per target, for `trace <same target>`.
    pub script_cache: HashMap<String, String>,
    /// Command history.
    pub history: History,
    history_pos: Option<usize>,
    history_saved: String,
    /// Ctrl+R search, when active.
    pub rsearch: Option<ReverseSearch>,
    j_at: Option<Instant>,
    /// The input after the last Tab, to spot a second Tab.
    pub last_tab: Option<String>,
    g_pending: bool,
    /// Text rows of the panel (set before each frame).
    pub height: usize,
}

impl CommandPanel {
    /// A panel with this history.
    pub fn new(history: History) -> CommandPanel {
        CommandPanel {
            mode: CommandMode::Input,
            input: LineEdit::default(),
            scrollback: Vec::new(),
            view_line: 0,
            view_col: 0,
            script: None,
            script_cache: HashMap::new(),
            history,
            history_pos: None,
            history_saved: String::new(),
            rsearch: None,
            j_at: None,
            last_tab: None,
            g_pending: false,
            height: 10,
        }
    }

    /// Appends lines to the scrollback (bounded).
    pub fn push(&mut self, lines: impl IntoIterator<Item = Line<'static>>) {
        self.scrollback.extend(lines);
        let over = self.scrollback.len().saturating_sub(MAX_SCROLLBACK);
        if over > 0 {
            self.scrollback.drain(..over);
            self.view_line = self.view_line.saturating_sub(over);
        }
    }

    /// The grey suggestion after the cursor, if any.
    pub fn suggestion(&self) -> Option<String> {
        if self.mode != CommandMode::Input || self.rsearch.is_some() || !self.input.at_end() {
            return None;
        }
        let text = self.input.text();
        self.history
            .suggestion(text)
            .map(|s| s[text.len()..].to_string())
    }

    /// Opens the script editor for a target, restoring the cached body.
    pub fn open_script(&mut self, target: &str, index: Option<usize>) {
        let body = self.script_cache.get(target).cloned().unwrap_or_default();
        self.script = Some(ScriptEditor::new(target, index, &body));
        self.mode = CommandMode::Script;
    }

    /// Leaves Script mode.
    pub fn close_script(&mut self) -> Option<ScriptEditor> {
        self.mode = CommandMode::Input;
        self.script.take()
    }

    fn history_back(&mut self) {
        let n = self.history.entries().len();
        if n == 0 {
            return;
        }
        let pos = match self.history_pos {
            None => {
                self.history_saved = self.input.text().to_string();
                n - 1
            }
            Some(p) => p.saturating_sub(1),
        };
        self.history_pos = Some(pos);
        self.input.set(self.history.entries()[pos].clone());
    }

    fn history_forward(&mut self) {
        let Some(p) = self.history_pos else { return };
        if p + 1 >= self.history.entries().len() {
            self.history_pos = None;
            let saved = std::mem::take(&mut self.history_saved);
            self.input.set(saved);
        } else {
            self.history_pos = Some(p + 1);
            self.input.set(self.history.entries()[p + 1].clone());
        }
    }

    /// Applies an Input-mode key.
    pub fn input_key(&mut self, key: KeyEvent, now: Instant) -> InputOutcome {
        if self.rsearch.is_some() {
            return self.rsearch_key(key);
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let j_at = self.j_at.take();
        if key.code != KeyCode::Tab {
            self.last_tab = None;
        }
        match (key.code, ctrl) {
            (KeyCode::Enter, _) => {
                self.history_pos = None;
                let line = self.input.text().to_string();
                self.input.clear();
                return InputOutcome::Run(line);
            }
            (KeyCode::Tab, _) => return InputOutcome::Complete,
            (KeyCode::Esc, _) => self.enter_command_mode(),
            (KeyCode::Char('k'), false)
                if j_at.is_some_and(|t| now.duration_since(t) <= JK_WINDOW)
                    && self.input.before_cursor().ends_with('j') =>
            {
                self.input.backspace();
                self.enter_command_mode();
            }
            (KeyCode::Char('j'), false) => {
                self.input.insert('j');
                self.j_at = Some(now);
            }
            (KeyCode::Backspace, _) | (KeyCode::Char('h'), true) => {
                self.input.backspace();
            }
            (KeyCode::Char('w'), true) => self.input.delete_word(),
            (KeyCode::Char('u'), true) => self.input.delete_to_start(),
            (KeyCode::Char('k'), true) => self.input.delete_to_end(),
            (KeyCode::Left, _) | (KeyCode::Char('b'), true) => self.input.left(),
            (KeyCode::Right, _) | (KeyCode::Char('e'), true) if self.suggestion().is_some() => {
                let rest = self.suggestion().unwrap_or_default();
                self.input.insert_str(&rest);
            }
            (KeyCode::Right, _) | (KeyCode::Char('f'), true) => self.input.right(),
            (KeyCode::End, _) | (KeyCode::Char('e'), true) => self.input.end(),
            (KeyCode::Home, _) | (KeyCode::Char('a'), true) => self.input.home(),
            (KeyCode::Up, _) | (KeyCode::Char('p'), true) => self.history_back(),
            (KeyCode::Down, _) | (KeyCode::Char('n'), true) => self.history_forward(),
            (KeyCode::Char('r'), true) => {
                let mut s = ReverseSearch::default();
                s.refresh(&self.history);
                self.rsearch = Some(s);
            }
            (KeyCode::Char(c), false) => self.input.insert(c),
            _ => {}
        }
        InputOutcome::None
    }

    fn rsearch_key(&mut self, key: KeyEvent) -> InputOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let Some(mut s) = self.rsearch.take() else {
            return InputOutcome::None;
        };
        let matched = s.matched_text(&self.history).map(str::to_string);
        match (key.code, ctrl) {
            (KeyCode::Enter, _) => {
                self.input.clear();
                return match matched {
                    Some(m) => InputOutcome::Run(m),
                    None => InputOutcome::None,
                };
            }
            (KeyCode::Esc, _) => {
                if let Some(m) = matched {
                    self.input.set(m);
                }
                return InputOutcome::None;
            }
            (KeyCode::Char('c'), true) => {
                self.input.clear();
                return InputOutcome::None;
            }
            (KeyCode::Char('r'), true) => s.older(&self.history),
            (KeyCode::Backspace, _) | (KeyCode::Char('h'), true) => {
                s.query.pop();
                s.refresh(&self.history);
            }
            (KeyCode::Char(c), false) => {
                s.query.push(c);
                s.refresh(&self.history);
            }
            _ => {}
        }
        self.rsearch = Some(s);
        InputOutcome::None
    }

    fn enter_command_mode(&mut self) {
        self.mode = CommandMode::Command;
        self.view_line = self.scrollback.len().saturating_sub(1);
        self.view_col = 0;
    }

    /// Applies a Command-mode key.
    pub fn command_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let g_pending = std::mem::take(&mut self.g_pending);
        let last = self.scrollback.len().saturating_sub(1);
        let half = (self.height / 2).max(1);
        let line_len = |p: &CommandPanel| {
            p.scrollback
                .get(p.view_line)
                .map_or(0, |l| crate::styled::plain(l).chars().count())
        };
        match (key.code, ctrl) {
            (KeyCode::Char('i'), false) => self.mode = CommandMode::Input,
            (KeyCode::Char('j') | KeyCode::Down, false) => {
                self.view_line = (self.view_line + 1).min(last)
            }
            (KeyCode::Char('k') | KeyCode::Up, false) => {
                self.view_line = self.view_line.saturating_sub(1)
            }
            (KeyCode::Char('h') | KeyCode::Left, false) => {
                self.view_col = self.view_col.saturating_sub(1)
            }
            (KeyCode::Char('l') | KeyCode::Right, false) => {
                self.view_col = (self.view_col + 1).min(line_len(self).saturating_sub(1))
            }
            (KeyCode::Char('d'), true) => self.view_line = (self.view_line + half).min(last),
            (KeyCode::Char('u'), true) => self.view_line = self.view_line.saturating_sub(half),
            (KeyCode::Char('g'), false) => {
                let _ = g_pending;
                self.view_line = 0;
            }
            (KeyCode::Char('G'), false) => self.view_line = last,
            (KeyCode::Char('0'), false) => self.view_col = 0,
            (KeyCode::Char('$'), false) => self.view_col = line_len(self).saturating_sub(1),
            _ => {}
        }
        self.view_col = self.view_col.min(line_len(self).saturating_sub(1));
    }

    /// Bracketed paste into the input line (newlines become spaces).
    pub fn paste_input(&mut self, text: &str) {
        let flat: String = text
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        self.input.insert_str(flat.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::styled::text_line;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn typed(p: &mut CommandPanel, s: &str, now: Instant) {
        for c in s.chars() {
            p.input_key(key(KeyCode::Char(c)), now);
        }
    }

    fn panel() -> CommandPanel {
        let mut h = History::in_memory(100);
        h.push("trace main");
        h.push("info trace");
        CommandPanel::new(h)
    }

    #[test]
    fn enter_runs_and_clears() {
        let now = Instant::now();
        let mut p = panel();
        typed(&mut p, "help", now);
        assert_eq!(
            p.input_key(key(KeyCode::Enter), now),
            InputOutcome::Run("help".into())
        );
        assert_eq!(p.input.text(), "");
    }

    #[test]
    fn jk_within_150ms_enters_command_mode() {
        let now = Instant::now();
        let mut p = panel();
        p.push([text_line("a"), text_line("b")]);
        typed(&mut p, "xj", now);
        p.input_key(key(KeyCode::Char('k')), now + Duration::from_millis(100));
        assert_eq!(p.mode, CommandMode::Command);
        assert_eq!(p.input.text(), "x");
        assert_eq!(p.view_line, 1);
        p.command_key(key(KeyCode::Char('i')));
        assert_eq!(p.mode, CommandMode::Input);
        typed(&mut p, "j", now);
        p.input_key(key(KeyCode::Char('k')), now + Duration::from_millis(300));
        assert_eq!(p.mode, CommandMode::Input);
        assert_eq!(p.input.text(), "xjk");
        p.input_key(key(KeyCode::Esc), now);
        assert_eq!(p.mode, CommandMode::Command);
    }

    #[test]
    fn history_navigation_and_suggestion() {
        let now = Instant::now();
        let mut p = panel();
        typed(&mut p, "tr", now);
        assert_eq!(p.suggestion(), None);
        typed(&mut p, "a", now);
        assert_eq!(p.suggestion().as_deref(), Some("ce main"));
        p.input_key(key(KeyCode::Right), now);
        assert_eq!(p.input.text(), "trace main");
        p.input.set("draft");
        p.input_key(key(KeyCode::Up), now);
        assert_eq!(p.input.text(), "info trace");
        p.input_key(ctrl('p'), now);
        assert_eq!(p.input.text(), "trace main");
        p.input_key(key(KeyCode::Down), now);
        assert_eq!(p.input.text(), "info trace");
        p.input_key(ctrl('n'), now);
        assert_eq!(p.input.text(), "draft");
    }

    #[test]
    fn editing_keys() {
        let now = Instant::now();
        let mut p = panel();
        typed(&mut p, "info trace 3", now);
        p.input_key(ctrl('w'), now);
        assert_eq!(p.input.text(), "info trace ");
        p.input_key(ctrl('a'), now);
        p.input_key(ctrl('f'), now);
        p.input_key(ctrl('k'), now);
        assert_eq!(p.input.text(), "i");
        p.input_key(ctrl('e'), now);
        typed(&mut p, "nfo", now);
        p.input_key(ctrl('b'), now);
        p.input_key(ctrl('u'), now);
        assert_eq!(p.input.text(), "o");
        p.input_key(ctrl('h'), now);
        p.input_key(key(KeyCode::End), now);
        p.input_key(key(KeyCode::Backspace), now);
        assert_eq!(p.input.text(), "");
        p.paste_input("trace\nmain\n");
        assert_eq!(p.input.text(), "trace main");
    }

    #[test]
    fn reverse_search_keys() {
        let now = Instant::now();
        let mut p = panel();
        p.input_key(ctrl('r'), now);
        typed(&mut p, "trace", now);
        assert_eq!(
            p.rsearch.as_ref().unwrap().prompt(&p.history),
            "(reverse-i-search)`trace': info trace"
        );
        p.input_key(ctrl('r'), now);
        assert_eq!(
            p.rsearch.as_ref().unwrap().prompt(&p.history),
            "(reverse-i-search)`trace': trace main"
        );
        p.input_key(key(KeyCode::Esc), now);
        assert_eq!(p.input.text(), "trace main");
        assert!(p.rsearch.is_none());
        p.input_key(ctrl('r'), now);
        typed(&mut p, "info", now);
        assert_eq!(
            p.input_key(key(KeyCode::Enter), now),
            InputOutcome::Run("info trace".into())
        );
        p.input.set("x");
        p.input_key(ctrl('r'), now);
        p.input_key(ctrl('c'), now);
        assert_eq!(p.input.text(), "");
        assert!(p.rsearch.is_none());
    }

    #[test]
    fn command_mode_motions() {
        let now = Instant::now();
        let mut p = panel();
        p.height = 4;
        p.push((0..10).map(|i| text_line(format!("line {i}"))));
        p.input_key(key(KeyCode::Esc), now);
        assert_eq!(p.view_line, 9);
        p.command_key(key(KeyCode::Char('k')));
        p.command_key(ctrl('u'));
        assert_eq!(p.view_line, 6);
        p.command_key(key(KeyCode::Char('g')));
        assert_eq!(p.view_line, 0);
        p.command_key(ctrl('d'));
        assert_eq!(p.view_line, 2);
        p.command_key(key(KeyCode::Char('$')));
        assert_eq!(p.view_col, 5);
        p.command_key(key(KeyCode::Char('h')));
        assert_eq!(p.view_col, 4);
        p.command_key(key(KeyCode::Char('0')));
        assert_eq!(p.view_col, 0);
        p.command_key(key(KeyCode::Char('l')));
        assert_eq!(p.view_col, 1);
        p.command_key(key(KeyCode::Char('G')));
        assert_eq!(p.view_line, 9);
        p.command_key(key(KeyCode::Char('j')));
        assert_eq!(p.view_line, 9);
    }
}
