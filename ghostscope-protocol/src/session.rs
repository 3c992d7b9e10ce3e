//! Messages between the long-lived session engine (in the `ghostscope`
//! binary) and an interactive front end (the TUI in `ghostscope-ui`).
//!
//! The front end sends [`Request`]s tagged with a [`RequestId`]; the engine
//! answers each with one [`SessionEvent::Reply`] carrying the same id, and
//! also pushes unsolicited events: loading progress, decoded trace events,
//! loss reports and trace state changes. Everything here is plain data, so
//! the UI can be tested without a kernel, LLVM or DWARF.

/// Tags a request so the front end can match its reply.
pub type RequestId = u64;

/// Which traces an `enable` / `disable` / `delete` applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceSelector {
    /// One trace id.
    Id(u32),
    /// Every trace.
    All,
}

/// What a front end asks the engine to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Compile and attach `trace <target> { <body> }`. `body` is the script
    /// inside the braces, as typed in the editor; line and column numbers of
    /// errors count in it (line 1 is its first line). `index` (1-based)
    /// keeps only that resolved address. With `enabled: false` the trace is
    /// compiled and loaded but left detached (`//@disabled` in `source`).
    AddTrace {
        /// The pattern text: function, `file:line`, `0xADDR`, `module:0xADDR` (beyond: `f%return`, `ns::f`, `prefix*`).
        target: String,
        /// The body without the `trace … { }` wrapper.
        body: String,
        /// Keep only this 1-based address of the pattern.
        index: Option<usize>,
        /// Attach at once (true) or leave disabled.
        enabled: bool,
    },
    /// Re-attach disabled traces.
    Enable(TraceSelector),
    /// Detach traces but keep their programs loaded.
    Disable(TraceSelector),
    /// Detach and unload traces.
    Delete(TraceSelector),
    /// `info function|line|address <target> [verbose]`: every address the
    /// pattern resolves to, with the variables visible there.
    Describe {
        /// A function name, `file:line`, `0xADDR` or `module:0xADDR`.
        target: String,
        /// Add DWARF location expressions.
        verbose: bool,
    },
    /// Every source file named in the debug info, grouped by module.
    SourceFiles,
    /// Function names starting with `prefix` (for completion); at most `limit`.
    FunctionNames {
        /// Typed prefix.
        prefix: String,
        /// Most names to return.
        limit: usize,
    },
    /// The line numbers of `file` (a path as listed by [`Request::SourceFiles`])
    /// that have code, so the source panel can mark them.
    LinesWithCode {
        /// DWARF path of the file.
        file: String,
    },
    /// `info file`: the main module.
    FileInfo,
    /// `info share`: the shared libraries of the process.
    SharedLibraries,
    /// Detach everything and stop; the engine answers, then sends [`SessionEvent::Stopped`].
    Shutdown,
}

/// A reply to one [`Request`].
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Result of [`Request::AddTrace`].
    TraceAdded(TraceOutcome),
    /// `enable` / `disable` / `delete` succeeded for these trace ids.
    TracesChanged {
        /// Affected trace ids.
        ids: Vec<u32>,
    },
    /// Result of [`Request::Describe`].
    Described(Vec<AddressDescription>),
    /// Result of [`Request::SourceFiles`].
    SourceFiles(Vec<ModuleSources>),
    /// Result of [`Request::FunctionNames`].
    FunctionNames(Vec<String>),
    /// Result of [`Request::LinesWithCode`]: sorted line numbers.
    LinesWithCode {
        /// The file asked about.
        file: String,
        /// Lines with at least one address.
        lines: Vec<u32>,
    },
    /// Result of [`Request::FileInfo`].
    FileInfo(FileInfo),
    /// Result of [`Request::SharedLibraries`].
    SharedLibraries(Vec<SharedLibrary>),
    /// The request failed; the text is shown to the user as is
    /// (for example `Trace ID not found`).
    Error(String),
    /// The request needed no data back (for example `Shutdown`).
    Done,
}

/// The outcome of adding one trace block (tui.md §6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceOutcome {
    /// The pattern text.
    pub target: String,
    /// One entry per resolved address, in address order.
    pub addresses: Vec<AddressOutcome>,
    /// Set when nothing could be tried at all: a parse error (with line and
    /// column counted in the body) or a pattern that resolved nowhere. The
    /// text is the script-language §13 message without the
    /// `Script compilation failed` wrapper.
    pub error: Option<String>,
}

/// What happened at one resolved address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressOutcome {
    /// Module-relative address.
    pub pc: u64,
    /// Attached (or loaded disabled), failed, or skipped.
    pub result: AddressResult,
}

/// Result for one address of a trace block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressResult {
    /// Compiled and loaded under this trace id.
    Attached {
        /// The new trace id.
        trace_id: u32,
        /// An inlined copy (`inline`) or an out-of-line function (`call`).
        inline: bool,
        /// Source position of the address, when known.
        source: Option<SourcePosition>,
    },
    /// Compilation, verification or attach failed, with the message.
    Failed(String),
    /// Not tried (for example another `[index]` was selected), with the reason.
    Skipped(String),
}

/// A file and line (and column, when known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePosition {
    /// Path as recorded in the line table.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, 0 when unknown.
    pub column: u32,
}

/// The life state of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceState {
    /// Attached and producing events.
    Active,
    /// Loaded, not attached.
    Disabled,
    /// Waiting for its code to be loaded (dlopen, a later process).
    Pending,
    /// The last attempt failed.
    Failed,
}

/// Everything the front end shows about one trace id (`info trace`, the
/// status bar, `save traces`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceInfo {
    /// Trace id.
    pub trace_id: u32,
    /// The pattern text as the user wrote it.
    pub target: String,
    /// The body the user wrote.
    pub body: String,
    /// The `[index]` the trace was created with, if any.
    pub index: Option<usize>,
    /// Current state.
    pub state: TraceState,
    /// Module-relative address.
    pub pc: u64,
    /// Path of the probed module.
    pub module: String,
    /// Function containing the address, when known.
    pub function: Option<String>,
    /// Source position of the address, when known.
    pub source: Option<SourcePosition>,
    /// PID filter as the user sees it (`-p`), if any.
    pub pid: Option<u32>,
    /// PID filter in the host namespace, if it differs.
    pub host_pid: Option<u32>,
    /// Events received.
    pub hits: u64,
    /// Events the kernel could not deliver.
    pub lost: u64,
}

/// One resolved address of an `info function|line|address` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressDescription {
    /// 1-based index, as `trace <target> [index]` takes it.
    pub index: usize,
    /// Module-relative address.
    pub pc: u64,
    /// Path of the module.
    pub module: String,
    /// Function containing the address, when known.
    pub function: Option<String>,
    /// An inlined copy.
    pub inline: bool,
    /// Source position, when known.
    pub source: Option<SourcePosition>,
    /// Variables visible there, innermost scope first.
    pub variables: Vec<VariableDescription>,
}

/// A variable visible at an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDescription {
    /// Source name.
    pub name: String,
    /// C spelling of its type.
    pub type_name: String,
    /// A formal parameter.
    pub is_parameter: bool,
    /// `available`, `optimized out`, `unsupported: …` (output.md §9).
    pub availability: String,
    /// A short text of the DWARF location (shown with `verbose`).
    pub location: String,
}

/// The source files of one module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSources {
    /// Module path.
    pub module: String,
    /// Source paths as recorded in the debug info (directory joined), sorted.
    pub files: Vec<String>,
}

/// `info file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Path of the main module.
    pub path: String,
    /// `EXEC`, `DYN (PIE)`, `DYN (shared object)`.
    pub elf_type: String,
    /// Entry point (module virtual address).
    pub entry: u64,
    /// Whether the module has a symbol table.
    pub has_symbols: bool,
    /// Where its debug info comes from: `embedded`, `debuglink <path>`, `explicit <path>`, `debuginfod <path>`, `missing`.
    pub debug: String,
    /// `.text` address and size.
    pub text: Option<(u64, u64)>,
    /// `.data` address and size.
    pub data: Option<(u64, u64)>,
    /// `PID <n>` or `static target`.
    pub mode: String,
}

/// One shared library of the process (`info share`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLibrary {
    /// First mapped address.
    pub from: u64,
    /// One past the last mapped address.
    pub to: u64,
    /// Has a symbol table.
    pub has_symbols: bool,
    /// Has DWARF.
    pub has_debug: bool,
    /// Separate debug file, when one was used.
    pub debug_file: Option<String>,
    /// Library path.
    pub path: String,
}

/// Loading state of one module (tui.md §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleLoadState {
    /// Not started.
    Pending,
    /// Being read.
    Loading,
    /// Done, with what was found and how long it took.
    Done {
        /// Functions.
        functions: u64,
        /// Variables.
        variables: u64,
        /// Types.
        types: u64,
        /// Milliseconds.
        ms: u64,
    },
    /// Failed, with the error.
    Failed(String),
}

/// One module while loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleLoad {
    /// Module path.
    pub path: String,
    /// Its state.
    pub state: ModuleLoadState,
}

/// How many modules got their debug info from each source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DebugSourceCounts {
    /// DWARF inside the module.
    pub embedded: u32,
    /// `--debug-file`.
    pub explicit: u32,
    /// `.gnu_debuglink` or a build-id tree.
    pub debuglink: u32,
    /// Downloaded from debuginfod.
    pub debuginfod: u32,
    /// None found.
    pub missing: u32,
}

/// Progress of the startup DWARF load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProgress {
    /// `PID <n>` or the target path, for the `Loading debug information for …` line.
    pub subject: String,
    /// Every module known so far.
    pub modules: Vec<ModuleLoad>,
    /// Debug-source counters.
    pub sources: DebugSourceCounts,
    /// Milliseconds since loading began.
    pub elapsed_ms: u64,
}

/// The session is ready for traces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReady {
    /// The `-p` PID, if any.
    pub pid: Option<u32>,
    /// Path of the main module (the `-t` file or the process executable).
    pub main_module: String,
    /// The source file and line of `main` (or the first function with a
    /// source position), where the source panel opens.
    pub main_source: Option<SourcePosition>,
    /// The final load progress, for the summary shown before the main layout.
    pub progress: LoadProgress,
    /// In launch mode, the program that starts with the first trace.
    pub launch_program: Option<String>,
}

/// One decoded trace event, ready for a card (tui.md §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    /// Trace id.
    pub trace_id: u32,
    /// Process id as the user sees it.
    pub pid: u32,
    /// Thread id as the user sees it.
    pub tid: u32,
    /// `bpf_ktime_get_ns()` at the hit.
    pub timestamp_ns: u64,
    /// `YYYY-MM-DD HH:MM:SS.mmm` local time of the hit.
    pub time: String,
    /// The event's plain payload lines (output.md §2.2).
    pub lines: Vec<String>,
    /// Red border: an ExprError line, a failed status, or a backtrace that
    /// is neither complete nor truncated.
    pub error: bool,
}

/// What the engine tells the front end.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// Startup DWARF loading progressed (sent at least once a second).
    Loading(LoadProgress),
    /// Loading finished; traces can be added.
    Ready(SessionReady),
    /// Loading failed; the front end shows the error and then exits 1.
    LoadFailed(String),
    /// The answer to a request.
    Reply {
        /// The request's id.
        id: RequestId,
        /// The answer.
        reply: Reply,
    },
    /// Events decoded since the last batch, in arrival order.
    Events(Vec<TraceEvent>),
    /// Kernel-side loss found by the once-a-second check.
    Loss {
        /// Trace id.
        trace_id: u32,
        /// The trace's target text.
        target: String,
        /// Newly lost events.
        lost: u64,
        /// Total lost so far.
        total: u64,
    },
    /// Events the engine dropped because the front end did not keep up.
    QueueSaturated {
        /// Dropped in the last second.
        dropped: u64,
        /// Dropped in total.
        total: u64,
        /// Queue capacity in events.
        capacity: u64,
    },
    /// A trace was created or changed state or counters.
    TraceUpdated(TraceInfo),
    /// A trace was deleted.
    TraceRemoved(u32),
    /// A status line for the command panel (pending traces armed, the
    /// launched program exited, …).
    Status(String),
    /// The engine stopped (after `Shutdown` or a fatal error); the front end should exit.
    Stopped {
        /// A fatal error, if that is why.
        error: Option<String>,
    },
}
