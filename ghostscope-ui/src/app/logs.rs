//! Real-time log files of `save output` and `save session`.

use std::fs::File;
use std::io::{self, Write};

/// An open log file, flushed after every write.
pub struct LogFile {
    /// The path as the user gave it.
    pub path: String,
    file: File,
    /// Lines written so far.
    pub lines: u64,
}

impl LogFile {
    /// Creates (or truncates) the file.
    pub fn create(path: &str) -> io::Result<LogFile> {
        Ok(LogFile {
            path: path.to_string(),
            file: File::create(path)?,
            lines: 0,
        })
    }

    /// Appends lines and flushes. A failed write is dropped: the log is a
    /// convenience and must not stop the session.
    pub fn write_lines(&mut self, lines: impl Iterator<Item = String>) {
        let mut text = String::new();
        for l in lines {
            text.push_str(&l);
            text.push('\n');
            self.lines += 1;
        }
        let _ = self.file.write_all(text.as_bytes());
        let _ = self.file.flush();
    }
}

/// `YYYYMMDD_HHMMSS` local time, for default file names.
pub fn file_stamp() -> String {
    chrono::Local::now().format("%Y%m%d_%H%M%S").to_string()
}
