//! A short description of an ELF file for `info file`: its kind, entry
//! point, symbol table and the `.text` / `.data` sections.

use std::path::Path;

use object::{Object, ObjectSection};

use crate::error::DwarfError;

/// What kind of ELF file it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfKind {
    /// `ET_EXEC`: a fixed-address executable.
    Executable,
    /// `ET_DYN` with a program interpreter: a position-independent executable.
    PieExecutable,
    /// `ET_DYN` without one: a shared library.
    SharedObject,
    /// Anything else (relocatable, core).
    Other,
}

/// The facts `info file` shows about one ELF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfSummary {
    /// The kind of file.
    pub kind: ElfKind,
    /// Entry point (link-time virtual address).
    pub entry: u64,
    /// Whether it has a `.symtab` (is not stripped).
    pub has_symtab: bool,
    /// Address and size of `.text`.
    pub text: Option<(u64, u64)>,
    /// Address and size of `.data`.
    pub data: Option<(u64, u64)>,
}

/// Reads the summary of the ELF file at `path`.
pub fn summarize_elf(path: &Path) -> Result<ElfSummary, DwarfError> {
    let open_error = |e| DwarfError::Open {
        path: path.to_path_buf(),
        source: e,
    };
    let file = std::fs::File::open(path).map_err(open_error)?;
    // SAFETY: a read-only private mapping, as in `ElfFile::open`; only the
    // headers are read, and the mapping is dropped before returning.
    let bytes = unsafe { memmap2::Mmap::map(&file) }.map_err(open_error)?;
    let obj = object::File::parse(&*bytes).map_err(|e| DwarfError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let kind = match obj.kind() {
        object::ObjectKind::Executable => ElfKind::Executable,
        object::ObjectKind::Dynamic if obj.section_by_name(".interp").is_some() => {
            ElfKind::PieExecutable
        }
        object::ObjectKind::Dynamic => ElfKind::SharedObject,
        _ => ElfKind::Other,
    };
    let section = |name: &str| obj.section_by_name(name).map(|s| (s.address(), s.size()));
    Ok(ElfSummary {
        kind,
        entry: obj.entry(),
        has_symtab: obj.section_by_name(".symtab").is_some(),
        text: section(".text"),
        data: section(".data"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarizes_the_running_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let s = summarize_elf(&exe).unwrap();
        assert_ne!(s.kind, ElfKind::Other);
        assert_ne!(s.kind, ElfKind::SharedObject);
        assert!(s.entry != 0);
        let (text, size) = s.text.unwrap();
        assert!(text != 0 && size != 0);
        assert!(s.entry >= text && s.entry < text + size);
    }
}
