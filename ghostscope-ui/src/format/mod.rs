//! Text the command panel shows: trace results, `info` output, help.
//! Everything here turns plain data into styled lines and does nothing else.

pub mod help;
pub mod info;
pub mod trace_result;

use ghostscope_protocol::session::SourcePosition;

/// ` — inline|call @ <file>:<line>`, or nothing when the position is unknown.
pub fn place(inline: bool, source: Option<&SourcePosition>) -> String {
    match source {
        Some(s) => format!(
            " — {} @ {}:{}",
            if inline { "inline" } else { "call" },
            s.file,
            s.line
        ),
        None => String::new(),
    }
}

/// `0x<hex>`.
pub fn hex(v: u64) -> String {
    format!("0x{v:x}")
}
