//! Read plans: where a variable's bytes are at one PC, as a short program a
//! BPF code generator can lower without knowing DWARF.
//!
//! A DWARF location expression is evaluated symbolically here. Registers,
//! the CFA, memory reads and the module's load bias stay symbolic; they are
//! only known when the probe fires.

use gimli::{Operation, Reader};

use crate::registers::{gp_register, unreadable_register_reason};

/// One step of an address or value computation on a small stack of `u64`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOp {
    /// Push a constant.
    Const(u64),
    /// Push a module-relative virtual address plus the module's runtime load bias.
    ModuleAddress(u64),
    /// Push a link-time address of another module of the session plus that
    /// module's load bias (`module` indexes `DebugSession::modules`): a
    /// library's global that the dynamic linker copied into the executable.
    SessionModuleAddress {
        /// The module holding the address.
        module: usize,
        /// Its link-time virtual address there.
        vaddr: u64,
    },
    /// Push the 64-bit value of a general-purpose register (DWARF number).
    Register(u16),
    /// Pop an address, read `size` bytes there (zero-extended), push them.
    /// A NULL address is reported as a null dereference, not read.
    Deref {
        /// Bytes to read, 1 to 8.
        size: u8,
    },
    /// Pop b, pop a, push a + b.
    Add,
    /// Pop b, pop a, push a - b.
    Sub,
    /// Pop b, pop a, push a * b.
    Mul,
    /// Pop b, pop a, push a / b, signed (`DW_OP_div`); x / 0 is 0.
    Div,
    /// Pop b, pop a, push a % b, unsigned (`DW_OP_mod`); x % 0 is x.
    Mod,
    /// Pop b, pop a, push a & b.
    And,
    /// Pop b, pop a, push a | b.
    Or,
    /// Pop b, pop a, push a ^ b.
    Xor,
    /// Pop b, pop a, push a << b.
    Shl,
    /// Pop b, pop a, push a >> b (logical).
    Shr,
    /// Pop b, pop a, push a >> b (arithmetic).
    Shra,
    /// Pop a, push -a.
    Neg,
    /// Pop a, push !a.
    Not,
    /// Push a copy of the top of the stack.
    Dup,
    /// Push the current thread's thread pointer (`fs_base` on x86-64).
    ThreadPointer,
    /// Push a copy of the entry `n` below the top (`DW_OP_over` is 1).
    Pick(u8),
    /// Exchange the two top entries.
    Swap,
    /// Pop the top entry.
    Drop,
    /// Push the value a register had when the current function was entered
    /// (`DW_OP_entry_value`), recovered at run time from the call site the
    /// function was called from.
    EntryValue(Box<EntryValue>),
}

/// How a value the function was called with is recovered at a probe
/// inside it: the frame's return address says which call site the call
/// came from, and that call site records the argument (`DW_AT_call_value`)
/// in terms of the caller's frame, which CFI unwinds. A return address
/// that matches no known call site is reported as a failure ("entry not
/// captured"), never as a guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryValue {
    /// Which argument.
    pub argument: CallArgument,
    /// Ops that push this frame's return address.
    pub return_address: Vec<ReadOp>,
    /// Per known call site: its return address (module-relative) and the
    /// ops that compute the argument when called from there.
    pub callers: Vec<(u64, Vec<ReadOp>)>,
}

/// An argument as a call site names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallArgument {
    /// The value in a register at entry (`DW_OP_entry_value(DW_OP_regN)`).
    Register(u16),
    /// A parameter a clone no longer receives, named by its DIE (gcc's
    /// `DW_OP_GNU_parameter_ref` and `DW_AT_call_parameter`).
    Parameter(u64),
}

impl CallArgument {
    /// The argument in words, for messages.
    pub fn describe(&self) -> String {
        match self {
            CallArgument::Register(r) => {
                gp_register(*r).map_or_else(|| format!("reg{r}"), |g| g.name.to_string())
            }
            CallArgument::Parameter(_) => "the removed parameter".to_string(),
        }
    }
}

/// What one call site records about the arguments it passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSiteArguments {
    /// Module-relative address the call returns to.
    pub return_pc: u64,
    /// Per argument, the ops that compute the value it was called with,
    /// already unwound into the callee's frame.
    pub arguments: Vec<(CallArgument, Vec<ReadOp>)>,
}

/// What the callers of the function that contains a PC record about its
/// arguments: the input [`translate`] needs to lower `DW_OP_entry_value`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerValues {
    /// Ops that push the frame's return address.
    pub return_address: Vec<ReadOp>,
    /// Call sites of the function in its module.
    pub sites: Vec<CallSiteArguments>,
    /// Why entry values cannot be recovered in this function at all.
    pub refused: Option<String>,
}

/// Where a value lives at one PC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The bytes are in target memory at the address the ops compute.
    Memory(Vec<ReadOp>),
    /// The value is the low bytes of a general-purpose register.
    Register(u16),
    /// The value itself is what the ops compute (`DW_OP_stack_value`).
    Value(Vec<ReadOp>),
    /// The value's bytes are known statically.
    Implicit(Vec<u8>),
    /// The value is split across several locations.
    Pieces(Vec<Piece>),
    /// A pointer the compiler optimized away, to an object whose value is
    /// still known (`DW_OP_implicit_pointer`): it has no address, but
    /// dereferencing it reads the object `object` from byte `offset`.
    ImplicitPointer {
        /// The DIE of the object pointed into (global `.debug_info` offset).
        object: u64,
        /// Byte offset into the object.
        offset: i64,
    },
    /// The compiler dropped the value at this PC.
    OptimizedOut,
    /// The value exists but a uprobe cannot read it (reason in words).
    Unavailable(String),
}

impl Location {
    /// Whether bytes can be produced from this location.
    pub fn is_readable(&self) -> bool {
        !matches!(self, Location::OptimizedOut | Location::Unavailable(_))
    }

    /// Whether reading the value needs the caller's call-site values
    /// (it uses `DW_OP_entry_value` away from the function's entry).
    pub fn needs_caller_values(&self) -> bool {
        let uses = |ops: &[ReadOp]| ops.iter().any(|op| matches!(op, ReadOp::EntryValue(_)));
        match self {
            Location::Memory(ops) | Location::Value(ops) => uses(ops),
            Location::Pieces(pieces) => pieces.iter().any(|p| p.location.needs_caller_values()),
            _ => false,
        }
    }

    /// A short description for `--dry-run-details`.
    pub fn describe(&self) -> String {
        match self {
            Location::Memory(ops) => format!("memory at {}", describe_ops(ops)),
            Location::Register(r) => format!(
                "register {}",
                gp_register(*r).map_or_else(|| r.to_string(), |g| g.name.to_string())
            ),
            Location::Value(ops) => format!("computed {}", describe_ops(ops)),
            Location::Implicit(b) => format!("constant ({} bytes)", b.len()),
            Location::Pieces(p) => format!("{} pieces", p.len()),
            Location::ImplicitPointer { offset, .. } => {
                format!("implicit pointer (object offset {offset})")
            }
            Location::OptimizedOut => "optimized out".to_string(),
            Location::Unavailable(why) => why.clone(),
        }
    }
}

fn describe_ops(ops: &[ReadOp]) -> String {
    let parts: Vec<String> = ops
        .iter()
        .map(|op| match op {
            ReadOp::Const(c) => format!("{}", *c as i64),
            ReadOp::ModuleAddress(a) => format!("bias+0x{a:x}"),
            ReadOp::SessionModuleAddress { module, vaddr } => {
                format!("module{module}.bias+0x{vaddr:x}")
            }
            ReadOp::Register(r) => {
                gp_register(*r).map_or_else(|| format!("reg{r}"), |g| g.name.to_string())
            }
            ReadOp::Deref { size } => format!("deref{size}"),
            ReadOp::Pick(n) => format!("pick{n}"),
            ReadOp::EntryValue(ev) => format!(
                "entry_value({}; {} call site{})",
                ev.argument.describe(),
                ev.callers.len(),
                if ev.callers.len() == 1 { "" } else { "s" }
            ),
            ReadOp::ThreadPointer => "fs_base".to_string(),
            other => format!("{other:?}").to_lowercase(),
        })
        .collect();
    parts.join(" ")
}

/// The short form of why a value is unavailable, for the
/// `<unavailable: …>` marker printed in the value's place: the first clause
/// of the reason, and for a register uprobes cannot read just its name.
pub fn short_reason(reason: &str) -> String {
    if let Some(rest) = reason.strip_prefix("Unsupported DWARF register: ") {
        if let Some(name) = rest
            .split_once('(')
            .and_then(|(_, r)| r.split_once(')'))
            .map(|(name, _)| name)
        {
            return format!("in register {name}");
        }
    }
    reason
        .split(';')
        .next()
        .unwrap_or(reason)
        .trim()
        .to_string()
}

/// One part of a composite location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Size of the piece in bytes.
    pub size: u64,
    /// Where the piece lives (never `Pieces` itself).
    pub location: Location,
}

/// What a location expression may refer to besides registers and memory.
#[derive(Debug, Clone, Default)]
pub struct EvalContext {
    /// Ops that push the frame base (`DW_AT_frame_base` of the function).
    pub frame_base: Option<Vec<ReadOp>>,
    /// Ops that push the canonical frame address at this PC (from CFI).
    pub cfa: Option<Vec<ReadOp>>,
    /// True when the PC is the function's first instruction, so a
    /// `DW_OP_entry_value` of a register is that register's current value.
    pub at_function_entry: bool,
    /// What the function's callers record about its arguments, to recover
    /// `DW_OP_entry_value` and `DW_OP_GNU_parameter_ref`.
    pub callers: Option<std::sync::Arc<CallerValues>>,
    /// Set when an expression needed `callers` and they were not given, so
    /// the caller can gather them (which costs CFI lookups) only then.
    pub wants_callers: std::cell::Cell<bool>,
    /// Where the module's thread-local storage is.
    pub static_tls: StaticTls,
}

/// Where a module's thread-local variables are, for `DW_OP_form_tls_address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StaticTls {
    /// The module has no `PT_TLS` segment.
    #[default]
    None,
    /// The executable's static TLS block, which starts `block_offset`
    /// bytes below the thread pointer (x86-64 TLS variant II).
    Executable {
        /// Distance from the block's start up to the thread pointer.
        block_offset: u64,
    },
    /// A shared library: where its block is, the dynamic linker decides at
    /// run time, per thread.
    SharedObject,
}

/// Resolves `DW_OP_addrx` indices; supplied by the module.
pub trait AddressIndex {
    /// The address at index `index` of the unit's `.debug_addr` table.
    fn address(&self, index: u64) -> Option<u64>;

    /// The global `.debug_info` offset of a DIE at `offset` in the unit
    /// (for `DW_OP_GNU_parameter_ref`), when known.
    fn die(&self, _offset: u64) -> Option<u64> {
        None
    }
}

/// Translates a DWARF location expression into a [`Location`].
pub fn translate<R: Reader>(
    expr: gimli::Expression<R>,
    encoding: gimli::Encoding,
    ctx: &EvalContext,
    addrs: &dyn AddressIndex,
) -> Location {
    match translate_inner(expr, encoding, ctx, addrs) {
        Ok(loc) => loc,
        Err(reason) => Location::Unavailable(reason),
    }
}

/// The kind of the current piece while scanning operations.
enum PieceKind {
    Memory,
    Register(u16),
    Value,
    Implicit(Vec<u8>),
    /// A register uprobes cannot read (XMM): only this piece is lost.
    Unreadable(String),
}

fn translate_inner<R: Reader>(
    expr: gimli::Expression<R>,
    encoding: gimli::Encoding,
    ctx: &EvalContext,
    addrs: &dyn AddressIndex,
) -> Result<Location, String> {
    let mut input = expr.0;
    let mut pieces: Vec<Piece> = Vec::new();
    let mut ops: Vec<ReadOp> = Vec::new();
    let mut kind = PieceKind::Memory;
    while !input.is_empty() {
        let opcode = input.clone().read_u8().map(gimli::DwOp).ok();
        let op = Operation::parse(&mut input, encoding)
            .map_err(|e| format!("malformed DWARF expression: {e}"))?;
        let unsupported = || match opcode {
            Some(code) => format!("{code} is not supported"),
            None => "an unknown DWARF operation is not supported".to_string(),
        };
        match op {
            Operation::Address { address } => ops.push(ReadOp::ModuleAddress(address)),
            Operation::AddressIndex { index } => {
                let a = addrs
                    .address(gimli::ReaderOffset::into_u64(index.0))
                    .ok_or_else(|| "DW_OP_addrx index not in .debug_addr".to_string())?;
                ops.push(ReadOp::ModuleAddress(a));
            }
            Operation::ConstantIndex { index } => {
                let a = addrs
                    .address(gimli::ReaderOffset::into_u64(index.0))
                    .ok_or_else(|| "DW_OP_constx index not in .debug_addr".to_string())?;
                ops.push(ReadOp::Const(a));
            }
            Operation::UnsignedConstant { value } => ops.push(ReadOp::Const(value)),
            Operation::SignedConstant { value } => ops.push(ReadOp::Const(value as u64)),
            Operation::Register { register } => {
                let r = register.0;
                kind = match gp_register(r) {
                    Some(_) => PieceKind::Register(r),
                    None => PieceKind::Unreadable(unreadable_register_reason(r)),
                };
            }
            Operation::RegisterOffset {
                register,
                offset,
                base_type,
            } => {
                let r = register.0;
                if gp_register(r).is_none() {
                    return Err(unreadable_register_reason(r));
                }
                if gimli::ReaderOffset::into_u64(base_type.0) != 0 {
                    return Err(unsupported());
                }
                ops.push(ReadOp::Register(r));
                if offset != 0 {
                    ops.push(ReadOp::Const(offset as u64));
                    ops.push(ReadOp::Add);
                }
            }
            Operation::FrameOffset { offset } => {
                let base = ctx
                    .frame_base
                    .as_ref()
                    .ok_or_else(|| "frame base is not available at this PC".to_string())?;
                ops.extend(base.iter().cloned());
                if offset != 0 {
                    ops.push(ReadOp::Const(offset as u64));
                    ops.push(ReadOp::Add);
                }
            }
            Operation::CallFrameCFA => {
                let cfa = ctx
                    .cfa
                    .as_ref()
                    .ok_or_else(|| "no call frame information for this PC".to_string())?;
                ops.extend(cfa.iter().cloned());
            }
            Operation::Deref {
                size,
                space: false,
                base_type,
            } if gimli::ReaderOffset::into_u64(base_type.0) == 0 => {
                if size == 0 || size > 8 {
                    return Err(unsupported());
                }
                ops.push(ReadOp::Deref { size });
            }
            Operation::PlusConstant { value } => {
                ops.push(ReadOp::Const(value));
                ops.push(ReadOp::Add);
            }
            Operation::Plus => ops.push(ReadOp::Add),
            Operation::Minus => ops.push(ReadOp::Sub),
            Operation::Mul => ops.push(ReadOp::Mul),
            Operation::Div => ops.push(ReadOp::Div),
            Operation::Mod => ops.push(ReadOp::Mod),
            Operation::And => ops.push(ReadOp::And),
            Operation::Or => ops.push(ReadOp::Or),
            Operation::Xor => ops.push(ReadOp::Xor),
            Operation::Shl => ops.push(ReadOp::Shl),
            Operation::Shr => ops.push(ReadOp::Shr),
            Operation::Shra => ops.push(ReadOp::Shra),
            Operation::Neg => ops.push(ReadOp::Neg),
            Operation::Not => ops.push(ReadOp::Not),
            Operation::Pick { index: 0 } => ops.push(ReadOp::Dup),
            Operation::Pick { index } => ops.push(ReadOp::Pick(index)),
            Operation::Swap => ops.push(ReadOp::Swap),
            Operation::Drop => ops.push(ReadOp::Drop),
            Operation::Nop => {}
            Operation::StackValue => kind = PieceKind::Value,
            Operation::ImplicitValue { data } => {
                kind = PieceKind::Implicit(data.to_slice().map_err(|e| e.to_string())?.to_vec())
            }
            Operation::EntryValue { expression } => {
                ops.push(entry_value(expression, encoding, ctx)?);
            }
            Operation::ParameterRef { offset } => {
                let die = addrs
                    .die(gimli::ReaderOffset::into_u64(offset.0))
                    .ok_or_else(unsupported)?;
                ops.push(passed_value(CallArgument::Parameter(die), ctx)?);
            }
            Operation::Piece {
                size_in_bits,
                bit_offset,
            } => {
                if size_in_bits % 8 != 0 || bit_offset.unwrap_or(0) != 0 {
                    return Err("DW_OP_bit_piece that is not byte-aligned is not supported".into());
                }
                let location = finish_piece(std::mem::take(&mut ops), kind)?;
                kind = PieceKind::Memory;
                pieces.push(Piece {
                    size: size_in_bits / 8,
                    location,
                });
            }
            Operation::TLS => {
                // The operand is the variable's offset in the module's block.
                if ops.is_empty() {
                    return Err(
                        "malformed DWARF expression: DW_OP_form_tls_address without an offset"
                            .to_string(),
                    );
                }
                match ctx.static_tls {
                    StaticTls::Executable { block_offset } => ops.extend([
                        ReadOp::ThreadPointer,
                        ReadOp::Const(block_offset),
                        ReadOp::Sub,
                        ReadOp::Add,
                    ]),
                    StaticTls::SharedObject => return Err("thread-local storage of a shared library is not supported; only the executable's static TLS (per thread, from fs_base and PT_TLS) can be read".to_string()),
                    StaticTls::None => return Err("thread-local variable in a module without a PT_TLS segment".to_string()),
                }
            }
            Operation::ImplicitPointer { value, byte_offset } => {
                if !ops.is_empty() || !input.is_empty() {
                    return Err(
                        "DW_OP_implicit_pointer inside a larger expression is not supported".into(),
                    );
                }
                return Ok(Location::ImplicitPointer {
                    object: gimli::ReaderOffset::into_u64(value.0),
                    offset: byte_offset,
                });
            }
            _ => return Err(unsupported()),
        }
    }
    if !pieces.is_empty() {
        if !ops.is_empty() || !matches!(kind, PieceKind::Memory) {
            return Err("location has trailing operations after its last piece".to_string());
        }
        return Ok(Location::Pieces(pieces));
    }
    finish_piece(ops, kind)
}

/// Lowers `DW_OP_entry_value(DW_OP_regN)`: at the function's first
/// instruction the register itself; elsewhere the value the caller passed,
/// through its call-site records.
fn entry_value<R: Reader>(
    expression: R,
    encoding: gimli::Encoding,
    ctx: &EvalContext,
) -> Result<ReadOp, String> {
    let mut inner = gimli::Expression(expression).operations(encoding);
    let reg = match (inner.next(), inner.next()) {
        (Ok(Some(Operation::Register { register })), Ok(None)) => register.0,
        _ => return Err("DW_OP_entry_value of anything but a register is not supported".into()),
    };
    if gp_register(reg).is_none() {
        return Err(unreadable_register_reason(reg));
    }
    if ctx.at_function_entry {
        return Ok(ReadOp::Register(reg));
    }
    passed_value(CallArgument::Register(reg), ctx)
}

/// The value the caller passed for `argument`, chosen at run time by the
/// frame's return address among the call sites that record it.
fn passed_value(argument: CallArgument, ctx: &EvalContext) -> Result<ReadOp, String> {
    let name = argument.describe();
    let Some(callers) = ctx.callers.as_ref() else {
        ctx.wants_callers.set(true);
        return Err(format!(
            "the value of {name} at entry is not recoverable at this PC"
        ));
    };
    if let Some(why) = &callers.refused {
        return Err(why.clone());
    }
    let cases: Vec<(u64, Vec<ReadOp>)> = callers
        .sites
        .iter()
        .filter_map(|site| {
            let (_, ops) = site.arguments.iter().find(|(a, _)| *a == argument)?;
            Some((site.return_pc, ops.clone()))
        })
        .collect();
    if cases.is_empty() {
        return Err(format!("no caller records the value of {name} at entry"));
    }
    Ok(ReadOp::EntryValue(Box::new(EntryValue {
        argument,
        return_address: callers.return_address.clone(),
        callers: cases,
    })))
}

fn finish_piece(ops: Vec<ReadOp>, kind: PieceKind) -> Result<Location, String> {
    Ok(match kind {
        PieceKind::Register(r) => {
            if !ops.is_empty() {
                return Err(
                    "a register location mixed with other operations is not supported".to_string(),
                );
            }
            Location::Register(r)
        }
        PieceKind::Value => Location::Value(ops),
        PieceKind::Implicit(bytes) => Location::Implicit(bytes),
        PieceKind::Unreadable(reason) => Location::Unavailable(reason),
        PieceKind::Memory if ops.is_empty() => Location::OptimizedOut,
        PieceKind::Memory => Location::Memory(ops),
    })
}

#[cfg(test)]
mod expression_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use gimli::{EndianSlice, LittleEndian};

    struct NoAddrs;
    impl AddressIndex for NoAddrs {
        fn address(&self, _: u64) -> Option<u64> {
            None
        }
    }

    fn enc() -> gimli::Encoding {
        gimli::Encoding {
            format: gimli::Format::Dwarf32,
            version: 5,
            address_size: 8,
        }
    }

    fn run(bytes: &[u8], ctx: &EvalContext) -> Location {
        translate(
            gimli::Expression(EndianSlice::new(bytes, LittleEndian)),
            enc(),
            ctx,
            &NoAddrs,
        )
    }

    #[test]
    fn fbreg_expands_the_frame_base() {
        let ctx = EvalContext {
            frame_base: Some(vec![ReadOp::Register(7), ReadOp::Const(8), ReadOp::Add]),
            ..Default::default()
        };
        // DW_OP_fbreg -20
        assert_eq!(
            run(&[0x91, 0x6c], &ctx),
            Location::Memory(vec![
                ReadOp::Register(7),
                ReadOp::Const(8),
                ReadOp::Add,
                ReadOp::Const(-20i64 as u64),
                ReadOp::Add
            ])
        );
    }

    #[test]
    fn registers_pieces_and_values() {
        let ctx = EvalContext::default();
        // DW_OP_reg5 (rdi)
        assert_eq!(run(&[0x55], &ctx), Location::Register(5));
        // DW_OP_reg17 (xmm0) is unreadable
        assert!(matches!(run(&[0x61], &ctx), Location::Unavailable(m) if m.contains("XMM0")));
        // ... but only its own piece: DW_OP_reg17 DW_OP_piece 8 DW_OP_reg5 DW_OP_piece 8
        let split = run(&[0x61, 0x93, 8, 0x55, 0x93, 8], &ctx);
        let Location::Pieces(pieces) = split else {
            panic!("{split:?}")
        };
        assert!(matches!(&pieces[0].location, Location::Unavailable(m) if m.contains("XMM0")));
        assert_eq!(pieces[1].location, Location::Register(5));
        // DW_OP_reg5 DW_OP_piece 8 DW_OP_reg4 DW_OP_piece 8
        assert_eq!(
            run(&[0x55, 0x93, 8, 0x54, 0x93, 8], &ctx),
            Location::Pieces(vec![
                Piece {
                    size: 8,
                    location: Location::Register(5)
                },
                Piece {
                    size: 8,
                    location: Location::Register(4)
                },
            ])
        );
        // DW_OP_breg5 0 DW_OP_lit1 DW_OP_plus DW_OP_stack_value
        assert_eq!(
            run(&[0x75, 0, 0x31, 0x22, 0x9f], &ctx),
            Location::Value(vec![ReadOp::Register(5), ReadOp::Const(1), ReadOp::Add])
        );
        // DW_OP_addr 0x4010
        let mut addr = vec![0x03];
        addr.extend_from_slice(&0x4010u64.to_le_bytes());
        assert_eq!(
            run(&addr, &ctx),
            Location::Memory(vec![ReadOp::ModuleAddress(0x4010)])
        );
        // An empty piece is an optimized-out part.
        assert_eq!(
            run(&[0x93, 4, 0x55, 0x93, 4], &ctx),
            Location::Pieces(vec![
                Piece {
                    size: 4,
                    location: Location::OptimizedOut
                },
                Piece {
                    size: 4,
                    location: Location::Register(5)
                },
            ])
        );
    }

    #[test]
    fn thread_locals_of_the_executable_sit_below_the_thread_pointer() {
        // DW_OP_const8u 0x40 DW_OP_form_tls_address
        let mut expr = vec![0x0e];
        expr.extend_from_slice(&0x40u64.to_le_bytes());
        expr.push(0x9b);
        let exe = EvalContext {
            static_tls: StaticTls::Executable { block_offset: 0x60 },
            ..Default::default()
        };
        assert_eq!(
            run(&expr, &exe),
            Location::Memory(vec![
                ReadOp::Const(0x40),
                ReadOp::ThreadPointer,
                ReadOp::Const(0x60),
                ReadOp::Sub,
                ReadOp::Add
            ])
        );
        // DW_OP_GNU_push_tls_address (0xe0) of a library is refused.
        let lib = EvalContext {
            static_tls: StaticTls::SharedObject,
            ..Default::default()
        };
        *expr.last_mut().unwrap() = 0xe0;
        assert!(
            matches!(run(&expr, &lib), Location::Unavailable(m) if m.contains("shared library"))
        );
    }

    #[test]
    fn entry_value_is_the_register_only_at_function_entry() {
        // DW_OP_entry_value(DW_OP_reg5) DW_OP_stack_value
        let expr = [0xa3, 1, 0x55, 0x9f];
        let at_entry = EvalContext {
            at_function_entry: true,
            ..Default::default()
        };
        assert_eq!(
            run(&expr, &at_entry),
            Location::Value(vec![ReadOp::Register(5)])
        );
        assert!(matches!(
            run(&expr, &EvalContext::default()),
            Location::Unavailable(m) if m.contains("at entry is not recoverable")
        ));
    }
}
