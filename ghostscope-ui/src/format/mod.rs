//! Text the command panel shows: trace results, `info` output, help.
//! Everything here turns plain data into styled lines and does nothing else.

pub mod help;
pub mod info;
pub mod trace_result;

/// `0x<hex>`.
pub fn hex(v: u64) -> String {
    format!("0x{v:x}")
}
