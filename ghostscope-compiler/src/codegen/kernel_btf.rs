//! Offsets of kernel struct members, from the running kernel's BTF.
//!
//! Only one question is asked (where `task_struct.thread.fsbase` is), once
//! per process, so this reads the type section in one pass and keeps
//! nothing but where each type starts: about 3 ms for a 5.5 MB vmlinux BTF,
//! where building a full type table takes a hundred times longer.

use std::path::Path;

const MAGIC: u16 = 0xeb9f;
const HEADER_SIZE: usize = 24;

/// BTF kinds this reader follows; the others are only skipped.
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_TYPE_TAG: u32 = 18;

/// A BTF blob with the start of every type record indexed by type id.
pub(super) struct KernelBtf {
    data: Vec<u8>,
    /// Byte offset of the string section.
    strings: usize,
    /// Byte offset of each type's record; index 0 is `void`.
    types: Vec<usize>,
}

/// One type record's fixed part.
#[derive(Debug, Clone, Copy)]
struct TypeRecord {
    name: u32,
    kind: u32,
    vlen: usize,
    kind_flag: bool,
    /// `size` or `type`, depending on the kind.
    size_or_type: u32,
    /// Where the kind-specific data begins.
    extra: usize,
}

impl KernelBtf {
    /// Reads and indexes a BTF file.
    pub(super) fn open(path: &Path) -> Result<KernelBtf, String> {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        KernelBtf::parse(data).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Indexes a BTF blob (little-endian, as on x86-64).
    pub(super) fn parse(data: Vec<u8>) -> Result<KernelBtf, String> {
        let u16_at = |at: usize| {
            data.get(at..at + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
        };
        if u16_at(0) != Some(MAGIC) {
            return Err("not little-endian BTF (bad magic)".to_string());
        }
        let word = |at: usize| read_u32(&data, at).ok_or("truncated BTF header");
        let header_len = word(4)? as usize;
        let type_start = header_len.max(HEADER_SIZE) + word(8)? as usize;
        let type_end = type_start + word(12)? as usize;
        let strings = header_len.max(HEADER_SIZE) + word(16)? as usize;
        if type_end > data.len() || strings > data.len() {
            return Err("BTF sections lie outside the file".to_string());
        }
        let mut btf = KernelBtf {
            data,
            strings,
            types: vec![0],
        };
        let mut at = type_start;
        while at < type_end {
            btf.types.push(at);
            let record = btf.record_at(at).ok_or("truncated BTF type record")?;
            at = record.extra + extra_size(record.kind, record.vlen)?;
        }
        Ok(btf)
    }

    fn record_at(&self, at: usize) -> Option<TypeRecord> {
        let info = read_u32(&self.data, at + 4)?;
        Some(TypeRecord {
            name: read_u32(&self.data, at)?,
            kind: (info >> 24) & 0x1f,
            vlen: (info & 0xffff) as usize,
            kind_flag: info >> 31 != 0,
            size_or_type: read_u32(&self.data, at + 8)?,
            extra: at + 12,
        })
    }

    fn record(&self, id: u32) -> Option<TypeRecord> {
        self.record_at(*self.types.get(id as usize).filter(|_| id != 0)?)
    }

    fn name(&self, offset: u32) -> &[u8] {
        let start = self.strings + offset as usize;
        let rest = self.data.get(start..).unwrap_or_default();
        &rest[..rest.iter().position(|&b| b == 0).unwrap_or(rest.len())]
    }

    /// Follows typedefs, qualifiers and type tags.
    fn strip(&self, mut id: u32) -> Option<u32> {
        for _ in 0..32 {
            let r = self.record(id)?;
            match r.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = r.size_or_type
                }
                _ => return Some(id),
            }
        }
        None
    }

    /// The id of the struct (with members) named `name`.
    fn struct_named(&self, name: &str) -> Option<u32> {
        (1..self.types.len() as u32).find(|&id| {
            self.record(id).is_some_and(|r| {
                r.kind == KIND_STRUCT && r.vlen > 0 && self.name(r.name) == name.as_bytes()
            })
        })
    }

    /// The bit offset and type id of member `name` of a struct or union,
    /// looking into anonymous members (as a randomised layout has).
    fn member(&self, id: u32, name: &str) -> Option<(u64, u32)> {
        let r = self.record(self.strip(id)?)?;
        if r.kind != KIND_STRUCT && r.kind != KIND_UNION {
            return None;
        }
        for i in 0..r.vlen {
            let at = r.extra + i * 12;
            let member_name = read_u32(&self.data, at)?;
            let member_type = read_u32(&self.data, at + 4)?;
            let raw_offset = read_u32(&self.data, at + 8)?;
            // With kind_flag, the top byte is a bitfield size.
            let bits = u64::from(if r.kind_flag {
                raw_offset & 0x00ff_ffff
            } else {
                raw_offset
            });
            let this_name = self.name(member_name);
            if this_name == name.as_bytes() {
                return Some((bits, member_type));
            }
            if this_name.is_empty() {
                if let Some((inner, found)) = self.member(member_type, name) {
                    return Some((bits + inner, found));
                }
            }
        }
        None
    }

    /// The byte offset of a member path inside struct `root`, for example
    /// `("task_struct", &["thread", "fsbase"])`.
    pub(super) fn member_offset(&self, root: &str, path: &[&str]) -> Result<u64, String> {
        let mut id = self
            .struct_named(root)
            .ok_or_else(|| format!("no struct {root} in the kernel's BTF"))?;
        let mut bits = 0;
        let mut owner = root.to_string();
        for member in path {
            let (offset, next) = self
                .member(id, member)
                .ok_or_else(|| format!("{owner} has no member '{member}'"))?;
            bits += offset;
            id = next;
            owner = format!("{owner}.{member}");
        }
        Ok(bits / 8)
    }
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Bytes that follow a type record of `kind` with `vlen` entries.
fn extra_size(kind: u32, vlen: usize) -> Result<usize, String> {
    Ok(match kind {
        // int, var, decl_tag
        1 | 14 | 17 => 4,
        // ptr, fwd, typedef, volatile, const, restrict, func, float, type_tag
        2 | 7..=12 | 16 | 18 => 0,
        // array
        3 => 12,
        // struct, union, datasec, enum64
        4 | 5 | 15 | 19 => 12 * vlen,
        // enum, func_proto
        6 | 13 => 8 * vlen,
        other => return Err(format!("unknown BTF kind {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a BTF blob from type records (already encoded) and strings.
    fn blob(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let type_bytes: Vec<u8> = types.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.extend_from_slice(&[1, 0]);
        for w in [
            24u32,
            0,
            type_bytes.len() as u32,
            type_bytes.len() as u32,
            strings.len() as u32,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&type_bytes);
        out.extend_from_slice(strings);
        out
    }

    fn info(kind: u32, vlen: u32, kind_flag: bool) -> u32 {
        (u32::from(kind_flag) << 31) | (kind << 24) | vlen
    }

    #[test]
    fn finds_a_member_path_through_typedefs_and_anonymous_members() {
        // Strings: 0 "", 1 "long", 6 "fsbase", 13 "thread_struct",
        // 27 "thread", 34 "task_struct", 46 "pid".
        let strings = b"\0long\0fsbase\0thread_struct\0thread\0task_struct\0pid\0";
        let types = [
            // 1: int "long", 8 bytes
            1,
            info(1, 0, false),
            8,
            64,
            // 2: struct thread_struct { long pad @0; long fsbase @64 bits }
            13,
            info(4, 2, false),
            16,
            0,
            1,
            0,
            6,
            1,
            64,
            // 3: typedef thread_t = thread_struct (unnamed here)
            0,
            info(8, 0, false),
            2,
            // 4: anonymous struct { thread_t thread @128 bits } (bitfield-style offsets)
            0,
            info(4, 1, true),
            40,
            27,
            3,
            128,
            // 5: struct task_struct { int pid @0; <anon> @64 bits }
            34,
            info(4, 2, false),
            64,
            46,
            1,
            0,
            0,
            4,
            64,
        ];
        let btf = KernelBtf::parse(blob(&types, strings)).unwrap();
        assert_eq!(
            btf.member_offset("task_struct", &["thread", "fsbase"]),
            Ok((64 + 128 + 64) / 8)
        );
        assert_eq!(
            btf.member_offset("task_struct", &["thread", "gsbase"]),
            Err("task_struct.thread has no member 'gsbase'".to_string())
        );
        assert!(btf.member_offset("mm_struct", &["pgd"]).is_err());
    }

    #[test]
    fn rejects_what_is_not_btf() {
        assert!(KernelBtf::parse(b"\x7fELF".to_vec()).is_err());
    }
}
