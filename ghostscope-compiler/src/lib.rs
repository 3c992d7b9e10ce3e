//! The ghostscope trace language: parse a script, check it against the
//! DWARF of the traced program, and generate one BPF program per probe
//! address, together with the metadata that decodes its events.

pub mod ast;
pub mod error;
pub mod parser;

pub use error::{ParseError, TraceFailure};
pub use parser::parse_script;
