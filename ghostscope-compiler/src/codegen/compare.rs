//! Comparisons that read bytes: C-string equality with a literal and the
//! `memcmp`/`strncmp`/`starts_with` builtins. Each does bounded reads into
//! stack buffers, then XORs 8-byte words under masks; nothing branches on
//! the data.

use inkwell::values::{IntValue, PointerValue};
use inkwell::IntPredicate;

use ghostscope_protocol::ReadStatus;

use super::eval::{Eval, Fail};
use super::FunctionGen;
use crate::plan::{ByteOperand, BytesEq, CompareBuiltin, DumpLen, StrSource};

/// ExprError flags of `memcmp` (and bit 0 of `strncmp`), script-language §11.2.
const FLAG_FIRST_FAILED: u64 = 0x01;
const FLAG_SECOND_FAILED: u64 = 0x02;
const FLAG_LEN_CLAMPED: u64 = 0x04;
const FLAG_LEN_ZERO: u64 = 0x08;

impl<'a, 'ctx> FunctionGen<'a, 'ctx> {
    /// Compares a C string with a literal: one bounded read into the text
    /// buffer, then 8-byte XORs against the literal and its NUL, no branches.
    pub(super) fn string_equals(&mut self, source: &StrSource, literal: &[u8]) -> Eval<'ctx> {
        let mut expected = literal.to_vec();
        expected.push(0);
        let n = expected.len() as u64;
        let words = n.div_ceil(8);
        // Cleared first so the compared tail never holds stale bytes.
        for w in 0..words {
            self.b
                .build_store(self.byte_gep(self.text_buf, w * 8), self.c64(0))
                .expect("store");
        }
        let read_ok = match source {
            StrSource::Pointer(addr) => {
                let a = self.eval(addr);
                // Ask for one byte more than the literal and its NUL: a longer
                // string then returns more than n, a shorter one less.
                let ret = self.probe_read_str(self.text_buf, self.c64(n + 1), a.value);
                let exact = self.eq(ret, self.c64(n));
                let clean = self.eq(a.fail.status, self.c64(0));
                self.b.build_and(exact, clean, "read_ok").expect("and")
            }
            StrSource::Array { address, len } => {
                if n > *len {
                    // The literal and its NUL do not fit: never equal.
                    return self.ok(self.c64(0));
                }
                let a = self.eval(address);
                let ret = self.probe_read(self.text_buf, self.c64(n), a.value);
                let done = self.eq(ret, self.c64(0));
                let clean = self.eq(a.fail.status, self.c64(0));
                self.b.build_and(done, clean, "read_ok").expect("and")
            }
        };
        let mut diff = self.c64(0);
        for w in 0..words {
            let start = (w * 8) as usize;
            let chunk = &expected[start..(start + 8).min(expected.len())];
            let mut bytes = [0u8; 8];
            bytes[..chunk.len()].copy_from_slice(chunk);
            let got = self
                .b
                .build_load(self.i64_t, self.byte_gep(self.text_buf, w * 8), "chunk")
                .expect("load")
                .into_int_value();
            let x = self
                .b
                .build_xor(got, self.c64(u64::from_le_bytes(bytes)), "diff")
                .expect("xor");
            let x = self.mask(x, chunk.len() as u8);
            diff = self.b.build_or(diff, x, "diffs").expect("or");
        }
        let same = self.eq(diff, self.c64(0));
        let equal = self.b.build_and(same, read_ok, "equal").expect("and");
        self.ok(self
            .b
            .build_int_z_extend(equal, self.i64_t, "eq")
            .expect("zext"))
    }

    /// A comparison builtin. Inside a print the failure goes to its own
    /// record and the value is false; in a condition it is the condition's.
    pub(super) fn bytes_equal(&mut self, cmp: &BytesEq) -> Eval<'ctx> {
        let cap = self.options.compare_cap as u64;
        let zero = self.c64(0);
        let (len, clamped, len_fail) = match &cmp.len {
            DumpLen::Fixed(n) => {
                let n = *n as u64;
                (
                    self.c64(n.min(cap)),
                    self.c64((n > cap) as u64),
                    self.no_fail(),
                )
            }
            DumpLen::Dynamic(s) => {
                let e = self.eval(s);
                let (len, over) = self.bounded_length(e.value, (cmp.limit as u64).min(cap));
                (
                    len,
                    self.b
                        .build_int_z_extend(over, self.i64_t, "clamped")
                        .expect("zext"),
                    e.fail,
                )
            }
        };
        let words = cap.div_ceil(8);
        let left = self.cmp_buf;
        let right = self.byte_gep(self.cmp_buf, words * 8);
        let (left_failed, left_fail) = self.load_operand(&cmp.left, left, len, words);
        let (right_failed, right_fail) = self.load_operand(&cmp.right, right, len, words);
        let mut diff = zero;
        for w in 0..words {
            let a = self.load_word(left, w);
            let b = self.load_word(right, w);
            let x = self.b.build_xor(a, b, "diff").expect("xor");
            let mask = self.word_mask(len, w);
            let x = self.b.build_and(x, mask, "masked").expect("and");
            diff = self.b.build_or(diff, x, "diffs").expect("or");
        }
        let failed = self
            .b
            .build_or(left_failed, right_failed, "failed")
            .expect("or");
        let same = self.eq(diff, zero);
        let not_failed = self.b.build_not(failed, "ok").expect("not");
        let equal = self.b.build_and(same, not_failed, "equal").expect("and");
        let value = self
            .b
            .build_int_z_extend(equal, self.i64_t, "eq")
            .expect("zext");

        let bit = |v: IntValue<'ctx>, flag: u64, gen: &Self| {
            let wide = gen.b.build_int_z_extend(v, gen.i64_t, "bit").expect("zext");
            gen.b
                .build_int_mul(wide, gen.c64(flag), "flag")
                .expect("mul")
        };
        let flags = match cmp.builtin {
            CompareBuiltin::Memcmp => {
                let f1 = bit(left_failed, FLAG_FIRST_FAILED, self);
                let f2 = bit(right_failed, FLAG_SECOND_FAILED, self);
                let f4 = self
                    .b
                    .build_int_mul(clamped, self.c64(FLAG_LEN_CLAMPED), "f4")
                    .expect("mul");
                let f8 = bit(self.eq(len, zero), FLAG_LEN_ZERO, self);
                let f = self.b.build_or(f1, f2, "f").expect("or");
                let f = self.b.build_or(f, f4, "f").expect("or");
                self.b.build_or(f, f8, "f").expect("or")
            }
            CompareBuiltin::Strncmp => bit(failed, FLAG_FIRST_FAILED, self),
        };
        let read_fail = self.chain(left_fail, right_fail);
        let mut fail = self.chain(len_fail, read_fail);
        fail.flags = flags;
        match cmp.error_record {
            Some(record) => {
                self.write_record(record, fail, zero);
                Eval {
                    value,
                    fail: self.no_fail(),
                }
            }
            None => Eval { value, fail },
        }
    }

    /// Puts an operand's first `len` bytes into `buf` (zeroed first).
    /// Returns (read failed, failure).
    fn load_operand(
        &mut self,
        operand: &ByteOperand,
        buf: PointerValue<'ctx>,
        len: IntValue<'ctx>,
        words: u64,
    ) -> (IntValue<'ctx>, Fail<'ctx>) {
        for w in 0..words {
            self.b
                .build_store(self.byte_gep(buf, w * 8), self.c64(0))
                .expect("store");
        }
        match operand {
            ByteOperand::Bytes(bytes) => {
                for (w, chunk) in bytes.chunks(8).take(words as usize).enumerate() {
                    let mut word = [0u8; 8];
                    word[..chunk.len()].copy_from_slice(chunk);
                    self.b
                        .build_store(
                            self.byte_gep(buf, w as u64 * 8),
                            self.c64(u64::from_le_bytes(word)),
                        )
                        .expect("store");
                }
                (self.ctx.bool_type().const_zero(), self.no_fail())
            }
            ByteOperand::Memory(address) => {
                let a = self.eval(address);
                let ret = self.probe_read(buf, len, a.value);
                let zero = self.c64(0);
                let wanted = self.ne(len, zero);
                let negative = self
                    .b
                    .build_int_compare(IntPredicate::SLT, ret, zero, "failed")
                    .expect("icmp");
                let read_failed = self
                    .b
                    .build_and(wanted, negative, "read_failed")
                    .expect("and");
                let addr_failed = self.ne(a.fail.status, zero);
                let failed = self
                    .b
                    .build_or(read_failed, addr_failed, "failed")
                    .expect("or");
                // A NULL operand is a read error at NULL (output.md §5).
                let read_fail = Fail {
                    status: self.select(read_failed, self.c64(ReadStatus::ReadError as u64), zero),
                    addr: a.value,
                    errno: ret,
                    flags: zero,
                };
                (failed, self.chain(a.fail, read_fail))
            }
        }
    }

    fn load_word(&self, buf: PointerValue<'ctx>, w: u64) -> IntValue<'ctx> {
        self.b
            .build_load(self.i64_t, self.byte_gep(buf, w * 8), "word")
            .expect("load")
            .into_int_value()
    }

    /// The mask of the bytes of word `w` that lie below `len`.
    fn word_mask(&self, len: IntValue<'ctx>, w: u64) -> IntValue<'ctx> {
        let zero = self.c64(0);
        let start = self.c64(w * 8);
        let rest = self.b.build_int_sub(len, start, "rest").expect("sub");
        let none = self
            .b
            .build_int_compare(IntPredicate::SLE, rest, zero, "none")
            .expect("icmp");
        let full = self
            .b
            .build_int_compare(IntPredicate::SGE, rest, self.c64(8), "full")
            .expect("icmp");
        // rest is 1..=7 where the shift is used, so it never shifts by 64.
        let bits = self
            .b
            .build_int_mul(rest, self.c64(8), "bits")
            .expect("mul");
        let partial = self
            .b
            .build_left_shift(self.c64(1), bits, "one")
            .expect("shl");
        let partial = self
            .b
            .build_int_sub(partial, self.c64(1), "partial")
            .expect("sub");
        let m = self.select(full, self.c64(u64::MAX), partial);
        self.select(none, zero, m)
    }
}
