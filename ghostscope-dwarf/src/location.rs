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
            ReadOp::ThreadPointer => "fs_base".to_string(),
            other => format!("{other:?}").to_lowercase(),
        })
        .collect();
    parts.join(" ")
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
    let mut ops_iter = expr.operations(encoding);
    let mut pieces: Vec<Piece> = Vec::new();
    let mut ops: Vec<ReadOp> = Vec::new();
    let mut kind = PieceKind::Memory;
    let unsupported = |what: &str| format!("unsupported DWARF operation {what}");
    loop {
        let op = match ops_iter.next() {
            Ok(Some(op)) => op,
            Ok(None) => break,
            Err(e) => return Err(format!("malformed DWARF expression: {e}")),
        };
        match op {
            Operation::Address { address } => ops.push(ReadOp::ModuleAddress(address)),
            Operation::AddressIndex { index } => {
                let a = addrs
                    .address(gimli::ReaderOffset::into_u64(index.0))
                    .ok_or_else(|| "unresolvable DW_OP_addrx".to_string())?;
                ops.push(ReadOp::ModuleAddress(a));
            }
            Operation::ConstantIndex { index } => {
                let a = addrs
                    .address(gimli::ReaderOffset::into_u64(index.0))
                    .ok_or_else(|| "unresolvable DW_OP_constx".to_string())?;
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
                register, offset, ..
            } => {
                let r = register.0;
                if gp_register(r).is_none() {
                    return Err(unreadable_register_reason(r));
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
                size, space: false, ..
            } => {
                if size == 0 || size > 8 {
                    return Err(unsupported("DW_OP_deref_size with a size above 8"));
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
            Operation::And => ops.push(ReadOp::And),
            Operation::Or => ops.push(ReadOp::Or),
            Operation::Xor => ops.push(ReadOp::Xor),
            Operation::Shl => ops.push(ReadOp::Shl),
            Operation::Shr => ops.push(ReadOp::Shr),
            Operation::Shra => ops.push(ReadOp::Shra),
            Operation::Neg => ops.push(ReadOp::Neg),
            Operation::Not => ops.push(ReadOp::Not),
            Operation::Pick { index: 0 } => ops.push(ReadOp::Dup),
            Operation::Nop => {}
            Operation::StackValue => kind = PieceKind::Value,
            Operation::ImplicitValue { data } => {
                kind = PieceKind::Implicit(data.to_slice().map_err(|e| e.to_string())?.to_vec())
            }
            Operation::EntryValue { expression } => {
                // At a function's first instruction every register still holds
                // its entry value; elsewhere recovering it needs call-site info.
                let inner = gimli::Expression(expression);
                let mut inner_ops = inner.operations(encoding);
                let reg = match inner_ops.next() {
                    Ok(Some(Operation::Register { register })) => register.0,
                    _ => return Err(unsupported("DW_OP_entry_value of a non-register")),
                };
                if !ctx.at_function_entry {
                    return Err(
                        "value is only recoverable from the caller (DW_OP_entry_value) at this PC"
                            .to_string(),
                    );
                }
                if gp_register(reg).is_none() {
                    return Err(unreadable_register_reason(reg));
                }
                ops.push(ReadOp::Register(reg));
            }
            Operation::Piece {
                size_in_bits,
                bit_offset,
            } => {
                if size_in_bits % 8 != 0 || bit_offset.unwrap_or(0) != 0 {
                    return Err(unsupported("DW_OP_bit_piece"));
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
                    StaticTls::SharedObject => return Err("thread-local storage of a shared library is not supported: only the executable's static TLS (per thread, from fs_base and PT_TLS) can be read".to_string()),
                    StaticTls::None => return Err("thread-local variable in a module without a PT_TLS segment".to_string()),
                }
            }
            Operation::ImplicitPointer { .. } => {
                return Err(unsupported("DW_OP_implicit_pointer"));
            }
            other => return Err(unsupported(&format!("{other:?}"))),
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

fn finish_piece(ops: Vec<ReadOp>, kind: PieceKind) -> Result<Location, String> {
    Ok(match kind {
        PieceKind::Register(r) => {
            if !ops.is_empty() {
                return Err("register location mixed with other operations".to_string());
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
            Location::Unavailable(m) if m.contains("entry_value")
        ));
    }
}
