//! Compile errors, worded as script-language.md §13 prescribes.

use thiserror::Error;

/// A script that does not parse, or is not a valid script as a whole.
/// Compilation stops at once.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{message}")]
pub struct ParseError {
    /// The message (`Parse error: …` or a structural message).
    pub message: String,
    /// The offending source line with a caret under the spot, when known.
    pub snippet: Option<String>,
}

impl ParseError {
    /// A message without a source snippet.
    pub fn plain(message: String) -> ParseError {
        ParseError {
            message,
            snippet: None,
        }
    }
}

/// A trace target that could not be resolved or compiled. Other targets
/// still compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceFailure {
    /// The target text: function name, `file:line`, `0x…`, `module:0x…`.
    pub target: String,
    /// The resolved address, or 0 when resolution itself failed.
    pub pc: u64,
    /// What went wrong.
    pub message: String,
}
