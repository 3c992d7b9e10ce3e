//! Calls to BPF helpers and small IR building blocks.
//!
//! Helpers are called through a constant function pointer whose value is
//! the helper id, as clang does; declaring them as external functions makes
//! LLVM emit BPF-to-BPF calls that no loader can resolve (toolchain P6).

use inkwell::types::BasicType;
use inkwell::values::{BasicMetadataValueEnum, IntValue, PointerValue};
use inkwell::IntPredicate;

use super::FunctionGen;

/// Helper ids from `include/uapi/linux/bpf.h`.
pub(super) mod id {
    pub const MAP_LOOKUP_ELEM: u64 = 1;
    pub const KTIME_GET_NS: u64 = 5;
    pub const GET_CURRENT_PID_TGID: u64 = 14;
    pub const PERF_EVENT_OUTPUT: u64 = 25;
    pub const GET_CURRENT_TASK: u64 = 35;
    pub const PROBE_READ_USER: u64 = 112;
    pub const PROBE_READ_KERNEL: u64 = 113;
    pub const PROBE_READ_USER_STR: u64 = 114;
    pub const RINGBUF_RESERVE: u64 = 131;
    pub const RINGBUF_SUBMIT: u64 = 132;
    pub const RINGBUF_QUERY: u64 = 134;
}

/// `bpf_ringbuf_submit` flag: do not wake the consumer.
pub(super) const BPF_RB_NO_WAKEUP: u64 = 1;
/// `bpf_ringbuf_submit` flag: wake the consumer now.
pub(super) const BPF_RB_FORCE_WAKEUP: u64 = 2;
/// `bpf_perf_event_output` flags: the buffer of the CPU the program runs on.
pub(super) const BPF_F_CURRENT_CPU: u64 = 0xffff_ffff;

impl<'a, 'ctx> FunctionGen<'a, 'ctx> {
    fn helper(
        &self,
        helper: u64,
        ret: Option<inkwell::types::BasicTypeEnum<'ctx>>,
        args: &[BasicMetadataValueEnum<'ctx>],
    ) -> Option<inkwell::values::BasicValueEnum<'ctx>> {
        let param_types: Vec<inkwell::types::BasicMetadataTypeEnum> = args
            .iter()
            .map(|a| match a {
                BasicMetadataValueEnum::PointerValue(_) => self.ptr_t.into(),
                BasicMetadataValueEnum::IntValue(v) => v.get_type().into(),
                _ => self.i64_t.into(),
            })
            .collect();
        let fn_type = match ret {
            Some(t) => t.fn_type(&param_types, false),
            None => self.ctx.void_type().fn_type(&param_types, false),
        };
        let callee = self
            .i64_t
            .const_int(helper, false)
            .const_to_pointer(self.ptr_t);
        let call = self
            .b
            .build_indirect_call(fn_type, callee, args, "helper")
            .expect("helper call");
        call.try_as_basic_value().basic()
    }

    /// A helper returning i64.
    pub(super) fn call_i64(
        &self,
        helper: u64,
        args: &[BasicMetadataValueEnum<'ctx>],
    ) -> IntValue<'ctx> {
        self.helper(helper, Some(self.i64_t.into()), args)
            .expect("i64 result")
            .into_int_value()
    }

    /// A helper returning a pointer.
    pub(super) fn call_ptr(
        &self,
        helper: u64,
        args: &[BasicMetadataValueEnum<'ctx>],
    ) -> PointerValue<'ctx> {
        self.helper(helper, Some(self.ptr_t.into()), args)
            .expect("pointer result")
            .into_pointer_value()
    }

    /// A helper returning nothing.
    pub(super) fn call_void(&self, helper: u64, args: &[BasicMetadataValueEnum<'ctx>]) {
        self.helper(helper, None, args);
    }

    /// `bpf_probe_read_user(dst, size, src)`; returns 0 or a negative errno.
    pub(super) fn probe_read(
        &self,
        dst: PointerValue<'ctx>,
        size: IntValue<'ctx>,
        src: IntValue<'ctx>,
    ) -> IntValue<'ctx> {
        self.read_helper(id::PROBE_READ_USER, dst, size, src)
    }

    /// `bpf_probe_read_kernel(dst, size, src)`; returns 0 or a negative errno.
    pub(super) fn probe_read_kernel(
        &self,
        dst: PointerValue<'ctx>,
        size: IntValue<'ctx>,
        src: IntValue<'ctx>,
    ) -> IntValue<'ctx> {
        self.read_helper(id::PROBE_READ_KERNEL, dst, size, src)
    }

    /// `bpf_probe_read_user_str(dst, size, src)`; returns bytes copied (with NUL) or a negative errno.
    pub(super) fn probe_read_str(
        &self,
        dst: PointerValue<'ctx>,
        size: IntValue<'ctx>,
        src: IntValue<'ctx>,
    ) -> IntValue<'ctx> {
        self.read_helper(id::PROBE_READ_USER_STR, dst, size, src)
    }

    /// The shared `(void *dst, u32 size, const void *src)` signature of the read helpers.
    fn read_helper(
        &self,
        helper: u64,
        dst: PointerValue<'ctx>,
        size: IntValue<'ctx>,
        src: IntValue<'ctx>,
    ) -> IntValue<'ctx> {
        let src_ptr = self
            .b
            .build_int_to_ptr(src, self.ptr_t, "src")
            .expect("inttoptr");
        let size = self
            .b
            .build_int_truncate_or_bit_cast(size, self.i32_t, "size")
            .expect("trunc");
        self.call_i64(helper, &[dst.into(), size.into(), src_ptr.into()])
    }

    /// Calls the LLVM intrinsic `name` that takes `args` and returns an i64,
    /// declaring it on first use.
    fn call_intrinsic(&self, name: &str, args: &[IntValue<'ctx>], label: &str) -> IntValue<'ctx> {
        let function = self.module.get_function(name).unwrap_or_else(|| {
            let params: Vec<_> = args.iter().map(|a| a.get_type().into()).collect();
            self.module
                .add_function(name, self.i64_t.fn_type(&params, false), None)
        });
        let args: Vec<BasicMetadataValueEnum> = args.iter().map(|a| (*a).into()).collect();
        self.b
            .build_call(function, &args, label)
            .expect("intrinsic call")
            .try_as_basic_value()
            .basic()
            .expect("value")
            .into_int_value()
    }

    /// A map referenced by file descriptor: `ld_imm64` with `BPF_PSEUDO_MAP_FD`.
    pub(super) fn map_ptr(&self, fd: i32) -> PointerValue<'ctx> {
        let v = self.call_intrinsic(
            "llvm.bpf.pseudo",
            &[self.c64(1), self.c64(fd as u64)],
            "map",
        );
        self.b
            .build_int_to_ptr(v, self.ptr_t, "map_ptr")
            .expect("inttoptr")
    }

    /// A run-time length clamped to `[0, max]` for a helper's size argument,
    /// and whether it was above `max`. The upper bound is checked on an
    /// opaque copy of the value (`llvm.bpf.passthrough`): otherwise LLVM may
    /// move the check onto another register that holds a related value, and
    /// the verifier then sees an unbounded size.
    pub(super) fn bounded_length(
        &self,
        v: IntValue<'ctx>,
        max: u64,
    ) -> (IntValue<'ctx>, IntValue<'ctx>) {
        let zero = self.c64(0);
        let negative = self
            .b
            .build_int_compare(IntPredicate::SLT, v, zero, "neg")
            .expect("icmp");
        let nonneg = self.select(negative, zero, v);
        let opaque = self.opaque(nonneg);
        let over = self
            .b
            .build_int_compare(IntPredicate::UGT, opaque, self.c64(max), "over")
            .expect("icmp");
        (self.select(over, self.c64(max), opaque), over)
    }

    /// `v`, hidden from LLVM's optimiser (`llvm.bpf.passthrough`), so it
    /// cannot rewrite the arithmetic around it into compares and branches.
    pub(super) fn opaque(&self, v: IntValue<'ctx>) -> IntValue<'ctx> {
        self.call_intrinsic(
            "llvm.bpf.passthrough.i64.i64",
            &[self.i32_t.const_zero(), v],
            "opaque",
        )
    }

    /// An i64 constant.
    pub(super) fn c64(&self, v: u64) -> IntValue<'ctx> {
        self.i64_t.const_int(v, false)
    }

    /// A pointer `offset` bytes into the event.
    pub(super) fn event_at(&self, offset: u32) -> PointerValue<'ctx> {
        self.byte_gep(self.event, offset as u64)
    }

    /// `ptr + offset` in bytes.
    pub(super) fn byte_gep(&self, ptr: PointerValue<'ctx>, offset: u64) -> PointerValue<'ctx> {
        // SAFETY (LLVM): an in-bounds byte offset into the reserved event or pt_regs.
        unsafe {
            self.b
                .build_in_bounds_gep(self.i8_t, ptr, &[self.c64(offset)], "at")
                .expect("gep")
        }
    }

    /// Stores the low `bytes` bytes of `v` at `ptr`.
    pub(super) fn store_low(&self, ptr: PointerValue<'ctx>, v: IntValue<'ctx>, bytes: u32) {
        let t = match bytes {
            1 => self.i8_t,
            2 => self.ctx.i16_type(),
            4 => self.i32_t,
            _ => self.i64_t,
        };
        let narrowed = self
            .b
            .build_int_truncate_or_bit_cast(v, t, "narrow")
            .expect("trunc");
        self.b.build_store(ptr, narrowed).expect("store");
    }

    /// `a == b` as i1.
    pub(super) fn eq(&self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> IntValue<'ctx> {
        self.b
            .build_int_compare(IntPredicate::EQ, a, b, "eq")
            .expect("icmp")
    }

    /// `a != b` as i1.
    pub(super) fn ne(&self, a: IntValue<'ctx>, b: IntValue<'ctx>) -> IntValue<'ctx> {
        self.b
            .build_int_compare(IntPredicate::NE, a, b, "ne")
            .expect("icmp")
    }

    /// `cond ? a : b`.
    pub(super) fn select(
        &self,
        cond: IntValue<'ctx>,
        a: IntValue<'ctx>,
        b: IntValue<'ctx>,
    ) -> IntValue<'ctx> {
        self.b
            .build_select(cond, a, b, "sel")
            .expect("select")
            .into_int_value()
    }
}
