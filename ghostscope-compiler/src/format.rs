//! Format strings of `print "…", args` (script-language §9).

use crate::parser::int_literal;

/// A conversion inside `{…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// `{}`
    Default,
    /// `{:x}`
    HexLower,
    /// `{:X}`
    HexUpper,
    /// `{:p}`
    Pointer,
    /// `{:s}`
    Ascii,
}

/// A memory-dump length suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpLength {
    /// `.N`
    Fixed(u64),
    /// `.*`: taken from the preceding argument.
    Star,
    /// `.name$`: taken from a script variable.
    Variable(String),
}

/// A piece of a parsed format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Literal(String),
    /// A placeholder.
    Placeholder {
        /// The conversion.
        conversion: Conversion,
        /// A dump length, for `x`, `X`, `s` (ignored for `p`).
        length: Option<DumpLength>,
    },
}

/// A parsed format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    /// Pieces in order.
    pub pieces: Vec<Piece>,
}

impl Format {
    /// Arguments the format consumes: one per placeholder plus one per `.*`.
    pub fn argument_count(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(_) => 0,
                Piece::Placeholder {
                    length: Some(DumpLength::Star),
                    ..
                } => 2,
                Piece::Placeholder { .. } => 1,
            })
            .sum()
    }
}

/// Parses a format string.
pub fn parse_format(text: &str) -> Result<Format, String> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                chars.next();
                literal.push('}');
            }
            '}' => return Err("Invalid expression".to_string()),
            '{' => {
                let rest = &text[i + 1..];
                let Some(close) = rest.find('}') else {
                    return Err("Invalid expression".to_string());
                };
                let content = &rest[..close];
                for _ in 0..content.chars().count() + 1 {
                    chars.next();
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(placeholder(content)?);
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(Format { pieces })
}

fn placeholder(content: &str) -> Result<Piece, String> {
    if content.is_empty() {
        return Ok(Piece::Placeholder {
            conversion: Conversion::Default,
            length: None,
        });
    }
    let Some(spec) = content.strip_prefix(':') else {
        return Err(format!(
            "Invalid format specifier '{{{content}}}': expected ':' prefix"
        ));
    };
    let mut chars = spec.chars();
    let Some(c) = chars.next() else {
        return Err("Empty format after ':'".to_string());
    };
    let conversion = match c {
        'x' => Conversion::HexLower,
        'X' => Conversion::HexUpper,
        'p' => Conversion::Pointer,
        's' => Conversion::Ascii,
        other => return Err(format!("Unsupported format conversion '{{:{other}}}'")),
    };
    let rest = chars.as_str();
    if rest.is_empty() {
        return Ok(Piece::Placeholder {
            conversion,
            length: None,
        });
    }
    let Some(len) = rest.strip_prefix('.') else {
        return Err(format!("Invalid specifier syntax '{{:{c}{rest}}}'"));
    };
    let length = if len == "*" {
        DumpLength::Star
    } else if let Some(name) = len.strip_suffix('$') {
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(format!(
                "Invalid capture variable in specifier '{{:{c}.{len}}}'"
            ));
        }
        DumpLength::Variable(name.to_string())
    } else {
        let n = int_literal(len)
            .map_err(|_| format!("Invalid length in specifier '{{:{c}{rest}}}'"))?;
        DumpLength::Fixed(n.max(0) as u64)
    };
    Ok(Piece::Placeholder {
        conversion,
        length: Some(length),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph(conversion: Conversion, length: Option<DumpLength>) -> Piece {
        Piece::Placeholder { conversion, length }
    }

    #[test]
    fn parses_placeholders_and_escapes() {
        let f = parse_format("id={} hex={:x} {{lit}} s={:s.64} d={:X.*} v={:x.n$} p={:p}").unwrap();
        assert_eq!(
            f.pieces,
            vec![
                Piece::Literal("id=".into()),
                ph(Conversion::Default, None),
                Piece::Literal(" hex=".into()),
                ph(Conversion::HexLower, None),
                Piece::Literal(" {lit} s=".into()),
                ph(Conversion::Ascii, Some(DumpLength::Fixed(64))),
                Piece::Literal(" d=".into()),
                ph(Conversion::HexUpper, Some(DumpLength::Star)),
                Piece::Literal(" v=".into()),
                ph(Conversion::HexLower, Some(DumpLength::Variable("n".into()))),
                Piece::Literal(" p=".into()),
                ph(Conversion::Pointer, None),
            ]
        );
        assert_eq!(f.argument_count(), 7);
        assert_eq!(
            parse_format("{:x.0x10}").unwrap().pieces,
            vec![ph(Conversion::HexLower, Some(DumpLength::Fixed(16)))]
        );
    }

    #[test]
    fn rejects_bad_specifiers_with_the_spec_messages() {
        assert_eq!(
            parse_format("{:d}").unwrap_err(),
            "Unsupported format conversion '{:d}'"
        );
        assert_eq!(
            parse_format("{x}").unwrap_err(),
            "Invalid format specifier '{x}': expected ':' prefix"
        );
        assert_eq!(parse_format("{:}").unwrap_err(), "Empty format after ':'");
        assert_eq!(
            parse_format("{:x.1a$}").unwrap_err(),
            "Invalid capture variable in specifier '{:x.1a$}'"
        );
        assert_eq!(
            parse_format("{:x.zz}").unwrap_err(),
            "Invalid length in specifier '{:x.zz}'"
        );
        assert_eq!(
            parse_format("{:xq}").unwrap_err(),
            "Invalid specifier syntax '{:xq}'"
        );
        assert_eq!(parse_format("a { b").unwrap_err(), "Invalid expression");
        assert_eq!(parse_format("a } b").unwrap_err(), "Invalid expression");
    }
}
