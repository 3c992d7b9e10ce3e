//! The file-backed mappings of a running process, from `/proc/PID/maps`.

use std::path::{Path, PathBuf};

use crate::elf::LoadSegment;
use crate::error::DwarfError;

/// One line of `/proc/PID/maps` that maps a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// First mapped address.
    pub start: u64,
    /// One past the last mapped address.
    pub end: u64,
    /// File offset of `start`.
    pub offset: u64,
    /// Device and inode of the file.
    pub dev_inode: (String, u64),
    /// Path as the target process sees it.
    pub path: String,
    /// The file was deleted or replaced after it was mapped (a rebuilt binary).
    pub deleted: bool,
}

/// Parses the file-backed mappings of `pid`, in address order.
pub fn read_mappings(pid: u32) -> Result<Vec<Mapping>, DwarfError> {
    let path = PathBuf::from(format!("/proc/{pid}/maps"));
    let text = std::fs::read_to_string(&path).map_err(|e| DwarfError::Proc { path, source: e })?;
    Ok(parse_maps(&text))
}

/// Parses the text of a maps file, keeping only mappings of real files.
pub fn parse_maps(text: &str) -> Vec<Mapping> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_ascii_whitespace();
            let range = fields.next()?;
            let _perms = fields.next()?;
            let offset = u64::from_str_radix(fields.next()?, 16).ok()?;
            let dev = fields.next()?.to_string();
            let inode: u64 = fields.next()?.parse().ok()?;
            let path = fields.collect::<Vec<_>>().join(" ");
            if inode == 0 || !path.starts_with('/') {
                return None;
            }
            let (path, deleted) = match path.strip_suffix(" (deleted)") {
                Some(p) => (p.to_string(), true),
                None => (path, false),
            };
            let (start, end) = range.split_once('-')?;
            Some(Mapping {
                start: u64::from_str_radix(start, 16).ok()?,
                end: u64::from_str_radix(end, 16).ok()?,
                offset,
                dev_inode: (dev, inode),
                path,
                deleted,
            })
        })
        .collect()
}

const PAGE: u64 = 4096;

/// The load bias of a module from its mappings: runtime address minus
/// link-time virtual address. A mapping at file offset `o` holds the
/// segment whose page-aligned file offset is `o`.
pub fn load_bias(segments: &[LoadSegment], mappings: &[&Mapping]) -> Option<u64> {
    for m in mappings {
        for s in segments {
            if s.file_offset & !(PAGE - 1) == m.offset {
                return Some(m.start.wrapping_sub(s.vaddr & !(PAGE - 1)));
            }
        }
    }
    None
}

/// A path through which ghostscope can open (and the kernel can probe) a
/// file the target maps: its own path when that is the same file; for a
/// deleted or replaced file the mapping itself in `/proc/PID/map_files`;
/// else the path through the target's root (other mount namespaces).
pub fn accessible_path(pid: u32, mapping: &Mapping) -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    if mapping.deleted {
        return PathBuf::from(format!(
            "/proc/{pid}/map_files/{:x}-{:x}",
            mapping.start, mapping.end
        ));
    }
    let direct = Path::new(&mapping.path);
    if let Ok(meta) = std::fs::metadata(direct) {
        if meta.ino() == mapping.dev_inode.1 {
            return direct.to_path_buf();
        }
    }
    PathBuf::from(format!("/proc/{pid}/root{}", mapping.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0c0de0000-55d0c0de1000 r--p 00000000 fd:01 1234 /opt/orderd/bin/orderd
55d0c0de1000-55d0c0de2000 r-xp 00001000 fd:01 1234 /opt/orderd/bin/orderd
55d0c0de4000-55d0c0de5000 rw-p 00003000 fd:01 1234 /opt/orderd/bin/orderd
55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000001000 r-xp 00000000 fd:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
";

    #[test]
    fn deleted_files_are_marked_and_reached_through_map_files() {
        let maps =
            parse_maps("55d0c0de0000-55d0c0de1000 r--p 00000000 fd:01 1234 /opt/app (deleted)\n");
        assert_eq!(maps[0].path, "/opt/app");
        assert!(maps[0].deleted);
        assert_eq!(
            accessible_path(42, &maps[0]),
            PathBuf::from("/proc/42/map_files/55d0c0de0000-55d0c0de1000")
        );
    }

    #[test]
    fn keeps_only_file_mappings() {
        let maps = parse_maps(MAPS);
        assert_eq!(maps.len(), 4);
        assert_eq!(maps[0].path, "/opt/orderd/bin/orderd");
        assert_eq!(maps[1].offset, 0x1000);
        assert_eq!(maps[3].dev_inode, ("fd:01".to_string(), 99));
    }

    #[test]
    fn bias_of_a_pie_and_of_a_fixed_executable() {
        let maps = parse_maps(MAPS);
        let pie = [
            LoadSegment {
                vaddr: 0,
                mem_size: 0x1000,
                file_offset: 0,
                file_size: 0x1000,
                executable: false,
            },
            LoadSegment {
                vaddr: 0x1000,
                mem_size: 0x1000,
                file_offset: 0x1000,
                file_size: 0x1000,
                executable: true,
            },
        ];
        let mine: Vec<&Mapping> = maps.iter().filter(|m| m.dev_inode.1 == 1234).collect();
        assert_eq!(load_bias(&pie, &mine), Some(0x55d0c0de0000));
        let fixed = [LoadSegment {
            vaddr: 0x400000,
            mem_size: 0x1000,
            file_offset: 0,
            file_size: 0x1000,
            executable: true,
        }];
        let m = Mapping {
            start: 0x400000,
            end: 0x401000,
            offset: 0,
            dev_inode: ("fd:01".into(), 5),
            path: "/bin/x".into(),
            deleted: false,
        };
        assert_eq!(load_bias(&fixed, &[&m]), Some(0));
    }
}
