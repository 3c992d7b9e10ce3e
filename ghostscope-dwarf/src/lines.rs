//! Decoded line tables: PC → source position, and source line → PCs.

use std::path::Path;

use crate::dwarf_data::DwarfData;

/// One row of a unit's line table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineRow {
    pub(crate) address: u64,
    pub(crate) file: u32,
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) is_stmt: bool,
    pub(crate) end_sequence: bool,
    pub(crate) prologue_end: bool,
}

/// A source position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    /// The file path as recorded in the line table (joined with the unit's directory).
    pub file: String,
    /// 1-based line; 0 when unknown.
    pub line: u32,
    /// 1-based column; 0 when unknown.
    pub column: u32,
}

/// The line table of one unit, with file paths resolved.
#[derive(Debug, Default)]
pub(crate) struct LineTable {
    pub(crate) files: Vec<String>,
    /// Rows sorted by sequence, each sequence sorted by address.
    pub(crate) rows: Vec<LineRow>,
}

impl LineTable {
    /// Decodes the line program of unit `u` (empty when it has none).
    pub(crate) fn decode(data: &DwarfData, u: usize) -> LineTable {
        let unit = &data.units[u].unit;
        let Some(program) = unit.line_program.clone() else {
            return LineTable::default();
        };
        let mut files = Vec::new();
        let mut index_map = std::collections::HashMap::new();
        for (i, path) in file_entries(data, u) {
            index_map.insert(i, files.len() as u32);
            files.push(path);
        }
        let mut rows = Vec::new();
        let mut sequences: Vec<Vec<LineRow>> = Vec::new();
        let mut current = Vec::new();
        let mut state = program.rows();
        while let Ok(Some((_, row))) = state.next_row() {
            let file = index_map
                .get(&row.file_index())
                .copied()
                .unwrap_or(u32::MAX);
            let line = row.line().map_or(0, |l| l.get() as u32);
            let column = match row.column() {
                gimli::ColumnType::LeftEdge => 0,
                gimli::ColumnType::Column(c) => c.get() as u32,
            };
            current.push(LineRow {
                address: row.address(),
                file,
                line,
                column,
                is_stmt: row.is_stmt(),
                end_sequence: row.end_sequence(),
                prologue_end: row.prologue_end(),
            });
            if row.end_sequence() {
                sequences.push(std::mem::take(&mut current));
            }
        }
        // Sequences of discarded functions (address 0 in relocatable-linked
        // output) are noise; keep the rest ordered by start address.
        sequences.retain(|s| s.first().is_some_and(|r| r.address != 0));
        sequences.sort_by_key(|s| s[0].address);
        for s in sequences {
            rows.extend(s);
        }
        LineTable { files, rows }
    }

    /// The source position of the row that covers `pc`.
    pub(crate) fn location(&self, pc: u64) -> Option<SourceLocation> {
        let mut best: Option<&LineRow> = None;
        for pair in self.rows.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if !a.end_sequence && a.address <= pc && pc < b.address {
                best = Some(a);
                if a.line != 0 {
                    break;
                }
            }
        }
        let row = best?;
        Some(SourceLocation {
            file: self
                .files
                .get(row.file as usize)
                .cloned()
                .unwrap_or_default(),
            line: row.line,
            column: row.column,
        })
    }

    /// The first PC after the prologue of a function starting at `low_pc`
    /// and ending before `high_pc`: a row marked `prologue_end`, else the
    /// next statement row after the entry, which is where gcc ends the
    /// prologue (after the argument spills), as debuggers assume.
    pub(crate) fn prologue_end(&self, low_pc: u64, high_pc: u64) -> Option<u64> {
        let rows = || {
            self.rows
                .iter()
                .filter(move |r| !r.end_sequence && r.address >= low_pc && r.address < high_pc)
        };
        if let Some(r) = rows().find(|r| r.prologue_end) {
            return Some(r.address);
        }
        rows()
            .find(|r| r.address > low_pc && r.is_stmt)
            .map(|r| r.address)
    }

    /// Addresses of `line` in any of `files`, grouped by contiguous runs so
    /// each code copy (a function or an inlined instance) yields its lowest
    /// address. With `statements`, only `is_stmt` rows count; without,
    /// every row does (for a line the compiler gave no statement row).
    pub(crate) fn line_addresses(&self, files: &[u32], line: u32, statements: bool) -> Vec<u64> {
        let mut out = Vec::new();
        let mut in_run = false;
        for r in &self.rows {
            let hit = !r.end_sequence
                && (r.is_stmt || !statements)
                && r.line == line
                && files.contains(&r.file);
            if hit && !in_run {
                out.push(r.address);
            }
            // A run continues across rows of the same line (column changes).
            if r.end_sequence || r.line != line || !files.contains(&r.file) {
                in_run = false;
            } else if hit {
                in_run = true;
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Whether a recorded path matches what the user wrote: the same path, or a
/// suffix that starts at a `/` boundary.
/// The file paths of unit `u`'s line program header, by DWARF file index,
/// without decoding its rows (cheap: gimli parsed the header with the unit).
pub(crate) fn file_names(data: &DwarfData, u: usize) -> Vec<String> {
    file_entries(data, u).into_iter().map(|(_, p)| p).collect()
}

fn file_entries(data: &DwarfData, u: usize) -> Vec<(u64, String)> {
    let unit = &data.units[u].unit;
    let Some(program) = unit.line_program.as_ref() else {
        return Vec::new();
    };
    let comp_dir = unit
        .comp_dir
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let header = program.header();
    let count = header.file_names().len() as u64;
    // DWARF 5 numbers files from 0, earlier versions from 1.
    let first = if header.version() >= 5 { 0 } else { 1 };
    let mut out = Vec::new();
    for i in first..first + count {
        let Some(file) = header.file(i) else { continue };
        let name = data
            .dwarf
            .attr_string(unit, file.path_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = file
            .directory(header)
            .and_then(|d| data.dwarf.attr_string(unit, d).ok())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((i, join_path(&comp_dir, &dir, &name)));
    }
    out
}

pub(crate) fn path_matches(recorded: &str, wanted: &str) -> bool {
    if recorded == wanted {
        return true;
    }
    let wanted = wanted.trim_start_matches("./");
    recorded.len() > wanted.len()
        && recorded.ends_with(wanted)
        && recorded.as_bytes()[recorded.len() - wanted.len() - 1] == b'/'
}

fn join_path(comp_dir: &str, dir: &str, name: &str) -> String {
    if name.starts_with('/') {
        return name.to_string();
    }
    let base = if dir.starts_with('/') {
        Path::new(dir).to_path_buf()
    } else {
        Path::new(comp_dir).join(dir)
    };
    base.join(name).to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_suffixes_match_only_at_component_boundaries() {
        assert!(path_matches("/build/app/src/net.c", "src/net.c"));
        assert!(path_matches("/build/app/src/net.c", "net.c"));
        assert!(path_matches("/build/app/src/net.c", "/build/app/src/net.c"));
        assert!(!path_matches("/build/app/src/subnet.c", "net.c"));
        assert!(!path_matches("/build/app/src/net.c", "app/net.c"));
    }

    fn row(address: u64, line: u32, is_stmt: bool) -> LineRow {
        LineRow {
            address,
            file: 0,
            line,
            column: 0,
            is_stmt,
            end_sequence: false,
            prologue_end: false,
        }
    }

    #[test]
    fn lines_resolve_to_the_start_of_each_run_of_rows() {
        let mut end = row(0x40, 0, false);
        end.end_sequence = true;
        let table = LineTable {
            files: vec!["/src/t.c".into()],
            rows: vec![
                row(0x10, 11, true),
                row(0x14, 11, false),
                row(0x18, 10, true),
                // Line 11 again (a loop body): a second copy.
                row(0x20, 11, false),
                row(0x24, 11, true),
                // Line 13 has only non-statement rows.
                row(0x30, 13, false),
                row(0x34, 13, false),
                row(0x38, 12, true),
                row(0x3c, 13, false),
                end,
            ],
        };
        assert_eq!(table.line_addresses(&[0], 11, true), vec![0x10, 0x24]);
        assert_eq!(table.line_addresses(&[0], 13, true), Vec::<u64>::new());
        assert_eq!(table.line_addresses(&[0], 13, false), vec![0x30, 0x3c]);
        assert_eq!(table.line_addresses(&[1], 11, true), Vec::<u64>::new());
    }

    #[test]
    fn relative_paths_join_the_compilation_directory() {
        assert_eq!(join_path("/w", "", "a.c"), "/w/a.c");
        assert_eq!(join_path("/w", "src", "a.c"), "/w/src/a.c");
        assert_eq!(
            join_path("/w", "/usr/include", "stdio.h"),
            "/usr/include/stdio.h"
        );
        assert_eq!(join_path("/w", "src", "/abs/a.c"), "/abs/a.c");
    }
}
