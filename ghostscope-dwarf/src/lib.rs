//! ELF and DWARF for ghostscope: which modules a process has, where a
//! function or source line lives (probe sites), which variables are visible
//! at a PC and where their bytes are (read plans), and their types.
//!
//! A module's DWARF may be its own or come from a separate debug file
//! (`--debug-file`, `.gnu_debuglink`, build-id trees): see [`DebugSource`].
//!
//! Loading a session opens and indexes its modules in parallel; line tables
//! and types are decoded on demand and cached.

#![warn(missing_docs)]

mod abi;
mod cfi;
mod debug_source;
mod dwarf_data;
mod dynlink;
mod elf;
mod elf_summary;
mod entry_values;
mod error;
mod index;
mod lines;
mod loading;
mod location;
mod module;
mod process;
mod registers;
mod scope;
mod session;
mod symbolize;
mod types;
pub mod unwind;

pub use debug_source::{DebugLookup, DebugSource, DEFAULT_SEARCH_PATHS};
pub use elf::{DebugLink, ElfFile, ElfSymbol, LoadSegment, TlsSegment};
pub use elf_summary::{summarize_elf, ElfKind, ElfSummary};
pub use error::DwarfError;
pub use index::{CodeKind, FunctionCode};
pub use lines::SourceLocation;
pub use loading::{
    ignore_progress, IndexKind, LoadEvent, LoadObserver, LoadOptions, ModuleFailure, ModuleStats,
};
pub use location::{
    short_reason, CallArgument, CallSiteArguments, CallerValues, EntryValue, Location, Piece,
    ReadOp, StaticTls,
};
pub use module::Module;
pub use process::{parse_maps, read_mappings, Mapping};
pub use registers::{
    gp_register, unreadable_register_reason, GpRegister, ARGUMENT_REGISTERS, RAX, RIP, RSP,
};
pub use scope::Variable;
pub use session::{DebugSession, LoadedModule, ProbeSite, ResolveError, SiteKind};
pub use symbolize::Symbolizer;
