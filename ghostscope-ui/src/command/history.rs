//! Command history: the `./.ghostscope_history` file shared across
//! sessions, navigation with ↑/↓, grey prefix suggestions and Ctrl+R
//! reverse search (tui.md §6.5).

use std::fs;
use std::io::Write;
use std::path::PathBuf;

/// The command history, oldest entry first.
#[derive(Debug, Clone, Default)]
pub struct History {
    entries: Vec<String>,
    file: Option<PathBuf>,
    max_entries: usize,
}

impl History {
    /// History kept in memory only.
    pub fn in_memory(max_entries: usize) -> History {
        History {
            entries: Vec::new(),
            file: None,
            max_entries,
        }
    }

    /// History backed by `file`, loading what it holds (a missing file is
    /// an empty history).
    pub fn load(file: PathBuf, max_entries: usize) -> History {
        let mut entries: Vec<String> = fs::read_to_string(&file)
            .map(|text| {
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if entries.len() > max_entries {
            entries.drain(..entries.len() - max_entries);
        }
        History {
            entries,
            file: Some(file),
            max_entries,
        }
    }

    /// Entries, oldest first.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// Records a command; consecutive duplicates are not stored.
    pub fn push(&mut self, command: &str) {
        let command = command.trim();
        if command.is_empty() || self.entries.last().is_some_and(|l| l == command) {
            return;
        }
        self.entries.push(command.to_string());
        let over = self.entries.len() > self.max_entries;
        if over {
            self.entries.drain(..self.entries.len() - self.max_entries);
        }
        if let Some(file) = &self.file {
            // A history that cannot be written is not worth interrupting the
            // user for; the session goes on with the in-memory copy.
            if over {
                let _ = fs::write(file, self.file_text());
            } else if let Ok(mut f) = fs::OpenOptions::new().create(true).append(true).open(file) {
                let _ = writeln!(f, "{command}");
            }
        }
    }

    fn file_text(&self) -> String {
        let mut text = self.entries.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        text
    }

    /// Forgets every entry, in memory and in the file.
    pub fn clear(&mut self) {
        self.entries.clear();
        if let Some(file) = &self.file {
            let _ = fs::write(file, "");
        }
    }

    /// The newest entry that starts with `prefix` and is longer than it
    /// (the grey suggestion; only for 3 or more typed characters).
    pub fn suggestion(&self, prefix: &str) -> Option<&str> {
        if prefix.chars().count() < 3 {
            return None;
        }
        self.entries
            .iter()
            .rev()
            .find(|e| e.starts_with(prefix) && e.len() > prefix.len())
            .map(String::as_str)
    }

    /// The newest entry before position `before` (exclusive) containing
    /// `query`, with its position.
    pub fn search_back(&self, query: &str, before: usize) -> Option<(usize, &str)> {
        let end = before.min(self.entries.len());
        self.entries[..end]
            .iter()
            .enumerate()
            .rev()
            .find(|(_, e)| e.contains(query))
            .map(|(i, e)| (i, e.as_str()))
    }
}

/// State of a Ctrl+R search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReverseSearch {
    /// What the user typed.
    pub query: String,
    /// Position in the history of the current match.
    pub matched: Option<usize>,
}

impl ReverseSearch {
    /// Finds the newest match for the current query.
    pub fn refresh(&mut self, history: &History) {
        self.matched = history.search_back(&self.query, usize::MAX).map(|(i, _)| i);
    }

    /// Finds the next older match (Ctrl+R again); stays put if none.
    pub fn older(&mut self, history: &History) {
        let before = self.matched.unwrap_or(history.entries().len());
        if let Some((i, _)) = history.search_back(&self.query, before) {
            self.matched = Some(i);
        }
    }

    /// The matched entry.
    pub fn matched_text<'h>(&self, history: &'h History) -> Option<&'h str> {
        self.matched
            .and_then(|i| history.entries().get(i))
            .map(String::as_str)
    }

    /// The prompt line as tui.md §6.5 spells it.
    pub fn prompt(&self, history: &History) -> String {
        match self.matched_text(history) {
            Some(m) => format!("(reverse-i-search)`{}': {}", self.query, m),
            None => format!("(failed reverse-i-search)`{}': ", self.query),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gs-ui-hist-{}-{name}", std::process::id()));
        let _ = fs::remove_file(&dir);
        dir
    }

    #[test]
    fn file_backed_history_skips_consecutive_duplicates_and_caps() {
        let file = temp_file("cap");
        let mut h = History::load(file.clone(), 3);
        for c in ["a1", "a1", "b2", "c3", "d4"] {
            h.push(c);
        }
        assert_eq!(h.entries(), ["b2", "c3", "d4"]);
        let again = History::load(file.clone(), 3);
        assert_eq!(again.entries(), ["b2", "c3", "d4"]);
        h.clear();
        assert!(History::load(file.clone(), 3).entries().is_empty());
        let _ = fs::remove_file(file);
    }

    #[test]
    fn suggestion_needs_three_characters() {
        let mut h = History::in_memory(10);
        h.push("trace main");
        h.push("trace update_order");
        h.push("info trace");
        assert_eq!(h.suggestion("tr"), None);
        assert_eq!(h.suggestion("tra"), Some("trace update_order"));
        assert_eq!(h.suggestion("trace main"), None);
    }

    #[test]
    fn reverse_search_prompts() {
        let mut h = History::in_memory(10);
        h.push("trace main");
        h.push("info trace");
        h.push("trace update_order");
        let mut s = ReverseSearch {
            query: "trace".into(),
            matched: None,
        };
        s.refresh(&h);
        assert_eq!(
            s.prompt(&h),
            "(reverse-i-search)`trace': trace update_order"
        );
        s.older(&h);
        assert_eq!(s.prompt(&h), "(reverse-i-search)`trace': info trace");
        s.older(&h);
        s.older(&h);
        assert_eq!(s.prompt(&h), "(reverse-i-search)`trace': trace main");
        s.query = "zzz".into();
        s.refresh(&h);
        assert_eq!(s.prompt(&h), "(failed reverse-i-search)`zzz': ");
    }
}
