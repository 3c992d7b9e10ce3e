//! The contract between ghostscope's stages: the byte layout of an event
//! (written by BPF programs, read by the loader), the per-trace metadata the
//! compiler produces, and the rendering of captured values as text.
//!
//! This crate has no heavy dependencies so every front end can use it.

#![warn(missing_docs)]

pub mod backtrace;
pub mod decode;
pub mod meta;
pub mod render;
pub mod session;
pub mod types;
pub mod wire;

pub use decode::{DecodeError, DecodedEvent, EventDecoder};
pub use meta::{
    DumpStyle, ExprErrorSlot, FormatPiece, FormatSpec, SlotKind, StatementMeta, StatementOutput,
    TraceMeta, ValueOrigin, ValueSlot,
};
pub use types::{
    AggregateKind, BaseEncoding, Bitfield, Enumerator, Member, Qualifier, TypeDesc, TypeRef,
};
pub use wire::{EventHeader, FailureDetail, ReadStatus, Record};
