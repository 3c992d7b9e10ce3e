//! Tab completion of the command input (tui.md §6.4): command words,
//! sub-commands, `verbose`, file paths, and (beyond) function names and
//! DWARF source files.

use std::path::Path;

/// Command words offered for the first word.
pub const COMMAND_WORDS: &[&str] = &[
    "trace", "enable", "disable", "delete", "save", "stop", "source", "ui", "info", "help",
    "clear", "quit", "exit", "srcpath", "t", "en", "dis", "del",
];

/// Where the candidates for the word under the cursor come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidates {
    /// A fixed list of words.
    Words(Vec<&'static str>),
    /// Files and directories; `scripts_only` keeps directories and `.gs` files.
    Paths {
        /// Only directories and `.gs` files (for `source`).
        scripts_only: bool,
    },
    /// Function names (asked from the engine) and DWARF source files.
    FunctionsAndFiles,
    /// Function names only.
    Functions,
    /// DWARF source files (`file:` forms).
    SourceFiles,
    /// Nothing to complete here.
    None,
}

/// The word being completed: its byte offset in the input and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordAt {
    /// Byte offset where the word starts.
    pub start: usize,
    /// The partial word.
    pub word: String,
    /// Where candidates come from.
    pub candidates: Candidates,
}

/// Finds what to complete in the text before the cursor.
pub fn word_at(before_cursor: &str) -> WordAt {
    let start = before_cursor.rfind(' ').map_or(0, |i| i + 1);
    let word = before_cursor[start..].to_string();
    let words: Vec<&str> = before_cursor[..start].split_whitespace().collect();
    use Candidates::*;
    let candidates = match words.as_slice() {
        [] => Words(COMMAND_WORDS.to_vec()),
        ["save" | "s"] => Words(vec!["traces", "output", "session"]),
        ["save" | "s", "traces" | "t"] => {
            if word.is_empty() || "enabled".starts_with(&word) || "disabled".starts_with(&word) {
                Words(vec!["enabled", "disabled"])
            } else {
                Paths {
                    scripts_only: false,
                }
            }
        }
        ["save" | "s", _] | ["save" | "s", "traces" | "t", "enabled" | "disabled"] => Paths {
            scripts_only: false,
        },
        ["source"] => Paths { scripts_only: true },
        ["stop"] => Words(vec!["output", "session"]),
        ["ui"] => Words(vec!["source", "mouse"]),
        ["ui", "source" | "mouse"] => Words(vec!["on", "off"]),
        ["info" | "i"] => Words(vec![
            "trace", "source", "file", "share", "function", "line", "address",
        ]),
        ["info" | "i", "share" | "sh"] => Words(vec!["all"]),
        ["info" | "i", "function" | "f"] => Functions,
        ["info" | "i", "line" | "l"] => SourceFiles,
        ["info" | "i", "function" | "f" | "line" | "l" | "address" | "a", _] => {
            Words(vec!["verbose"])
        }
        ["srcpath"] => Words(vec!["add", "map", "remove", "clear", "reset"]),
        ["srcpath", "add" | "map" | "remove"] | ["srcpath", "map", _] => Paths {
            scripts_only: false,
        },
        ["help"] => Words(vec!["srcpath"]),
        ["trace" | "t"] => FunctionsAndFiles,
        _ => None,
    };
    WordAt {
        start,
        word,
        candidates,
    }
}

/// Paths completing `word` (relative to the current directory or absolute).
pub fn path_candidates(word: &str, scripts_only: bool) -> Vec<String> {
    let (dir_part, name_prefix) = match word.rfind('/') {
        Some(i) => (&word[..=i], &word[i + 1..]),
        None => ("", word),
    };
    let dir = if dir_part.is_empty() {
        Path::new(".")
    } else {
        Path::new(dir_part)
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            if !name.starts_with(name_prefix)
                || (name.starts_with('.') && !name_prefix.starts_with('.'))
            {
                return None;
            }
            let is_dir = e.path().is_dir();
            if scripts_only && !is_dir && !name.ends_with(".gs") {
                return None;
            }
            Some(format!("{dir_part}{name}{}", if is_dir { "/" } else { "" }))
        })
        .collect();
    out.sort();
    out
}

/// `file:` candidates from DWARF paths: the basename when it is unique,
/// else the full path; matched on the basename or the full path.
pub fn source_file_candidates(word: &str, files: &[String]) -> Vec<String> {
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let mut out: Vec<String> = Vec::new();
    for f in files {
        let b = base(f);
        let unique = files.iter().filter(|g| base(g) == b).count() == 1;
        let candidate = if unique && b.starts_with(word) {
            format!("{b}:")
        } else if f.starts_with(word) || b.starts_with(word) {
            format!("{f}:")
        } else {
            continue;
        };
        if !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    out.sort();
    out
}

/// The result of one Tab press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// No candidate.
    Nothing,
    /// The new input text and cursor (in characters).
    Replace(String, usize),
    /// Several candidates and no longer common prefix: list them.
    List(Vec<String>),
}

fn common_prefix(items: &[String]) -> String {
    let Some(first) = items.first() else {
        return String::new();
    };
    let mut len = first.len();
    for s in &items[1..] {
        len = first
            .char_indices()
            .zip(s.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(len);
    }
    first[..len].to_string()
}

/// Completes the word at `at` with `candidates` (already matching or not).
/// A unique word gets a trailing space, unless it ends with `/` or `:`.
/// `input` is the whole line; `cursor_byte` where the cursor is.
pub fn complete(input: &str, cursor_byte: usize, at: &WordAt, candidates: &[String]) -> Completion {
    let mut matching: Vec<String> = candidates
        .iter()
        .filter(|c| c.starts_with(&at.word))
        .cloned()
        .collect();
    matching.dedup();
    let replace = |with: &str| {
        let mut s = String::new();
        s.push_str(&input[..at.start]);
        s.push_str(with);
        let cursor = s.chars().count();
        s.push_str(&input[cursor_byte..]);
        Completion::Replace(s, cursor)
    };
    match matching.len() {
        0 => Completion::Nothing,
        1 => {
            let c = &matching[0];
            if c.ends_with('/') || c.ends_with(':') {
                replace(c)
            } else {
                replace(&format!("{c} "))
            }
        }
        _ => {
            let prefix = common_prefix(&matching);
            if prefix.len() > at.word.len() {
                replace(&prefix)
            } else {
                Completion::List(matching)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(input: &str) -> Vec<String> {
        match word_at(input).candidates {
            Candidates::Words(w) => w.into_iter().map(String::from).collect(),
            other => panic!("{input}: {other:?}"),
        }
    }

    fn run(input: &str) -> Completion {
        let at = word_at(input);
        complete(input, input.len(), &at, &words(input))
    }

    #[test]
    fn command_and_sub_command_words() {
        assert_eq!(run("tr"), Completion::Replace("trace ".into(), 6));
        assert_eq!(
            run("info f"),
            Completion::List(vec!["file".into(), "function".into()])
        );
        assert_eq!(
            run("info fu"),
            Completion::Replace("info function ".into(), 14)
        );
        assert_eq!(
            run("save t"),
            Completion::Replace("save traces ".into(), 12)
        );
        assert_eq!(
            run("save traces e"),
            Completion::Replace("save traces enabled ".into(), 20)
        );
        assert_eq!(
            run("stop s"),
            Completion::Replace("stop session ".into(), 13)
        );
        assert_eq!(
            run("ui source o"),
            Completion::List(vec!["on".into(), "off".into()])
        );
        assert_eq!(run("ui m"), Completion::Replace("ui mouse ".into(), 9));
        assert_eq!(
            run("info line a.c:3 v"),
            Completion::Replace("info line a.c:3 verbose ".into(), 24)
        );
        assert_eq!(
            run("info address 0x10 v"),
            Completion::Replace("info address 0x10 verbose ".into(), 26)
        );
        assert_eq!(
            run("srcpath re"),
            Completion::List(vec!["remove".into(), "reset".into()])
        );
        assert_eq!(
            run("d"),
            Completion::List(vec![
                "disable".into(),
                "delete".into(),
                "dis".into(),
                "del".into()
            ])
        );
        assert_eq!(run("di"), Completion::Replace("dis".into(), 3));
        assert_eq!(
            run("srcpath r"),
            Completion::Replace("srcpath re".into(), 10)
        );
        assert_eq!(run("zz"), Completion::Nothing);
    }

    #[test]
    fn trace_and_info_use_dwarf_sources() {
        assert_eq!(
            word_at("trace ma").candidates,
            Candidates::FunctionsAndFiles
        );
        assert_eq!(
            word_at("info function ma").candidates,
            Candidates::Functions
        );
        assert_eq!(word_at("i l ma").candidates, Candidates::SourceFiles);
        assert_eq!(
            word_at("source x").candidates,
            Candidates::Paths { scripts_only: true }
        );
        assert_eq!(
            word_at("save output x").candidates,
            Candidates::Paths {
                scripts_only: false
            }
        );
        let files = vec![
            "/b/src/main.c".to_string(),
            "/b/src/util.c".to_string(),
            "/b/lib/util.c".to_string(),
        ];
        assert_eq!(source_file_candidates("ma", &files), vec!["main.c:"]);
        assert_eq!(
            source_file_candidates("ut", &files),
            vec!["/b/lib/util.c:", "/b/src/util.c:"]
        );
        assert_eq!(
            source_file_candidates("/b/src/m", &files),
            vec!["/b/src/main.c:"]
        );
    }

    #[test]
    fn paths_through_directories() {
        let dir = std::env::temp_dir().join(format!("gs-ui-compl-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.gs"), "").unwrap();
        std::fs::write(dir.join("a.txt"), "").unwrap();
        let base = format!("{}/", dir.display());
        assert_eq!(
            path_candidates(&base, true),
            vec![format!("{base}a.gs"), format!("{base}sub/")]
        );
        assert_eq!(path_candidates(&format!("{base}a"), false).len(), 2);
        let input = format!("source {base}s");
        let at = word_at(&input);
        let c = path_candidates(&at.word, true);
        assert_eq!(
            complete(&input, input.len(), &at, &c),
            Completion::Replace(format!("source {base}sub/"), 8 + base.chars().count() + 3)
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
