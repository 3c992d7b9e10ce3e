//! `bt`: unwinding the user stack with DWARF CFI inside BPF.
//!
//! User space turned every module's CFI into sorted rows
//! (`ghostscope_dwarf::unwind`) and put them in two array maps: the rows,
//! and one entry per module (link-time code range, load bias, its slice of
//! rows). For each frame the program
//!
//! 1. finds the module whose code range holds the IP (a bounded scan),
//! 2. binary-searches the module's rows for the PC (bounded steps;
//!    frames after #0 look up `pc - 1`, the call instruction),
//! 3. computes the CFA (`rsp + off` or `rbp + off`), reads the return
//!    address and, when the row says it was saved, the caller's RBP, with
//!    `bpf_probe_read_user`,
//! 4. checks the next frame is plausible and moves on.
//!
//! Where a module has no rows for a PC, the frame pointer chain is used
//! instead, and the frame says so in its flags. Every loop has a constant
//! bound, so the verifier can follow it; the state lives in stack slots.
//! The frames go straight into the event's backtrace record.

use inkwell::basic_block::BasicBlock;
use inkwell::types::IntType;
use inkwell::values::{IntValue, PointerValue};
use inkwell::IntPredicate;

use ghostscope_dwarf::unwind::{
    RowKind, MAX_UNWIND_MODULES, MODULE_BIAS, MODULE_FLAGS, MODULE_FLAG_BIAS_KNOWN,
    MODULE_LINK_END, MODULE_LINK_START, MODULE_ROW_COUNT, MODULE_ROW_START, ROW_CFA_OFFSET,
    ROW_KIND, ROW_PC, ROW_RA_OFFSET, ROW_RBP_OFFSET, ROW_SEARCH_STEPS,
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
/// Return addresses from here up are kernel-like (non-canonical or kernel half).
const KERNEL_LIKE_START: u64 = 0x0000_8000_0000_0000;

/// Stack slots holding the unwinder's state between blocks.
struct UnwindState<'ctx> {
    ip: PointerValue<'ctx>,
    sp: PointerValue<'ctx>,
    bp: PointerValue<'ctx>,
    index: PointerValue<'ctx>,
    status: PointerValue<'ctx>,
    reason: PointerValue<'ctx>,
    count: PointerValue<'ctx>,
    module: PointerValue<'ctx>,
    found: PointerValue<'ctx>,
    vaddr: PointerValue<'ctx>,
    row_start: PointerValue<'ctx>,
    row_count: PointerValue<'ctx>,
    lo: PointerValue<'ctx>,
    hi: PointerValue<'ctx>,
    step: PointerValue<'ctx>,
    cfa: PointerValue<'ctx>,
    ra_addr: PointerValue<'ctx>,
    bp_addr: PointerValue<'ctx>,
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
            module: slot("bt_module"),
            found: slot("bt_found_module"),
            vaddr: slot("bt_vaddr"),
            row_start: slot("bt_row_start"),
            row_count: slot("bt_row_count"),
            lo: slot("bt_lo"),
            hi: slot("bt_hi"),
            step: slot("bt_step"),
            cfa: slot("bt_cfa"),
            ra_addr: slot("bt_ra_addr"),
            bp_addr: slot("bt_bp_addr"),
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
        let (rows_fd, modules_fd) = (self.maps.unwind_rows, self.maps.unwind_modules);
        let s = self.state();
        let depth = bt.depth.max(1) as u64;
        let payload = bt.record + RECORD_HEADER_SIZE;
        let (probe_module, probe_vaddr) = self.program.probe;
        let modules = (self.program.biases.len() as u64).min(MAX_UNWIND_MODULES as u64);
        // Outside every module: in -p mode the module map is complete, so
        // the code has no debug info; with -t alone the other modules'
        // load addresses are unknown.
        let outside = if self.program.pid_filter.is_some() {
            BacktraceStatus::DwarfUnavailable
        } else {
            BacktraceStatus::OffsetsUnavailable
        };

        let ip0 = self.pt_reg(RIP);
        // The probed module's bias, exact at the hit even without a process at compile time.
        let runtime_bias = self.sub(ip0, self.c64(probe_vaddr));
        self.store64(s.ip, ip0);
        self.store64(s.sp, self.pt_reg(RSP));
        self.store64(s.bp, self.pt_reg(RBP));
        self.store64(s.index, self.c64(0));
        self.store64(s.status, self.c64(BacktraceStatus::Complete as u64));
        self.store64(s.reason, self.c64(0));
        self.store64(s.count, self.c64(0));

        let head = self.block("bt_frame");
        let body = self.block("bt_frame_body");
        let finish = self.block("bt_finish");
        self.jump(head);

        // head: while index < depth
        self.b.position_at_end(head);
        let index = self.load64(s.index);
        self.branch(
            self.cmp(IntPredicate::ULT, index, self.c64(depth)),
            body,
            finish,
        );

        // body: record the IP, then find its module.
        self.b.position_at_end(body);
        let index = self.load64(s.index);
        let ip = self.load64(s.ip);
        let frame = self.frame_ptr(payload, index);
        self.store_low(self.byte_gep(frame, FRAME_IP as u64), ip, 8);
        self.store_low(self.byte_gep(frame, FRAME_MODULE_PC as u64), self.c64(0), 8);
        self.store_low(
            self.byte_gep(frame, FRAME_MODULE as u64),
            self.c64(NO_MODULE as u64),
            2,
        );
        self.store_low(self.byte_gep(frame, FRAME_FLAGS as u64), self.c64(0), 1);
        self.store64(s.count, self.add(index, self.c64(1)));
        self.store64(s.module, self.c64(0));
        self.store64(s.found, self.c64(NO_MODULE as u64));
        let mod_head = self.block("bt_module");
        let mod_body = self.block("bt_module_body");
        let mod_next = self.block("bt_module_next");
        let mod_done = self.block("bt_module_done");
        self.jump(mod_head);

        self.b.position_at_end(mod_head);
        let m = self.load64(s.module);
        self.branch(
            self.cmp(IntPredicate::ULT, m, self.c64(modules)),
            mod_body,
            mod_done,
        );

        self.b.position_at_end(mod_body);
        let m = self.load64(s.module);
        let entry = self.lookup(modules_fd, s.key, m, mod_next);
        let flags = self.field(entry, MODULE_FLAGS, 4, false);
        let known_bits = self
            .b
            .build_and(flags, self.c64(MODULE_FLAG_BIAS_KNOWN as u64), "known")
            .expect("and");
        let known = self.ne(known_bits, self.c64(0));
        let is_probe = self.eq(m, self.c64(probe_module as u64));
        let usable = self.b.build_or(known, is_probe, "usable").expect("or");
        let bias = self.select(
            known,
            self.field(entry, MODULE_BIAS, 8, false),
            runtime_bias,
        );
        let vaddr = self.sub(ip, bias);
        let above = self.cmp(
            IntPredicate::UGE,
            vaddr,
            self.field(entry, MODULE_LINK_START, 8, false),
        );
        let below = self.cmp(
            IntPredicate::ULT,
            vaddr,
            self.field(entry, MODULE_LINK_END, 8, false),
        );
        let inside = self.b.build_and(above, below, "inside").expect("and");
        let inside = self.b.build_and(inside, usable, "inside").expect("and");
        let mod_found = self.block("bt_module_found");
        self.branch(inside, mod_found, mod_next);

        self.b.position_at_end(mod_found);
        self.store64(s.found, m);
        self.store64(s.vaddr, vaddr);
        self.store64(s.row_start, self.field(entry, MODULE_ROW_START, 4, false));
        self.store64(s.row_count, self.field(entry, MODULE_ROW_COUNT, 4, false));
        self.jump(mod_done);

        self.b.position_at_end(mod_next);
        let m = self.load64(s.module);
        self.store64(s.module, self.add(m, self.c64(1)));
        self.jump(mod_head);

        // mod_done: record the module, then look the PC up in its rows.
        self.b.position_at_end(mod_done);
        let found = self.load64(s.found);
        let located = self.block("bt_located");
        let no_module = self.stop(&s, finish, outside, 0);
        self.branch(
            self.eq(found, self.c64(NO_MODULE as u64)),
            no_module,
            located,
        );

        self.b.position_at_end(located);
        let vaddr = self.load64(s.vaddr);
        let found = self.load64(s.found);
        let index = self.load64(s.index);
        let frame = self.frame_ptr(payload, index);
        self.store_low(self.byte_gep(frame, FRAME_MODULE_PC as u64), vaddr, 8);
        self.store_low(self.byte_gep(frame, FRAME_MODULE as u64), found, 2);
        // Frames after #0 hold return addresses: look up the call instruction.
        let is_first = self.eq(index, self.c64(0));
        let pc = self.select(is_first, vaddr, self.sub(vaddr, self.c64(1)));
        let row_start = self.load64(s.row_start);
        let row_count = self.load64(s.row_count);
        let no_rows = self.block("bt_no_rows");
        let search_init = self.block("bt_search_init");
        self.branch(self.eq(row_count, self.c64(0)), no_rows, search_init);

        self.b.position_at_end(search_init);
        let internal = self.stop(&s, finish, BacktraceStatus::InternalError, 0);
        let first = self.lookup(rows_fd, s.key, row_start, internal);
        let first_pc = self.field(first, ROW_PC, 8, false);
        self.store64(s.lo, row_start);
        self.store64(s.hi, self.add(row_start, row_count));
        self.store64(s.step, self.c64(0));
        let search_head = self.block("bt_search");
        self.branch(
            self.cmp(IntPredicate::UGT, first_pc, pc),
            no_rows,
            search_head,
        );

        // Binary search: the last row whose PC is <= pc, in [lo, hi).
        self.b.position_at_end(search_head);
        let step = self.load64(s.step);
        let lo = self.load64(s.lo);
        let hi = self.load64(s.hi);
        let more_steps = self.cmp(IntPredicate::ULT, step, self.c64(ROW_SEARCH_STEPS as u64));
        let wide = self.cmp(IntPredicate::UGT, self.sub(hi, lo), self.c64(1));
        let go = self.b.build_and(more_steps, wide, "go").expect("and");
        let search_step = self.block("bt_search_step");
        let search_done = self.block("bt_search_done");
        self.branch(go, search_step, search_done);

        self.b.position_at_end(search_step);
        let lo = self.load64(s.lo);
        let hi = self.load64(s.hi);
        let half = self
            .b
            .build_right_shift(self.sub(hi, lo), self.c64(1), false, "half")
            .expect("shr");
        let mid = self.add(lo, half);
        let row = self.lookup(rows_fd, s.key, mid, internal);
        let row_pc = self.field(row, ROW_PC, 8, false);
        let at_or_below = self.cmp(IntPredicate::ULE, row_pc, pc);
        self.store64(s.lo, self.select(at_or_below, mid, lo));
        self.store64(s.hi, self.select(at_or_below, hi, mid));
        let step = self.load64(s.step);
        self.store64(s.step, self.add(step, self.c64(1)));
        self.jump(search_head);

        // The row's rules.
        self.b.position_at_end(search_done);
        let lo = self.load64(s.lo);
        let row = self.lookup(rows_fd, s.key, lo, internal);
        let kind = self.field(row, ROW_KIND, 1, false);
        let rule = self.block("bt_rule");
        let unsupported = self.stop(&s, finish, BacktraceStatus::UnsupportedCfi, 0);
        let outermost = self.stop(&s, finish, BacktraceStatus::Complete, 0);
        self.b
            .build_switch(
                kind,
                rule,
                &[
                    (self.c64(RowKind::NoCfi as u64), no_rows),
                    (self.c64(RowKind::Unsupported as u64), unsupported),
                    (self.c64(RowKind::Outermost as u64), outermost),
                ],
            )
            .map_err(|e| e.to_string())?;

        self.b.position_at_end(rule);
        let sp = self.load64(s.sp);
        let bp = self.load64(s.bp);
        let on_rbp = self.eq(kind, self.c64(RowKind::CfaRbp as u64));
        let base = self.select(on_rbp, bp, sp);
        let cfa = self.add(base, self.field(row, ROW_CFA_OFFSET, 4, true));
        self.store64(s.cfa, cfa);
        self.store64(
            s.ra_addr,
            self.add(cfa, self.field(row, ROW_RA_OFFSET, 1, true)),
        );
        let bp_offset = self.field(row, ROW_RBP_OFFSET, 2, true);
        let saved = self.ne(bp_offset, self.c64(0));
        self.store64(
            s.bp_addr,
            self.select(saved, self.add(cfa, bp_offset), self.c64(0)),
        );
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
        self.store64(s.bp_addr, bp);
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
        let bp_addr = self.load64(s.bp_addr);
        let read_bp = self.block("bt_read_bp");
        let checks = self.block("bt_checks");
        // The caller's RBP: unchanged unless the row says where it was saved.
        self.store64(s.read, self.load64(s.bp));
        self.branch(self.ne(bp_addr, self.c64(0)), read_bp, checks);

        self.b.position_at_end(read_bp);
        let bp_failed = self.stop(
            &s,
            finish,
            BacktraceStatus::ReadError,
            REASON_FRAME_POINTER_READ_FAILED,
        );
        let saved_bp = self.entry_slot(self.i64_t, "bt_saved_bp");
        let next_bp = self.read_user_u64(saved_bp, bp_addr, bp_failed);
        self.store64(s.read, next_bp);
        self.jump(checks);

        self.b.position_at_end(checks);
        let next_bp = self.load64(s.read);
        let cfa = self.load64(s.cfa);
        let sp = self.load64(s.sp);
        let index = self.load64(s.index);
        let conditions = [
            // A return address of 0 or below user space: the natural end.
            (
                self.cmp(IntPredicate::ULT, ra, self.c64(USER_RANGE_START)),
                BacktraceStatus::Complete,
                0,
            ),
            (
                self.cmp(IntPredicate::UGE, ra, self.c64(KERNEL_LIKE_START)),
                BacktraceStatus::InvalidFrame,
                REASON_NEXT_IP_KERNEL_LIKE,
            ),
            (
                self.eq(cfa, self.c64(0)),
                BacktraceStatus::InvalidFrame,
                REASON_NEXT_CFA_ZERO,
            ),
            (
                self.cmp(IntPredicate::ULE, cfa, sp),
                BacktraceStatus::InvalidFrame,
                REASON_NEXT_CFA_NOT_ADVANCING,
            ),
            (
                self.cmp(
                    IntPredicate::UGE,
                    self.add(index, self.c64(1)),
                    self.c64(depth),
                ),
                BacktraceStatus::Truncated,
                0,
            ),
        ];
        for (cond, status, reason) in conditions {
            let stop = self.stop(&s, finish, status, reason);
            let next = self.block("bt_check");
            self.branch(cond, stop, next);
            self.b.position_at_end(next);
        }
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
