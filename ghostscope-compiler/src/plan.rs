//! The checked program of one probe site: every name resolved, every type
//! known, every output at a fixed event offset. The code generator lowers
//! this to BPF without looking at DWARF or the script again.

use ghostscope_dwarf::ReadOp;

/// An integer type in C's LP64 model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntType {
    /// Width in bytes: 1, 2, 4 or 8.
    pub size: u8,
    /// Signedness.
    pub signed: bool,
}

impl IntType {
    /// C `int`.
    pub const INT: IntType = IntType {
        size: 4,
        signed: true,
    };
    /// C `long`, the type of script integers.
    pub const LONG: IntType = IntType {
        size: 8,
        signed: true,
    };
    /// The type of an address.
    pub const ADDRESS: IntType = IntType {
        size: 8,
        signed: false,
    };
}

/// Arithmetic and bitwise operators on normalised 64-bit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// One step of an address or value computation (DWARF ops plus what
/// scripts add: module-aware addresses, null checks, computed indexes).
#[derive(Debug, Clone, PartialEq)]
pub enum AddrOp {
    /// Push a constant.
    Const(u64),
    /// Push a module-relative address plus that module's load bias.
    ModuleAddress {
        /// Module index in the session.
        module: usize,
        /// Link-time virtual address.
        vaddr: u64,
    },
    /// Push a register's 64-bit value (DWARF number).
    Register(u16),
    /// Pop an address, read `size` bytes there, push them (zero-extended).
    Deref {
        /// 1 to 8.
        size: u8,
    },
    /// Fail with a null dereference if the top of the stack is 0.
    NullCheck,
    /// Pop b, pop a, push `a op b`.
    Arith(ArithOp),
    /// Pop b, pop a, push a >> b arithmetically.
    Shra,
    /// Pop b, pop a, push a / b as signed 64-bit integers (x / 0 = 0).
    SignedDiv,
    /// Pop a, push -a.
    Neg,
    /// Pop a, push !a.
    Not,
    /// Push a copy of the top.
    Dup,
    /// Push a copy of the entry `n` below the top.
    Pick(u8),
    /// Exchange the two top entries.
    Swap,
    /// Pop the top entry.
    Drop,
    /// Push the current thread's thread pointer (`fs_base`).
    ThreadPointer,
    /// Push the value of a script computation.
    Scalar(Box<Scalar>),
    /// Push a register's value at function entry, chosen by the frame's
    /// return address among the known call sites; no match fails with
    /// "entry not captured".
    EntryValue(Box<EntryValueOp>),
}

/// A register's value at function entry, recovered through call sites.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryValueOp {
    /// Ops that push the frame's return address.
    pub return_address: Vec<AddrOp>,
    /// Per call site: the address it returns to, and the ops that compute
    /// the value when the call came from there.
    pub callers: Vec<(AddrOp, Vec<AddrOp>)>,
}

impl AddrOp {
    /// Translates DWARF ops of module `module`.
    pub fn from_dwarf(ops: &[ReadOp], module: usize) -> Vec<AddrOp> {
        ops.iter()
            .map(|op| match op {
                ReadOp::Const(c) => AddrOp::Const(*c),
                ReadOp::ModuleAddress(a) => AddrOp::ModuleAddress { module, vaddr: *a },
                ReadOp::SessionModuleAddress { module, vaddr } => AddrOp::ModuleAddress {
                    module: *module,
                    vaddr: *vaddr,
                },
                ReadOp::Register(r) => AddrOp::Register(*r),
                ReadOp::Deref { size } => AddrOp::Deref { size: *size },
                ReadOp::Add => AddrOp::Arith(ArithOp::Add),
                ReadOp::Sub => AddrOp::Arith(ArithOp::Sub),
                ReadOp::Mul => AddrOp::Arith(ArithOp::Mul),
                ReadOp::Div => AddrOp::SignedDiv,
                ReadOp::Mod => AddrOp::Arith(ArithOp::Rem),
                ReadOp::And => AddrOp::Arith(ArithOp::And),
                ReadOp::Or => AddrOp::Arith(ArithOp::Or),
                ReadOp::Xor => AddrOp::Arith(ArithOp::Xor),
                ReadOp::Shl => AddrOp::Arith(ArithOp::Shl),
                ReadOp::Shr => AddrOp::Arith(ArithOp::Shr),
                ReadOp::Shra => AddrOp::Shra,
                ReadOp::Neg => AddrOp::Neg,
                ReadOp::Not => AddrOp::Not,
                ReadOp::Dup => AddrOp::Dup,
                ReadOp::Pick(n) => AddrOp::Pick(*n),
                ReadOp::Swap => AddrOp::Swap,
                ReadOp::Drop => AddrOp::Drop,
                ReadOp::EntryValue(ev) => AddrOp::EntryValue(Box::new(EntryValueOp {
                    return_address: AddrOp::from_dwarf(&ev.return_address, module),
                    callers: ev
                        .callers
                        .iter()
                        .map(|(pc, ops)| {
                            (
                                AddrOp::ModuleAddress { module, vaddr: *pc },
                                AddrOp::from_dwarf(ops, module),
                            )
                        })
                        .collect(),
                })),
                ReadOp::ThreadPointer => AddrOp::ThreadPointer,
            })
            .collect()
    }
}

/// Where the bytes of a program value come from at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Target memory at the computed address.
    Memory(Vec<AddrOp>),
    /// The low bytes of a register.
    Register(u16),
    /// The low bytes of a computed value.
    Value(Vec<AddrOp>),
    /// Bytes known at compile time.
    Constant(Vec<u8>),
    /// Consecutive parts, each `size` bytes.
    Pieces(Vec<(u64, Source)>),
}

/// An integer computation. Values are held as 64-bit integers normalised
/// to their C type (sign- or zero-extended from its width).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A constant.
    Const(i64),
    /// A special variable.
    Special(Special),
    /// An integer read from program state.
    Load {
        /// Where the bytes are.
        source: Source,
        /// Width in bytes (1 to 8).
        size: u8,
        /// Sign-extend.
        signed: bool,
    },
    /// A bitfield read from the bytes at `source`.
    Bitfield {
        /// Storage bytes (starting at the member's byte offset).
        source: Source,
        /// Bytes to read (1 to 8).
        storage: u8,
        /// Bit offset of the field in the storage.
        bit_offset: u8,
        /// Width in bits.
        bit_size: u8,
        /// Sign-extend.
        signed: bool,
    },
    /// The value bound by `let` number `id`.
    LetRef(usize),
    /// Truncate or extend to a type.
    Convert(Box<Scalar>, IntType),
    /// Arithmetic in a C type.
    Arith(ArithOp, Box<Scalar>, Box<Scalar>, IntType),
    /// Comparison; operands already converted to a common type.
    Compare(CmpOp, Box<Scalar>, Box<Scalar>, bool),
    /// Logical not (0 → 1, else 0).
    Not(Box<Scalar>),
    /// Bitwise not in a C type.
    BitNot(Box<Scalar>, IntType),
    /// Short-circuit `&&`.
    And(Box<Scalar>, Box<Scalar>),
    /// Short-circuit `||`.
    Or(Box<Scalar>, Box<Scalar>),
    /// The address the ops compute (a pointer value).
    Address(Vec<AddrOp>),
    /// 1 when a C string equals a literal (script-language §6.9). A failed
    /// read compares unequal and is never an error.
    StrEq {
        /// Where the string is.
        source: StrSource,
        /// The literal, without a NUL.
        literal: Vec<u8>,
    },
    /// 1 when `len` bytes of two operands are equal (`memcmp`, `strncmp`,
    /// `starts_with`; script-language §7).
    BytesEq(Box<BytesEq>),
}

/// A byte comparison builtin, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct BytesEq {
    /// First operand.
    pub left: ByteOperand,
    /// Second operand.
    pub right: ByteOperand,
    /// Bytes to compare; a dynamic length is clamped to `[0, limit]`.
    pub len: DumpLen,
    /// Most bytes compared: `compare_cap`, or less for `strncmp` (the
    /// string's length, an array operand's size).
    pub limit: u32,
    /// Which builtin, for the ExprError flags.
    pub builtin: CompareBuiltin,
    /// Inside a `print`, the record that reports a read failure (the value
    /// itself then reads as false without failing the print).
    pub error_record: Option<u32>,
}

/// One side of a byte comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum ByteOperand {
    /// Bytes in target memory at an address.
    Memory(Scalar),
    /// Bytes known at compile time (a string or `hex(…)`).
    Bytes(Vec<u8>),
}

/// The builtin a byte comparison came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareBuiltin {
    /// `memcmp`: flags first/second-arg read-fail, len-clamped, len=0.
    Memcmp,
    /// `strncmp` / `starts_with`: flag read-fail.
    Strncmp,
}

/// Where a C string compared with a literal lives.
#[derive(Debug, Clone, PartialEq)]
pub enum StrSource {
    /// A `char *`: read up to the NUL.
    Pointer(Box<Scalar>),
    /// A `char[len]` at an address.
    Array {
        /// The array's address.
        address: Box<Scalar>,
        /// Its length.
        len: u64,
    },
}

/// Longest literal a C string can be compared with; the comparison buffer
/// lives on the 512-byte BPF stack.
pub const MAX_COMPARED_STRING: usize = 126;

/// Special variables read at the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// Process id (tgid).
    Pid,
    /// Thread id.
    Tid,
    /// `bpf_ktime_get_ns()`.
    Timestamp,
    /// Instruction pointer.
    Pc,
    /// Stack pointer.
    Sp,
}

/// A statement of the checked program.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanStmt {
    /// Mark a statement as run (a literal `print`).
    Mark {
        /// Marker record offset.
        marker: u32,
    },
    /// Mark a print as run and capture its values.
    Print {
        /// Marker record offset.
        marker: u32,
        /// Values to capture.
        captures: Vec<Capture>,
    },
    /// `if` with soft-abort on read failures in the condition.
    If(PlanIf),
    /// `bt`: unwind the user stack into a backtrace record.
    Backtrace(PlanBacktrace),
    /// Evaluate and bind a scalar for later `LetRef`s.
    Let {
        /// Binding number.
        id: usize,
        /// The value.
        value: Scalar,
    },
}

/// A checked `bt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanBacktrace {
    /// Marker record offset.
    pub marker: u32,
    /// Offset of the backtrace record (`ghostscope_protocol::backtrace` layout).
    pub record: u32,
    /// Most frames to unwind.
    pub depth: u8,
}

/// A checked `if`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanIf {
    /// Marker record offset: status of the condition's evaluation.
    pub marker: u32,
    /// Condition.
    pub cond: Scalar,
    /// Then branch.
    pub then: Vec<PlanStmt>,
    /// Else branch.
    pub otherwise: Option<PlanElse>,
}

/// The else part of a checked `if`.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanElse {
    /// `else if`: runs even when the previous condition failed to read.
    If(Box<PlanIf>),
    /// `else { }`: runs only when the condition read fine and was false.
    Block(Vec<PlanStmt>),
}

/// One value written into the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    /// Record offset.
    pub offset: u32,
    /// Payload capacity.
    pub capacity: u32,
    /// What to write.
    pub kind: CaptureKind,
}

/// How a captured value is produced.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptureKind {
    /// The low `size` bytes of an integer computation.
    Scalar {
        /// The value.
        value: Scalar,
        /// Bytes to store.
        size: u8,
    },
    /// `size` bytes of a program value.
    Bytes {
        /// Where they are.
        source: Source,
        /// How many.
        size: u32,
    },
    /// Up to `len` bytes of memory at an address (`{:x.N}`, `{:s.N}`).
    Dump {
        /// The address.
        address: Scalar,
        /// How many bytes; clamped to the capacity at run time.
        len: DumpLen,
        /// Stop at the first NUL (`{:s.…}`).
        as_text: bool,
    },
}

/// Length of a memory dump.
#[derive(Debug, Clone, PartialEq)]
pub enum DumpLen {
    /// Known at compile time.
    Fixed(u32),
    /// Computed at run time.
    Dynamic(Scalar),
}

/// The checked program of one probe site.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// Trace id written into every event.
    pub trace_id: u32,
    /// Only events of this process are kept.
    pub pid_filter: Option<u32>,
    /// Load bias of every session module (None = not known: reads fail
    /// with "offsets unavailable").
    pub biases: Vec<Option<u64>>,
    /// The probed module and link-time address: at a hit, the instruction
    /// pointer minus this address is that module's load bias, even when no
    /// live process was known at compile time (`-t`).
    pub probe: (usize, u64),
    /// Total event size.
    pub event_size: u32,
    /// Markers to initialise to "not run".
    pub markers: Vec<u32>,
    /// Statements in order.
    pub statements: Vec<PlanStmt>,
}
