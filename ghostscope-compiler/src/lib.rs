//! The ghostscope trace language: parse a script, check it against the
//! DWARF of the traced program, and generate one BPF program per probe
//! address, together with the metadata that decodes its events.
//!
//! ```text
//! script text ──parse──▶ AST ──resolve patterns──▶ probe sites
//!     ──check (per site)──▶ Program + TraceMeta ──codegen──▶ BPF object
//! ```

#![warn(missing_docs)]

pub mod ast;
mod check;
mod codegen;
pub mod error;
mod format;
pub mod parser;
pub mod plan;

use ghostscope_dwarf::{DebugSession, Location, ProbeSite, ResolveError, SiteKind, Variable};
use ghostscope_protocol::TraceMeta;

pub use codegen::{BpfCodegen, EventTransport, MapFds};
pub use error::{ParseError, TraceFailure};
pub use parser::{parse_script, parse_trace_block};

/// Whether a script contains a `bt` statement anywhere, so the caller can
/// load the unwind tables (ghostscope_dwarf::unwind) before compiling it.
pub fn uses_backtrace(script: &ast::Script) -> bool {
    fn any(stmts: &[ast::Stmt]) -> bool {
        stmts.iter().any(|s| match s {
            ast::Stmt::Backtrace { .. } => true,
            ast::Stmt::If(i) => if_uses(i),
            _ => false,
        })
    }
    fn if_uses(i: &ast::IfStmt) -> bool {
        any(&i.then)
            || match &i.otherwise {
                Some(ast::Else::If(inner)) => if_uses(inner),
                Some(ast::Else::Block(b)) => any(b),
                None => false,
            }
    }
    script.traces.iter().any(|t| any(&t.body))
}

use ast::{TraceBlock, TracePattern};

/// Settings that shape the generated programs.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// Keep only events of this process (kernel tgid).
    pub pid_filter: Option<u32>,
    /// The `-p` value as typed, for `$input_pid`.
    pub input_pid: Option<u32>,
    /// Per-argument cap of memory dumps (`ebpf.mem_dump_cap`).
    pub mem_dump_cap: u32,
    /// Per-event size limit (`ebpf.max_trace_event_size`).
    pub max_trace_event_size: u32,
    /// Most bytes a comparison builtin reads per operand (`ebpf.compare_cap`).
    pub compare_cap: u32,
    /// Ring buffer size in bytes; programs ask the consumer to wake up
    /// early when a quarter of it is filled.
    pub ringbuf_size: u32,
    /// Also return each program's LLVM IR text (for `--save-llvm-ir`).
    pub keep_llvm_ir: bool,
    /// Most frames per `bt` (`--backtrace-depth`, 1..=128).
    pub backtrace_depth: u8,
}

impl Default for CompileOptions {
    fn default() -> CompileOptions {
        CompileOptions {
            pid_filter: None,
            input_pid: None,
            mem_dump_cap: 256,
            max_trace_event_size: 32768,
            compare_cap: 64,
            ringbuf_size: 262144,
            keep_llvm_ir: false,
            backtrace_depth: 128,
        }
    }
}

/// One compiled probe: a BPF object with one uprobe program, where to
/// attach it, and how to decode its events.
#[derive(Debug, Clone)]
pub struct CompiledTrace {
    /// The trace id, also in every event header.
    pub trace_id: u32,
    /// The trace block's pattern text (function, `file:line`, `0x…`).
    pub target: String,
    /// Index of the trace block in the script.
    pub block_index: usize,
    /// Index of this address among the block's resolved addresses.
    pub address_index: usize,
    /// Where the probe goes.
    pub site: ProbeSite,
    /// Why a function probe moved past the prologue (`SiteKind::AfterPrologue`).
    pub moved_because: Option<String>,
    /// Name of the program inside the object.
    pub program_name: String,
    /// The BPF ELF object.
    pub object: Vec<u8>,
    /// How to decode the events.
    pub meta: TraceMeta,
    /// LLVM IR, when requested.
    pub llvm_ir: Option<String>,
}

/// Everything a script compiled to.
#[derive(Debug, Default)]
pub struct CompileOutput {
    /// Probes ready to load, in trace-id order.
    pub traces: Vec<CompiledTrace>,
    /// Targets that failed to resolve or compile.
    pub failures: Vec<TraceFailure>,
    /// How many pattern resolutions failed (as opposed to code generation).
    pub unresolved: usize,
    /// The next unused trace id.
    pub next_trace_id: u32,
}

/// Compiles a script against a session. A parse error stops everything;
/// failures of single targets are collected and the rest still compile.
pub fn compile_script(
    source: &str,
    session: &DebugSession,
    codegen: &BpfCodegen,
    maps: MapFds,
    options: &CompileOptions,
    first_trace_id: u32,
) -> Result<CompileOutput, ParseError> {
    let script = parse_script(source)?;
    let compiler = Compiler {
        session,
        codegen,
        maps,
        options,
    };
    let mut out = CompileOutput {
        next_trace_id: first_trace_id,
        ..CompileOutput::default()
    };
    for (block_index, block) in script.traces.iter().enumerate() {
        let sites = match resolve_pattern(session, &block.pattern) {
            Ok(sites) => sites,
            Err(message) => {
                out.unresolved += 1;
                out.failures.push(TraceFailure {
                    target: block.pattern_text.clone(),
                    pc: 0,
                    message,
                });
                continue;
            }
        };
        for (address_index, site) in sites.into_iter().enumerate() {
            let trace_id = out.next_trace_id;
            out.next_trace_id += 1;
            let unit = SiteUnit {
                block,
                block_index,
                address_index,
                trace_id,
            };
            match compiler.compile_site(&unit, site) {
                Ok(t) => out.traces.push(t),
                Err(f) => out.failures.push(f),
            }
        }
    }
    Ok(out)
}

/// What one compilation needs besides the script: the debug info, LLVM,
/// the shared maps and the options.
pub struct Compiler<'a> {
    /// The traced program's debug info.
    pub session: &'a DebugSession,
    /// The code generator.
    pub codegen: &'a BpfCodegen,
    /// Descriptors of the shared maps baked into every program.
    pub maps: MapFds,
    /// Program settings.
    pub options: &'a CompileOptions,
}

/// One resolved address of one trace block, to be compiled under `trace_id`.
pub struct SiteUnit<'a> {
    /// The trace block.
    pub block: &'a TraceBlock,
    /// Index of the block in its script.
    pub block_index: usize,
    /// Index of the address among the block's resolved addresses.
    pub address_index: usize,
    /// The id the program writes into its events.
    pub trace_id: u32,
}

impl Compiler<'_> {
    /// Checks a block at one of its resolved sites and generates its program.
    pub fn compile_site(
        &self,
        unit: &SiteUnit,
        site: ProbeSite,
    ) -> Result<CompiledTrace, TraceFailure> {
        let block = unit.block;
        let trace_id = unit.trace_id;
        let used = ast::referenced_names(&block.body);
        let (site, locals, moved_because) = placement(self.session, site, &used);
        check::check_trace(
            self.session,
            &site,
            locals,
            trace_id,
            &block.pattern_text,
            &block.body,
            self.options,
        )
        .and_then(|checked| {
            let name = format!("gs_trace_{trace_id}");
            let (object, llvm_ir) =
                self.codegen
                    .compile(&checked.program, self.maps, &name, self.options)?;
            Ok(CompiledTrace {
                trace_id,
                target: block.pattern_text.clone(),
                block_index: unit.block_index,
                address_index: unit.address_index,
                site: site.clone(),
                moved_because: moved_because.clone(),
                program_name: name,
                object,
                meta: checked.meta,
                llvm_ir,
            })
        })
        .map_err(|message| TraceFailure {
            target: block.pattern_text.clone(),
            pc: site.pc,
            message,
        })
    }
}

/// Function probes sit on the first instruction, where the kernel can often
/// emulate the probed instruction. They move past the prologue only when a
/// value the script uses cannot be read at entry but can be read there: a
/// float in an XMM register that the prologue stores to memory, or a
/// parameter of code that does not follow the C calling convention (Rust),
/// whose DWARF location only holds once the prologue has stored it.
/// Returns the site, the variables visible there (which the checker
/// reuses), and why the probe moved.
fn placement(
    session: &DebugSession,
    site: ProbeSite,
    used: &[String],
) -> (ProbeSite, Vec<Variable>, Option<String>) {
    let vars = session.variables_at(&site);
    if site.kind != SiteKind::FunctionEntry {
        return (site, vars, None);
    }
    let unreadable = |vars: &[Variable]| -> Vec<String> {
        vars.iter()
            .filter(|v| used.contains(&v.name))
            .filter_map(|v| match &v.location {
                Location::Unavailable(reason) => Some(format!("{}: {reason}", v.name)),
                Location::OptimizedOut if v.is_parameter => Some(format!(
                    "{}: no DWARF location covers the first instruction",
                    v.name
                )),
                _ => None,
            })
            .collect()
    };
    let at_entry = unreadable(&vars);
    if at_entry.is_empty() {
        return (site, vars, None);
    }
    if let Some(later) = session.after_prologue(&site) {
        let later_vars = session.variables_at(&later);
        if unreadable(&later_vars).len() < at_entry.len() {
            let why = format!(
                "not readable at the first instruction: {}",
                at_entry.join("; ")
            );
            return (later, later_vars, Some(why));
        }
    }
    (site, vars, None)
}

/// Every probe site of a pattern, in module and address order, or the
/// message of script-language §3 saying why there is none.
pub fn resolve_pattern(
    session: &DebugSession,
    pattern: &TracePattern,
) -> Result<Vec<ProbeSite>, String> {
    let r: Result<Vec<ProbeSite>, ResolveError> = match pattern {
        TracePattern::Function {
            at_return: true, ..
        } => {
            return Err(
                "Not implemented: return probes (%return) are not supported yet".to_string(),
            )
        }
        TracePattern::Wildcard(_) => {
            return Err("Not implemented: wildcard patterns are not supported yet".to_string())
        }
        TracePattern::Function { name, .. } if name.contains("::") => {
            return Err("Not implemented: '::'-qualified names are not supported yet".to_string())
        }
        TracePattern::Function { name, .. } => session.resolve_function(name),
        TracePattern::SourceLine { file, line } => session.resolve_line(file, *line),
        TracePattern::Address(addr) => session.resolve_address(None, *addr).map(|s| vec![s]),
        TracePattern::ModuleAddress { module, addr } => session
            .resolve_address(Some(module), *addr)
            .map(|s| vec![s]),
    };
    r.map_err(|e| e.to_string())
}
