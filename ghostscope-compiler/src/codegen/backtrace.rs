//! `bt`: unwinding the user stack with DWARF CFI inside BPF.
//!
//! User space turned every module's CFI into rows sorted by PC
//! (`ghostscope_dwarf::unwind`), stored in pages of 256 rows, with an index
//! of each page's first PC that the program reads in place. For each frame
//! the program
//!
//! 1. finds the row for the PC: a halving search over the index, then one
//!    over the page; both branch-free (a sign-bit mask instead of a
//!    compare), with a constant number of steps, so the verifier follows
//!    one path through them (frames after #0 look up `pc - 1`, the call);
//! 2. the row names the module and the rule: CFA = `rsp + off` or
//!    `rbp + off`, the return address at `CFA + off`, the caller's RBP at
//!    `CFA + off` or unchanged;
//! 3. reads the return address and the saved RBP with `bpf_probe_read_user`;
//! 4. checks the next frame is plausible and moves on.
//!
//! Where a module has no CFI for a PC, the frame pointer chain is followed
//! instead and the frame says so in its flags. The frame loop has a
//! constant bound; its state lives in stack slots, and the frames go
//! straight into the event's backtrace record.

use inkwell::basic_block::BasicBlock;
use inkwell::types::IntType;
use inkwell::values::{IntValue, PointerValue};
use inkwell::IntPredicate;

use ghostscope_dwarf::unwind::{
    is_absolute, RowKind, MAX_PAGES, ROWS_PER_PAGE, ROW_CFA_OFFSET, ROW_KIND, ROW_MODULE, ROW_PC,
    ROW_RA_OFFSET, ROW_RBP_OFFSET, ROW_SIZE,
};
use ghostscope_dwarf::{gp_register, RIP, RSP};
use ghostscope_protocol::backtrace::{
    BacktraceStatus, BT_FRAMES, BT_FRAME_COUNT, BT_REASON, BT_STATUS, FRAME_FLAGS,
    FRAME_FLAG_FRAME_POINTER, FRAME_IP, FRAME_MODULE, FRAME_MODULE_PC, FRAME_SIZE, NO_MODULE,
    REASON_FRAME_POINTER_READ_FAILED, REASON_NEXT_CFA_NOT_ADVANCING, REASON_NEXT_CFA_ZERO,
    REASON_NEXT_IP_KERNEL_LIKE, REASON_RETURN_ADDRESS_READ_FAILED,
};
use ghostscope_protocol::wire::RECORD_HEADER_SIZE;

use super::helpers::id;
use super::FunctionGen;
use crate::plan::PlanBacktrace;

/// DWARF number of RBP.
const RBP: u16 = 6;
/// Return addresses below this are not user code: the natural end of a stack.
const USER_RANGE_START: u64 = 0x1000;
/// Return addresses with bits above this one set are kernel-like
/// (non-canonical or in the kernel half).
const USER_ADDRESS_BITS: u64 = 47;

/// Stack slots holding the unwinder's state between blocks.
struct UnwindState<'ctx> {
    ip: PointerValue<'ctx>,
    sp: PointerValue<'ctx>,
    bp: PointerValue<'ctx>,
    index: PointerValue<'ctx>,
    status: PointerValue<'ctx>,
    reason: PointerValue<'ctx>,
    count: PointerValue<'ctx>,
    cfa: PointerValue<'ctx>,
    ra_addr: PointerValue<'ctx>,
    bp_offset: PointerValue<'ctx>,
    key: PointerValue<'ctx>,
    read: PointerValue<'ctx>,
}

impl<'a, 'ctx> FunctionGen<'a, 'ctx> {
    /// A stack slot in the entry block (BPF has no dynamic stack).
    fn entry_slot(&self, t: IntType<'ctx>, name: &str) -> PointerValue<'ctx> {
        let entry = self.function.get_first_basic_block().expect("entry block");
        let b = self.ctx.create_builder();
        match entry.get_first_instruction() {
            Some(first) => b.position_before(&first),
            None => b.position_at_end(entry),
        }
        b.build_alloca(t, name).expect("alloca")
    }

    fn block(&self, name: &str) -> BasicBlock<'ctx> {
        self.ctx.append_basic_block(self.function, name)
    }

    fn load64(&self, slot: PointerValue<'ctx>) -> IntValue<'ctx> {
        self.b
            .build_load(self.i64_t, slot, "v")
            .expect("load")
            .into_int_value()
    }

    fn store64(&self, slot: PointerValue<'ctx>, v: IntValue<'ctx>) {
        self.b.build_store(slot, v).expect("store");
    }

    /// A field of `bytes` at `ptr + offset`, extended to i64.
    fn field(
        &self,
        ptr: PointerValue<'ctx>,
        offset: u32,
        bytes: u32,
        signed: bool,
    ) -> IntValue<'ctx> {
        let t = match bytes {
            1 => self.i8_t,
            2 => self.ctx.i16_type(),
            4 => self.i32_t,
            _ => self.i64_t,
        };
        let v = self
            .b
            .build_load(t, self.byte_gep(ptr, offset as u64), "field")
            .expect("load")
            .into_int_value();
        if bytes == 8 {
            v
        } else if signed {
            self.b
                .build_int_s_extend(v, self.i64_t, "sext")
                .expect("sext")
        } else {
            self.b
                .build_int_z_extend(v, self.i64_t, "zext")
                .expect("zext")
        }
    }

    fn branch(&self, cond: IntValue<'ctx>, then: BasicBlock<'ctx>, otherwise: BasicBlock<'ctx>) {
        self.b
            .build_conditional_branch(cond, then, otherwise)
            .expect("br");
    }

    fn jump(&self, to: BasicBlock<'ctx>) {
        self.b.build_unconditional_branch(to).expect("br");
    }

    fn cmp(&self, p: IntPredicate, a: IntValue<'ctx>, b: IntValue<'ctx>) -> IntValue<'ctx> {
        self.b.build_int_compare(p, a, b, "cmp").expect("icmp")
    }

    fn add(&self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> IntValue<'ctx> {
        self.b.build_int_add(a, b, "add").expect("add")
    }

    fn sub(&self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> IntValue<'ctx> {
        self.b.build_int_sub(a, b, "sub").expect("sub")
    }

    /// Looks up array index `index` of the map `fd`; branches to `missing`
    /// when the lookup returns NULL and continues in a new block otherwise.
    fn lookup(
        &self,
        fd: i32,
        key: PointerValue<'ctx>,
        index: IntValue<'ctx>,
        missing: BasicBlock<'ctx>,
    ) -> PointerValue<'ctx> {
        let k = self
            .b
            .build_int_truncate(index, self.i32_t, "key")
            .expect("trunc");
        self.b.build_store(key, k).expect("store");
        let map = self.map_ptr(fd);
        let value = self.call_ptr(id::MAP_LOOKUP_ELEM, &[map.into(), key.into()]);
        let found = self.block("bt_found");
        self.branch_on_null(value, missing, found).expect("br");
        self.b.position_at_end(found);
        value
    }

    /// Reads 8 bytes of user memory; branches to `failed` when the read fails.
    fn read_user_u64(
        &self,
        slot: PointerValue<'ctx>,
        addr: IntValue<'ctx>,
        failed: BasicBlock<'ctx>,
    ) -> IntValue<'ctx> {
        self.store64(slot, self.c64(0));
        let ret = self.probe_read(slot, self.c64(8), addr);
        let ok = self.block("bt_read_ok");
        let bad = self.cmp(IntPredicate::SLT, ret, self.c64(0));
        self.branch(bad, failed, ok);
        self.b.position_at_end(ok);
        self.load64(slot)
    }

    /// A block that ends the unwind with `status` and `reason`.
    fn stop(
        &self,
        s: &UnwindState<'ctx>,
        finish: BasicBlock<'ctx>,
        status: BacktraceStatus,
        reason: u8,
    ) -> BasicBlock<'ctx> {
        let here = self.b.get_insert_block().expect("block");
        let block = self.block("bt_stop");
        self.b.position_at_end(block);
        self.store64(s.status, self.c64(status as u64));
        self.store64(s.reason, self.c64(reason as u64));
        self.jump(finish);
        self.b.position_at_end(here);
        block
    }

    fn state(&self) -> UnwindState<'ctx> {
        let slot = |name: &str| self.entry_slot(self.i64_t, name);
        UnwindState {
            ip: slot("bt_ip"),
            sp: slot("bt_sp"),
            bp: slot("bt_bp"),
            index: slot("bt_index"),
            status: slot("bt_status"),
            reason: slot("bt_reason"),
            count: slot("bt_count"),
            cfa: slot("bt_cfa"),
            ra_addr: slot("bt_ra_addr"),
            bp_offset: slot("bt_bp_offset"),
            key: self.entry_slot(self.i32_t, "bt_key"),
            read: slot("bt_read"),
        }
    }

    fn pt_reg(&self, dwarf: u16) -> IntValue<'ctx> {
        let r = gp_register(dwarf).expect("a pt_regs register");
        self.b
            .build_load(
                self.i64_t,
                self.byte_gep(self.regs, r.pt_regs_offset as u64),
                "reg",
            )
            .expect("load")
            .into_int_value()
    }

    /// Emits the unwinder of one `bt` statement.
    pub(super) fn backtrace(&mut self, bt: &PlanBacktrace) -> Result<(), String> {
        // The caller loads the tables before compiling a script with `bt`
        // (a dry run compiles with placeholders and never loads).
        let (rows_fd, index_fd) = (self.maps.unwind_rows, self.maps.unwind_index);
        let s = self.state();
        let depth = bt.depth.max(1) as u64;
        let payload = bt.record + RECORD_HEADER_SIZE;
        let absolute = is_absolute(self.program.biases.iter().copied());
        // Outside every module: with a process the table covers all of
        // them, so the code has no debug info; with -t alone the other
        // modules' load addresses are unknown.
        let outside = if absolute && self.program.pid_filter.is_some() {
            BacktraceStatus::DwarfUnavailable
        } else {
            BacktraceStatus::OffsetsUnavailable
        };
        let finish = self.block("bt_finish");

        let ip0 = self.pt_reg(RIP);
        // Rows are at runtime addresses with a process; else at link-time
        // addresses of the probed module, whose bias the hit tells.
        let table_bias = if absolute {
            self.c64(0)
        } else {
            self.sub(ip0, self.c64(self.program.probe.1))
        };
        self.store64(s.ip, ip0);
        self.store64(s.sp, self.pt_reg(RSP));
        self.store64(s.bp, self.pt_reg(RBP));
        self.store64(s.index, self.c64(0));
        self.store64(s.status, self.c64(BacktraceStatus::Complete as u64));
        self.store64(s.reason, self.c64(0));
        self.store64(s.count, self.c64(0));
        let internal = self.stop(&s, finish, BacktraceStatus::InternalError, 0);
        let index_map = self.lookup(index_fd, s.key, self.c64(0), internal);

        let head = self.block("bt_frame");
        let body = self.block("bt_frame_body");
        self.jump(head);

        // head: while index < depth
        self.b.position_at_end(head);
        let index = self.load64(s.index);
        self.branch(
            self.cmp(IntPredicate::ULT, index, self.c64(depth)),
            body,
            finish,
        );

        // body: record the IP and find its row.
        self.b.position_at_end(body);
        let index = self.load64(s.index);
        let ip = self.load64(s.ip);
        let frame = self.frame_ptr(payload, index);
        self.store_low(self.byte_gep(frame, FRAME_IP as u64), ip, 8);
        let key_pc = self.sub(ip, table_bias);
        self.store_low(self.byte_gep(frame, FRAME_MODULE_PC as u64), key_pc, 8);
        self.store_low(
            self.byte_gep(frame, FRAME_MODULE as u64),
            self.c64(NO_MODULE as u64),
            2,
        );
        self.store_low(self.byte_gep(frame, FRAME_FLAGS as u64), self.c64(0), 1);
        self.store64(s.count, self.add(index, self.c64(1)));
        // Frames after #0 hold return addresses: look up the call instruction.
        let after_first = self.sign_bit(self.sub(self.c64(0), index));
        let pc = self.sub(key_pc, after_first);
        let page = self.halving_search(index_map, pc, MAX_PAGES, 8);
        let page_ptr = self.lookup(rows_fd, s.key, page, internal);
        let slot = self.halving_search(page_ptr, pc, ROWS_PER_PAGE, ROW_SIZE);
        let row_offset = self
            .b
            .build_int_mul(slot, self.c64(ROW_SIZE as u64), "row_off")
            .expect("mul");
        // SAFETY (LLVM): slot < ROWS_PER_PAGE, inside the page.
        let row = unsafe {
            self.b
                .build_in_bounds_gep(self.i8_t, page_ptr, &[row_offset], "row")
                .expect("gep")
        };
        let no_module = self.stop(&s, finish, outside, 0);
        let found = self.block("bt_row");
        let row_pc = self.field(row, ROW_PC, 8, false);
        self.branch(self.cmp(IntPredicate::UGT, row_pc, pc), no_module, found);

        self.b.position_at_end(found);
        let kind = self.field(row, ROW_KIND, 1, false);
        let module = self.field(row, ROW_MODULE, 2, false);
        self.store_low(self.byte_gep(frame, FRAME_MODULE as u64), module, 2);
        let rule = self.block("bt_rule");
        let no_rows = self.block("bt_no_rows");
        let unsupported = self.stop(&s, finish, BacktraceStatus::UnsupportedCfi, 0);
        let outermost = self.stop(&s, finish, BacktraceStatus::Complete, 0);
        self.b
            .build_switch(
                kind,
                rule,
                &[
                    (self.c64(RowKind::NoModule as u64), no_module),
                    (self.c64(RowKind::NoCfi as u64), no_rows),
                    (self.c64(RowKind::Unsupported as u64), unsupported),
                    (self.c64(RowKind::Outermost as u64), outermost),
                ],
            )
            .map_err(|e| e.to_string())?;

        self.b.position_at_end(rule);
        let sp = self.load64(s.sp);
        let bp = self.load64(s.bp);
        // kind is CfaRsp (1) or CfaRbp (2) here: pick the base without a branch.
        let on_rbp = self.opaque(self.sub(kind, self.c64(RowKind::CfaRsp as u64)));
        let pick = self
            .b
            .build_int_mul(self.sub(bp, sp), on_rbp, "pick")
            .expect("mul");
        let cfa = self.add(self.add(sp, pick), self.field(row, ROW_CFA_OFFSET, 2, true));
        self.store64(s.cfa, cfa);
        self.store64(
            s.ra_addr,
            self.add(cfa, self.field(row, ROW_RA_OFFSET, 1, true)),
        );
        self.store64(s.bp_offset, self.field(row, ROW_RBP_OFFSET, 2, true));
        let step_block = self.block("bt_step");
        self.jump(step_block);

        // No CFI for the PC: follow the frame pointer, if it is plausible.
        self.b.position_at_end(no_rows);
        let sp = self.load64(s.sp);
        let bp = self.load64(s.bp);
        let plausible = self
            .b
            .build_and(
                self.ne(bp, self.c64(0)),
                self.cmp(IntPredicate::UGE, bp, sp),
                "fp_ok",
            )
            .expect("and");
        let fp = self.block("bt_frame_pointer");
        let no_fp = self.stop(&s, finish, BacktraceStatus::NoUnwindRows, 0);
        self.branch(plausible, fp, no_fp);

        self.b.position_at_end(fp);
        let bp = self.load64(s.bp);
        self.store64(s.cfa, self.add(bp, self.c64(16)));
        self.store64(s.ra_addr, self.add(bp, self.c64(8)));
        self.store64(s.bp_offset, self.sub(self.c64(0), self.c64(16)));
        let index = self.load64(s.index);
        let frame = self.frame_ptr(payload, index);
        self.store_low(
            self.byte_gep(frame, FRAME_FLAGS as u64),
            self.c64(FRAME_FLAG_FRAME_POINTER as u64),
            1,
        );
        self.jump(step_block);

        // Read the caller's registers and check the next frame.
        self.b.position_at_end(step_block);
        let ra_failed = self.stop(
            &s,
            finish,
            BacktraceStatus::ReadError,
            REASON_RETURN_ADDRESS_READ_FAILED,
        );
        let ra = self.read_user_u64(s.read, self.load64(s.ra_addr), ra_failed);
        let bp_offset = self.load64(s.bp_offset);
        let read_bp = self.block("bt_read_bp");
        let checks = self.block("bt_checks");
        // The caller's RBP: unchanged unless the row says where it was saved.
        self.store64(s.read, self.load64(s.bp));
        self.branch(self.ne(bp_offset, self.c64(0)), read_bp, checks);

        self.b.position_at_end(read_bp);
        let bp_failed = self.stop(
            &s,
            finish,
            BacktraceStatus::ReadError,
            REASON_FRAME_POINTER_READ_FAILED,
        );
        let saved_bp = self.entry_slot(self.i64_t, "bt_saved_bp");
        let bp_addr = self.add(self.load64(s.cfa), self.load64(s.bp_offset));
        let next_bp = self.read_user_u64(saved_bp, bp_addr, bp_failed);
        self.store64(s.read, next_bp);
        self.jump(checks);

        self.b.position_at_end(checks);
        let next_bp = self.load64(s.read);
        let cfa = self.load64(s.cfa);
        let sp = self.load64(s.sp);
        let index = self.load64(s.index);
        // Is the next frame plausible? Compares are branches in BPF, and a
        // run of them multiplies the verifier's paths, so each test is a
        // 0/1 from a sign bit and the first that holds picks the outcome
        // (status + 1, reason << 8) without a branch; one branch then stops.
        let one = self.c64(1);
        let user_end = self.c64((1u64 << USER_ADDRESS_BITS) - 1);
        let kernel_like = self
            .b
            .build_or(
                self.sign_bit(self.sub(user_end, ra)),
                self.sign_bit(ra),
                "kernel_like",
            )
            .expect("or");
        let below_user = self.sign_bit(self.sub(ra, self.c64(USER_RANGE_START)));
        let cfa_zero = self.sign_bit(self.sub(cfa, one));
        let not_advancing = self.sub(one, self.sign_bit(self.sub(sp, cfa)));
        let last = self.sub(
            one,
            self.sign_bit(self.sub(self.add(index, one), self.c64(depth))),
        );
        let outcome = |status: BacktraceStatus, reason: u8| {
            self.c64(status as u64 + 1 + ((reason as u64) << 8))
        };
        let checks = [
            (
                kernel_like,
                outcome(BacktraceStatus::InvalidFrame, REASON_NEXT_IP_KERNEL_LIKE),
            ),
            // A return address of 0 or below user space: the natural end.
            (below_user, outcome(BacktraceStatus::Complete, 0)),
            (
                cfa_zero,
                outcome(BacktraceStatus::InvalidFrame, REASON_NEXT_CFA_ZERO),
            ),
            (
                not_advancing,
                outcome(BacktraceStatus::InvalidFrame, REASON_NEXT_CFA_NOT_ADVANCING),
            ),
            (last, outcome(BacktraceStatus::Truncated, 0)),
        ];
        let mut code = self.c64(0);
        for (holds, value) in checks.into_iter().rev() {
            let change = self
                .b
                .build_int_mul(self.sub(value, code), holds, "pick")
                .expect("mul");
            code = self.add(code, change);
        }
        let stopping = self.block("bt_stopping");
        let next = self.block("bt_next");
        self.branch(self.ne(code, self.c64(0)), stopping, next);

        self.b.position_at_end(stopping);
        let status = self
            .b
            .build_and(code, self.c64(0xff), "status")
            .expect("and");
        self.store64(s.status, self.sub(status, one));
        self.store64(
            s.reason,
            self.b
                .build_right_shift(code, self.c64(8), false, "reason")
                .expect("shr"),
        );
        self.jump(finish);

        self.b.position_at_end(next);
        self.store64(s.ip, ra);
        self.store64(s.sp, cfa);
        self.store64(s.bp, next_bp);
        self.store64(s.index, self.add(index, self.c64(1)));
        self.jump(head);

        // finish: the record's summary and length.
        self.b.position_at_end(finish);
        let count = self.load64(s.count);
        self.store_low(self.event_at(payload + BT_STATUS), self.load64(s.status), 1);
        self.store_low(self.event_at(payload + BT_REASON), self.load64(s.reason), 1);
        self.store_low(self.event_at(payload + BT_FRAME_COUNT), count, 2);
        let frames_len = self
            .b
            .build_int_mul(count, self.c64(FRAME_SIZE as u64), "frames_len")
            .expect("mul");
        let len = self.add(frames_len, self.c64(BT_FRAMES as u64));
        self.write_record(bt.record, self.no_fail(), len);
        Ok(())
    }

    /// 1 when `v` is negative as an i64, else 0, without a branch. Both
    /// the operand and the bit are hidden from LLVM (`llvm.bpf.passthrough`),
    /// which would otherwise turn the shift, or the masks built from it,
    /// back into compares and selects: branches in BPF.
    fn sign_bit(&self, v: IntValue<'ctx>) -> IntValue<'ctx> {
        let bit = self
            .b
            .build_right_shift(self.opaque(v), self.c64(63), false, "sign")
            .expect("shr");
        self.opaque(bit)
    }

    /// A branch-free halving search over `count` (a power of two) entries
    /// of `stride` bytes at `table`, whose first 8 bytes are a PC: the index
    /// of the last entry whose PC is <= `pc` (0 if none). A compare would
    /// be a branch in BPF, doubling the verifier's paths at every step, so
    /// `entry <= pc` becomes a mask from the sign of `pc - entry` (both are
    /// below 2^63). The verifier bounds the index by the sum of the halves.
    fn halving_search(
        &self,
        table: PointerValue<'ctx>,
        pc: IntValue<'ctx>,
        count: u32,
        stride: u32,
    ) -> IntValue<'ctx> {
        let mut base = self.c64(0);
        let mut half = count / 2;
        while half > 0 {
            let probe = self.add(base, self.c64(half as u64));
            let offset = self
                .b
                .build_int_mul(probe, self.c64(stride as u64), "off")
                .expect("mul");
            // SAFETY (LLVM): probe < count, inside the table.
            let at = unsafe {
                self.b
                    .build_in_bounds_gep(self.i8_t, table, &[offset], "entry")
                    .expect("gep")
            };
            let entry = self.field(at, 0, 8, false);
            // `half` when the entry is at or below pc, else 0. No mask of
            // all ones: a 0/-1 value makes the verifier split its state.
            let above = self.sign_bit(self.sub(pc, entry));
            let at_or_below = self.b.build_xor(above, self.c64(1), "le").expect("xor");
            let step = self
                .b
                .build_left_shift(at_or_below, self.c64(half.trailing_zeros() as u64), "step")
                .expect("shl");
            base = self.add(base, step);
            half /= 2;
        }
        base
    }

    /// The frame slot `index` of a backtrace record whose payload is at `payload`.
    fn frame_ptr(&self, payload: u32, index: IntValue<'ctx>) -> PointerValue<'ctx> {
        let offset = self
            .b
            .build_int_mul(index, self.c64(FRAME_SIZE as u64), "frame_off")
            .expect("mul");
        // SAFETY (LLVM): index < depth, so the frame lies inside the reserved record.
        unsafe {
            self.b
                .build_in_bounds_gep(
                    self.i8_t,
                    self.event_at(payload + BT_FRAMES),
                    &[offset],
                    "frame",
                )
                .expect("gep")
        }
    }
}
