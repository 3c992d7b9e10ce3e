//! Errors of the DWARF layer, worded for the person running ghostscope.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong while reading a module or resolving a name.
#[derive(Debug, Error)]
pub enum DwarfError {
    /// The file could not be opened or mapped.
    #[error("failed to open target object {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a parsable object file.
    #[error("failed to parse target object {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// The file is an object for another platform.
    #[error("unsupported target object {}: expected 64-bit little-endian x86_64 ELF, found {found}", path.display())]
    UnsupportedObject {
        /// The file.
        path: PathBuf,
        /// What was found, in the spec's `format=…, architecture=…` words.
        found: String,
    },
    /// The DWARF data is malformed.
    #[error("malformed DWARF in {}: {message}", path.display())]
    Malformed {
        /// The module.
        path: PathBuf,
        /// What gimli reported.
        message: String,
    },
    /// Reading `/proc` failed.
    #[error("failed to read {}: {source}", path.display())]
    Proc {
        /// The /proc file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A separate debug file could not be opened or mapped.
    #[error("failed to open debug file {}", path.display())]
    DebugFileOpen {
        /// The debug file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A separate debug file is not an ELF file ghostscope can read.
    #[error("failed to parse debug file {}", path.display())]
    DebugFileParse {
        /// The debug file.
        path: PathBuf,
    },
    /// `--debug-file` does not have the CRC the module's `.gnu_debuglink` records.
    #[error("Explicit debug file {} failed CRC verification for {}: expected=0x{expected:08x}, actual=0x{actual:08x}", debug_file.display(), module.display())]
    ExplicitCrcMismatch {
        /// The debug file.
        debug_file: PathBuf,
        /// The module it was given for.
        module: PathBuf,
        /// CRC recorded in the module.
        expected: u32,
        /// CRC of the debug file.
        actual: u32,
    },
    /// `--debug-file` has another build id than the module.
    #[error("Explicit debug file {} Build ID mismatch for {}: binary={module_id}, debug={debug_id}", debug_file.display(), module.display())]
    ExplicitBuildIdMismatch {
        /// The debug file.
        debug_file: PathBuf,
        /// The module it was given for.
        module: PathBuf,
        /// The module's build id in hex.
        module_id: String,
        /// The debug file's build id in hex.
        debug_id: String,
    },
    /// `--debug-file` carries no DWARF.
    #[error("Explicit debug file {} for {} contains no .debug_info section", debug_file.display(), module.display())]
    ExplicitWithoutDebugInfo {
        /// The debug file.
        debug_file: PathBuf,
        /// The module it was given for.
        module: PathBuf,
    },
    /// `--debug-file` was bound to a module the process does not map.
    #[error("Explicit debug file {} was provided for target module {}, but that module was not loaded. Loaded modules include:{}", debug_file.display(), module.display(), loaded.iter().map(|m| format!("\n  - {m}")).collect::<String>())]
    ExplicitModuleNotLoaded {
        /// The debug file.
        debug_file: PathBuf,
        /// The module it was meant for.
        module: PathBuf,
        /// Up to eight modules that were loaded.
        loaded: Vec<String>,
    },
}
