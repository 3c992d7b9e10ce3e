//! The source panel: file content and cursor, markers, highlighting, text
//! and file search, and its view.

pub mod file_search;
pub mod highlight;
pub mod markers;
pub mod panel;
pub mod view;
