//! Byte layout of one event as the BPF program writes it into the ring buffer.
//!
//! An event has a fixed size per trace: a header, then one record per
//! statement marker and per captured value, each at an offset that the
//! compiler chose and wrote into [`crate::TraceMeta`]. Scripts have no loops,
//! so every statement runs at most once per hit and a static layout is
//! enough; it also keeps every store at a constant offset, which the verifier
//! checks cheaply. All integers are little-endian.

/// Size of [`EventHeader`] on the wire.
pub const EVENT_HEADER_SIZE: u32 = 24;
/// Offset of the `u32` trace id in the header.
pub const HEADER_TRACE_ID: u32 = 0;
/// Offset of the `u32` process id (tgid) in the header.
pub const HEADER_PID: u32 = 4;
/// Offset of the `u32` thread id in the header.
pub const HEADER_TID: u32 = 8;
/// Offset of the `u32` event size in the header (lets the decoder reject a stale layout).
pub const HEADER_SIZE_FIELD: u32 = 12;
/// Offset of the `u64` `bpf_ktime_get_ns()` timestamp in the header.
pub const HEADER_TIMESTAMP: u32 = 16;

/// Size of a record header: `status: u8, flags: u8, reserved: u16, len: u32`.
pub const RECORD_HEADER_SIZE: u32 = 8;
/// Offset of the status byte inside a record.
pub const RECORD_STATUS: u32 = 0;
/// Offset of the flags byte inside a record.
pub const RECORD_FLAGS: u32 = 1;
/// Offset of the `u32` payload length inside a record.
pub const RECORD_LEN: u32 = 4;
/// Payload bytes a failed record needs: `addr: u64, errno: i32, reserved: u32`.
pub const FAILURE_PAYLOAD_SIZE: u32 = 16;

/// Outcome of one read or one statement, stored in a record's status byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ReadStatus {
    /// The value was read; the payload holds its bytes.
    Ok = 0,
    /// A pointer on the way to the value was NULL.
    NullDeref = 1,
    /// `bpf_probe_read_user` failed; the payload holds the address and errno.
    ReadError = 2,
    /// The address could not be computed (for example an unreadable register).
    AccessError = 3,
    /// Fewer bytes than the value needs were captured.
    Truncated = 4,
    /// The module's load address is unknown for this process.
    OffsetsUnavailable = 5,
    /// A dynamic length was zero or negative.
    ZeroLength = 6,
    /// A return probe found no matching entry record.
    EntryMissing = 7,
    /// The statement did not run on this hit (its branch was not taken).
    NotRun = 0xff,
}

impl ReadStatus {
    /// Decodes a status byte; unknown codes are kept for `<error status=N>` markers.
    pub fn from_byte(byte: u8) -> Result<ReadStatus, u8> {
        Ok(match byte {
            0 => ReadStatus::Ok,
            1 => ReadStatus::NullDeref,
            2 => ReadStatus::ReadError,
            3 => ReadStatus::AccessError,
            4 => ReadStatus::Truncated,
            5 => ReadStatus::OffsetsUnavailable,
            6 => ReadStatus::ZeroLength,
            7 => ReadStatus::EntryMissing,
            0xff => ReadStatus::NotRun,
            other => return Err(other),
        })
    }
}

/// The fixed header at the start of every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader {
    /// Trace id of the program that produced the event.
    pub trace_id: u32,
    /// Process id (tgid) as seen by the kernel.
    pub pid: u32,
    /// Thread id as seen by the kernel.
    pub tid: u32,
    /// Total event size the program reserved, header included.
    pub size: u32,
    /// `bpf_ktime_get_ns()` at the hit: nanoseconds since boot.
    pub timestamp_ns: u64,
}

impl EventHeader {
    /// Parses the header at the start of `bytes`, or `None` if it is too short.
    pub fn parse(bytes: &[u8]) -> Option<EventHeader> {
        if bytes.len() < EVENT_HEADER_SIZE as usize {
            return None;
        }
        Some(EventHeader {
            trace_id: read_u32(bytes, HEADER_TRACE_ID),
            pid: read_u32(bytes, HEADER_PID),
            tid: read_u32(bytes, HEADER_TID),
            size: read_u32(bytes, HEADER_SIZE_FIELD),
            timestamp_ns: read_u64(bytes, HEADER_TIMESTAMP),
        })
    }

    /// Writes the header into the first bytes of `out` (used by tests and tools).
    pub fn write(&self, out: &mut [u8]) {
        write_u32(out, HEADER_TRACE_ID, self.trace_id);
        write_u32(out, HEADER_PID, self.pid);
        write_u32(out, HEADER_TID, self.tid);
        write_u32(out, HEADER_SIZE_FIELD, self.size);
        out[HEADER_TIMESTAMP as usize..HEADER_TIMESTAMP as usize + 8]
            .copy_from_slice(&self.timestamp_ns.to_le_bytes());
    }
}

/// Address and errno carried by a failed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureDetail {
    /// Address whose read failed, or 0 when unknown.
    pub addr: u64,
    /// Negative errno returned by the helper, or 0 when unknown.
    pub errno: i32,
}

/// One record as found in an event: status, flags and payload bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Raw status byte.
    pub status: u8,
    /// Statement-specific flags (ExprError flags for conditions and builtins).
    pub flags: u8,
    /// Payload bytes, already cut to the recorded length.
    pub payload: &'a [u8],
}

impl<'a> Record<'a> {
    /// Reads the record at `offset` whose payload may hold up to `capacity` bytes.
    pub fn parse(event: &'a [u8], offset: u32, capacity: u32) -> Option<Record<'a>> {
        let start = offset as usize;
        let header_end = start.checked_add(RECORD_HEADER_SIZE as usize)?;
        if header_end > event.len() {
            return None;
        }
        let len = read_u32(event, offset + RECORD_LEN).min(capacity) as usize;
        let end = header_end.checked_add(len)?.min(event.len());
        Some(Record {
            status: event[start],
            flags: event[start + RECORD_FLAGS as usize],
            payload: &event[header_end..end],
        })
    }

    /// The decoded status, or the raw byte when it is not a known code.
    pub fn status(&self) -> Result<ReadStatus, u8> {
        ReadStatus::from_byte(self.status)
    }

    /// The failure detail of a failed record (zeros when the payload is short).
    pub fn failure(&self) -> FailureDetail {
        let p = self.payload;
        FailureDetail {
            addr: if p.len() >= 8 { read_u64(p, 0) } else { 0 },
            errno: if p.len() >= 12 {
                read_u32(p, 8) as i32
            } else {
                0
            },
        }
    }
}

/// Writes a record header (and nothing else) at `offset`; used by tests and tools.
pub fn write_record(out: &mut [u8], offset: u32, status: u8, flags: u8, payload: &[u8]) {
    let o = offset as usize;
    out[o] = status;
    out[o + 1] = flags;
    out[o + 2] = 0;
    out[o + 3] = 0;
    write_u32(out, offset + RECORD_LEN, payload.len() as u32);
    let p = o + RECORD_HEADER_SIZE as usize;
    out[p..p + payload.len()].copy_from_slice(payload);
}

/// Little-endian `u32` at `offset`.
pub fn read_u32(bytes: &[u8], offset: u32) -> u32 {
    let o = offset as usize;
    u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes"))
}

/// Little-endian `u64` at `offset`.
pub fn read_u64(bytes: &[u8], offset: u32) -> u64 {
    let o = offset as usize;
    u64::from_le_bytes(bytes[o..o + 8].try_into().expect("8 bytes"))
}

fn write_u32(out: &mut [u8], offset: u32, v: u32) {
    let o = offset as usize;
    out[o..o + 4].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = EventHeader {
            trace_id: 3,
            pid: 48211,
            tid: 48219,
            size: 96,
            timestamp_ns: 1_234_567_890,
        };
        let mut buf = [0u8; 24];
        h.write(&mut buf);
        assert_eq!(EventHeader::parse(&buf), Some(h));
        assert_eq!(EventHeader::parse(&buf[..23]), None);
    }

    #[test]
    fn record_length_is_clamped_to_capacity_and_event() {
        let mut buf = vec![0u8; 40];
        write_record(&mut buf, 8, 0, 0, &[1, 2, 3, 4]);
        // A corrupt length larger than the slot must not read past the slot.
        buf[12..16].copy_from_slice(&1000u32.to_le_bytes());
        let r = Record::parse(&buf, 8, 4).unwrap();
        assert_eq!(r.payload, &[1, 2, 3, 4]);
        assert!(Record::parse(&buf, 36, 4).is_none());
    }

    #[test]
    fn failure_detail_decodes_addr_and_errno() {
        let mut payload = Vec::new();
        payload.extend_from_slice(&0x7f00_1000u64.to_le_bytes());
        payload.extend_from_slice(&(-14i32).to_le_bytes());
        payload.extend_from_slice(&[0; 4]);
        let mut buf = vec![0u8; 32];
        write_record(&mut buf, 0, ReadStatus::ReadError as u8, 0, &payload);
        let r = Record::parse(&buf, 0, 16).unwrap();
        assert_eq!(r.status(), Ok(ReadStatus::ReadError));
        assert_eq!(
            r.failure(),
            FailureDetail {
                addr: 0x7f00_1000,
                errno: -14
            }
        );
    }
}
