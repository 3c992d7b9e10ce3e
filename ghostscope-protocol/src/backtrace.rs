//! Backtraces: the record a `bt` statement's BPF code writes, its statuses
//! and stop reasons (output.md §6.1), and the symbolized frames that user
//! space hands to the renderer.
//!
//! The kernel writes only addresses: for each frame the runtime IP, the
//! module it lies in and its module-relative PC. Names, parameters and
//! source positions come from a [`FrameSymbolizer`], which the binary
//! implements with DWARF; this crate never opens DWARF.

use crate::wire::read_u64;

/// Offset of the `u8` [`BacktraceStatus`] in the record payload.
pub const BT_STATUS: u32 = 0;
/// Offset of the `u8` stop reason code in the record payload.
pub const BT_REASON: u32 = 1;
/// Offset of the `u16` number of frames written.
pub const BT_FRAME_COUNT: u32 = 2;
/// Offset of the first frame in the record payload.
pub const BT_FRAMES: u32 = 8;
/// Bytes per frame.
pub const FRAME_SIZE: u32 = 24;
/// Offset of the frame's `u64` runtime instruction pointer.
pub const FRAME_IP: u32 = 0;
/// Offset of the frame's `u64` PC as looked up in the unwind table: the
/// runtime address with a process, the link-time one without; the decoder
/// makes it module-relative with the trace's table biases.
pub const FRAME_MODULE_PC: u32 = 8;
/// Offset of the frame's `u16` session module index ([`NO_MODULE`] if none).
pub const FRAME_MODULE: u32 = 16;
/// Offset of the frame's `u8` flags.
pub const FRAME_FLAGS: u32 = 18;
/// Module index of a frame outside every known module.
pub const NO_MODULE: u16 = 0xffff;
/// Frame flag: no CFI covers this frame's PC, so its caller was found
/// through the frame pointer (RBP chain) instead.
pub const FRAME_FLAG_FRAME_POINTER: u8 = 1;

/// Payload bytes of a backtrace record with room for `depth` frames.
pub fn record_payload_size(depth: u8) -> u32 {
    BT_FRAMES + depth as u32 * FRAME_SIZE
}

/// How an unwind ended (output.md §6.1 status labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum BacktraceStatus {
    /// The natural end of the stack before the depth cap.
    Complete = 0,
    /// The depth cap was reached with more frames to go.
    Truncated = 1,
    /// A PC lies outside every module with debug information.
    DwarfUnavailable = 2,
    /// The CFI at a PC uses a rule the kernel cannot evaluate.
    UnsupportedCfi = 3,
    /// A PC lies in a module whose load address is unknown (`-t` alone).
    OffsetsUnavailable = 4,
    /// Reading a saved register failed.
    ReadError = 5,
    /// The unwind tables could not be read.
    InternalError = 6,
    /// The next frame is not plausible.
    InvalidFrame = 7,
    /// No unwind rows cover a PC and no frame pointer leads on.
    NoUnwindRows = 8,
}

impl BacktraceStatus {
    /// Every status, in code order.
    pub const ALL: [BacktraceStatus; 9] = [
        BacktraceStatus::Complete,
        BacktraceStatus::Truncated,
        BacktraceStatus::DwarfUnavailable,
        BacktraceStatus::UnsupportedCfi,
        BacktraceStatus::OffsetsUnavailable,
        BacktraceStatus::ReadError,
        BacktraceStatus::InternalError,
        BacktraceStatus::InvalidFrame,
        BacktraceStatus::NoUnwindRows,
    ];

    /// Decodes a status byte.
    pub fn from_byte(b: u8) -> Option<BacktraceStatus> {
        BacktraceStatus::ALL.get(b as usize).copied()
    }

    /// The label printed in the block (output.md §6.1).
    pub fn label(self) -> &'static str {
        match self {
            BacktraceStatus::Complete => "complete",
            BacktraceStatus::Truncated => "truncated",
            BacktraceStatus::DwarfUnavailable => "dwarf unavailable",
            BacktraceStatus::UnsupportedCfi => "unsupported CFI",
            BacktraceStatus::OffsetsUnavailable => "offsets unavailable",
            BacktraceStatus::ReadError => "read error",
            BacktraceStatus::InternalError => "internal error",
            BacktraceStatus::InvalidFrame => "invalid frame",
            BacktraceStatus::NoUnwindRows => "no unwind rows for PC",
        }
    }
}

/// Stop reason: the return address could not be read.
pub const REASON_RETURN_ADDRESS_READ_FAILED: u8 = 1;
/// Stop reason: the saved frame pointer could not be read.
pub const REASON_FRAME_POINTER_READ_FAILED: u8 = 2;
/// Stop reason: the next IP is below the user address range.
pub const REASON_NEXT_IP_BELOW_USER_RANGE: u8 = 3;
/// Stop reason: the next IP looks like a kernel address.
pub const REASON_NEXT_IP_KERNEL_LIKE: u8 = 4;
/// Stop reason: the next CFA is zero.
pub const REASON_NEXT_CFA_ZERO: u8 = 5;
/// Stop reason: the next CFA is not above the current stack pointer.
pub const REASON_NEXT_CFA_NOT_ADVANCING: u8 = 6;

/// The label of a stop reason code, if it has one (output.md §6.1).
pub fn reason_label(code: u8) -> Option<&'static str> {
    Some(match code {
        REASON_RETURN_ADDRESS_READ_FAILED => "return-address-read-failed",
        REASON_FRAME_POINTER_READ_FAILED => "frame-pointer-read-failed",
        REASON_NEXT_IP_BELOW_USER_RANGE => "next-ip-below-user-range",
        REASON_NEXT_IP_KERNEL_LIKE => "next-ip-kernel-like",
        REASON_NEXT_CFA_ZERO => "next-cfa-zero",
        REASON_NEXT_CFA_NOT_ADVANCING => "next-cfa-not-advancing",
        _ => return None,
    })
}

/// One unwound frame as the kernel recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFrame {
    /// Runtime instruction pointer (the return address for frames after #0).
    pub ip: u64,
    /// Session module index, if the IP lies in a known module.
    pub module: Option<u16>,
    /// Module-relative (link-time) PC; meaningful only with a module.
    pub module_pc: u64,
    /// Frame flags ([`FRAME_FLAG_FRAME_POINTER`]).
    pub flags: u8,
}

impl RawFrame {
    /// The `cookie=` of `bt raw`: the module index in the top 16 bits and
    /// the module-relative PC below, or `0xffff` and the raw IP when the
    /// module is unknown. It names the code location independently of
    /// where the module was loaded.
    pub fn cookie(&self) -> u64 {
        let (module, pc) = match self.module {
            Some(m) => (m as u64, self.module_pc),
            None => (NO_MODULE as u64, self.ip),
        };
        (module << 48) | (pc & 0xffff_ffff_ffff)
    }

    /// The PC to symbolize: frames after #0 hold return addresses, so the
    /// call instruction is at `pc - 1` (output.md §6.1).
    pub fn lookup_pc(&self, index: usize) -> u64 {
        if index == 0 {
            self.module_pc
        } else {
            self.module_pc.saturating_sub(1)
        }
    }
}

/// A backtrace record decoded from an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBacktrace {
    /// How the unwind ended, or the unknown status byte.
    pub status: Result<BacktraceStatus, u8>,
    /// Stop reason code (0: none).
    pub reason: u8,
    /// Frames, #0 first.
    pub frames: Vec<RawFrame>,
}

impl RawBacktrace {
    /// Makes every frame's table PC module-relative (see [`FRAME_MODULE_PC`]).
    pub fn apply_table_biases(&mut self, biases: &[u64]) {
        for f in &mut self.frames {
            if let Some(bias) = f.module.and_then(|m| biases.get(m as usize)) {
                f.module_pc = f.module_pc.wrapping_sub(*bias);
            }
        }
    }

    /// Decodes a record payload; frames past the payload are dropped.
    pub fn parse(payload: &[u8]) -> Option<RawBacktrace> {
        if payload.len() < BT_FRAMES as usize {
            return None;
        }
        let status_byte = payload[BT_STATUS as usize];
        let count = u16::from_le_bytes([payload[2], payload[3]]) as usize;
        let available = (payload.len() - BT_FRAMES as usize) / FRAME_SIZE as usize;
        let frames = (0..count.min(available))
            .map(|i| {
                let at = BT_FRAMES + i as u32 * FRAME_SIZE;
                let module = u16::from_le_bytes([
                    payload[(at + FRAME_MODULE) as usize],
                    payload[(at + FRAME_MODULE) as usize + 1],
                ]);
                RawFrame {
                    ip: read_u64(payload, at + FRAME_IP),
                    module: (module != NO_MODULE).then_some(module),
                    module_pc: read_u64(payload, at + FRAME_MODULE_PC),
                    flags: payload[(at + FRAME_FLAGS) as usize],
                }
            })
            .collect();
        Some(RawBacktrace {
            status: BacktraceStatus::from_byte(status_byte).ok_or(status_byte),
            reason: payload[BT_REASON as usize],
            frames,
        })
    }

    /// Writes the record payload (for tests and tools).
    pub fn write(&self, out: &mut Vec<u8>) {
        out.clear();
        out.push(match self.status {
            Ok(s) => s as u8,
            Err(b) => b,
        });
        out.push(self.reason);
        out.extend_from_slice(&(self.frames.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        for f in &self.frames {
            out.extend_from_slice(&f.ip.to_le_bytes());
            out.extend_from_slice(&f.module_pc.to_le_bytes());
            out.extend_from_slice(&f.module.unwrap_or(NO_MODULE).to_le_bytes());
            out.push(f.flags);
            out.extend_from_slice(&[0; 5]);
        }
    }
}

/// A source position: the path as the line table records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePos {
    /// File path.
    pub file: String,
    /// Line (1-based).
    pub line: u32,
    /// Column (0 = unknown, not printed).
    pub column: u32,
}

/// One inlined call that contains a PC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinedCall {
    /// The inlined function's name.
    pub function: Option<String>,
    /// Where it was called from.
    pub call_site: Option<SourcePos>,
}

/// What user space knows about one frame's PC.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SymbolizedFrame {
    /// The enclosing out-of-line function's name.
    pub function: Option<String>,
    /// Its parameters as `<type> <name>` (artificial ones dropped).
    pub params: Vec<String>,
    /// The PC's own source position.
    pub location: Option<SourcePos>,
    /// Inlined calls containing the PC, innermost first.
    pub inlined: Vec<InlinedCall>,
    /// Whether DWARF knew anything about the PC.
    pub known: bool,
}

/// Turns module-relative PCs into names and source positions (the binary
/// implements it with DWARF).
pub trait FrameSymbolizer: Send + Sync {
    /// Symbolizes `pc` (already adjusted with [`RawFrame::lookup_pc`]) in
    /// session module `module`.
    fn symbolize(&self, module: u16, pc: u64) -> SymbolizedFrame;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_drop_frames_past_the_payload() {
        let bt = RawBacktrace {
            status: Ok(BacktraceStatus::ReadError),
            reason: 1,
            frames: vec![
                RawFrame {
                    ip: 0x5555_0000_1234,
                    module: Some(0),
                    module_pc: 0x1234,
                    flags: 0,
                },
                RawFrame {
                    ip: 0x7f00_0000_0042,
                    module: None,
                    module_pc: 0,
                    flags: FRAME_FLAG_FRAME_POINTER,
                },
            ],
        };
        let mut bytes = Vec::new();
        bt.write(&mut bytes);
        assert_eq!(bytes.len() as u32, record_payload_size(2));
        assert_eq!(RawBacktrace::parse(&bytes), Some(bt.clone()));
        let cut = RawBacktrace::parse(&bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(cut.frames, bt.frames[..1]);
        assert_eq!(bt.frames[0].cookie(), 0x1234);
        assert_eq!(bt.frames[1].cookie(), 0xffff_7f00_0000_0042);
        assert_eq!(bt.frames[0].lookup_pc(0), 0x1234);
        assert_eq!(bt.frames[0].lookup_pc(1), 0x1233);
    }

    #[test]
    fn every_status_and_reason_has_its_label() {
        let labels: Vec<&str> = BacktraceStatus::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(
            labels,
            [
                "complete",
                "truncated",
                "dwarf unavailable",
                "unsupported CFI",
                "offsets unavailable",
                "read error",
                "internal error",
                "invalid frame",
                "no unwind rows for PC"
            ]
        );
        for (i, s) in BacktraceStatus::ALL.iter().enumerate() {
            assert_eq!(BacktraceStatus::from_byte(i as u8), Some(*s));
        }
        assert_eq!(BacktraceStatus::from_byte(9), None);
        assert_eq!(reason_label(0), None);
        assert_eq!(reason_label(6), Some("next-cfa-not-advancing"));
        assert_eq!(reason_label(7), None);
    }
}
