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

/// Bytes of one row.
pub const ROW_SIZE: u32 = 16;
/// Offset of the row's `u64` first PC (as the program looks it up).
pub const ROW_PC: u32 = 0;
/// Offset of the row's `i16` CFA offset.
pub const ROW_CFA_OFFSET: u32 = 8;
/// Offset of the row's `i16` offset of the saved RBP from the CFA (0: unchanged).
pub const ROW_RBP_OFFSET: u32 = 10;
/// Offset of the row's `u16` session module index.
pub const ROW_MODULE: u32 = 12;
/// Offset of the row's `i8` offset of the return address from the CFA.
pub const ROW_RA_OFFSET: u32 = 14;
/// Offset of the row's `u8` [`RowKind`].
pub const ROW_KIND: u32 = 15;

/// Rows per page: one element of the rows map.
pub const ROWS_PER_PAGE: u32 = 256;
/// Bytes per page.
pub const PAGE_SIZE: u32 = ROWS_PER_PAGE * ROW_SIZE;
/// Most pages (1048576 rows, the largest `backtrace_unwind_rows_max_entries`).
pub const MAX_PAGES: u32 = 4096;
/// Bytes of the page index: the first PC of every page, `u64` each.
pub const INDEX_SIZE: u32 = MAX_PAGES * 8;
/// Halving steps that search the page index (`log2(MAX_PAGES)`).
pub const PAGE_SEARCH_STEPS: u32 = 12;
/// Halving steps that search one page (`log2(ROWS_PER_PAGE)`).
pub const ROW_SEARCH_STEPS: u32 = 8;
/// PC of unused rows and index slots: above every user address, and still
/// positive as an `i64`, which the program's branch-free compare needs.
pub const PAD_PC: u64 = i64::MAX as u64;
/// Module index of rows outside every module.
pub const NO_MODULE: u16 = 0xffff;

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
    /// Not code of any known module.
    NoModule = 5,
}

/// One unwind row: the rules from `pc` up to the next row's PC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnwindRow {
    /// Module-relative (link-time) first PC.
    pub pc: u64,
    /// What the row says.
    pub kind: RowKind,
    /// Session module index ([`NO_MODULE`] outside every module).
    pub module: u16,
    /// CFA offset from RSP or RBP.
    pub cfa_offset: i16,
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
        b[8..10].copy_from_slice(&self.cfa_offset.to_le_bytes());
        b[10..12].copy_from_slice(&self.rbp_offset.to_le_bytes());
        b[12..14].copy_from_slice(&self.module.to_le_bytes());
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
        module: NO_MODULE,
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
    let Ok(cfa_offset) = i16::try_from(offset) else {
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
    marker(pc, RowKind::NoCfi)
}

fn marker(pc: u64, kind: RowKind) -> UnwindRow {
    UnwindRow {
        pc,
        kind,
        module: NO_MODULE,
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

/// The rows of a whole session, in the order the program searches them.
///
/// With `-p` every module's load bias is known, so rows are stored at
/// runtime addresses, each module's rows bracketed by its executable range
/// (a [`RowKind::NoCfi`] row where its code starts without CFI, a
/// [`RowKind::NoModule`] row where it ends): one search finds both the
/// module and the rule. Without a process (`-t` alone) only the target
/// file's rows are stored, at link-time addresses, and the program
/// subtracts the bias it computes at the hit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnwindTables {
    /// Rows sorted by PC.
    pub rows: Vec<UnwindRow>,
    /// What each session module's rows were shifted by (0 without a process).
    pub table_biases: Vec<u64>,
    /// Modules whose rows did not fit in the row limit (session indexes);
    /// their code is covered by one [`RowKind::NoCfi`] row.
    pub dropped: Vec<usize>,
}

impl UnwindTables {
    /// Builds the rows for the modules of `session`, keeping at most
    /// `max_rows`. Modules in `first` (the probed ones) get their rows first;
    /// the others follow in session order while they fit.
    pub fn build(session: &DebugSession, max_rows: u32, first: &[usize]) -> UnwindTables {
        let modules = session.modules();
        let absolute = is_absolute(modules.iter().map(|m| m.load_bias));
        let count = if absolute {
            modules.len().min(NO_MODULE as usize)
        } else {
            modules.len().min(1)
        };
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
        let mut tables = UnwindTables {
            table_biases: table_biases(session),
            ..UnwindTables::default()
        };
        let max_rows = max_rows.min(MAX_PAGES * ROWS_PER_PAGE) as usize;
        let mut all = Vec::new();
        for m in order {
            let (link_start, link_end) = executable_range(modules[m].module.elf().segments());
            if link_end <= link_start {
                continue;
            }
            let mut rows = bracket(&per_module[m], link_start, link_end);
            if all.len() + rows.len() > max_rows {
                tables.dropped.push(m);
                rows = bracket(&[], link_start, link_end);
                if all.len() + rows.len() > max_rows {
                    continue;
                }
            }
            let bias = tables.table_biases[m];
            all.extend(rows.into_iter().map(|r| UnwindRow {
                pc: r.pc.wrapping_add(bias),
                module: if r.kind == RowKind::NoModule {
                    NO_MODULE
                } else {
                    m as u16
                },
                ..r
            }));
        }
        // A module's end marker and the next module's first row may share a PC: the row wins.
        all.sort_by_key(|r| (r.pc, r.kind != RowKind::NoModule));
        for r in all {
            match tables.rows.last_mut() {
                Some(last) if last.pc == r.pc => *last = r,
                _ => tables.rows.push(r),
            }
        }
        tables
    }

    /// The rows map's pages (padded with [`PAD_PC`] rows) and the page index.
    pub fn pages(&self) -> (Vec<u8>, Vec<u8>) {
        let mut pages = Vec::new();
        let mut index = Vec::with_capacity(INDEX_SIZE as usize);
        for page in self.rows.chunks(ROWS_PER_PAGE as usize) {
            index.extend_from_slice(&page[0].pc.to_le_bytes());
            for r in page {
                pages.extend_from_slice(&r.to_bytes());
            }
            let pad = marker(PAD_PC, RowKind::NoModule).to_bytes();
            for _ in page.len()..ROWS_PER_PAGE as usize {
                pages.extend_from_slice(&pad);
            }
        }
        while index.len() < INDEX_SIZE as usize {
            index.extend_from_slice(&PAD_PC.to_le_bytes());
        }
        (pages, index)
    }
}

/// What each session module's rows are shifted by in the table: its load
/// bias when every bias is known, else 0 (rows stay at link-time addresses).
pub fn table_biases(session: &DebugSession) -> Vec<u64> {
    let modules = session.modules();
    let absolute = is_absolute(modules.iter().map(|m| m.load_bias));
    modules
        .iter()
        .map(|m| {
            if absolute {
                m.load_bias.unwrap_or(0)
            } else {
                0
            }
        })
        .collect()
}

/// Whether rows can be stored at runtime addresses: every bias is known.
pub fn is_absolute(mut biases: impl Iterator<Item = Option<u64>>) -> bool {
    biases.all(|b| b.is_some())
}

/// The link-time range spanned by a module's executable segments.
fn executable_range(segments: &[crate::elf::LoadSegment]) -> (u64, u64) {
    let exec = segments.iter().filter(|s| s.executable);
    let start = exec.clone().map(|s| s.vaddr).min().unwrap_or(0);
    let end = exec.map(|s| s.vaddr + s.mem_size).max().unwrap_or(0);
    (start, end)
}

/// A module's rows clipped to its executable range, starting with a
/// [`RowKind::NoCfi`] row where its code has no CFI and ending with a
/// [`RowKind::NoModule`] row at its end.
fn bracket(rows: &[UnwindRow], start: u64, end: u64) -> Vec<UnwindRow> {
    let mut out = Vec::with_capacity(rows.len() + 2);
    let inside = rows.partition_point(|r| r.pc <= start);
    match inside.checked_sub(1).map(|i| rows[i]) {
        Some(r) => out.push(UnwindRow { pc: start, ..r }),
        None => out.push(no_cfi(start)),
    }
    out.extend(rows[inside..].iter().filter(|r| r.pc < end));
    out.push(marker(end, RowKind::NoModule));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(start: u64, end: u64, kind: RowKind, cfa: i16) -> RangeRow {
        RangeRow {
            start,
            end,
            row: UnwindRow {
                pc: start,
                kind,
                module: NO_MODULE,
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
        let summary: Vec<(u64, RowKind, i16)> =
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
    fn rows_have_their_documented_layout() {
        let r = UnwindRow {
            pc: 0x1122,
            kind: RowKind::CfaRbp,
            module: 3,
            cfa_offset: 16,
            rbp_offset: -16,
            ra_offset: -8,
        };
        let b = r.to_bytes();
        assert_eq!(u64::from_le_bytes(b[0..8].try_into().unwrap()), 0x1122);
        assert_eq!(i16::from_le_bytes(b[8..10].try_into().unwrap()), 16);
        assert_eq!(i16::from_le_bytes(b[10..12].try_into().unwrap()), -16);
        assert_eq!(u16::from_le_bytes(b[12..14].try_into().unwrap()), 3);
        assert_eq!(b[ROW_RA_OFFSET as usize] as i8, -8);
        assert_eq!(b[ROW_KIND as usize], 2);
    }

    #[test]
    fn module_rows_are_bracketed_by_its_code_range() {
        let rows = merge_ranges(vec![row(0x1010, 0x1020, RowKind::CfaRsp, 8)]);
        let b = bracket(&rows, 0x1000, 0x1100);
        let summary: Vec<(u64, RowKind)> = b.iter().map(|r| (r.pc, r.kind)).collect();
        assert_eq!(
            summary,
            vec![
                (0x1000, RowKind::NoCfi),
                (0x1010, RowKind::CfaRsp),
                (0x1020, RowKind::NoCfi),
                (0x1100, RowKind::NoModule)
            ]
        );
        let none = bracket(&[], 0x1000, 0x1100);
        assert_eq!(none.len(), 2);
    }

    #[test]
    fn pages_are_padded_and_indexed() {
        let tables = UnwindTables {
            rows: (0..300)
                .map(|i| UnwindRow {
                    pc: 0x1000 + i * 4,
                    ..no_cfi(0)
                })
                .collect(),
            ..UnwindTables::default()
        };
        let (pages, index) = tables.pages();
        assert_eq!(pages.len(), 2 * PAGE_SIZE as usize);
        assert_eq!(index.len(), INDEX_SIZE as usize);
        let at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        assert_eq!(at(&index, 0), 0x1000);
        assert_eq!(at(&index, 8), 0x1000 + 256 * 4);
        assert_eq!(at(&index, 16), PAD_PC);
        assert_eq!(at(&pages, (PAGE_SIZE + 44 * ROW_SIZE) as usize), PAD_PC);
    }
}
