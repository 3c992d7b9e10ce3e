//! Per-trace metadata: what each record of an event means.
//!
//! The kernel sends only bytes. Format strings, expression texts and types
//! stay here, in user space, produced by the compiler next to the BPF object.

use crate::types::TypeDesc;

/// Everything the decoder needs to turn one trace's events into lines.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceMeta {
    /// Trace id written in every event header.
    pub trace_id: u32,
    /// The trace's target text: function name, `file:line` or `0x…`.
    pub target: String,
    /// Total event size in bytes, header included.
    pub event_size: u32,
    /// Statements that can produce output, in execution order.
    pub statements: Vec<StatementMeta>,
}

/// One statement that can produce an output line.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementMeta {
    /// Offset of the statement's marker record: `NotRun` unless the statement ran.
    pub marker: u32,
    /// What the statement prints.
    pub output: StatementOutput,
    /// Builtins inside a `print` whose read failures add an ExprError line
    /// after the statement's own line.
    pub expr_errors: Vec<ExprErrorSlot>,
}

/// A record where a builtin inside a `print` reports its read failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprErrorSlot {
    /// Record offset (a marker: "not run" unless the builtin ran).
    pub offset: u32,
    /// The builtin call's text, for the ExprError line.
    pub expr: String,
}

/// The kinds of output a statement produces.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementOutput {
    /// `print "literal";`
    Text(String),
    /// `print expr;` → `<expr> = <value>`, or the value alone.
    Value {
        /// Normalised expression text (script-language §4.6).
        expr: String,
        /// Where the value is captured.
        slot: ValueSlot,
        /// Print the value without the `<expr> = ` prefix, as the reference
        /// does for `&x`, array casts and pointer arithmetic (script-language §4.1).
        alone: bool,
    },
    /// `print "format", args…;`
    Format {
        /// The format string as written.
        format: String,
        /// The parsed format.
        pieces: Vec<FormatPiece>,
        /// One slot per value placeholder.
        args: Vec<ValueSlot>,
    },
    /// An `if` condition: prints an ExprError line when its marker records a failure.
    Condition {
        /// Normalised condition text.
        expr: String,
    },
    /// `bt;` / `backtrace;`: a block of frame lines (output.md §6).
    Backtrace {
        /// Offset of the backtrace record ([`crate::backtrace`] layout).
        record: u32,
        /// Frames the record has room for (the configured depth).
        depth: u8,
        /// `bt raw`.
        raw: bool,
        /// Expand inlined calls (`inline`, the default; `noinline` turns it off).
        inline: bool,
        /// File names of the session's modules, by the index frames carry.
        modules: Vec<String>,
        /// What each module's unwind rows were shifted by: a frame's
        /// module-relative PC is its recorded table PC minus this.
        table_biases: Vec<u64>,
    },
}

/// Where one captured value lives in the event, and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueSlot {
    /// Offset of the value's record.
    pub offset: u32,
    /// Payload capacity of the record.
    pub capacity: u32,
    /// How the payload is interpreted.
    pub kind: SlotKind,
    /// How the value was reached, which decides how an enum is spelled.
    pub origin: ValueOrigin,
}

/// How a printed value was reached (output.md §3.2): only C enums at the top
/// of the value render differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueOrigin {
    /// A variable, parameter, member or array element: `e::POS(7)`.
    #[default]
    Direct,
    /// Read through a pointer dereference (`*p`): `e(e::POS(7))`.
    PointerDeref,
    /// A bitfield member: the variant name alone, `POS`.
    Bitfield,
}

/// Interpretation of a value slot.
#[derive(Debug, Clone, PartialEq)]
pub enum SlotKind {
    /// The payload holds the bytes of a value of this type.
    Typed(TypeDesc),
    /// The value is known at compile time; the text is rendered as is and no
    /// record is used. Strings, folded constants, `<optimized out>`.
    Constant(String),
}

/// A piece of a parsed format string.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatPiece {
    /// Literal text (with `{{`/`}}` already unescaped).
    Literal(String),
    /// A placeholder bound to `args[arg]`.
    Placeholder {
        /// Index into the statement's `args`.
        arg: usize,
        /// How to render it.
        spec: FormatSpec,
    },
}

/// Rendering of one placeholder (script-language §9.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatSpec {
    /// `{}`: the value's default rendering.
    Default,
    /// `{:x}` / `{:X}`: the captured bytes as hex pairs.
    Hex {
        /// Upper-case digits.
        upper: bool,
    },
    /// `{:p}`: the first 8 bytes as an address.
    Pointer,
    /// `{:s}`: the captured bytes as ASCII up to the first NUL.
    Ascii,
    /// `{:x.N}` and friends: the slot holds bytes dumped from memory.
    Dump {
        /// Hex (`x`/`X`) or ASCII (`s`).
        style: DumpStyle,
    },
}

/// Output style of a memory dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpStyle {
    /// Lower-case hex pairs.
    HexLower,
    /// Upper-case hex pairs.
    HexUpper,
    /// Printable ASCII, `\xNN` otherwise, stopping at NUL.
    Ascii,
}
