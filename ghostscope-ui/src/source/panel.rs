//! Source panel state and its Normal-mode keys (tui.md §4.2, §4.3).

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::file_search::FileSearch;
use super::highlight::{highlight_lines, Highlight, Language};

/// A file shown in the panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFile {
    /// The path as the debug info records it.
    pub dwarf_path: String,
    /// The path that was read (after `srcpath` rules).
    pub read_path: String,
    /// The file's lines.
    pub lines: Vec<String>,
    /// Highlight ranges per line.
    pub highlights: Vec<Vec<Highlight>>,
    /// Lines with code, once the engine has answered.
    pub code_lines: Option<BTreeSet<u32>>,
}

impl OpenFile {
    /// A file from its text.
    pub fn new(dwarf_path: &str, read_path: &str, text: &str) -> OpenFile {
        let lines: Vec<String> = text.lines().map(|l| l.replace('\t', "    ")).collect();
        let highlights = highlight_lines(&lines, Language::of_path(dwarf_path));
        OpenFile {
            dwarf_path: dwarf_path.to_string(),
            read_path: read_path.to_string(),
            lines,
            highlights,
            code_lines: None,
        }
    }
}

/// A file that could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The DWARF path.
    pub dwarf_path: String,
    /// Why.
    pub message: String,
}

/// What the panel shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceContent {
    /// Nothing yet (loading, or no source position of `main`).
    Empty,
    /// A file.
    File(OpenFile),
    /// The error of a file that could not be opened.
    Error(SourceError),
}

/// The `/` text search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextSearch {
    /// The query is being typed.
    pub editing: bool,
    /// The query (kept after Enter for `n` / `N`).
    pub query: String,
    /// Matches as (line, byte column), in file order.
    pub matches: Vec<(usize, usize)>,
}

/// What a key asks the rest of the UI to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceOutcome {
    /// Nothing beyond the panel.
    None,
    /// Open the script editor for this target (Space, click on a line number).
    Trace(String),
    /// `R` on this 1-based line: find the function starting there.
    ReturnTrace(u32),
    /// Open the file-search popup.
    OpenFileSearch,
    /// A message for the command panel.
    Message(String),
}

/// The source panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePanel {
    /// What is shown.
    pub content: SourceContent,
    /// 0-based cursor line.
    pub cursor: usize,
    /// 0-based cursor column in characters.
    pub col: usize,
    /// First line shown.
    pub scroll: usize,
    /// Text rows of the panel (set before each frame).
    pub height: usize,
    count: String,
    g_pending: bool,
    /// The `/` search.
    pub search: TextSearch,
    /// The `o` popup, when open.
    pub file_search: Option<FileSearch>,
}

impl Default for SourcePanel {
    fn default() -> SourcePanel {
        SourcePanel {
            content: SourceContent::Empty,
            cursor: 0,
            col: 0,
            scroll: 0,
            height: 20,
            count: String::new(),
            g_pending: false,
            search: TextSearch::default(),
            file_search: None,
        }
    }
}

impl SourcePanel {
    /// The open file, if any.
    pub fn file(&self) -> Option<&OpenFile> {
        match &self.content {
            SourceContent::File(f) => Some(f),
            _ => None,
        }
    }

    fn lines(&self) -> &[String] {
        self.file().map_or(&[], |f| f.lines.as_slice())
    }

    fn line_count(&self) -> usize {
        self.lines().len()
    }

    fn line_chars(&self, line: usize) -> usize {
        self.lines().get(line).map_or(0, |l| l.chars().count())
    }

    /// The typed count prefix (`<N>` of `<N>G`), for the title.
    pub fn pending_count(&self) -> &str {
        &self.count
    }

    /// Shows a file with the cursor on `line` (1-based).
    pub fn show(&mut self, content: SourceContent, line: u32) {
        self.content = content;
        self.search.matches.clear();
        self.refresh_matches();
        self.goto_line(line.saturating_sub(1) as usize);
        self.center();
    }

    /// Moves the cursor to a 0-based line (clamped) and keeps it visible.
    pub fn goto_line(&mut self, line: usize) {
        self.cursor = line.min(self.line_count().saturating_sub(1));
        self.col = self.col.min(self.line_chars(self.cursor).saturating_sub(1));
        self.keep_visible();
    }

    /// Puts the cursor line in the middle of the panel.
    pub fn center(&mut self) {
        self.scroll = self.cursor.saturating_sub(self.height / 2);
    }

    /// Scrolls so the cursor is on screen.
    pub fn keep_visible(&mut self) {
        let h = self.height.max(1);
        if self.cursor < self.scroll {
            self.scroll = self.cursor;
        } else if self.cursor >= self.scroll + h {
            self.scroll = self.cursor + 1 - h;
        }
    }

    fn move_lines(&mut self, delta: isize) {
        let target = (self.cursor as isize + delta).max(0) as usize;
        self.goto_line(target);
    }

    /// The DWARF path of the open file.
    pub fn dwarf_path(&self) -> Option<&str> {
        match &self.content {
            SourceContent::File(f) => Some(&f.dwarf_path),
            SourceContent::Error(e) => Some(&e.dwarf_path),
            SourceContent::Empty => None,
        }
    }

    /// `trace <file>:<line>` for the cursor line.
    pub fn trace_target(&self) -> Option<String> {
        let file = self.file()?;
        Some(format!("{}:{}", file.dwarf_path, self.cursor + 1))
    }

    /// Applies one key in Normal or search mode.
    pub fn key(&mut self, key: KeyEvent) -> SourceOutcome {
        if self.search.editing {
            self.search_key(key);
            return SourceOutcome::None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if let (KeyCode::Char(c @ '0'..='9'), false) = (key.code, ctrl) {
            if c != '0' || !self.count.is_empty() {
                self.count.push(c);
                self.g_pending = false;
                return SourceOutcome::None;
            }
        }
        let count = std::mem::take(&mut self.count);
        let repeat = count.parse::<usize>().unwrap_or(1).max(1) as isize;
        let g_pending = std::mem::take(&mut self.g_pending);
        let page = self.height.max(1) as isize;
        match (key.code, ctrl) {
            (KeyCode::Char('j') | KeyCode::Down, false) => self.move_lines(repeat),
            (KeyCode::Char('k') | KeyCode::Up, false) => self.move_lines(-repeat),
            (KeyCode::Char('h') | KeyCode::Left, false) => {
                self.col = self.col.saturating_sub(repeat as usize)
            }
            (KeyCode::Char('l') | KeyCode::Right, false) => {
                let max = self.line_chars(self.cursor).saturating_sub(1);
                self.col = (self.col + repeat as usize).min(max);
            }
            (KeyCode::Char('d'), true) => self.move_lines(10),
            (KeyCode::Char('u'), true) => self.move_lines(-10),
            (KeyCode::PageDown, _) => {
                self.move_lines(page);
                self.scroll = self.cursor;
                self.keep_visible();
            }
            (KeyCode::PageUp, _) => {
                self.move_lines(-page);
                self.scroll = self.cursor.saturating_sub(page as usize - 1);
            }
            (KeyCode::Char('g'), false) => {
                if g_pending {
                    self.goto_line(0);
                } else {
                    self.g_pending = true;
                }
            }
            (KeyCode::Char('G'), false) => {
                let line = match count.parse::<usize>() {
                    Ok(n) => n.saturating_sub(1),
                    Err(_) => self.line_count().saturating_sub(1),
                };
                self.goto_line(line);
                if !count.is_empty() {
                    self.center();
                }
            }
            (KeyCode::Char('w'), false) => self.word_forward(),
            (KeyCode::Char('b'), false) => self.word_backward(),
            (KeyCode::Char('^'), false) => {
                let line = self.lines().get(self.cursor).cloned().unwrap_or_default();
                self.col = line.chars().take_while(|c| c.is_whitespace()).count();
                self.col = self.col.min(self.line_chars(self.cursor).saturating_sub(1));
            }
            (KeyCode::Char('$'), false) => {
                self.col = self.line_chars(self.cursor).saturating_sub(1);
            }
            (KeyCode::Char('/'), false) => {
                self.search.editing = true;
                self.search.query.clear();
                self.search.matches.clear();
            }
            (KeyCode::Char('n'), false) => self.next_match(true),
            (KeyCode::Char('N'), false) => self.next_match(false),
            (KeyCode::Esc, _) => {
                self.search = TextSearch::default();
            }
            (KeyCode::Char('o'), false) => return SourceOutcome::OpenFileSearch,
            (KeyCode::Char(' '), false) => {
                return match self.trace_target() {
                    Some(t) => SourceOutcome::Trace(t),
                    None => SourceOutcome::Message("No source file is open".into()),
                }
            }
            (KeyCode::Char('R'), false) => {
                return match self.file() {
                    Some(_) => SourceOutcome::ReturnTrace(self.cursor as u32 + 1),
                    None => SourceOutcome::Message("No source file is open".into()),
                }
            }
            _ => {}
        }
        SourceOutcome::None
    }

    fn search_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match (key.code, ctrl) {
            (KeyCode::Esc, _) | (KeyCode::Char('c'), true) => {
                self.search = TextSearch::default();
            }
            (KeyCode::Enter, _) => {
                self.search.editing = false;
                let here = (self.cursor, 0);
                let found = self
                    .search
                    .matches
                    .iter()
                    .find(|m| **m >= here)
                    .or(self.search.matches.first())
                    .copied();
                if let Some(m) = found {
                    self.jump_to_match(m);
                }
            }
            (KeyCode::Backspace, _) => {
                self.search.query.pop();
                self.refresh_matches();
            }
            (KeyCode::Char(c), false) => {
                self.search.query.push(c);
                self.refresh_matches();
            }
            _ => {}
        }
    }

    /// Recomputes the matches of the search query.
    pub fn refresh_matches(&mut self) {
        let query = self.search.query.clone();
        self.search.matches.clear();
        if query.is_empty() {
            return;
        }
        let found: Vec<(usize, usize)> = self
            .lines()
            .iter()
            .enumerate()
            .flat_map(|(i, l)| l.match_indices(&query).map(move |(b, _)| (i, b)))
            .collect();
        self.search.matches = found;
    }

    fn jump_to_match(&mut self, (line, byte): (usize, usize)) {
        self.goto_line(line);
        let text = self.lines().get(line).cloned().unwrap_or_default();
        self.col = text[..byte].chars().count();
    }

    fn next_match(&mut self, forward: bool) {
        let m = &self.search.matches;
        if m.is_empty() {
            return;
        }
        let text = self.lines().get(self.cursor).cloned().unwrap_or_default();
        let byte = text
            .char_indices()
            .nth(self.col)
            .map_or(text.len(), |(b, _)| b);
        let here = (self.cursor, byte);
        let target = if forward {
            m.iter().find(|x| **x > here).or(m.first())
        } else {
            m.iter().rev().find(|x| **x < here).or(m.last())
        };
        if let Some(&t) = target {
            self.jump_to_match(t);
        }
    }

    fn char_class(c: char) -> u8 {
        if c.is_whitespace() {
            0
        } else if c.is_alphanumeric() || c == '_' {
            1
        } else {
            2
        }
    }

    fn word_forward(&mut self) {
        let lines = self.lines().to_vec();
        let (mut line, mut col) = (self.cursor, self.col);
        let mut prev = lines
            .get(line)
            .and_then(|l| l.chars().nth(col))
            .map_or(0, Self::char_class);
        loop {
            col += 1;
            let chars: Vec<char> = lines.get(line).map_or(Vec::new(), |l| l.chars().collect());
            if col >= chars.len() {
                if line + 1 >= lines.len() {
                    return;
                }
                line += 1;
                col = 0;
                prev = 0;
                let next: Vec<char> = lines[line].chars().collect();
                if next.first().is_some_and(|c| !c.is_whitespace()) {
                    break;
                }
                continue;
            }
            let class = Self::char_class(chars[col]);
            if class != 0 && class != prev {
                break;
            }
            prev = class;
        }
        self.goto_line(line);
        self.col = col;
    }

    fn word_backward(&mut self) {
        let lines = self.lines().to_vec();
        let (mut line, mut col) = (self.cursor, self.col);
        // Step back over blanks (and line ends), then to the start of that word.
        loop {
            if col == 0 {
                if line == 0 {
                    break;
                }
                line -= 1;
                col = lines[line].chars().count();
                if col == 0 {
                    continue;
                }
            }
            let chars: Vec<char> = lines[line].chars().collect();
            col -= 1;
            if !chars[col].is_whitespace() {
                let class = Self::char_class(chars[col]);
                while col > 0 && Self::char_class(chars[col - 1]) == class {
                    col -= 1;
                }
                break;
            }
        }
        self.goto_line(line);
        self.col = col;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(text: &str) -> SourcePanel {
        let mut p = SourcePanel {
            height: 5,
            ..SourcePanel::default()
        };
        p.show(
            SourceContent::File(OpenFile::new("/src/a.c", "/src/a.c", text)),
            1,
        );
        p
    }

    fn press(p: &mut SourcePanel, keys: &str) -> SourceOutcome {
        let mut last = SourceOutcome::None;
        for c in keys.chars() {
            last = p.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        last
    }

    fn ctrl(p: &mut SourcePanel, c: char) {
        p.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
    }

    const TEXT: &str = "int main(void) {\n    int x = 1;\n    return x;\n}\n";

    #[test]
    fn vertical_motions_and_counts() {
        let many: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        let mut p = panel(&many);
        press(&mut p, "j");
        assert_eq!(p.cursor, 1);
        press(&mut p, "G");
        assert_eq!(p.cursor, 39);
        assert_eq!(p.scroll, 35);
        press(&mut p, "gg");
        assert_eq!((p.cursor, p.scroll), (0, 0));
        press(&mut p, "12G");
        assert_eq!(p.cursor, 11);
        press(&mut p, "3k");
        assert_eq!(p.cursor, 8);
        ctrl(&mut p, 'd');
        assert_eq!(p.cursor, 18);
        ctrl(&mut p, 'u');
        assert_eq!(p.cursor, 8);
        p.key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE));
        assert_eq!(p.cursor, 13);
        p.key(KeyEvent::new(KeyCode::PageUp, KeyModifiers::NONE));
        assert_eq!(p.cursor, 8);
        p.key(KeyEvent::new(KeyCode::Up, KeyModifiers::NONE));
        assert_eq!(p.cursor, 7);
        press(&mut p, "999G");
        assert_eq!(p.cursor, 39);
    }

    #[test]
    fn horizontal_and_word_motions() {
        let mut p = panel(TEXT);
        press(&mut p, "w");
        assert_eq!(p.col, 4);
        press(&mut p, "w");
        assert_eq!(p.col, 8);
        press(&mut p, "$");
        assert_eq!(p.col, 15);
        press(&mut p, "w");
        assert_eq!((p.cursor, p.col), (1, 4));
        press(&mut p, "b");
        assert_eq!((p.cursor, p.col), (0, 15));
        press(&mut p, "j^");
        assert_eq!(p.col, 4);
        press(&mut p, "hh");
        assert_eq!(p.col, 2);
        press(&mut p, "l");
        assert_eq!(p.col, 3);
    }

    #[test]
    fn text_search_enter_n_and_n_back() {
        let mut p = panel(TEXT);
        press(&mut p, "/x");
        assert!(p.search.editing);
        assert_eq!(p.search.matches, vec![(1, 8), (2, 11)]);
        p.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        assert!(!p.search.editing);
        assert_eq!((p.cursor, p.col), (1, 8));
        press(&mut p, "n");
        assert_eq!((p.cursor, p.col), (2, 11));
        press(&mut p, "n");
        assert_eq!((p.cursor, p.col), (1, 8));
        press(&mut p, "N");
        assert_eq!((p.cursor, p.col), (2, 11));
        assert_eq!(p.search.query, "x");
        press(&mut p, "/");
        ctrl(&mut p, 'c');
        assert_eq!(p.search, TextSearch::default());
    }

    #[test]
    fn space_r_and_o() {
        let mut p = panel(TEXT);
        press(&mut p, "j");
        assert_eq!(
            press(&mut p, " "),
            SourceOutcome::Trace("/src/a.c:2".into())
        );
        assert_eq!(press(&mut p, "R"), SourceOutcome::ReturnTrace(2));
        assert_eq!(press(&mut p, "o"), SourceOutcome::OpenFileSearch);
        let mut empty = SourcePanel::default();
        assert_eq!(
            press(&mut empty, " "),
            SourceOutcome::Message("No source file is open".into())
        );
    }
}
