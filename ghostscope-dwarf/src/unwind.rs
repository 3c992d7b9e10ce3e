//! Compact unwind rows for unwinding user stacks inside BPF.
//!
//! The kernel cannot evaluate DWARF CFI, so user space turns each module's
//! `.eh_frame` and `.debug_frame` into a sorted array of rows, one per PC
//! range: how to compute the CFA (`rsp + off` or `rbp + off`), where the
//! return address is saved (`CFA + off`), and where the caller's RBP is
//! saved (`CFA + off`, or unchanged). A rule the kernel cannot evaluate (a
//! DWARF expression, a register copy) becomes an explicit
//! [`RowKind::Unsupported`] row, and a PC range without CFI an explicit
//! [`RowKind::NoCfi`] row, so the BPF program can tell the two apart.
//! The program binary-searches a module's rows for a frame's PC.
//!
//! The byte layouts here are shared by the loader (which writes the maps)
//! and the code generator (which reads them).

use gimli::{
    BaseAddresses, CfaRule, CieOrFde, DebugFrame, EhFrame, LittleEndian, Register, RegisterRule,
    UnwindContext, UnwindSection,
};

use crate::session::DebugSession;

type Slice = gimli::EndianSlice<'static, LittleEndian>;

/// DWARF number of RBP.
const DW_RBP: u16 = 6;
/// DWARF number of RSP.
const DW_RSP: u16 = 7;
/// DWARF number of the return-address column on x86_64.
const DW_RA: u16 = 16;

/// Bytes of one row in the rows map.
pub const ROW_SIZE: u32 = 16;
/// Offset of the row's `u64` module-relative start PC.
pub const ROW_PC: u32 = 0;
/// Offset of the row's `i32` CFA offset.
pub const ROW_CFA_OFFSET: u32 = 8;
/// Offset of the row's `i16` offset of the saved RBP from the CFA (0: unchanged).
pub const ROW_RBP_OFFSET: u32 = 12;
/// Offset of the row's `i8` offset of the return address from the CFA.
pub const ROW_RA_OFFSET: u32 = 14;
/// Offset of the row's `u8` [`RowKind`].
pub const ROW_KIND: u32 = 15;

/// Bytes of one entry in the modules map.
pub const MODULE_ENTRY_SIZE: u32 = 40;
/// Offset of the entry's `u64` first link-time address of executable code.
pub const MODULE_LINK_START: u32 = 0;
/// Offset of the entry's `u64` end of the executable link-time range.
pub const MODULE_LINK_END: u32 = 8;
/// Offset of the entry's `u64` load bias (valid with [`MODULE_FLAG_BIAS_KNOWN`]).
pub const MODULE_BIAS: u32 = 16;
/// Offset of the entry's `u32` index of its first row in the rows map.
pub const MODULE_ROW_START: u32 = 24;
/// Offset of the entry's `u32` number of rows.
pub const MODULE_ROW_COUNT: u32 = 28;
/// Offset of the entry's `u32` flags.
pub const MODULE_FLAGS: u32 = 32;
/// Module flag: the load bias is known (`-p`); otherwise only the probed
/// module can be found, through the bias the program computes at the hit.
pub const MODULE_FLAG_BIAS_KNOWN: u32 = 1;

/// Most modules the modules map holds; the program scans them in a bounded loop.
pub const MAX_UNWIND_MODULES: u32 = 64;
/// Iterations that cover a binary search over the largest rows map (2^20 rows).
pub const ROW_SEARCH_STEPS: u32 = 21;

/// What a row says about its PC range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RowKind {
    /// No CFI covers the range.
    NoCfi = 0,
    /// CFA = RSP + offset.
    CfaRsp = 1,
    /// CFA = RBP + offset.
    CfaRbp = 2,
    /// CFI exists but uses a rule the BPF program cannot evaluate.
    Unsupported = 3,
    /// The return address is undefined: the outermost frame (`_start`).
    Outermost = 4,
}

/// One unwind row: the rules from `pc` up to the next row's PC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnwindRow {
    /// Module-relative (link-time) first PC.
    pub pc: u64,
    /// What the row says.
    pub kind: RowKind,
    /// CFA offset from RSP or RBP.
    pub cfa_offset: i32,
    /// Where the caller's RBP is saved, relative to the CFA; 0 = not saved.
    pub rbp_offset: i16,
    /// Where the return address is saved, relative to the CFA.
    pub ra_offset: i8,
}

impl UnwindRow {
    fn rules_equal(&self, other: &UnwindRow) -> bool {
        (self.kind, self.cfa_offset, self.rbp_offset, self.ra_offset)
            == (
                other.kind,
                other.cfa_offset,
                other.rbp_offset,
                other.ra_offset,
            )
    }

    /// The row as stored in the rows map.
    pub fn to_bytes(&self) -> [u8; ROW_SIZE as usize] {
        let mut b = [0u8; ROW_SIZE as usize];
        b[0..8].copy_from_slice(&self.pc.to_le_bytes());
        b[8..12].copy_from_slice(&self.cfa_offset.to_le_bytes());
        b[12..14].copy_from_slice(&self.rbp_offset.to_le_bytes());
        b[14] = self.ra_offset as u8;
        b[15] = self.kind as u8;
        b
    }
}

/// A PC range with one set of rules, before merging.
#[derive(Debug, Clone, Copy)]
struct RangeRow {
    start: u64,
    end: u64,
    row: UnwindRow,
}

/// Converts one gimli row into the compact form.
fn compact_row(row: &gimli::UnwindTableRow<usize>) -> UnwindRow {
    let mut out = UnwindRow {
        pc: row.start_address(),
        kind: RowKind::Unsupported,
        cfa_offset: 0,
        rbp_offset: 0,
        ra_offset: 0,
    };
    let (kind, offset) = match row.cfa() {
        CfaRule::RegisterAndOffset { register, offset } if register.0 == DW_RSP => {
            (RowKind::CfaRsp, *offset)
        }
        CfaRule::RegisterAndOffset { register, offset } if register.0 == DW_RBP => {
            (RowKind::CfaRbp, *offset)
        }
        _ => return out,
    };
    let Ok(cfa_offset) = i32::try_from(offset) else {
        return out;
    };
    let ra_offset = match row.register(Register(DW_RA)) {
        Some(RegisterRule::Undefined) => {
            out.kind = RowKind::Outermost;
            return out;
        }
        Some(RegisterRule::Offset(n)) => match i8::try_from(n) {
            Ok(n) => n,
            Err(_) => return out,
        },
        _ => return out,
    };
    let rbp_offset = match row.register(Register(DW_RBP)) {
        None | Some(RegisterRule::SameValue) | Some(RegisterRule::Undefined) => 0,
        Some(RegisterRule::Offset(n)) => match i16::try_from(n) {
            Ok(n) if n != 0 => n,
            _ => return out,
        },
        Some(_) => return out,
    };
    out.kind = kind;
    out.cfa_offset = cfa_offset;
    out.ra_offset = ra_offset;
    out.rbp_offset = rbp_offset;
    out
}

/// Every row of every FDE of one CFI section.
fn section_rows<S: UnwindSection<Slice>>(section: &S, bases: &BaseAddresses) -> Vec<RangeRow>
where
    S::Offset: gimli::UnwindOffset<usize>,
{
    let mut out = Vec::new();
    let mut ctx = UnwindContext::new();
    let mut entries = section.entries(bases);
    while let Ok(Some(entry)) = entries.next() {
        let CieOrFde::Fde(partial) = entry else {
            continue;
        };
        let Ok(fde) = partial.parse(S::cie_from_offset) else {
            continue;
        };
        if fde.len() == 0 {
            continue;
        }
        let Ok(mut table) = fde.rows(section, bases, &mut ctx) else {
            continue;
        };
        while let Ok(Some(row)) = table.next_row() {
            if row.end_address() > row.start_address() {
                out.push(RangeRow {
                    start: row.start_address(),
                    end: row.end_address(),
                    row: compact_row(row),
                });
            }
        }
    }
    out
}

/// The unwind rows of one module's CFI sections, sorted by PC, with
/// [`RowKind::NoCfi`] rows where no FDE covers the code, and neighbours
/// with equal rules merged. `.eh_frame` wins where both sections cover a PC.
pub(crate) fn rows_from_sections(
    eh_frame: &'static [u8],
    eh_frame_address: Option<u64>,
    debug_frame: &'static [u8],
) -> Vec<UnwindRow> {
    let mut ranges = Vec::new();
    if !eh_frame.is_empty() {
        let mut section = EhFrame::new(eh_frame, LittleEndian);
        section.set_address_size(8);
        let bases = BaseAddresses::default().set_eh_frame(eh_frame_address.unwrap_or(0));
        ranges = section_rows(&section, &bases);
    }
    if !debug_frame.is_empty() {
        let mut section = DebugFrame::new(debug_frame, LittleEndian);
        section.set_address_size(8);
        let mut extra = section_rows(&section, &BaseAddresses::default());
        if !ranges.is_empty() {
            let mut covered: Vec<(u64, u64)> = ranges.iter().map(|r| (r.start, r.end)).collect();
            covered.sort_unstable();
            extra.retain(|r| !overlaps(&covered, r.start, r.end));
        }
        ranges.extend(extra);
    }
    merge_ranges(ranges)
}

/// Whether `[start, end)` overlaps any of the sorted ranges.
fn overlaps(sorted: &[(u64, u64)], start: u64, end: u64) -> bool {
    let i = sorted.partition_point(|&(s, _)| s < end);
    sorted[..i].iter().rev().take(64).any(|&(_, e)| e > start)
}

/// Sorted, gap-marked, merged rows from ranges.
fn merge_ranges(mut ranges: Vec<RangeRow>) -> Vec<UnwindRow> {
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut rows: Vec<UnwindRow> = Vec::with_capacity(ranges.len());
    let mut covered_to = 0u64;
    for r in ranges {
        if r.end <= covered_to {
            continue;
        }
        let start = r.start.max(covered_to);
        if !rows.is_empty() && start > covered_to {
            push_merged(&mut rows, no_cfi(covered_to));
        }
        push_merged(&mut rows, UnwindRow { pc: start, ..r.row });
        covered_to = r.end;
    }
    if !rows.is_empty() {
        push_merged(&mut rows, no_cfi(covered_to));
    }
    rows
}

fn no_cfi(pc: u64) -> UnwindRow {
    UnwindRow {
        pc,
        kind: RowKind::NoCfi,
        cfa_offset: 0,
        rbp_offset: 0,
        ra_offset: 0,
    }
}

fn push_merged(rows: &mut Vec<UnwindRow>, row: UnwindRow) {
    match rows.last_mut() {
        Some(last) if last.rules_equal(&row) => {}
        Some(last) if last.pc == row.pc => *last = row,
        _ => rows.push(row),
    }
}

/// One module's entry in the modules map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleUnwind {
    /// First link-time address of executable code.
    pub link_start: u64,
    /// End of the executable link-time range.
    pub link_end: u64,
    /// Load bias, when known.
    pub bias: Option<u64>,
    /// Index of the module's first row in the rows map.
    pub row_start: u32,
    /// Number of rows (0: no CFI, or it did not fit).
    pub row_count: u32,
}

impl ModuleUnwind {
    /// The entry as stored in the modules map.
    pub fn to_bytes(&self) -> [u8; MODULE_ENTRY_SIZE as usize] {
        let mut b = [0u8; MODULE_ENTRY_SIZE as usize];
        b[0..8].copy_from_slice(&self.link_start.to_le_bytes());
        b[8..16].copy_from_slice(&self.link_end.to_le_bytes());
        b[16..24].copy_from_slice(&self.bias.unwrap_or(0).to_le_bytes());
        b[24..28].copy_from_slice(&self.row_start.to_le_bytes());
        b[28..32].copy_from_slice(&self.row_count.to_le_bytes());
        let flags = if self.bias.is_some() {
            MODULE_FLAG_BIAS_KNOWN
        } else {
            0
        };
        b[32..36].copy_from_slice(&flags.to_le_bytes());
        b
    }
}

/// The rows and modules maps' contents for a whole session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnwindTables {
    /// Rows of every module, each module's rows contiguous and sorted.
    pub rows: Vec<UnwindRow>,
    /// One entry per session module, in session order (at most [`MAX_UNWIND_MODULES`]).
    pub modules: Vec<ModuleUnwind>,
    /// Modules whose rows did not fit in the row limit (session indexes).
    pub dropped: Vec<usize>,
}

impl UnwindTables {
    /// Builds the tables for every module of `session`, keeping at most
    /// `max_rows` rows. Modules in `first` get their rows first (the
    /// probed modules); the others follow in session order while they fit.
    pub fn build(session: &DebugSession, max_rows: u32, first: &[usize]) -> UnwindTables {
        let modules = session.modules();
        let count = modules.len().min(MAX_UNWIND_MODULES as usize);
        let per_module: Vec<Vec<UnwindRow>> = std::thread::scope(|s| {
            let handles: Vec<_> = modules[..count]
                .iter()
                .map(|m| s.spawn(|| m.module.unwind_rows()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let mut order: Vec<usize> = first.iter().copied().filter(|&m| m < count).collect();
        order.extend((0..count).filter(|m| !first.contains(m)));
        let mut tables = UnwindTables::default();
        let mut placed = vec![(0u32, 0u32); count];
        for m in order {
            let rows = &per_module[m];
            if tables.rows.len() + rows.len() > max_rows as usize {
                tables.dropped.push(m);
                continue;
            }
            placed[m] = (tables.rows.len() as u32, rows.len() as u32);
            tables.rows.extend_from_slice(rows);
        }
        for (m, loaded) in modules[..count].iter().enumerate() {
            let (link_start, link_end) = executable_range(loaded.module.elf().segments());
            tables.modules.push(ModuleUnwind {
                link_start,
                link_end,
                bias: loaded.load_bias,
                row_start: placed[m].0,
                row_count: placed[m].1,
            });
        }
        tables
    }
}

/// The link-time range spanned by a module's executable segments.
fn executable_range(segments: &[crate::elf::LoadSegment]) -> (u64, u64) {
    let exec = segments.iter().filter(|s| s.executable);
    let start = exec.clone().map(|s| s.vaddr).min().unwrap_or(0);
    let end = exec.map(|s| s.vaddr + s.mem_size).max().unwrap_or(0);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(start: u64, end: u64, kind: RowKind, cfa: i32) -> RangeRow {
        RangeRow {
            start,
            end,
            row: UnwindRow {
                pc: start,
                kind,
                cfa_offset: cfa,
                rbp_offset: 0,
                ra_offset: -8,
            },
        }
    }

    #[test]
    fn gaps_become_no_cfi_rows_and_equal_neighbours_merge() {
        let rows = merge_ranges(vec![
            row(0x1010, 0x1020, RowKind::CfaRsp, 16),
            row(0x1000, 0x1010, RowKind::CfaRsp, 8),
            row(0x1020, 0x1030, RowKind::CfaRsp, 16),
            row(0x1040, 0x1050, RowKind::CfaRbp, 16),
        ]);
        let summary: Vec<(u64, RowKind, i32)> =
            rows.iter().map(|r| (r.pc, r.kind, r.cfa_offset)).collect();
        assert_eq!(
            summary,
            vec![
                (0x1000, RowKind::CfaRsp, 8),
                (0x1010, RowKind::CfaRsp, 16),
                (0x1030, RowKind::NoCfi, 0),
                (0x1040, RowKind::CfaRbp, 16),
                (0x1050, RowKind::NoCfi, 0),
            ]
        );
    }

    #[test]
    fn overlapping_ranges_keep_the_first() {
        let rows = merge_ranges(vec![
            row(0x1000, 0x1020, RowKind::CfaRsp, 8),
            row(0x1010, 0x1030, RowKind::CfaRbp, 16),
        ]);
        assert_eq!(rows[0].pc, 0x1000);
        assert_eq!((rows[1].pc, rows[1].kind), (0x1020, RowKind::CfaRbp));
        assert_eq!((rows[2].pc, rows[2].kind), (0x1030, RowKind::NoCfi));
    }

    #[test]
    fn rows_and_entries_have_their_documented_layout() {
        let r = UnwindRow {
            pc: 0x1122,
            kind: RowKind::CfaRbp,
            cfa_offset: 16,
            rbp_offset: -16,
            ra_offset: -8,
        };
        let b = r.to_bytes();
        assert_eq!(u64::from_le_bytes(b[0..8].try_into().unwrap()), 0x1122);
        assert_eq!(i32::from_le_bytes(b[8..12].try_into().unwrap()), 16);
        assert_eq!(i16::from_le_bytes(b[12..14].try_into().unwrap()), -16);
        assert_eq!(b[ROW_RA_OFFSET as usize] as i8, -8);
        assert_eq!(b[ROW_KIND as usize], 2);
        let m = ModuleUnwind {
            link_start: 0x1000,
            link_end: 0x2000,
            bias: None,
            row_start: 5,
            row_count: 7,
        }
        .to_bytes();
        assert_eq!(u32::from_le_bytes(m[32..36].try_into().unwrap()), 0);
        assert_eq!(u32::from_le_bytes(m[28..32].try_into().unwrap()), 7);
    }
}
