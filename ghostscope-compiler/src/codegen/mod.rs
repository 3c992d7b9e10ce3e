//! [`Program`] → LLVM IR → BPF ELF object, through inkwell and LLVM's BPF
//! backend. One module and one uprobe program per probe site.

mod backtrace;
mod capture;
mod compare;
mod eval;
mod helpers;
mod kernel_btf;
mod stmt;
mod thread_pointer;

use std::collections::HashMap;

use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::basic_block::BasicBlock;
use inkwell::builder::Builder;
use inkwell::context::Context;
use inkwell::module::{Linkage, Module};
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{
    CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine, TargetTriple,
};
use inkwell::types::{IntType, PointerType};
use inkwell::values::{FunctionValue, IntValue, PointerValue};
use inkwell::{AddressSpace, OptimizationLevel};

use ghostscope_protocol::wire::{
    HEADER_PID, HEADER_SIZE_FIELD, HEADER_TID, HEADER_TIMESTAMP, HEADER_TRACE_ID, RECORD_LEN,
    RECORD_STATUS,
};
use ghostscope_protocol::ReadStatus;

use crate::plan::Program;
use crate::CompileOptions;
use eval::Eval;
use helpers::{id, BPF_F_CURRENT_CPU, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP};

/// File descriptors of the maps every program writes to. They are baked into
/// the program as `BPF_PSEUDO_MAP_FD` immediates, so any number of objects
/// share one ring buffer without pinning anything in bpffs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MapFds {
    /// The shared `BPF_MAP_TYPE_RINGBUF` of events.
    pub events: i32,
    /// The shared hash of per-trace loss counters (`u32` trace id → `u64`).
    pub losses: i32,
    /// The pages of unwind rows for `bt` (0: not loaded; see `ghostscope_dwarf::unwind`).
    pub unwind_rows: i32,
    /// The one-element page index of the unwind rows for `bt` (0: not loaded).
    pub unwind_index: i32,
    /// How events reach user space, and through what `events` is.
    pub transport: EventTransport,
}

/// The kind of the shared `events` map, and how programs write to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventTransport {
    /// `events` is a `BPF_MAP_TYPE_RINGBUF`: events are written in place
    /// (`bpf_ringbuf_reserve`/`submit`).
    #[default]
    RingBuf,
    /// `events` is a `BPF_MAP_TYPE_PERF_EVENT_ARRAY` of per-CPU buffers:
    /// events are built in a per-CPU scratch element and copied out with
    /// `bpf_perf_event_output`.
    PerfEventArray {
        /// The one-element `BPF_MAP_TYPE_PERCPU_ARRAY` the event is built
        /// in; its value is at least `max_trace_event_size` bytes.
        scratch: i32,
    },
}

/// The LLVM BPF target, created once and reused for every program.
pub struct BpfCodegen {
    machine: TargetMachine,
}

impl BpfCodegen {
    /// Initialises LLVM's BPF backend.
    pub fn new() -> Result<BpfCodegen, String> {
        Target::initialize_bpf(&InitializationConfig::default());
        let triple = TargetTriple::create("bpfel");
        let target =
            Target::from_triple(&triple).map_err(|e| format!("LLVM has no BPF target: {e}"))?;
        // v3 (kernel ≥ 5.1) gives 32-bit subregisters and jumps; ring
        // buffers already need 5.8.
        let machine = target
            .create_target_machine(
                &triple,
                "v3",
                "",
                OptimizationLevel::Default,
                RelocMode::Default,
                CodeModel::Default,
            )
            .ok_or("LLVM could not create a BPF target machine")?;
        Ok(BpfCodegen { machine })
    }

    /// Compiles one program to an object, plus its IR text when asked.
    pub fn compile(
        &self,
        program: &Program,
        maps: MapFds,
        name: &str,
        options: &CompileOptions,
    ) -> Result<(Vec<u8>, Option<String>), String> {
        let ctx = Context::create();
        let module = ctx.create_module(name);
        module.set_triple(&self.machine.get_triple());
        module.set_data_layout(&self.machine.get_target_data().get_data_layout());
        let license = module.add_global(ctx.i8_type().array_type(4), None, "_license");
        license.set_initializer(&ctx.const_string(b"GPL", true));
        license.set_section(Some("license"));

        let gen = FunctionGen::new(&ctx, &module, name, program, maps, options)?;
        gen.emit_program()?;

        module
            .verify()
            .map_err(|e| format!("internal error: generated LLVM IR is invalid: {e}"))?;
        let ir = options
            .keep_llvm_ir
            .then(|| module.print_to_string().to_string());
        module
            .run_passes("default<O2>", &self.machine, PassBuilderOptions::create())
            .map_err(|e| format!("internal error: LLVM optimisation failed: {e}"))?;
        let object = self
            .machine
            .write_to_memory_buffer(&module, FileType::Object)
            .map_err(|e| format!("internal error: LLVM BPF code generation failed: {e}"))?
            .as_slice()
            .to_vec();
        Ok((object, ir))
    }
}

/// State while emitting one program.
pub(crate) struct FunctionGen<'a, 'ctx> {
    ctx: &'ctx Context,
    module: &'a Module<'ctx>,
    b: Builder<'ctx>,
    function: FunctionValue<'ctx>,
    program: &'a Program,
    maps: MapFds,
    options: &'a CompileOptions,
    i8_t: IntType<'ctx>,
    i32_t: IntType<'ctx>,
    i64_t: IntType<'ctx>,
    ptr_t: PointerType<'ctx>,
    /// `struct pt_regs *` of the probe.
    regs: PointerValue<'ctx>,
    /// The reserved event in the ring buffer.
    event: PointerValue<'ctx>,
    /// An 8-byte stack slot for reads of scalars.
    scratch: PointerValue<'ctx>,
    /// A buffer for C strings compared with literals.
    text_buf: PointerValue<'ctx>,
    /// Two `compare_cap`-byte buffers for the operands of comparison builtins.
    cmp_buf: PointerValue<'ctx>,
    /// A 4-byte stack slot for the loss-counter key. Every alloca lives in
    /// the entry block: BPF has no dynamic stack allocation.
    loss_key: PointerValue<'ctx>,
    pid_tgid: IntValue<'ctx>,
    timestamp: IntValue<'ctx>,
    lets: HashMap<usize, Eval<'ctx>>,
    /// Why the program cannot be generated, found while lowering a value
    /// (the thread pointer's place in the kernel is unknown).
    unsupported: Option<String>,
}

impl<'a, 'ctx> FunctionGen<'a, 'ctx> {
    fn new(
        ctx: &'ctx Context,
        module: &'a Module<'ctx>,
        name: &str,
        program: &'a Program,
        maps: MapFds,
        options: &'a CompileOptions,
    ) -> Result<FunctionGen<'a, 'ctx>, String> {
        let i64_t = ctx.i64_type();
        let ptr_t = ctx.ptr_type(AddressSpace::default());
        let function = module.add_function(
            name,
            ctx.i32_type().fn_type(&[ptr_t.into()], false),
            Some(Linkage::External),
        );
        function.set_section(Some(&format!("uprobe/{name}")));
        function.add_attribute(
            AttributeLoc::Function,
            ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("nounwind"), 0),
        );
        let b = ctx.create_builder();
        let entry = ctx.append_basic_block(function, "entry");
        b.position_at_end(entry);
        let scratch = b
            .build_alloca(i64_t, "scratch")
            .map_err(|e| e.to_string())?;
        let text_buf = b
            .build_alloca(
                ctx.i64_type()
                    .array_type((crate::plan::MAX_COMPARED_STRING as u32 + 2).div_ceil(8)),
                "text_buf",
            )
            .map_err(|e| e.to_string())?;
        let cmp_buf = b
            .build_alloca(
                ctx.i64_type()
                    .array_type(2 * options.compare_cap.div_ceil(8)),
                "cmp_buf",
            )
            .map_err(|e| e.to_string())?;
        let loss_key = b
            .build_alloca(ctx.i32_type(), "loss_key")
            .map_err(|e| e.to_string())?;
        let regs = function
            .get_nth_param(0)
            .ok_or("program has no context parameter")?
            .into_pointer_value();
        let placeholder = ptr_t.const_null();
        let zero = i64_t.const_zero();
        Ok(FunctionGen {
            ctx,
            module,
            b,
            function,
            program,
            maps,
            options,
            i8_t: ctx.i8_type(),
            i32_t: ctx.i32_type(),
            i64_t,
            ptr_t,
            regs,
            event: placeholder,
            scratch,
            text_buf,
            cmp_buf,
            loss_key,
            pid_tgid: zero,
            timestamp: zero,
            lets: HashMap::new(),
            unsupported: None,
        })
    }

    fn emit_program(mut self) -> Result<(), String> {
        let ret0 = self.ctx.append_basic_block(self.function, "return");
        self.pid_tgid = self.call_i64(id::GET_CURRENT_PID_TGID, &[]);
        if let Some(pid) = self.program.pid_filter {
            let tgid = self
                .b
                .build_right_shift(self.pid_tgid, self.c64(32), false, "tgid")
                .map_err(|e| e.to_string())?;
            let ours = self.ctx.append_basic_block(self.function, "ours");
            let same = self.eq(tgid, self.c64(pid as u64));
            self.b
                .build_conditional_branch(same, ours, ret0)
                .map_err(|e| e.to_string())?;
            self.b.position_at_end(ours);
        }
        if self.program.markers.is_empty() {
            // Nothing can ever be printed: do not touch the ring buffer.
            return self.return_through(ret0);
        }
        self.timestamp = self.call_i64(id::KTIME_GET_NS, &[]);
        let events = self.map_ptr(self.maps.events);
        let size = self.program.event_size as u64;
        let event = match self.maps.transport {
            EventTransport::RingBuf => self.call_ptr(
                id::RINGBUF_RESERVE,
                &[events.into(), self.c64(size).into(), self.c64(0).into()],
            ),
            EventTransport::PerfEventArray { scratch } => {
                // Key 0 of the one-element scratch array; count_loss reuses the slot.
                self.b
                    .build_store(self.loss_key, self.i32_t.const_zero())
                    .map_err(|e| e.to_string())?;
                let scratch = self.map_ptr(scratch);
                self.call_ptr(id::MAP_LOOKUP_ELEM, &[scratch.into(), self.loss_key.into()])
            }
        };
        let reserved = self.ctx.append_basic_block(self.function, "reserved");
        let lost = self.ctx.append_basic_block(self.function, "lost");
        self.branch_on_null(event, lost, reserved)?;

        self.b.position_at_end(lost);
        self.count_loss()?;
        self.b
            .build_unconditional_branch(ret0)
            .map_err(|e| e.to_string())?;

        self.b.position_at_end(reserved);
        self.event = event;
        self.write_header();
        for &marker in &self.program.markers {
            self.store_low(
                self.event_at(marker + RECORD_STATUS),
                self.c64(ReadStatus::NotRun as u64),
                1,
            );
            self.store_low(self.event_at(marker + RECORD_LEN), self.c64(0), 4);
        }
        let statements = &self.program.statements;
        self.statements(statements)?;
        if let Some(reason) = self.unsupported.take() {
            return Err(reason);
        }

        match self.maps.transport {
            EventTransport::RingBuf => self.submit_to_ring(events)?,
            EventTransport::PerfEventArray { .. } => self.output_to_perf(events, lost)?,
        }
        self.return_through(ret0)
    }

    /// Ends the current block in the program's exit block, which returns 0.
    fn return_through(&self, ret0: BasicBlock<'ctx>) -> Result<(), String> {
        self.b
            .build_unconditional_branch(ret0)
            .map_err(|e| e.to_string())?;
        self.b.position_at_end(ret0);
        self.b
            .build_return(Some(&self.i32_t.const_zero()))
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Submits the reserved ring-buffer event.
    fn submit_to_ring(&self, events: PointerValue<'ctx>) -> Result<(), String> {
        // Wake the reader once, when this event takes the buffer past a
        // quarter full; otherwise it finds events on its short polling timer.
        // A lone event then costs the traced thread no wake-up, and a flood
        // costs one wake-up per crossing, not one per event.
        let avail = self.call_i64(id::RINGBUF_QUERY, &[events.into(), self.c64(0).into()]);
        let threshold = (self.options.ringbuf_size / 4) as u64;
        let above = self
            .b
            .build_int_compare(
                inkwell::IntPredicate::UGT,
                avail,
                self.c64(threshold),
                "above",
            )
            .map_err(|e| e.to_string())?;
        let was_below = self
            .b
            .build_int_compare(
                inkwell::IntPredicate::ULE,
                avail,
                self.c64(threshold + self.program.event_size as u64),
                "was_below",
            )
            .map_err(|e| e.to_string())?;
        let crossing = self
            .b
            .build_and(above, was_below, "crossing")
            .map_err(|e| e.to_string())?;
        let flags = self.select(
            crossing,
            self.c64(BPF_RB_FORCE_WAKEUP),
            self.c64(BPF_RB_NO_WAKEUP),
        );
        self.call_void(id::RINGBUF_SUBMIT, &[self.event.into(), flags.into()]);
        Ok(())
    }

    /// Copies the event built in the scratch element to this CPU's perf
    /// buffer; when the buffer is full the helper fails and the event is
    /// counted lost in `lost`, so every loss is attributed to its trace.
    fn output_to_perf(
        &self,
        events: PointerValue<'ctx>,
        lost: inkwell::basic_block::BasicBlock<'ctx>,
    ) -> Result<(), String> {
        let size = self.program.event_size as u64;
        let ret = self.call_i64(
            id::PERF_EVENT_OUTPUT,
            &[
                self.regs.into(),
                events.into(),
                self.c64(BPF_F_CURRENT_CPU).into(),
                self.event.into(),
                self.c64(size).into(),
            ],
        );
        let failed = self
            .b
            .build_int_compare(inkwell::IntPredicate::SLT, ret, self.c64(0), "failed")
            .map_err(|e| e.to_string())?;
        let sent = self.ctx.append_basic_block(self.function, "sent");
        self.b
            .build_conditional_branch(failed, lost, sent)
            .map_err(|e| e.to_string())?;
        self.b.position_at_end(sent);
        Ok(())
    }

    fn write_header(&self) {
        let p = &self.program;
        self.store_low(
            self.event_at(HEADER_TRACE_ID),
            self.c64(p.trace_id as u64),
            4,
        );
        let tgid = self
            .b
            .build_right_shift(self.pid_tgid, self.c64(32), false, "tgid")
            .expect("shift");
        self.store_low(self.event_at(HEADER_PID), tgid, 4);
        self.store_low(self.event_at(HEADER_TID), self.pid_tgid, 4);
        self.store_low(
            self.event_at(HEADER_SIZE_FIELD),
            self.c64(p.event_size as u64),
            4,
        );
        self.store_low(self.event_at(HEADER_TIMESTAMP), self.timestamp, 8);
    }

    /// Branches on a helper's pointer result: the verifier insists on a NULL
    /// check before ring-buffer or map memory is touched.
    fn branch_on_null(
        &self,
        ptr: PointerValue<'ctx>,
        if_null: inkwell::basic_block::BasicBlock<'ctx>,
        otherwise: inkwell::basic_block::BasicBlock<'ctx>,
    ) -> Result<(), String> {
        let is_null = self
            .b
            .build_is_null(ptr, "is_null")
            .map_err(|e| e.to_string())?;
        self.b
            .build_conditional_branch(is_null, if_null, otherwise)
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Adds one to this trace's loss counter, if user space registered it.
    fn count_loss(&self) -> Result<(), String> {
        let key = self.loss_key;
        self.b
            .build_store(
                key,
                self.i32_t.const_int(self.program.trace_id as u64, false),
            )
            .map_err(|e| e.to_string())?;
        let losses = self.map_ptr(self.maps.losses);
        let counter = self.call_ptr(id::MAP_LOOKUP_ELEM, &[losses.into(), key.into()]);
        let found = self.ctx.append_basic_block(self.function, "loss_found");
        let done = self.ctx.append_basic_block(self.function, "loss_done");
        self.branch_on_null(counter, done, found)?;
        self.b.position_at_end(found);
        self.b
            .build_atomicrmw(
                inkwell::AtomicRMWBinOp::Add,
                counter,
                self.c64(1),
                inkwell::AtomicOrdering::Monotonic,
            )
            .map_err(|e| e.to_string())?;
        self.b
            .build_unconditional_branch(done)
            .map_err(|e| e.to_string())?;
        self.b.position_at_end(done);
        Ok(())
    }
}
