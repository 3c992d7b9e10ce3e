//! The Script-mode editor (tui.md §6.3): a small multi-line editor for the
//! body of one `trace <target> { … }` block.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::line_edit::LineEdit;

/// The header line of the editor.
pub const HEADER: &str = "Script Editor (Ctrl+s to submit, Esc to cancel):";

/// The editor's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptEditor {
    /// The pattern being traced.
    pub target: String,
    /// `[index]` given to `trace`.
    pub index: Option<usize>,
    /// Body lines.
    pub lines: Vec<String>,
    /// Cursor line.
    pub row: usize,
    /// Cursor column in characters.
    pub col: usize,
}

/// What a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptOutcome {
    /// Still editing.
    Editing,
    /// Ctrl+S with this body.
    Submit(String),
    /// Esc / Ctrl+C.
    Cancel,
}

impl ScriptEditor {
    /// An editor for `target` holding `body` (empty for a new script), the
    /// cursor at its end.
    pub fn new(target: &str, index: Option<usize>, body: &str) -> ScriptEditor {
        let mut lines: Vec<String> = body.lines().map(str::to_string).collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        let row = lines.len() - 1;
        let col = lines[row].chars().count();
        ScriptEditor {
            target: target.to_string(),
            index,
            lines,
            row,
            col,
        }
    }

    /// The body text.
    pub fn body(&self) -> String {
        self.lines.join("\n")
    }

    fn with_line<R>(&mut self, f: impl FnOnce(&mut LineEdit) -> R) -> R {
        let mut edit = LineEdit::with_text(std::mem::take(&mut self.lines[self.row]));
        edit.set_cursor(self.col);
        let r = f(&mut edit);
        self.col = edit.cursor();
        self.lines[self.row] = edit.text().to_string();
        r
    }

    fn clamp_col(&mut self) {
        self.col = self.col.min(self.lines[self.row].chars().count());
    }

    /// Inserts pasted text (newlines split lines).
    pub fn paste(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        for (k, part) in text.split('\n').enumerate() {
            if k > 0 {
                self.newline(false);
            }
            let part = part.replace('\t', "    ");
            self.with_line(|e| e.insert_str(&part));
        }
    }

    fn newline(&mut self, keep_indent: bool) {
        let rest = self.with_line(|e| e.split_off());
        let indent: String = if keep_indent {
            self.lines[self.row]
                .chars()
                .take_while(|c| *c == ' ')
                .collect()
        } else {
            String::new()
        };
        self.row += 1;
        self.col = indent.chars().count();
        self.lines.insert(self.row, format!("{indent}{rest}"));
    }

    /// Applies one key.
    pub fn key(&mut self, key: KeyEvent) -> ScriptOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match (key.code, ctrl) {
            (KeyCode::Char('s'), true) => return ScriptOutcome::Submit(self.body()),
            (KeyCode::Esc, _) | (KeyCode::Char('c'), true) => return ScriptOutcome::Cancel,
            (KeyCode::Enter, _) => self.newline(true),
            (KeyCode::Tab, _) | (KeyCode::Char('i'), true) => {
                self.with_line(|e| e.insert_str("    "))
            }
            (KeyCode::Backspace, _) | (KeyCode::Char('h'), true) => {
                if self.col == 0 && self.row > 0 {
                    let line = self.lines.remove(self.row);
                    self.row -= 1;
                    self.col = self.lines[self.row].chars().count();
                    self.lines[self.row].push_str(&line);
                } else {
                    self.with_line(|e| {
                        e.backspace();
                    });
                }
            }
            (KeyCode::Char('w'), true) => self.with_line(|e| e.delete_word()),
            (KeyCode::Char('u'), true) => self.with_line(|e| e.delete_to_start()),
            (KeyCode::Char('k'), true) => self.with_line(|e| e.delete_to_end()),
            (KeyCode::Left, _) | (KeyCode::Char('b'), true) => {
                if self.col == 0 && self.row > 0 {
                    self.row -= 1;
                    self.col = self.lines[self.row].chars().count();
                } else {
                    self.col = self.col.saturating_sub(1);
                }
            }
            (KeyCode::Right, _) | (KeyCode::Char('f'), true) => {
                let len = self.lines[self.row].chars().count();
                if self.col >= len && self.row + 1 < self.lines.len() {
                    self.row += 1;
                    self.col = 0;
                } else {
                    self.col = (self.col + 1).min(len);
                }
            }
            (KeyCode::Up, _) | (KeyCode::Char('p'), true) => {
                self.row = self.row.saturating_sub(1);
                self.clamp_col();
            }
            (KeyCode::Down, _) | (KeyCode::Char('n'), true) => {
                self.row = (self.row + 1).min(self.lines.len() - 1);
                self.clamp_col();
            }
            (KeyCode::Home, _) | (KeyCode::Char('a'), true) => self.col = 0,
            (KeyCode::End, _) | (KeyCode::Char('e'), true) => {
                self.col = self.lines[self.row].chars().count()
            }
            (KeyCode::Char('}'), false) => self.with_line(|e| {
                // A closing brace on a blank line goes back one indent level.
                let before = e.before_cursor();
                if !before.is_empty() && before.chars().all(|c| c == ' ') {
                    for _ in 0..before.len().min(4) {
                        e.backspace();
                    }
                }
                e.insert('}');
            }),
            (KeyCode::Char(c), false) => self.with_line(|e| e.insert(c)),
            _ => {}
        }
        ScriptOutcome::Editing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(ed: &mut ScriptEditor, s: &str) {
        for c in s.chars() {
            let code = if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            ed.key(KeyEvent::new(code, KeyModifiers::NONE));
        }
    }

    fn ctrl(ed: &mut ScriptEditor, c: char) -> ScriptOutcome {
        ed.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
    }

    #[test]
    fn typing_newlines_indent_and_submit() {
        let mut ed = ScriptEditor::new("f", None, "");
        typed(&mut ed, "if x {");
        ed.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        ed.key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        typed(&mut ed, "print x;\n}");
        assert_eq!(
            ed.body(),
            "if x {\n    print x;\n}",
            "auto-indent, dedent on brace"
        );
        ed.key(KeyEvent::new(KeyCode::Home, KeyModifiers::NONE));
        ctrl(&mut ed, 'k');
        typed(&mut ed, "}");
        assert_eq!(
            ctrl(&mut ed, 's'),
            ScriptOutcome::Submit("if x {\n    print x;\n}".into())
        );
    }

    #[test]
    fn backspace_joins_lines_and_motions() {
        let mut ed = ScriptEditor::new("f", None, "print a;\nprint b;");
        assert_eq!((ed.row, ed.col), (1, 8));
        ctrl(&mut ed, 'a');
        ed.key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        assert_eq!(ed.lines, vec!["print a;print b;".to_string()]);
        assert_eq!(ed.col, 8);
        ctrl(&mut ed, 'w');
        assert_eq!(ed.lines[0], "print print b;");
        ctrl(&mut ed, 'u');
        assert_eq!(ed.lines[0], "print b;");
        ctrl(&mut ed, 'e');
        ctrl(&mut ed, 'h');
        assert_eq!(ed.lines[0], "print b");
        ed.paste("\nlet y = 1;");
        assert_eq!(ed.body(), "print b\nlet y = 1;");
        ctrl(&mut ed, 'p');
        assert_eq!(ed.row, 0);
        ctrl(&mut ed, 'n');
        assert_eq!(ed.row, 1);
        assert_eq!(ed.col, 7, "column kept within the shorter line");
        ctrl(&mut ed, 'b');
        assert_eq!(ed.col, 6);
        ed.key(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE));
        ed.key(KeyEvent::new(KeyCode::Left, KeyModifiers::NONE));
        assert_eq!(ed.col, 6);
        ctrl(&mut ed, 'a');
        ctrl(&mut ed, 'i');
        assert_eq!(ed.lines[1], "    let y = 1;");
        assert_eq!(ctrl(&mut ed, 'c'), ScriptOutcome::Cancel);
        assert_eq!(
            ed.key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
            ScriptOutcome::Cancel
        );
    }
}
