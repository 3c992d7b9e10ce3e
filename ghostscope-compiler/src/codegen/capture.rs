//! Writing captured values into their event records.

use inkwell::values::{IntValue, PointerValue};
use inkwell::IntPredicate;

use ghostscope_protocol::wire::{RECORD_FLAGS, RECORD_HEADER_SIZE, RECORD_LEN, RECORD_STATUS};
use ghostscope_protocol::ReadStatus;

use super::eval::Fail;
use super::FunctionGen;
use crate::plan::{Capture, CaptureKind, DumpLen, Source};

impl<'a, 'ctx> FunctionGen<'a, 'ctx> {
    /// Writes a record's status, flags and length; a failed record gets
    /// the failing address and errno as its payload instead of the value.
    pub(super) fn write_record(&self, offset: u32, fail: Fail<'ctx>, ok_len: IntValue<'ctx>) {
        self.store_low(self.event_at(offset + RECORD_STATUS), fail.status, 1);
        self.store_low(self.event_at(offset + RECORD_FLAGS), fail.flags, 1);
        let failed = self.ne(fail.status, self.c64(0));
        let len = self.select(failed, self.c64(16), ok_len);
        self.store_low(self.event_at(offset + RECORD_LEN), len, 4);
        if fail.status.is_const() && fail.status.get_zero_extended_constant() == Some(0) {
            return;
        }
        // Only a failed record overwrites its payload with the failure detail.
        let write = self.ctx.append_basic_block(self.function, "record_fail");
        let done = self.ctx.append_basic_block(self.function, "record_done");
        self.b
            .build_conditional_branch(failed, write, done)
            .expect("br");
        self.b.position_at_end(write);
        let payload = offset + RECORD_HEADER_SIZE;
        self.store_low(self.event_at(payload), fail.addr, 8);
        self.store_low(self.event_at(payload + 8), fail.errno, 8);
        self.b.build_unconditional_branch(done).expect("br");
        self.b.position_at_end(done);
    }

    /// Emits one capture.
    pub(super) fn capture(&mut self, c: &Capture) {
        let payload = self.event_at(c.offset + RECORD_HEADER_SIZE);
        match &c.kind {
            CaptureKind::Scalar { value, size } => {
                let e = self.eval(value);
                self.store_low(payload, e.value, 8);
                self.write_record(c.offset, e.fail, self.c64(*size as u64));
            }
            CaptureKind::Bytes { source, size } => {
                let fail = self.copy_source(payload, source, *size as u64);
                self.write_record(c.offset, fail, self.c64(*size as u64));
            }
            CaptureKind::Dump {
                address,
                len,
                as_text,
            } => {
                let addr = self.eval(address);
                let (len, len_fail) = match len {
                    DumpLen::Fixed(n) => (self.c64(*n as u64), self.no_fail()),
                    DumpLen::Dynamic(s) => {
                        let e = self.eval(s);
                        // Clamp to [0, room] so the verifier sees a bounded size;
                        // text reads keep one byte for the NUL.
                        let room = (c.capacity - *as_text as u32) as u64;
                        (self.bounded_length(e.value, room).0, e.fail)
                    }
                };
                let prior = self.chain(addr.fail, len_fail);
                let (read_len, read_fail) = if *as_text {
                    self.read_text(payload, len, addr.value)
                } else {
                    self.read_bytes(payload, len, addr.value)
                };
                self.write_record(c.offset, self.chain(prior, read_fail), read_len);
            }
        }
    }

    /// `bpf_probe_read_user` of `len` bytes, skipped when `len` is 0.
    fn read_bytes(
        &self,
        dst: PointerValue<'ctx>,
        len: IntValue<'ctx>,
        addr: IntValue<'ctx>,
    ) -> (IntValue<'ctx>, Fail<'ctx>) {
        let ret = self.probe_read(dst, len, addr);
        (len, self.read_failure(ret, addr, len))
    }

    /// `bpf_probe_read_user_str` of up to `len` characters: the helper counts
    /// the NUL in its size, so it gets `len + 1`. Returns the bytes stored.
    fn read_text(
        &self,
        dst: PointerValue<'ctx>,
        len: IntValue<'ctx>,
        addr: IntValue<'ctx>,
    ) -> (IntValue<'ctx>, Fail<'ctx>) {
        let with_nul = self
            .b
            .build_int_add(len, self.c64(1), "with_nul")
            .expect("add");
        let ret = self.probe_read_str(dst, with_nul, addr);
        let got = self
            .b
            .build_int_compare(IntPredicate::SGT, ret, self.c64(0), "got")
            .expect("icmp");
        let read_len = self.select(got, ret, self.c64(0));
        (read_len, self.read_failure(ret, addr, len))
    }

    /// The failure of a bulk read: NULL address or negative return, unless nothing was asked for.
    fn read_failure(
        &self,
        ret: IntValue<'ctx>,
        addr: IntValue<'ctx>,
        len: IntValue<'ctx>,
    ) -> Fail<'ctx> {
        let zero = self.c64(0);
        let wanted = self.ne(len, zero);
        let is_null = self.eq(addr, zero);
        let failed = self
            .b
            .build_int_compare(IntPredicate::SLT, ret, zero, "failed")
            .expect("icmp");
        let null = self.b.build_and(wanted, is_null, "null").expect("and");
        let err = self.b.build_and(wanted, failed, "err").expect("and");
        let status = self.select(
            null,
            self.c64(ReadStatus::NullDeref as u64),
            self.select(err, self.c64(ReadStatus::ReadError as u64), zero),
        );
        Fail {
            status,
            addr: self.select(null, zero, addr),
            errno: self.select(null, zero, ret),
            flags: zero,
        }
    }

    /// Copies `size` bytes of a source to `dst`.
    fn copy_source(&mut self, dst: PointerValue<'ctx>, source: &Source, size: u64) -> Fail<'ctx> {
        match source {
            Source::Memory(ops) => {
                let addr = self.eval_ops(ops);
                let (_, f) = self.read_bytes(dst, self.c64(size), addr.value);
                self.chain(addr.fail, f)
            }
            Source::Register(_) | Source::Value(_) | Source::Constant(_) => {
                let e = self.read_source(source, size.min(8) as u8);
                self.store_exact(dst, e.value, size.min(8));
                e.fail
            }
            Source::Pieces(parts) => {
                let mut fail = self.no_fail();
                let mut offset = 0u64;
                for (piece_size, piece) in parts {
                    if offset >= size {
                        break;
                    }
                    let n = (*piece_size).min(size - offset);
                    let f = self.copy_source(self.byte_gep(dst, offset), piece, n);
                    fail = self.chain(fail, f);
                    offset += piece_size;
                }
                fail
            }
        }
    }

    /// Stores exactly `bytes` (≤ 8) low bytes of `v`, so neighbouring pieces survive.
    fn store_exact(&self, dst: PointerValue<'ctx>, v: IntValue<'ctx>, bytes: u64) {
        match bytes {
            1 | 2 | 4 | 8 => self.store_low(dst, v, bytes as u32),
            n => {
                for i in 0..n {
                    let byte = self
                        .b
                        .build_right_shift(v, self.c64(i * 8), false, "byte")
                        .expect("shr");
                    self.store_low(self.byte_gep(dst, i), byte, 1);
                }
            }
        }
    }
}
