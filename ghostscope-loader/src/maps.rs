//! The shared maps, created with a plain `BPF_MAP_CREATE` so they exist
//! before, and independently of, any BPF object.

use std::os::fd::{FromRawFd, OwnedFd};

use crate::LoaderError;

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_MAP_UPDATE_BATCH: libc::c_long = 26;
const BPF_MAP_TYPE_HASH: u32 = 1;
const BPF_MAP_TYPE_ARRAY: u32 = 2;
const BPF_MAP_TYPE_PERF_EVENT_ARRAY: u32 = 4;
const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
const BPF_MAP_TYPE_RINGBUF: u32 = 27;

/// The maps ghostscope shares between all its programs.
#[derive(Debug, Clone, Copy)]
pub enum MapKind {
    /// The event ring buffer of `size` bytes (a power-of-two number of pages).
    RingBuf {
        /// Size in bytes.
        size: u32,
    },
    /// The per-CPU event buffers: CPU index → perf event fd.
    PerfEventArray {
        /// Possible CPUs.
        cpus: u32,
    },
    /// The per-CPU element an event is built in before it is copied to a
    /// perf buffer.
    EventScratch {
        /// Bytes of the element (the largest event).
        value_size: u32,
    },
    /// Per-trace loss counters: `u32` trace id → `u64` count.
    LossCounters {
        /// Most traces that can be counted at once.
        max_traces: u32,
    },
    /// Pages of unwind rows for in-kernel backtraces: `u32` page → `value_size` bytes.
    UnwindRows {
        /// Most pages.
        pages: u32,
        /// Bytes per page.
        value_size: u32,
    },
    /// The unwind page index: one element of `value_size` bytes (the first
    /// PC of every page), read in place by the programs.
    UnwindIndex {
        /// Bytes of the one element.
        value_size: u32,
    },
}

/// Creates a map and returns its file descriptor.
pub(crate) fn create(kind: MapKind) -> Result<OwnedFd, LoaderError> {
    // `union bpf_attr` for BPF_MAP_CREATE: map_type, key_size, value_size,
    // max_entries, map_flags as u32s, then map_name[16] at byte 28. The rest
    // must be zero.
    let mut attr = [0u8; 128];
    let (what, map_type, key, value, entries, name): (&str, u32, u32, u32, u32, &[u8]) = match kind
    {
        MapKind::RingBuf { size } => (
            "event ring buffer",
            BPF_MAP_TYPE_RINGBUF,
            0,
            0,
            size,
            b"gs_events",
        ),
        MapKind::PerfEventArray { cpus } => (
            "per-CPU event buffer",
            BPF_MAP_TYPE_PERF_EVENT_ARRAY,
            4,
            4,
            cpus,
            b"gs_events",
        ),
        MapKind::EventScratch { value_size } => (
            "event scratch",
            BPF_MAP_TYPE_PERCPU_ARRAY,
            4,
            value_size,
            1,
            b"gs_event_tmp",
        ),
        MapKind::LossCounters { max_traces } => (
            "loss counter",
            BPF_MAP_TYPE_HASH,
            4,
            8,
            max_traces,
            b"gs_losses",
        ),
        MapKind::UnwindRows { pages, value_size } => (
            "unwind rows",
            BPF_MAP_TYPE_ARRAY,
            4,
            value_size,
            pages,
            b"gs_unwind_rows",
        ),
        MapKind::UnwindIndex { value_size } => (
            "unwind index",
            BPF_MAP_TYPE_ARRAY,
            4,
            value_size,
            1,
            b"gs_unwind_index",
        ),
    };
    for (i, v) in [map_type, key, value, entries].iter().enumerate() {
        attr[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
    }
    attr[28..28 + name.len()].copy_from_slice(name);
    // SAFETY: `attr` is a valid, fully initialised bpf_attr of the size passed.
    let fd = unsafe { libc::syscall(libc::SYS_bpf, BPF_MAP_CREATE, attr.as_ptr(), attr.len()) };
    if fd < 0 {
        return Err(LoaderError::MapCreate {
            what,
            source: std::io::Error::last_os_error(),
        });
    }
    // SAFETY: the kernel returned a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Writes `values` (each `value_size` bytes, concatenated) at array indexes
/// 0, 1, … of the map `fd`: in one batch where the kernel supports it,
/// else one element at a time.
pub(crate) fn fill_array(
    fd: i32,
    what: &'static str,
    values: &[u8],
    value_size: usize,
) -> Result<(), LoaderError> {
    let count = values.len() / value_size;
    if count == 0 {
        return Ok(());
    }
    let keys: Vec<u32> = (0..count as u32).collect();
    // `union bpf_attr` for BPF_MAP_*_BATCH: in_batch, out_batch, keys,
    // values (u64 pointers), count, map_fd (u32), elem_flags, flags (u64).
    let mut attr = [0u8; 56];
    attr[16..24].copy_from_slice(&(keys.as_ptr() as u64).to_le_bytes());
    attr[24..32].copy_from_slice(&(values.as_ptr() as u64).to_le_bytes());
    attr[32..36].copy_from_slice(&(count as u32).to_le_bytes());
    attr[36..40].copy_from_slice(&(fd as u32).to_le_bytes());
    // SAFETY: `attr` is a valid bpf_attr; keys and values outlive the call
    // and hold `count` elements of the sizes the map was created with.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_MAP_UPDATE_BATCH,
            attr.as_ptr(),
            attr.len(),
        )
    };
    if r == 0 {
        return Ok(());
    }
    for (key, value) in keys.iter().zip(values.chunks_exact(value_size)) {
        // `union bpf_attr` for BPF_MAP_UPDATE_ELEM: map_fd (u32), pad, key,
        // value (u64 pointers), flags (u64).
        let mut attr = [0u8; 32];
        attr[0..4].copy_from_slice(&(fd as u32).to_le_bytes());
        attr[8..16].copy_from_slice(&(key as *const u32 as u64).to_le_bytes());
        attr[16..24].copy_from_slice(&(value.as_ptr() as u64).to_le_bytes());
        // SAFETY: as above, for one element.
        let r = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                BPF_MAP_UPDATE_ELEM,
                attr.as_ptr(),
                attr.len(),
            )
        };
        if r != 0 {
            return Err(LoaderError::MapCreate {
                what,
                source: std::io::Error::last_os_error(),
            });
        }
    }
    Ok(())
}
