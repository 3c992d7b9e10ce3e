//! ELF and DWARF for ghostscope: which modules a process has, where a
//! function or source line lives (probe sites), which variables are visible
//! at a PC and where their bytes are (read plans), and their types.
//!
//! Work is lazy: opening a module maps it and parses unit headers; the name
//! index is built on the first lookup; line tables and types are decoded
//! on demand and cached.

#![warn(missing_docs)]

mod abi;
mod cfi;
mod dwarf_data;
mod elf;
mod error;
mod index;
mod lines;
mod location;
mod module;
mod process;
mod registers;
mod scope;
mod session;
mod symbolize;
mod types;
pub mod unwind;

pub use elf::{ElfFile, ElfSymbol, LoadSegment};
pub use error::DwarfError;
pub use index::{CodeKind, FunctionCode};
pub use lines::SourceLocation;
pub use location::{Location, Piece, ReadOp};
pub use module::Module;
pub use process::{parse_maps, read_mappings, Mapping};
pub use registers::{
    gp_register, unreadable_register_reason, GpRegister, ARGUMENT_REGISTERS, RAX, RIP, RSP,
};
pub use scope::Variable;
pub use session::{DebugSession, LoadedModule, ProbeSite, ResolveError, SiteKind};
pub use symbolize::Symbolizer;
