//! The command panel: parsing, line editing, history, completion, the
//! script editor, its state and its view.

pub mod completion;
pub mod history;
pub mod line_edit;
pub mod panel;
pub mod parse;
pub mod script_editor;
pub mod view;
