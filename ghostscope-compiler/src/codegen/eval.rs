//! Scalars and address computations → IR, branch-free where possible.
//!
//! Every computation carries a failure next to its value. Reads never
//! branch on failure: `bpf_probe_read_user` zero-fills its destination
//! when it fails, and the first failure is kept with `select`s. Only `&&`
//! and `||` branch, because their right side must not be read at all when
//! the left side decides.

use inkwell::values::IntValue;
use inkwell::IntPredicate;

use ghostscope_dwarf::gp_register;
use ghostscope_protocol::ReadStatus;

use super::FunctionGen;
use crate::plan::{AddrOp, ArithOp, CmpOp, EntryValueOp, IntType, Scalar, Source, Special};

/// The first failure met while computing a value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fail<'ctx> {
    /// 0 when nothing failed, else a [`ReadStatus`] code.
    pub(crate) status: IntValue<'ctx>,
    /// The address that failed.
    pub(crate) addr: IntValue<'ctx>,
    /// The helper's negative errno.
    pub(crate) errno: IntValue<'ctx>,
    /// ExprError flags of comparison builtins (output.md §5), else 0.
    pub(crate) flags: IntValue<'ctx>,
}

/// A value and the first failure on the way to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Eval<'ctx> {
    pub(crate) value: IntValue<'ctx>,
    pub(crate) fail: Fail<'ctx>,
}

impl<'a, 'ctx> FunctionGen<'a, 'ctx> {
    pub(super) fn no_fail(&self) -> Fail<'ctx> {
        let z = self.c64(0);
        Fail {
            status: z,
            addr: z,
            errno: z,
            flags: z,
        }
    }

    pub(super) fn ok(&self, value: IntValue<'ctx>) -> Eval<'ctx> {
        Eval {
            value,
            fail: self.no_fail(),
        }
    }

    /// Keeps `first` if it failed, else `then`.
    pub(super) fn chain(&self, first: Fail<'ctx>, then: Fail<'ctx>) -> Fail<'ctx> {
        if first.status.is_const() && first.status.get_zero_extended_constant() == Some(0) {
            return then;
        }
        let failed = self.ne(first.status, self.c64(0));
        Fail {
            status: self.select(failed, first.status, then.status),
            addr: self.select(failed, first.addr, then.addr),
            errno: self.select(failed, first.errno, then.errno),
            flags: self.select(failed, first.flags, then.flags),
        }
    }

    /// A failure with `status` when `cond` holds.
    fn fail_if(
        &self,
        cond: IntValue<'ctx>,
        status: ReadStatus,
        addr: IntValue<'ctx>,
        errno: IntValue<'ctx>,
    ) -> Fail<'ctx> {
        Fail {
            status: self.select(cond, self.c64(status as u64), self.c64(0)),
            addr,
            errno,
            flags: self.c64(0),
        }
    }

    /// Reads a general-purpose register from `pt_regs`.
    pub(super) fn register(&self, dwarf: u16) -> Eval<'ctx> {
        match gp_register(dwarf) {
            Some(r) => {
                let p = self.byte_gep(self.regs, r.pt_regs_offset as u64);
                let v = self
                    .b
                    .build_load(self.i64_t, p, "reg")
                    .expect("load")
                    .into_int_value();
                self.ok(v)
            }
            None => Eval {
                value: self.c64(0),
                fail: Fail {
                    status: self.c64(ReadStatus::AccessError as u64),
                    addr: self.c64(0),
                    errno: self.c64(0),
                    flags: self.c64(0),
                },
            },
        }
    }

    /// The probed instruction's runtime address, from `pt_regs`.
    pub(super) fn instruction_pointer(&self) -> IntValue<'ctx> {
        self.register(ghostscope_dwarf::RIP).value
    }

    /// Reads `size` (1..=8) bytes of user memory at `addr`, zero-extended.
    /// A NULL address is a null dereference.
    pub(super) fn read_int(&self, addr: IntValue<'ctx>, size: u8) -> Eval<'ctx> {
        self.b
            .build_store(self.scratch, self.c64(0))
            .expect("store");
        let ret = self.probe_read(self.scratch, self.c64(size as u64), addr);
        let value = self
            .b
            .build_load(self.i64_t, self.scratch, "read")
            .expect("load")
            .into_int_value();
        let value = self.mask(value, size);
        let is_null = self.eq(addr, self.c64(0));
        let failed = self
            .b
            .build_int_compare(IntPredicate::SLT, ret, self.c64(0), "failed")
            .expect("icmp");
        let read_fail = self.fail_if(failed, ReadStatus::ReadError, addr, ret);
        let null_fail = self.fail_if(is_null, ReadStatus::NullDeref, self.c64(0), self.c64(0));
        Eval {
            value,
            fail: self.chain(null_fail, read_fail),
        }
    }

    /// Keeps the low `bytes` bytes.
    pub(super) fn mask(&self, v: IntValue<'ctx>, bytes: u8) -> IntValue<'ctx> {
        if bytes >= 8 {
            return v;
        }
        let m = (1u64 << (bytes as u32 * 8)) - 1;
        self.b.build_and(v, self.c64(m), "mask").expect("and")
    }

    /// Truncates to `t` and extends back to 64 bits.
    pub(super) fn normalize(&self, v: IntValue<'ctx>, t: IntType) -> IntValue<'ctx> {
        if t.size >= 8 {
            return v;
        }
        let narrow = match t.size {
            1 => self.i8_t,
            2 => self.ctx.i16_type(),
            _ => self.i32_t,
        };
        let n = self
            .b
            .build_int_truncate(v, narrow, "trunc")
            .expect("trunc");
        if t.signed {
            self.b
                .build_int_s_extend(n, self.i64_t, "sext")
                .expect("sext")
        } else {
            self.b
                .build_int_z_extend(n, self.i64_t, "zext")
                .expect("zext")
        }
    }

    /// Runs an address/value program.
    pub(super) fn eval_ops(&mut self, ops: &[AddrOp]) -> Eval<'ctx> {
        let mut stack: Vec<IntValue<'ctx>> = Vec::new();
        let mut fail = self.no_fail();
        let zero = self.c64(0);
        for op in ops {
            match op {
                AddrOp::Const(c) => stack.push(self.c64(*c)),
                AddrOp::ModuleAddress { module, vaddr } => {
                    let (probe_module, probe_pc) = self.program.probe;
                    match self.program.biases.get(*module).copied().flatten() {
                        Some(bias) => stack.push(self.c64(bias.wrapping_add(*vaddr))),
                        // The probed module's bias is where the probe fired
                        // minus where it was linked to be.
                        None if *module == probe_module => {
                            let ip = self.instruction_pointer();
                            let bias = self
                                .b
                                .build_int_sub(ip, self.c64(probe_pc), "bias")
                                .expect("sub");
                            stack.push(
                                self.b
                                    .build_int_add(bias, self.c64(*vaddr), "addr")
                                    .expect("add"),
                            );
                        }
                        None => {
                            let f = Fail {
                                status: self.c64(ReadStatus::OffsetsUnavailable as u64),
                                addr: self.c64(*vaddr),
                                errno: zero,
                                flags: zero,
                            };
                            fail = self.chain(fail, f);
                            stack.push(self.c64(*vaddr));
                        }
                    }
                }
                AddrOp::Register(r) => {
                    let e = self.register(*r);
                    fail = self.chain(fail, e.fail);
                    stack.push(e.value);
                }
                AddrOp::Deref { size } => {
                    let addr = stack.pop().unwrap_or(zero);
                    let e = self.read_int(addr, *size);
                    fail = self.chain(fail, e.fail);
                    stack.push(e.value);
                }
                AddrOp::NullCheck => {
                    let top = stack.last().copied().unwrap_or(zero);
                    let f = self.fail_if(self.eq(top, zero), ReadStatus::NullDeref, zero, zero);
                    fail = self.chain(fail, f);
                }
                AddrOp::Arith(op) => {
                    let b = stack.pop().unwrap_or(zero);
                    let a = stack.pop().unwrap_or(zero);
                    stack.push(self.arith(*op, a, b, IntType::ADDRESS));
                }
                AddrOp::Shra => {
                    let b = stack.pop().unwrap_or(zero);
                    let a = stack.pop().unwrap_or(zero);
                    stack.push(self.b.build_right_shift(a, b, true, "shra").expect("shr"));
                }
                AddrOp::SignedDiv => {
                    let b = stack.pop().unwrap_or(zero);
                    let a = stack.pop().unwrap_or(zero);
                    stack.push(self.arith(ArithOp::Div, a, b, IntType::LONG));
                }
                AddrOp::Neg => {
                    let a = stack.pop().unwrap_or(zero);
                    stack.push(self.b.build_int_neg(a, "neg").expect("neg"));
                }
                AddrOp::Not => {
                    let a = stack.pop().unwrap_or(zero);
                    stack.push(self.b.build_not(a, "not").expect("not"));
                }
                AddrOp::Dup => {
                    let a = stack.last().copied().unwrap_or(zero);
                    stack.push(a);
                }
                AddrOp::Pick(n) => {
                    let i = stack.len().checked_sub(1 + *n as usize);
                    stack.push(i.map_or(zero, |i| stack[i]));
                }
                AddrOp::Swap => {
                    let b = stack.pop().unwrap_or(zero);
                    let a = stack.pop().unwrap_or(zero);
                    stack.push(b);
                    stack.push(a);
                }
                AddrOp::Drop => {
                    stack.pop();
                }
                AddrOp::EntryValue(ev) => {
                    let e = self.entry_value(ev);
                    fail = self.chain(fail, e.fail);
                    stack.push(e.value);
                }
                AddrOp::ThreadPointer => {
                    let e = self.thread_pointer();
                    fail = self.chain(fail, e.fail);
                    stack.push(e.value);
                }
                AddrOp::Scalar(s) => {
                    let e = self.eval(s);
                    fail = self.chain(fail, e.fail);
                    stack.push(e.value);
                }
            }
        }
        Eval {
            value: stack.pop().unwrap_or(zero),
            fail,
        }
    }

    /// A register's entry value: the ops of the call site whose return
    /// address is the frame's, chosen with selects; no match is "entry not
    /// captured".
    fn entry_value(&mut self, ev: &EntryValueOp) -> Eval<'ctx> {
        let ra = self.eval_ops(&ev.return_address);
        let mut value = self.c64(0);
        let mut matched = self.ctx.bool_type().const_zero();
        let mut case_fail = self.no_fail();
        for (return_pc, ops) in &ev.callers {
            let at = self.eval_ops(std::slice::from_ref(return_pc));
            let hit = self.eq(ra.value, at.value);
            let e = self.eval_ops(ops);
            value = self.select(hit, e.value, value);
            case_fail = Fail {
                status: self.select(hit, e.fail.status, case_fail.status),
                addr: self.select(hit, e.fail.addr, case_fail.addr),
                errno: self.select(hit, e.fail.errno, case_fail.errno),
                flags: self.select(hit, e.fail.flags, case_fail.flags),
            };
            matched = self.b.build_or(matched, hit, "matched").expect("or");
        }
        let zero = self.c64(0);
        let unmatched = self.b.build_not(matched, "unmatched").expect("not");
        let missing = self.fail_if(unmatched, ReadStatus::EntryMissing, zero, zero);
        let fail = self.chain(ra.fail, self.chain(missing, case_fail));
        Eval { value, fail }
    }

    /// Reads `size` (1..=8) bytes of a source as an integer, zero-extended.
    pub(super) fn read_source(&mut self, source: &Source, size: u8) -> Eval<'ctx> {
        match source {
            Source::Memory(ops) => {
                let addr = self.eval_ops(ops);
                let e = self.read_int(addr.value, size);
                Eval {
                    value: e.value,
                    fail: self.chain(addr.fail, e.fail),
                }
            }
            Source::Register(r) => {
                let e = self.register(*r);
                Eval {
                    value: self.mask(e.value, size),
                    fail: e.fail,
                }
            }
            Source::Value(ops) => {
                let e = self.eval_ops(ops);
                Eval {
                    value: self.mask(e.value, size),
                    fail: e.fail,
                }
            }
            Source::Constant(bytes) => {
                let mut b = [0u8; 8];
                let n = bytes.len().min(size as usize).min(8);
                b[..n].copy_from_slice(&bytes[..n]);
                self.ok(self.c64(u64::from_le_bytes(b)))
            }
            Source::Pieces(parts) => {
                let mut value = self.c64(0);
                let mut fail = self.no_fail();
                let mut offset = 0u64;
                for (piece_size, piece) in parts {
                    if offset >= size as u64 {
                        break;
                    }
                    let e = self.read_source(piece, (*piece_size).min(8) as u8);
                    let shifted = self
                        .b
                        .build_left_shift(e.value, self.c64(offset * 8), "piece")
                        .expect("shl");
                    value = self.b.build_or(value, shifted, "pieces").expect("or");
                    fail = self.chain(fail, e.fail);
                    offset += piece_size;
                }
                Eval {
                    value: self.mask(value, size),
                    fail,
                }
            }
        }
    }

    pub(super) fn arith(
        &self,
        op: ArithOp,
        a: IntValue<'ctx>,
        b: IntValue<'ctx>,
        t: IntType,
    ) -> IntValue<'ctx> {
        let bld = &self.b;
        let r = match op {
            ArithOp::Add => bld.build_int_add(a, b, "add").expect("add"),
            ArithOp::Sub => bld.build_int_sub(a, b, "sub").expect("sub"),
            ArithOp::Mul => bld.build_int_mul(a, b, "mul").expect("mul"),
            ArithOp::And => bld.build_and(a, b, "and").expect("and"),
            ArithOp::Or => bld.build_or(a, b, "or").expect("or"),
            ArithOp::Xor => bld.build_xor(a, b, "xor").expect("xor"),
            ArithOp::Shl | ArithOp::Shr => {
                let count = bld
                    .build_and(b, self.c64(t.size as u64 * 8 - 1), "count")
                    .expect("and");
                if op == ArithOp::Shl {
                    bld.build_left_shift(a, count, "shl").expect("shl")
                } else {
                    bld.build_right_shift(a, count, t.signed, "shr")
                        .expect("shr")
                }
            }
            ArithOp::Div | ArithOp::Rem => return self.divide(op, a, b, t),
        };
        self.normalize(r, t)
    }

    /// Division with eBPF semantics (x/0 = 0, x%0 = x). Signed division is
    /// done on magnitudes because BPF before v4 has only unsigned division.
    fn divide(
        &self,
        op: ArithOp,
        a: IntValue<'ctx>,
        b: IntValue<'ctx>,
        t: IntType,
    ) -> IntValue<'ctx> {
        let bld = &self.b;
        let zero = self.c64(0);
        let b_is_zero = self.eq(b, zero);
        let safe_b = self.select(b_is_zero, self.c64(1), b);
        let result = if t.signed {
            let a_neg = bld
                .build_int_compare(IntPredicate::SLT, a, zero, "aneg")
                .expect("icmp");
            let b_neg = bld
                .build_int_compare(IntPredicate::SLT, safe_b, zero, "bneg")
                .expect("icmp");
            let a_abs = self.select(a_neg, bld.build_int_neg(a, "na").expect("neg"), a);
            let b_abs = self.select(b_neg, bld.build_int_neg(safe_b, "nb").expect("neg"), safe_b);
            if op == ArithOp::Div {
                let q = bld.build_int_unsigned_div(a_abs, b_abs, "q").expect("udiv");
                let flip = bld.build_xor(a_neg, b_neg, "flip").expect("xor");
                self.select(flip, bld.build_int_neg(q, "nq").expect("neg"), q)
            } else {
                let r = bld.build_int_unsigned_rem(a_abs, b_abs, "r").expect("urem");
                self.select(a_neg, bld.build_int_neg(r, "nr").expect("neg"), r)
            }
        } else if op == ArithOp::Div {
            bld.build_int_unsigned_div(a, safe_b, "q").expect("udiv")
        } else {
            bld.build_int_unsigned_rem(a, safe_b, "r").expect("urem")
        };
        let by_zero = if op == ArithOp::Div { zero } else { a };
        self.normalize(self.select(b_is_zero, by_zero, result), t)
    }

    /// Evaluates a scalar.
    pub(super) fn eval(&mut self, s: &Scalar) -> Eval<'ctx> {
        match s {
            Scalar::Const(c) => self.ok(self.c64(*c as u64)),
            Scalar::Special(sp) => {
                let v = match sp {
                    Special::Pid => self
                        .b
                        .build_right_shift(self.pid_tgid, self.c64(32), false, "pid")
                        .expect("shr"),
                    Special::Tid => self.mask(self.pid_tgid, 4),
                    Special::Timestamp => self.timestamp,
                    Special::Pc => self.instruction_pointer(),
                    Special::Sp => return self.register(7),
                };
                self.ok(v)
            }
            Scalar::Load {
                source,
                size,
                signed,
            } => {
                let e = self.read_source(source, *size);
                Eval {
                    value: self.normalize(
                        e.value,
                        IntType {
                            size: *size,
                            signed: *signed,
                        },
                    ),
                    fail: e.fail,
                }
            }
            Scalar::Bitfield {
                source,
                storage,
                bit_offset,
                bit_size,
                signed,
            } => {
                let e = self.read_source(source, *storage);
                let shifted = self
                    .b
                    .build_right_shift(e.value, self.c64(*bit_offset as u64), false, "bf")
                    .expect("shr");
                let bits = *bit_size as u32;
                let v = if *signed && bits < 64 {
                    // Move the field's sign bit to bit 63, then shift back arithmetically.
                    let up = self
                        .b
                        .build_left_shift(shifted, self.c64(64 - bits as u64), "bfup")
                        .expect("shl");
                    self.b
                        .build_right_shift(up, self.c64(64 - bits as u64), true, "bfdown")
                        .expect("shr")
                } else if bits < 64 {
                    self.b
                        .build_and(shifted, self.c64((1u64 << bits) - 1), "bfmask")
                        .expect("and")
                } else {
                    shifted
                };
                Eval {
                    value: v,
                    fail: e.fail,
                }
            }
            Scalar::LetRef(id) => *self.lets.get(id).expect("let bound before use"),
            Scalar::Convert(inner, t) => {
                let e = self.eval(inner);
                Eval {
                    value: self.normalize(e.value, *t),
                    fail: e.fail,
                }
            }
            Scalar::Arith(op, a, b, t) => {
                let ea = self.eval(a);
                let eb = self.eval(b);
                Eval {
                    value: self.arith(*op, ea.value, eb.value, *t),
                    fail: self.chain(ea.fail, eb.fail),
                }
            }
            Scalar::Compare(op, a, b, signed) => {
                let ea = self.eval(a);
                let eb = self.eval(b);
                let pred = match (op, signed) {
                    (CmpOp::Eq, _) => IntPredicate::EQ,
                    (CmpOp::Ne, _) => IntPredicate::NE,
                    (CmpOp::Lt, true) => IntPredicate::SLT,
                    (CmpOp::Lt, false) => IntPredicate::ULT,
                    (CmpOp::Le, true) => IntPredicate::SLE,
                    (CmpOp::Le, false) => IntPredicate::ULE,
                    (CmpOp::Gt, true) => IntPredicate::SGT,
                    (CmpOp::Gt, false) => IntPredicate::UGT,
                    (CmpOp::Ge, true) => IntPredicate::SGE,
                    (CmpOp::Ge, false) => IntPredicate::UGE,
                };
                let c = self
                    .b
                    .build_int_compare(pred, ea.value, eb.value, "cmp")
                    .expect("icmp");
                let fail = self.chain(ea.fail, eb.fail);
                // A comparison whose operand failed to read is false.
                let failed = self.ne(fail.status, self.c64(0));
                let v = self.b.build_int_z_extend(c, self.i64_t, "b").expect("zext");
                Eval {
                    value: self.select(failed, self.c64(0), v),
                    fail,
                }
            }
            Scalar::Not(inner) => {
                let e = self.eval(inner);
                let z = self.eq(e.value, self.c64(0));
                Eval {
                    value: self
                        .b
                        .build_int_z_extend(z, self.i64_t, "not")
                        .expect("zext"),
                    fail: e.fail,
                }
            }
            Scalar::BitNot(inner, t) => {
                let e = self.eval(inner);
                let v = self.b.build_not(e.value, "bnot").expect("not");
                Eval {
                    value: self.normalize(v, *t),
                    fail: e.fail,
                }
            }
            Scalar::And(a, b) => self.short_circuit(a, b, true),
            Scalar::Or(a, b) => self.short_circuit(a, b, false),
            Scalar::Address(ops) => self.eval_ops(ops),
            Scalar::StrEq { source, literal } => self.string_equals(source, literal),
            Scalar::BytesEq(cmp) => self.bytes_equal(cmp),
        }
    }

    /// `a && b` / `a || b`: `b` is only evaluated (and read) when `a` does not decide.
    fn short_circuit(&mut self, a: &Scalar, b: &Scalar, is_and: bool) -> Eval<'ctx> {
        let ea = self.eval(a);
        let a_true = self.ne(ea.value, self.c64(0));
        let a_failed = self.ne(ea.fail.status, self.c64(0));
        let start = self.b.get_insert_block().expect("block");
        let rhs = self
            .ctx
            .append_basic_block(self.function, if is_and { "and_rhs" } else { "or_rhs" });
        let done = self.ctx.append_basic_block(self.function, "logic_done");
        // Evaluate the right side only if the left read fine and did not decide.
        let decides = if is_and {
            self.b.build_not(a_true, "a_false").expect("not")
        } else {
            a_true
        };
        let skip = self.b.build_or(decides, a_failed, "skip").expect("or");
        // Left side decided: && → false, || → true; a failed left side is
        // false. Computed here because the join block must start with PHIs.
        let left_value = if is_and {
            self.c64(0)
        } else {
            self.select(a_failed, self.c64(0), self.c64(1))
        };
        self.b
            .build_conditional_branch(skip, done, rhs)
            .expect("br");

        self.b.position_at_end(rhs);
        let eb = self.eval(b);
        let b_true = self.ne(eb.value, self.c64(0));
        let b_val = self
            .b
            .build_int_z_extend(b_true, self.i64_t, "bv")
            .expect("zext");
        let rhs_end = self.b.get_insert_block().expect("block");
        self.b.build_unconditional_branch(done).expect("br");

        self.b.position_at_end(done);
        let phi = |name: &str, left: IntValue<'ctx>, right: IntValue<'ctx>| {
            let p = self.b.build_phi(self.i64_t, name).expect("phi");
            p.add_incoming(&[(&left, start), (&right, rhs_end)]);
            p.as_basic_value().into_int_value()
        };
        Eval {
            value: phi("logic", left_value, b_val),
            fail: Fail {
                status: phi("lstatus", ea.fail.status, eb.fail.status),
                addr: phi("laddr", ea.fail.addr, eb.fail.addr),
                errno: phi("lerrno", ea.fail.errno, eb.fail.errno),
                flags: phi("lflags", ea.fail.flags, eb.fail.flags),
            },
        }
    }
}
