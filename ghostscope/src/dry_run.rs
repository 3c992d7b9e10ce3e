//! `--dry-run`: resolve and compile, print the plan (output.md §9).

use std::fmt::Write as _;

use ghostscope::engine::queries::variable_availability;
use ghostscope_compiler::ast::{referenced_names, TracePattern};
use ghostscope_compiler::{parse_script, CompileOutput, CompiledTrace};
use ghostscope_dwarf::{DebugSession, SiteKind};

/// Visible variables listed per target at most.
const MAX_LISTED_VARIABLES: usize = 40;

/// The plan text for stdout.
pub fn render_plan(
    session: &DebugSession,
    script: &str,
    out: &CompileOutput,
    primary: &str,
    details: bool,
) -> String {
    let blocks = parse_script(script).map(|s| s.traces).unwrap_or_default();
    let mut s = String::new();
    s.push_str("GhostScope dry run: no uprobes were attached.\n");
    let _ = writeln!(
        s,
        "Summary: {} attachable target(s), 0 unattachable resolved target(s), {} failed target(s), next trace id {}",
        out.traces.len(),
        out.failures.len(),
        out.next_trace_id
    );
    let _ = writeln!(s, "Primary target: {primary}");
    if out.traces.is_empty() {
        s.push_str("\nAttachable targets: none\n");
    } else {
        s.push_str("\nAttachable targets:\n");
        for (i, t) in out.traces.iter().enumerate() {
            let _ = writeln!(
                s,
                "  [{}] {} -> pc=0x{:x}, uprobe_offset=0x{:x}, module={}",
                i + 1,
                label(t),
                t.site.pc,
                t.site.file_offset,
                session.module_path(t.site.module).display()
            );
            if details {
                let pattern = blocks.get(t.block_index).map(|b| &b.pattern);
                let used = blocks
                    .get(t.block_index)
                    .map(|b| referenced_names(&b.body))
                    .unwrap_or_default();
                render_details(&mut s, session, t, pattern, &used);
            }
        }
    }
    if !out.failures.is_empty() {
        s.push_str("\nFailed targets:\n");
        for f in &out.failures {
            let _ = writeln!(s, "  - {} at 0x{:x}: {}", f.target, f.pc, f.message);
        }
    }
    s
}

fn label(t: &CompiledTrace) -> String {
    match t.site.kind {
        SiteKind::Address => format!("0x{:x}", t.site.pc),
        _ => t.target.clone(),
    }
}

fn render_details(
    s: &mut String,
    session: &DebugSession,
    t: &CompiledTrace,
    pattern: Option<&TracePattern>,
    used: &[String],
) {
    let _ = writeln!(s, "      trace_id: {}", t.trace_id);
    let _ = writeln!(s, "      eBPF program: {}", t.program_name);
    let pattern = match pattern {
        Some(TracePattern::Function { name, .. }) => format!("function {name}"),
        Some(TracePattern::SourceLine { file, line }) => format!("source {file}:{line}"),
        Some(TracePattern::Address(a)) => format!("address 0x{a:x}"),
        Some(TracePattern::ModuleAddress { module, addr }) => {
            format!("address {module}:0x{addr:x}")
        }
        Some(TracePattern::Wildcard(p)) => format!("wildcard {p}*"),
        None => t.target.clone(),
    };
    let _ = writeln!(s, "      pattern: {pattern}");
    s.push_str("      attachable: yes (file offset resolved; eBPF bytecode generated)\n");
    let _ = writeln!(s, "      resolved address index: {}", t.address_index);
    if let Some(loc) = session.source_location(&t.site) {
        if loc.column > 0 {
            let _ = writeln!(s, "      source: {}:{}:{}", loc.file, loc.line, loc.column);
        } else {
            let _ = writeln!(s, "      source: {}:{}", loc.file, loc.line);
        }
    }
    let inline = t.site.kind == SiteKind::InlinedEntry;
    let _ = writeln!(
        s,
        "      inline context: {}",
        if inline { "yes" } else { "no" }
    );
    if t.site.kind == SiteKind::AfterPrologue {
        let why = t
            .moved_because
            .as_deref()
            .unwrap_or("a value the script uses is not readable at the first instruction");
        let _ = writeln!(s, "      probe placement: after the prologue ({why})");
    }
    let used = if used.is_empty() {
        "none".to_string()
    } else {
        used.join(", ")
    };
    let _ = writeln!(s, "      variables used by script: {used}");
    let vars = session.variables_at(&t.site);
    if vars.is_empty() {
        s.push_str("      visible variables: none\n");
        return;
    }
    let shown = vars.len().min(MAX_LISTED_VARIABLES);
    if shown < vars.len() {
        let _ = writeln!(
            s,
            "      visible variables: {shown} shown of {}",
            vars.len()
        );
    } else {
        let _ = writeln!(s, "      visible variables: {shown} shown");
    }
    for v in vars.iter().take(shown) {
        let (availability, lowering) = variable_availability(&v.location);
        let _ = writeln!(
            s,
            "        - {}{}: {} [{availability}; {lowering}; {}]",
            if v.is_parameter { "param " } else { "" },
            v.name,
            v.ty.name(),
            v.location.describe()
        );
    }
    if vars.len() > shown {
        let _ = writeln!(
            s,
            "        ... {} more variable(s) omitted",
            vars.len() - shown
        );
    }
}
