//! One ELF file on disk: its mapping, load segments, symbols and the raw
//! bytes of its debug sections.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use memmap2::Mmap;
use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol, SymbolKind};

use crate::dynlink::DynamicData;
pub use crate::dynlink::TlsSegment;
use crate::error::DwarfError;

/// A `PT_LOAD` program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSegment {
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_memsz`.
    pub mem_size: u64,
    /// `p_offset`.
    pub file_offset: u64,
    /// `p_filesz`.
    pub file_size: u64,
    /// Whether the segment is executable.
    pub executable: bool,
}

/// A function-like symbol from `.symtab` or `.dynsym`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfSymbol {
    /// Raw (possibly mangled) name.
    pub name: String,
    /// Module-relative virtual address.
    pub address: u64,
    /// Size in bytes (0 when unknown).
    pub size: u64,
}

/// The `.gnu_debuglink` of a stripped module: the file name of its debug
/// file and the CRC-32 that file must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugLink {
    /// File name (or, rarely, an absolute path) of the debug file.
    pub name: PathBuf,
    /// CRC-32 (IEEE) of the whole debug file.
    pub crc: u32,
}

/// An ELF file mapped into memory.
pub struct ElfFile {
    path: PathBuf,
    segments: Vec<LoadSegment>,
    symbols: Vec<ElfSymbol>,
    is_dyn: bool,
    has_debug_info: bool,
    /// Debug sections by name, decompressed on first use so a module whose
    /// DWARF a script never reads costs no inflating.
    sections: Vec<(String, LazySection)>,
    eh_frame_address: Option<u64>,
    build_id: Option<Vec<u8>>,
    debuglink: Option<DebugLink>,
    dynamic: DynamicData,
    // Declared last so it is dropped after every slice that points into it.
    map: Mmap,
}

impl std::fmt::Debug for ElfFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElfFile").field("path", &self.path).finish()
    }
}

impl ElfFile {
    /// Maps and parses the file; checks it is a 64-bit little-endian x86_64 ELF.
    pub fn open(path: &Path) -> Result<ElfFile, DwarfError> {
        let file = File::open(path).map_err(|e| DwarfError::Open {
            path: path.to_path_buf(),
            source: e,
        })?;
        // SAFETY: the mapping is read-only and private. If another process
        // truncates the file while we read it we may fault; every tracer and
        // debugger that maps binaries shares this risk.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| DwarfError::Open {
            path: path.to_path_buf(),
            source: e,
        })?;
        // SAFETY: the slice points into `map`, which this struct owns and
        // drops last; the mapping's address does not change when it moves.
        let data: &'static [u8] = unsafe { std::slice::from_raw_parts(map.as_ptr(), map.len()) };
        let obj = object::File::parse(data).map_err(|e| DwarfError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        check_x86_64(path, &obj)?;

        let segments = obj
            .segments()
            .filter_map(|seg| {
                let object::SegmentFlags::Elf { p_flags } = seg.flags() else {
                    return None;
                };
                let (file_offset, file_size) = seg.file_range();
                Some(LoadSegment {
                    vaddr: seg.address(),
                    mem_size: seg.size(),
                    file_offset,
                    file_size,
                    executable: p_flags & object::elf::PF_X != 0,
                })
            })
            .collect();

        let mut sections = Vec::new();
        let mut has_debug_info = false;
        let mut eh_frame_address = None;
        for section in obj.sections() {
            let Ok(name) = section.name() else { continue };
            if name == ".eh_frame" {
                eh_frame_address = Some(section.address());
            }
            if !name.starts_with(".debug_") && !name.starts_with(".zdebug_") && name != ".eh_frame"
            {
                continue;
            }
            let name = name.replacen(".zdebug_", ".debug_", 1);
            let Ok(compressed) = section.compressed_data() else {
                continue;
            };
            if name == ".debug_info" && compressed.uncompressed_size > 0 {
                has_debug_info = true;
            }
            sections.push((name, LazySection::new(compressed)));
        }
        let symbols = collect_symbols(&obj);
        let is_dyn = obj.kind() == object::ObjectKind::Dynamic;
        let build_id = obj.build_id().ok().flatten().map(<[u8]>::to_vec);
        let debuglink = obj.gnu_debuglink().ok().flatten().map(|(name, crc)| {
            use std::os::unix::ffi::OsStrExt;
            DebugLink {
                name: PathBuf::from(std::ffi::OsStr::from_bytes(name)),
                crc,
            }
        });
        let dynamic = DynamicData::read(&obj);
        Ok(ElfFile {
            path: path.to_path_buf(),
            segments,
            symbols,
            is_dyn,
            has_debug_info,
            sections,
            eh_frame_address,
            build_id,
            debuglink,
            dynamic,
            map,
        })
    }

    /// The path the file was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file is `ET_DYN` (PIE executable or shared library).
    pub fn is_position_independent(&self) -> bool {
        self.is_dyn
    }

    /// Whether the file is a program (fixed-address or PIE), not a library.
    pub fn is_executable(&self) -> bool {
        self.dynamic.is_executable()
    }

    /// The static TLS segment (`PT_TLS`), if the file has thread-locals.
    pub fn tls_segment(&self) -> Option<TlsSegment> {
        self.dynamic.tls()
    }

    /// Copy relocations, exported data symbols.
    pub(crate) fn dynamic_data(&self) -> &DynamicData {
        &self.dynamic
    }

    /// Whether the file carries `.debug_info`.
    pub fn has_debug_info(&self) -> bool {
        self.has_debug_info
    }

    /// The GNU build id (`NT_GNU_BUILD_ID` note), if the file has one.
    pub fn build_id(&self) -> Option<&[u8]> {
        self.build_id.as_deref()
    }

    /// The `.gnu_debuglink` section, if the file has one.
    pub fn debuglink(&self) -> Option<&DebugLink> {
        self.debuglink.as_ref()
    }

    /// CRC-32 of the whole file, as `.gnu_debuglink` records it.
    pub fn crc32(&self) -> u32 {
        crc32fast::hash(&self.map)
    }

    /// `PT_LOAD` segments in file order.
    pub fn segments(&self) -> &[LoadSegment] {
        &self.segments
    }

    /// Function symbols from `.symtab` and `.dynsym`, deduplicated by address and name.
    pub fn symbols(&self) -> &[ElfSymbol] {
        &self.symbols
    }

    /// Bytes of a debug section (or `.eh_frame`) by name; empty when absent.
    pub(crate) fn section(&self, name: &str) -> &'static [u8] {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.bytes())
            .unwrap_or(&[])
    }

    /// Whether a debug section holds `needle`, for ruling a module out of
    /// a lookup without parsing its DWARF.
    pub(crate) fn section_contains(&self, name: &str, needle: &[u8]) -> bool {
        memchr::memmem::find(self.section(name), needle).is_some()
    }

    /// The virtual address of `.eh_frame`, which its pc-relative pointers need.
    pub(crate) fn eh_frame_address(&self) -> Option<u64> {
        self.eh_frame_address
    }

    /// File offset of a module-relative virtual address, through the `PT_LOAD`
    /// header that contains it: `vaddr - p_vaddr + p_offset`.
    pub fn file_offset_of(&self, vaddr: u64) -> Option<u64> {
        self.segments
            .iter()
            .find(|s| vaddr >= s.vaddr && vaddr < s.vaddr + s.file_size.max(1))
            .map(|s| vaddr - s.vaddr + s.file_offset)
    }
}

/// A section's bytes: borrowed from the mapping, or inflated on first use
/// into a buffer held for the life of the file.
struct LazySection {
    stored: object::CompressedData<'static>,
    bytes: OnceLock<Box<[u8]>>,
}

impl LazySection {
    fn new(stored: object::CompressedData<'static>) -> LazySection {
        LazySection {
            stored,
            bytes: OnceLock::new(),
        }
    }

    /// The uncompressed bytes; empty when they cannot be decompressed.
    fn bytes(&self) -> &'static [u8] {
        if self.stored.format == object::CompressionFormat::None {
            return self.stored.data;
        }
        let owned = self.bytes.get_or_init(|| match self.stored.decompress() {
            Ok(data) => data.into_owned().into_boxed_slice(),
            Err(_) => Box::default(),
        });
        // SAFETY: the buffer is owned by this section, set once and never
        // mutated or dropped before the `ElfFile`; its heap address is stable.
        unsafe { std::slice::from_raw_parts(owned.as_ptr(), owned.len()) }
    }
}

fn check_x86_64(path: &Path, obj: &object::File<'_>) -> Result<(), DwarfError> {
    let format = obj.format();
    let arch = obj.architecture();
    let is_64 = obj.is_64();
    let little = obj.is_little_endian();
    if format == object::BinaryFormat::Elf
        && arch == object::Architecture::X86_64
        && is_64
        && little
    {
        return Ok(());
    }
    Err(DwarfError::UnsupportedObject {
        path: path.to_path_buf(),
        found: format!(
            "format={format:?}, architecture={arch:?}, class={}, endianness={}",
            if is_64 { "64-bit" } else { "32-bit" },
            if little { "Little" } else { "Big" }
        ),
    })
}

fn collect_symbols(obj: &object::File<'_>) -> Vec<ElfSymbol> {
    let mut out: Vec<ElfSymbol> = obj
        .symbols()
        .chain(obj.dynamic_symbols())
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition() && s.address() != 0)
        .filter_map(|s| {
            Some(ElfSymbol {
                name: s.name().ok()?.to_string(),
                address: s.address(),
                size: s.size(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.address.cmp(&b.address).then_with(|| a.name.cmp(&b.name)));
    out.dedup_by(|a, b| a.address == b.address && a.name == b.name);
    out
}
