//! What the dynamic linker and the C library do with a module's data, as
//! far as reading a global depends on it: data objects an executable holds
//! copies of (`R_X86_64_COPY`), the data symbols a library exports, and the
//! static thread-local storage segment (`PT_TLS`).

use object::read::elf::{Dyn, FileHeader, ProgramHeader};
use object::{Object, ObjectSymbol, ObjectSymbolTable, RelocationFlags, RelocationTarget};

/// Data-related dynamic-linking facts of one ELF file.
#[derive(Debug, Clone, Default)]
pub(crate) struct DynamicData {
    /// `R_X86_64_COPY` relocations: symbol name → address of the copy in this file.
    copies: Vec<(String, u64)>,
    /// Defined global data symbols of `.dynsym`, sorted by address.
    exported: Vec<(u64, String)>,
    /// The `PT_TLS` segment, if any.
    tls: Option<TlsSegment>,
    /// An executable (fixed-address, PIE or static PIE), not a library.
    executable: bool,
}

/// The `PT_TLS` program header: the initial image of a thread's block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsSegment {
    /// `p_vaddr` (a TLS symbol's value is an offset from the block start).
    pub vaddr: u64,
    /// `p_memsz`: the size of each thread's block.
    pub mem_size: u64,
    /// `p_align`.
    pub align: u64,
}

impl TlsSegment {
    /// How far below the thread pointer this block starts when it is the
    /// executable's (x86-64 TLS variant II, the executable's block first):
    /// the block ends at the thread pointer, so the offset is its size
    /// rounded up to its alignment, adjusted (as glibc's
    /// `_dl_determine_tlsoffset` does) when `p_vaddr` is not aligned.
    pub fn executable_block_offset(&self) -> u64 {
        let align = self.align.max(1);
        let first_byte = self.vaddr.wrapping_neg() & (align - 1);
        (self.mem_size.saturating_sub(first_byte)).div_ceil(align) * align + first_byte
    }
}

impl DynamicData {
    /// Reads the dynamic relocations, dynamic symbols and program headers.
    pub(crate) fn read(obj: &object::File<'_>) -> DynamicData {
        let mut exported: Vec<(u64, String)> = obj
            .dynamic_symbols()
            .filter(|s| {
                s.kind() == object::SymbolKind::Data
                    && s.is_definition()
                    && s.is_global()
                    && s.address() != 0
            })
            .filter_map(|s| Some((s.address(), s.name().ok()?.to_string())))
            .collect();
        exported.sort();
        DynamicData {
            copies: copy_relocations(obj),
            exported,
            tls: tls_segment(obj),
            executable: is_executable(obj),
        }
    }

    /// Whether the file is a program rather than a shared library.
    pub(crate) fn is_executable(&self) -> bool {
        self.executable
    }

    /// Where this file holds its copy of the data object `name`, if the
    /// dynamic linker copies it here (only executables have such copies).
    pub(crate) fn copy_of(&self, name: &str) -> Option<u64> {
        self.copies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, addr)| *addr)
    }

    /// The name of the exported data symbol at `address`.
    pub(crate) fn exported_at(&self, address: u64) -> Option<&str> {
        let i = self.exported.partition_point(|(a, _)| *a < address);
        self.exported
            .get(i)
            .filter(|(a, _)| *a == address)
            .map(|(_, n)| n.as_str())
    }

    /// The `PT_TLS` segment.
    pub(crate) fn tls(&self) -> Option<TlsSegment> {
        self.tls
    }
}

fn copy_relocations(obj: &object::File<'_>) -> Vec<(String, u64)> {
    let (Some(relocations), Some(symbols)) =
        (obj.dynamic_relocations(), obj.dynamic_symbol_table())
    else {
        return Vec::new();
    };
    relocations
        .filter(|(_, r)| {
            r.flags()
                == RelocationFlags::Elf {
                    r_type: object::elf::R_X86_64_COPY,
                }
        })
        .filter_map(|(offset, r)| {
            let RelocationTarget::Symbol(index) = r.target() else {
                return None;
            };
            let symbol = symbols.symbol_by_index(index).ok()?;
            Some((symbol.name().ok()?.to_string(), offset))
        })
        .collect()
}

fn tls_segment(obj: &object::File<'_>) -> Option<TlsSegment> {
    let object::File::Elf64(elf) = obj else {
        return None;
    };
    let endian = elf.endian();
    elf.elf_program_headers()
        .iter()
        .find(|ph| ph.p_type(endian) == object::elf::PT_TLS)
        .map(|ph| TlsSegment {
            vaddr: ph.p_vaddr(endian),
            mem_size: ph.p_memsz(endian),
            align: ph.p_align(endian),
        })
}

/// `ET_EXEC`, or an `ET_DYN` with an interpreter (a PIE) or flagged
/// `DF_1_PIE` (a static PIE); a shared library has neither.
fn is_executable(obj: &object::File<'_>) -> bool {
    let object::File::Elf64(elf) = obj else {
        return false;
    };
    let endian = elf.endian();
    if elf.elf_header().e_type(endian) == object::elf::ET_EXEC {
        return true;
    }
    elf.elf_program_headers().iter().any(|ph| {
        ph.p_type(endian) == object::elf::PT_INTERP
            || ph
                .dynamic(endian, elf.data())
                .ok()
                .flatten()
                .is_some_and(|entries| {
                    entries.iter().any(|d| {
                        d.d_tag(endian) == object::elf::DT_FLAGS_1
                            && d.d_val(endian) & u64::from(object::elf::DF_1_PIE) != 0
                    })
                })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_executable_block_ends_at_the_thread_pointer() {
        let tls = |vaddr, mem_size, align| TlsSegment {
            vaddr,
            mem_size,
            align,
        };
        // Size rounded up to the alignment.
        assert_eq!(tls(0x3dc8, 0x14, 8).executable_block_offset(), 0x18);
        assert_eq!(tls(0x3dc0, 0x40, 64).executable_block_offset(), 0x40);
        assert_eq!(tls(0x3dc0, 0x41, 64).executable_block_offset(), 0x80);
        // A block whose start is not aligned keeps its misalignment.
        assert_eq!(tls(0x3dc4, 0x10, 8).executable_block_offset(), 0x14);
    }
}
