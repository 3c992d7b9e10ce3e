//! The terminal user interface of ghostscope: source panel, live event
//! panel and command panel (ratatui + crossterm). Not written yet; the
//! `ghostscope` binary runs in script mode only for now.

#![warn(missing_docs)]
