//! Syntax highlighting for the source panel (C, C++, Rust, Go) and the
//! script editor: keywords, strings, comments, numbers. A line is cut into
//! coloured byte ranges; block comments carry over from line to line.

use ratatui::style::{Color, Modifier, Style};

/// The languages the highlighter knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// C and C++ (`.c .h .cc .cpp .hpp …`).
    C,
    /// Rust.
    Rust,
    /// Go.
    Go,
    /// The ghostscope script language.
    Script,
    /// Anything else: no colours.
    Plain,
}

impl Language {
    /// The language of a file, by its extension.
    pub fn of_path(path: &str) -> Language {
        let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
        match ext {
            "c" | "h" | "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" | "inl" => Language::C,
            "rs" => Language::Rust,
            "go" => Language::Go,
            "gs" => Language::Script,
            _ => Language::Plain,
        }
    }

    fn keywords(self) -> &'static [&'static str] {
        match self {
            Language::C => &[
                "auto",
                "break",
                "case",
                "char",
                "const",
                "continue",
                "default",
                "do",
                "double",
                "else",
                "enum",
                "extern",
                "float",
                "for",
                "goto",
                "if",
                "inline",
                "int",
                "long",
                "register",
                "restrict",
                "return",
                "short",
                "signed",
                "sizeof",
                "static",
                "struct",
                "switch",
                "typedef",
                "union",
                "unsigned",
                "void",
                "volatile",
                "while",
                "bool",
                "true",
                "false",
                "NULL",
                "class",
                "namespace",
                "template",
                "typename",
                "public",
                "private",
                "protected",
                "virtual",
                "override",
                "new",
                "delete",
                "this",
                "using",
                "nullptr",
                "constexpr",
                "auto",
                "throw",
                "try",
                "catch",
                "operator",
                "friend",
                "explicit",
                "noexcept",
                "static_cast",
                "const_cast",
                "reinterpret_cast",
                "dynamic_cast",
                "mutable",
            ],
            Language::Rust => &[
                "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else",
                "enum", "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match",
                "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct",
                "super", "trait", "true", "type", "unsafe", "use", "where", "while", "u8", "u16",
                "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
                "f64", "bool", "char", "str",
            ],
            Language::Go => &[
                "break",
                "case",
                "chan",
                "const",
                "continue",
                "default",
                "defer",
                "else",
                "fallthrough",
                "for",
                "func",
                "go",
                "goto",
                "if",
                "import",
                "interface",
                "map",
                "package",
                "range",
                "return",
                "select",
                "struct",
                "switch",
                "type",
                "var",
                "true",
                "false",
                "nil",
                "int",
                "int8",
                "int16",
                "int32",
                "int64",
                "uint",
                "uint8",
                "uint16",
                "uint32",
                "uint64",
                "uintptr",
                "float32",
                "float64",
                "string",
                "bool",
                "byte",
                "rune",
                "error",
            ],
            Language::Script => &[
                "trace",
                "print",
                "let",
                "if",
                "else",
                "bt",
                "backtrace",
                "true",
                "false",
            ],
            Language::Plain => &[],
        }
    }
}

/// What a range of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// A language keyword or built-in type.
    Keyword,
    /// A string or character literal.
    String,
    /// A comment.
    Comment,
    /// A number.
    Number,
    /// A preprocessor line (C) or a special variable (`$pid`, script).
    Special,
}

impl Token {
    /// The colour of this kind of token.
    pub fn style(self) -> Style {
        match self {
            Token::Keyword => Style::default()
                .fg(Color::Blue)
                .add_modifier(Modifier::BOLD),
            Token::String => Style::default().fg(Color::Green),
            Token::Comment => Style::default().fg(Color::DarkGray),
            Token::Number => Style::default().fg(Color::Magenta),
            Token::Special => Style::default().fg(Color::Cyan),
        }
    }
}

/// A coloured byte range of one line.
pub type Highlight = (std::ops::Range<usize>, Token);

/// Highlights every line of a file.
pub fn highlight_lines(lines: &[String], lang: Language) -> Vec<Vec<Highlight>> {
    let mut in_comment = false;
    lines
        .iter()
        .map(|l| {
            let (h, still) = highlight_line(l, lang, in_comment);
            in_comment = still;
            h
        })
        .collect()
}

/// Highlights one line; `in_comment` says a `/*` comment is open at its
/// start. Returns the ranges and whether a comment is open at its end.
pub fn highlight_line(line: &str, lang: Language, in_comment: bool) -> (Vec<Highlight>, bool) {
    let mut out = Vec::new();
    if lang == Language::Plain {
        return (out, false);
    }
    let bytes = line.as_bytes();
    let mut i = 0;
    if in_comment {
        match line.find("*/") {
            Some(end) => {
                out.push((0..end + 2, Token::Comment));
                i = end + 2;
            }
            None => {
                out.push((0..line.len(), Token::Comment));
                return (out, true);
            }
        }
    }
    if lang == Language::C && line.trim_start().starts_with('#') && !in_comment {
        let start = line.len() - line.trim_start().len();
        let end = line.find("//").unwrap_or(line.len()).max(start);
        out.push((start..end, Token::Special));
        i = end;
    }
    while i < bytes.len() {
        let c = bytes[i];
        let rest = &line[i..];
        if rest.starts_with("//") {
            out.push((i..line.len(), Token::Comment));
            break;
        }
        if let Some(after) = rest.strip_prefix("/*") {
            match after.find("*/") {
                Some(end) => {
                    out.push((i..i + end + 4, Token::Comment));
                    i += end + 4;
                    continue;
                }
                None => {
                    out.push((i..line.len(), Token::Comment));
                    return (out, true);
                }
            }
        }
        if c == b'"' || (c == b'`' && lang == Language::Go) {
            let end = string_end(bytes, i, c, lang != Language::Script);
            out.push((i..end, Token::String));
            i = end;
            continue;
        }
        if c == b'\'' && lang != Language::Script {
            if let Some(end) = char_literal_end(bytes, i) {
                out.push((i..end, Token::String));
                i = end;
                continue;
            }
        }
        if c.is_ascii_digit() && (i == 0 || !is_ident(bytes[i - 1])) {
            let mut end = i + 1;
            while end < bytes.len()
                && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'.' || bytes[end] == b'_')
            {
                end += 1;
            }
            out.push((i..end, Token::Number));
            i = end;
            continue;
        }
        if c == b'$' && lang == Language::Script {
            let mut end = i + 1;
            while end < bytes.len() && is_ident(bytes[end]) {
                end += 1;
            }
            out.push((i..end, Token::Special));
            i = end;
            continue;
        }
        if is_ident_start(c) {
            let mut end = i + 1;
            while end < bytes.len() && is_ident(bytes[end]) {
                end += 1;
            }
            if lang.keywords().contains(&&line[i..end]) {
                out.push((i..end, Token::Keyword));
            }
            i = end;
            continue;
        }
        // Skip one character (multi-byte safe).
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    (out, false)
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn string_end(bytes: &[u8], start: usize, quote: u8, escapes: bool) -> usize {
    let mut k = start + 1;
    while k < bytes.len() {
        if escapes && bytes[k] == b'\\' && quote != b'`' {
            k += 2;
            continue;
        }
        if bytes[k] == quote {
            return k + 1;
        }
        k += 1;
    }
    bytes.len()
}

/// `'x'`, `'\n'`, `'\x41'`; not a Rust lifetime such as `'a`.
fn char_literal_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut k = start + 1;
    if bytes.get(k) == Some(&b'\\') {
        k += 2;
        while k < bytes.len() && k < start + 12 && bytes[k] != b'\'' {
            k += 1;
        }
    } else {
        // One (possibly multi-byte) character.
        let len = std::str::from_utf8(&bytes[k..])
            .ok()
            .and_then(|s| s.chars().next())
            .map_or(1, char::len_utf8);
        k += len;
    }
    (bytes.get(k) == Some(&b'\'')).then_some(k + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(line: &str, lang: Language) -> Vec<(&str, Token)> {
        highlight_line(line, lang, false)
            .0
            .into_iter()
            .map(|(r, t)| (&line[r], t))
            .collect()
    }

    #[test]
    fn c_tokens() {
        assert_eq!(
            kinds("int x = 42; // hi", Language::C),
            vec![
                ("int", Token::Keyword),
                ("42", Token::Number),
                ("// hi", Token::Comment)
            ]
        );
        assert_eq!(
            kinds("printf(\"a\\\"b\", 'c');", Language::C),
            vec![("\"a\\\"b\"", Token::String), ("'c'", Token::String)]
        );
        assert_eq!(
            kinds("#include <x.h>", Language::C),
            vec![("#include <x.h>", Token::Special)]
        );
        assert_eq!(kinds("x1 = y2;", Language::C), vec![]);
    }

    #[test]
    fn block_comments_span_lines() {
        let lines: Vec<String> = ["a /* one", "two", "three */ return 1;"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let h = highlight_lines(&lines, Language::C);
        assert_eq!(h[0], vec![(2..8, Token::Comment)]);
        assert_eq!(h[1], vec![(0..3, Token::Comment)]);
        assert_eq!(h[2][0], (0..8, Token::Comment));
        assert_eq!(h[2][1], (9..15, Token::Keyword));
    }

    #[test]
    fn rust_lifetimes_are_not_chars_and_go_raw_strings() {
        assert_eq!(
            kinds("fn f<'a>(x: &'a str) {}", Language::Rust),
            vec![("fn", Token::Keyword), ("str", Token::Keyword)]
        );
        assert_eq!(
            kinds("s := `raw`", Language::Go),
            vec![("`raw`", Token::String)]
        );
        assert_eq!(
            kinds("print \"{}\", $pid;", Language::Script),
            vec![
                ("print", Token::Keyword),
                ("\"{}\"", Token::String),
                ("$pid", Token::Special)
            ]
        );
        assert_eq!(Language::of_path("a/b.hpp"), Language::C);
        assert_eq!(Language::of_path("Makefile"), Language::Plain);
    }
}
