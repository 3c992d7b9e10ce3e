//! The library half of the `ghostscope` binary: the long-lived session
//! engine that both front ends drive (script mode and the TUI), so tests
//! and benchmarks can drive it too.

#![warn(missing_docs)]

pub mod clock;
pub mod engine;
