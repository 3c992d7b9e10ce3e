//! The `o` file-search popup of the source panel (tui.md §4.4): a live,
//! case-insensitive substring filter over every source path in the debug
//! info (after `srcpath` rewriting), at most 10 results shown.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::command::line_edit::LineEdit;

/// Most results the popup shows.
pub const MAX_RESULTS: usize = 10;

/// One source file known to DWARF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The path as the debug info records it (used for `trace file:line`).
    pub dwarf: String,
    /// The path after `srcpath` rewriting (what the user sees and filters).
    pub shown: String,
}

/// The popup's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSearch {
    /// The query line.
    pub query: LineEdit,
    /// Index of the selected result.
    pub selected: usize,
}

/// What a key did to the popup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSearchOutcome {
    /// Still open.
    Open,
    /// Closed without choosing.
    Cancelled,
    /// This file was chosen.
    Chosen(FileEntry),
}

impl FileSearch {
    /// The entries that match the query, in list order, at most [`MAX_RESULTS`].
    pub fn results<'a>(&self, files: &'a [FileEntry]) -> Vec<&'a FileEntry> {
        let q = self.query.text().to_lowercase();
        files
            .iter()
            .filter(|f| f.shown.to_lowercase().contains(&q))
            .take(MAX_RESULTS)
            .collect()
    }

    /// Applies one key.
    pub fn key(&mut self, key: KeyEvent, files: &[FileEntry]) -> FileSearchOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let count = self.results(files).len();
        match (key.code, ctrl) {
            (KeyCode::Esc, _) | (KeyCode::Char('c'), true) => return FileSearchOutcome::Cancelled,
            (KeyCode::Enter, _) => {
                return match self.results(files).get(self.selected) {
                    Some(f) => FileSearchOutcome::Chosen((*f).clone()),
                    None => FileSearchOutcome::Open,
                }
            }
            (KeyCode::Down, _) | (KeyCode::Char('n'), true) if count > 0 => {
                self.selected = (self.selected + 1) % count;
            }
            (KeyCode::Up, _) | (KeyCode::Char('p'), true) if count > 0 => {
                self.selected = (self.selected + count - 1) % count;
            }
            (KeyCode::Backspace, _) | (KeyCode::Char('h'), true) => {
                self.query.backspace();
                self.selected = 0;
            }
            (KeyCode::Char('u'), true) => {
                self.query.clear();
                self.selected = 0;
            }
            (KeyCode::Char('w'), true) => {
                self.query.delete_word();
                self.selected = 0;
            }
            (KeyCode::Char('a'), true) | (KeyCode::Home, _) => self.query.home(),
            (KeyCode::Char('e'), true) | (KeyCode::End, _) => self.query.end(),
            (KeyCode::Char('b'), true) | (KeyCode::Left, _) => self.query.left(),
            (KeyCode::Char('f'), true) | (KeyCode::Right, _) => self.query.right(),
            (KeyCode::Char(c), false) => {
                self.query.insert(c);
                self.selected = 0;
            }
            _ => {}
        }
        FileSearchOutcome::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<FileEntry> {
        ["src/core/conn.c", "src/main.c", "include/Conn.h"]
            .iter()
            .map(|p| FileEntry {
                dwarf: format!("/build/{p}"),
                shown: format!("/build/{p}"),
            })
            .collect()
    }

    fn press(
        s: &mut FileSearch,
        code: KeyCode,
        mods: KeyModifiers,
        f: &[FileEntry],
    ) -> FileSearchOutcome {
        s.key(KeyEvent::new(code, mods), f)
    }

    #[test]
    fn filters_case_insensitively_on_any_part() {
        let f = files();
        let mut s = FileSearch::default();
        for c in "core/conn".chars() {
            press(&mut s, KeyCode::Char(c), KeyModifiers::NONE, &f);
        }
        assert_eq!(s.results(&f).len(), 1);
        s.query.set("conn");
        assert_eq!(s.results(&f).len(), 2);
        press(&mut s, KeyCode::Down, KeyModifiers::NONE, &f);
        assert_eq!(
            press(&mut s, KeyCode::Enter, KeyModifiers::NONE, &f),
            FileSearchOutcome::Chosen(f[2].clone())
        );
        press(&mut s, KeyCode::Char('n'), KeyModifiers::CONTROL, &f);
        assert_eq!(s.selected, 0);
        press(&mut s, KeyCode::Char('p'), KeyModifiers::CONTROL, &f);
        assert_eq!(s.selected, 1);
        press(&mut s, KeyCode::Char('w'), KeyModifiers::CONTROL, &f);
        assert_eq!(s.query.text(), "");
        assert_eq!(s.results(&f).len(), 3);
        assert_eq!(
            press(&mut s, KeyCode::Esc, KeyModifiers::NONE, &f),
            FileSearchOutcome::Cancelled
        );
    }

    #[test]
    fn cursor_keys_edit_in_the_middle() {
        let f = files();
        let mut s = FileSearch::default();
        s.query.set("conc");
        press(&mut s, KeyCode::Char('b'), KeyModifiers::CONTROL, &f);
        press(&mut s, KeyCode::Char('n'), KeyModifiers::NONE, &f);
        assert_eq!(s.query.text(), "conn".to_string() + "c");
        press(&mut s, KeyCode::Char('a'), KeyModifiers::CONTROL, &f);
        press(&mut s, KeyCode::Char('/'), KeyModifiers::NONE, &f);
        press(&mut s, KeyCode::Char('e'), KeyModifiers::CONTROL, &f);
        press(&mut s, KeyCode::Backspace, KeyModifiers::NONE, &f);
        assert_eq!(s.query.text(), "/conn");
        press(&mut s, KeyCode::Left, KeyModifiers::NONE, &f);
        press(&mut s, KeyCode::Char('f'), KeyModifiers::CONTROL, &f);
        press(&mut s, KeyCode::Right, KeyModifiers::NONE, &f);
        press(&mut s, KeyCode::Char('.'), KeyModifiers::NONE, &f);
        assert_eq!(s.query.text(), "/conn.");
        assert_eq!(s.results(&f).len(), 2);
        press(&mut s, KeyCode::Char('u'), KeyModifiers::CONTROL, &f);
        assert_eq!(s.query.text(), "");
        assert_eq!(
            press(&mut s, KeyCode::Char('c'), KeyModifiers::CONTROL, &f),
            FileSearchOutcome::Cancelled
        );
    }

    #[test]
    fn shows_at_most_ten() {
        let many: Vec<FileEntry> = (0..25)
            .map(|i| FileEntry {
                dwarf: format!("f{i}.c"),
                shown: format!("f{i}.c"),
            })
            .collect();
        assert_eq!(FileSearch::default().results(&many).len(), MAX_RESULTS);
    }
}
