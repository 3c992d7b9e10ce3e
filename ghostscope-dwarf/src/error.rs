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
}
