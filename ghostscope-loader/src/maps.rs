//! The shared maps, created with a plain `BPF_MAP_CREATE` so they exist
//! before, and independently of, any BPF object.

use std::os::fd::{FromRawFd, OwnedFd};

use crate::LoaderError;

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_TYPE_HASH: u32 = 1;
const BPF_MAP_TYPE_RINGBUF: u32 = 27;

/// The maps ghostscope shares between all its programs.
#[derive(Debug, Clone, Copy)]
pub enum MapKind {
    /// The event ring buffer of `size` bytes (a power-of-two number of pages).
    RingBuf {
        /// Size in bytes.
        size: u32,
    },
    /// Per-trace loss counters: `u32` trace id → `u64` count.
    LossCounters {
        /// Most traces that can be counted at once.
        max_traces: u32,
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
        MapKind::LossCounters { max_traces } => (
            "loss counter",
            BPF_MAP_TYPE_HASH,
            4,
            8,
            max_traces,
            b"gs_losses",
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
