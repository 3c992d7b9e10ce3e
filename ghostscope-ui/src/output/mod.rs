//! The eBPF output panel: event cards, modes, and its view.

pub mod panel;
pub mod view;
