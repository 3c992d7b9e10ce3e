//! `info …` output (tui.md §6.6), formatted from the engine's replies and
//! the UI's own trace table.

use ghostscope_protocol::session::{
    AddressDescription, FileInfo, ModuleSources, SharedLibrary, TraceInfo, TraceState,
};
use ratatui::style::Color;
use ratatui::text::{Line, Span};

use super::{hex, place};
use crate::command::parse::DescribeKind;
use crate::styled::{bold, colored, colored_line, text_line};

/// `info` with no sub-command.
pub fn info_list() -> Vec<Line<'static>> {
    let mut out = vec![bold("📋 Info sub-commands:", Color::Cyan).into()];
    for (cmd, what) in [
        (
            "info trace [id]",
            "traces: state, target, address, hits, losses",
        ),
        ("info source", "source files by module"),
        ("info file", "the main executable"),
        ("info share [all]", "shared libraries"),
        (
            "info function <name> [verbose|v]",
            "addresses and variables of a function",
        ),
        (
            "info line <file:line> [verbose|v]",
            "addresses and variables of a line",
        ),
        (
            "info address <0xADDR|module:0xADDR> [verbose|v]",
            "what is at an address",
        ),
    ] {
        out.push(Line::from(vec![
            colored(format!("  {cmd:<50}"), Color::Yellow),
            Span::raw(what),
        ]));
    }
    out
}

/// The state word `info trace` shows.
pub fn state_word(state: TraceState) -> &'static str {
    match state {
        TraceState::Active => "Active",
        TraceState::Disabled => "Disabled",
        TraceState::Pending => "Pending",
        TraceState::Failed => "Failed",
    }
}

fn state_color(state: TraceState) -> Color {
    match state {
        TraceState::Active => Color::Green,
        TraceState::Disabled => Color::Yellow,
        TraceState::Pending => Color::LightYellow,
        TraceState::Failed => Color::Red,
    }
}

/// `info trace`: one line per trace.
pub fn trace_list(traces: &[&TraceInfo]) -> Vec<Line<'static>> {
    if traces.is_empty() {
        return vec![text_line("No traces found.")];
    }
    let count = |s| traces.iter().filter(|t| t.state == s).count();
    let mut out = vec![bold(
        format!(
            "🔍 Traces: {} total ({} active, {} disabled, {} pending, {} failed)",
            traces.len(),
            count(TraceState::Active),
            count(TraceState::Disabled),
            count(TraceState::Pending),
            count(TraceState::Failed)
        ),
        Color::Cyan,
    )
    .into()];
    for t in traces {
        let lost = if t.lost > 0 {
            colored(format!("{} lost", t.lost), Color::Yellow)
        } else {
            Span::raw("0 lost")
        };
        out.push(Line::from(vec![
            Span::raw(format!("  #{:<4}", t.trace_id)),
            colored(format!("{:<9}", state_word(t.state)), state_color(t.state)),
            Span::raw(format!(
                "{}  {}  {}  {} hits  ",
                t.target,
                hex(t.pc),
                t.module,
                t.hits
            )),
            lost,
        ]));
    }
    out
}

/// `info trace <id>`.
pub fn trace_detail(t: &TraceInfo) -> Vec<Line<'static>> {
    let row = |k: &str, v: String| text_line(format!("  {k:<11}{v}"));
    let mut out = vec![bold(format!("🔍 Trace {}", t.trace_id), Color::Cyan).into()];
    out.push(row("Target:", t.target.clone()));
    out.push(Line::from(vec![
        Span::raw(format!("  {:<11}", "Status:")),
        colored(state_word(t.state), state_color(t.state)),
    ]));
    out.push(row("Binary:", t.module.clone()));
    out.push(row("PC:", hex(t.pc)));
    if let Some(f) = &t.function {
        out.push(row("Function:", f.clone()));
    }
    if let Some(s) = &t.source {
        out.push(row("Source:", format!("{}:{}", s.file, s.line)));
    }
    if let Some(pid) = t.pid {
        out.push(row("PID(proc):", pid.to_string()));
        out.push(row("PID(host):", t.host_pid.unwrap_or(pid).to_string()));
    }
    if let Some(i) = t.index {
        out.push(row("Index:", i.to_string()));
    }
    out.push(row("Hits:", t.hits.to_string()));
    out.push(row("Lost:", t.lost.to_string()));
    out.push(text_line("  Script:"));
    for l in t.body.lines() {
        out.push(colored_line(format!("    {l}"), Color::Cyan));
    }
    out
}

/// `info source`.
pub fn source_files(modules: &[ModuleSources]) -> Vec<Line<'static>> {
    let total: usize = modules.iter().map(|m| m.files.len()).sum();
    if total == 0 {
        return vec![text_line("No source files found.")];
    }
    let mut out = vec![bold(
        format!(
            "📁 Source Files by Module ({} modules, {total} files):",
            modules.iter().filter(|m| !m.files.is_empty()).count()
        ),
        Color::Cyan,
    )
    .into()];
    for m in modules.iter().filter(|m| !m.files.is_empty()) {
        out.push(
            bold(
                format!("  {} ({} files)", m.module, m.files.len()),
                Color::Yellow,
            )
            .into(),
        );
        for f in &m.files {
            out.push(text_line(format!("    {f}")));
        }
    }
    out
}

/// `info file`.
pub fn file_info(f: &FileInfo) -> Vec<Line<'static>> {
    let row = |k: &str, v: String| text_line(format!("  {k:<13}{v}"));
    let section = |s: Option<(u64, u64)>| match s {
        Some((addr, size)) => format!("{} (size {})", hex(addr), hex(size)),
        None => "none".to_string(),
    };
    vec![
        bold("📄 File Information:", Color::Cyan).into(),
        row("Path:", f.path.clone()),
        row("ELF type:", f.elf_type.clone()),
        row("Entry point:", hex(f.entry)),
        row(
            "Symbols:",
            if f.has_symbols {
                "yes"
            } else {
                "no (stripped)"
            }
            .to_string(),
        ),
        row("Debug info:", f.debug.clone()),
        row(".text:", section(f.text)),
        row(".data:", section(f.data)),
        row("Mode:", f.mode.clone()),
    ]
}

/// `info share [all]`.
pub fn shared_libraries(libs: &[SharedLibrary], all: bool) -> Vec<Line<'static>> {
    let shown: Vec<&SharedLibrary> = libs.iter().filter(|l| all || l.has_debug).collect();
    let mut out = vec![bold(
        format!("📚 Shared Libraries ({}):", shown.len()),
        Color::Cyan,
    )
    .into()];
    if shown.is_empty() {
        out.push(text_line(if all {
            "  No shared libraries found."
        } else {
            "  No shared libraries with debug info (use 'info share all' to list every library)."
        }));
        return out;
    }
    out.push(
        bold(
            format!(
                "  {:<18}  {:<18}  {:<4}  {:<5}  Shared Object",
                "From", "To", "Syms", "Debug"
            ),
            Color::White,
        )
        .into(),
    );
    let yes_no = |b: bool| if b { "Yes" } else { "No" };
    for l in &shown {
        out.push(Line::from(vec![
            Span::raw(format!(
                "  0x{:016x}  0x{:016x}  {:<4}  ",
                l.from,
                l.to,
                yes_no(l.has_symbols)
            )),
            colored(
                format!("{:<5}", yes_no(l.has_debug)),
                if l.has_debug {
                    Color::Green
                } else {
                    Color::Yellow
                },
            ),
            Span::raw(format!("  {}", l.path)),
        ]));
    }
    let debug: Vec<&&SharedLibrary> = shown.iter().filter(|l| l.debug_file.is_some()).collect();
    if !debug.is_empty() {
        out.push(text_line("Debug files:"));
        for l in debug {
            let name = l.path.rsplit('/').next().unwrap_or(&l.path);
            out.push(text_line(format!(
                "  {name} → {}",
                l.debug_file.as_deref().unwrap_or_default()
            )));
        }
    }
    out
}

/// `info function|line|address`.
pub fn described(
    kind: DescribeKind,
    target: &str,
    verbose: bool,
    addresses: &[AddressDescription],
) -> Vec<Line<'static>> {
    if addresses.is_empty() {
        let msg = match kind {
            DescribeKind::Function => format!("Function '{target}' not found in any loaded module"),
            DescribeKind::Line => format!("No addresses found for line {target}"),
            DescribeKind::Address => format!("No debug information at address {target}"),
        };
        return vec![colored_line(format!("✗ {msg}"), Color::Red)];
    }
    let what = match kind {
        DescribeKind::Function => format!("Function '{target}'"),
        DescribeKind::Line => format!("Line {target}"),
        DescribeKind::Address => format!("Address {target}"),
    };
    let n = addresses.len();
    let mut out = vec![bold(
        format!("🔍 {what}: {n} address{}", if n == 1 { "" } else { "es" }),
        Color::Cyan,
    )
    .into()];
    for a in addresses {
        let place = place(a.inline, a.source.as_ref());
        out.push(Line::from(vec![
            colored(format!("  [{}] ", a.index), Color::Yellow),
            bold(hex(a.pc), Color::White),
            Span::raw(place),
        ]));
        if let Some(f) = &a.function {
            out.push(text_line(format!("      Function: {f}")));
        }
        out.push(text_line(format!("      Module: {}", a.module)));
        if a.variables.is_empty() {
            out.push(text_line("      Variables: none"));
            continue;
        }
        out.push(text_line("      Variables:"));
        for v in &a.variables {
            let avail_color = if v.availability == "available" {
                Color::Green
            } else {
                Color::Yellow
            };
            out.push(Line::from(vec![
                Span::raw("        "),
                colored(v.name.clone(), Color::Cyan),
                Span::raw(format!(
                    ": {}{} ",
                    v.type_name,
                    if v.is_parameter { " (parameter)" } else { "" }
                )),
                colored(format!("[{}]", v.availability), avail_color),
            ]));
            if verbose && !v.location.is_empty() {
                out.push(colored_line(
                    format!("          location: {}", v.location),
                    Color::DarkGray,
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::styled::plain_lines as texts;
    use ghostscope_protocol::session::{SourcePosition, VariableDescription};

    fn trace(id: u32, state: TraceState, lost: u64) -> TraceInfo {
        TraceInfo {
            trace_id: id,
            target: "place_order".into(),
            body: "print order.id;".into(),
            index: None,
            state,
            pc: 0x1149,
            module: "/opt/orderd".into(),
            function: Some("place_order".into()),
            source: Some(SourcePosition {
                file: "orders.c".into(),
                line: 88,
                column: 5,
            }),
            pid: Some(48211),
            host_pid: None,
            hits: 1204,
            lost,
        }
    }

    #[test]
    fn trace_list_and_detail() {
        let a = trace(0, TraceState::Active, 0);
        let b = trace(1, TraceState::Disabled, 3);
        assert_eq!(
            texts(&trace_list(&[&a, &b])),
            vec![
                "🔍 Traces: 2 total (1 active, 1 disabled, 0 pending, 0 failed)",
                "  #0   Active   place_order  0x1149  /opt/orderd  1204 hits  0 lost",
                "  #1   Disabled place_order  0x1149  /opt/orderd  1204 hits  3 lost",
            ]
        );
        assert_eq!(texts(&trace_list(&[])), vec!["No traces found."]);
        assert_eq!(
            texts(&trace_detail(&a)),
            vec![
                "🔍 Trace 0",
                "  Target:    place_order",
                "  Status:    Active",
                "  Binary:    /opt/orderd",
                "  PC:        0x1149",
                "  Function:  place_order",
                "  Source:    orders.c:88",
                "  PID(proc): 48211",
                "  PID(host): 48211",
                "  Hits:      1204",
                "  Lost:      0",
                "  Script:",
                "    print order.id;",
            ]
        );
    }

    #[test]
    fn describe_function() {
        let a = AddressDescription {
            index: 1,
            pc: 0x1149,
            module: "/opt/orderd".into(),
            function: Some("place_order".into()),
            inline: false,
            source: Some(SourcePosition {
                file: "orders.c".into(),
                line: 88,
                column: 0,
            }),
            variables: vec![VariableDescription {
                name: "order".into(),
                type_name: "struct order*".into(),
                is_parameter: true,
                availability: "available".into(),
                location: "DW_OP_reg5 (rdi)".into(),
            }],
        };
        assert_eq!(
            texts(&described(
                DescribeKind::Function,
                "place_order",
                true,
                &[a]
            )),
            vec![
                "🔍 Function 'place_order': 1 address",
                "  [1] 0x1149 — call @ orders.c:88",
                "      Function: place_order",
                "      Module: /opt/orderd",
                "      Variables:",
                "        order: struct order* (parameter) [available]",
                "          location: DW_OP_reg5 (rdi)",
            ]
        );
        assert_eq!(
            texts(&described(DescribeKind::Function, "nosuch", false, &[])),
            vec!["✗ Function 'nosuch' not found in any loaded module"]
        );
    }

    #[test]
    fn share_and_sources_and_file() {
        let libs = vec![
            SharedLibrary {
                from: 0x7f00,
                to: 0x7fff,
                has_symbols: true,
                has_debug: true,
                debug_file: Some("/usr/lib/debug/libc.debug".into()),
                path: "/lib/libc.so.6".into(),
            },
            SharedLibrary {
                from: 0x8f00,
                to: 0x8fff,
                has_symbols: true,
                has_debug: false,
                debug_file: None,
                path: "/lib/libm.so.6".into(),
            },
        ];
        let t = texts(&shared_libraries(&libs, false));
        assert_eq!(t[0], "📚 Shared Libraries (1):");
        assert_eq!(
            t[1],
            "  From                To                  Syms  Debug  Shared Object"
        );
        assert_eq!(
            t[2],
            "  0x0000000000007f00  0x0000000000007fff  Yes   Yes    /lib/libc.so.6"
        );
        assert_eq!(t[3], "Debug files:");
        assert_eq!(t[4], "  libc.so.6 → /usr/lib/debug/libc.debug");
        assert_eq!(
            texts(&shared_libraries(&libs, true))[0],
            "📚 Shared Libraries (2):"
        );
        assert_eq!(texts(&source_files(&[])), vec!["No source files found."]);
        let mods = vec![ModuleSources {
            module: "/opt/orderd".into(),
            files: vec!["/b/main.c".into()],
        }];
        assert_eq!(
            texts(&source_files(&mods)),
            vec![
                "📁 Source Files by Module (1 modules, 1 files):",
                "  /opt/orderd (1 files)",
                "    /b/main.c",
            ]
        );
        let f = FileInfo {
            path: "/opt/orderd".into(),
            elf_type: "DYN (PIE)".into(),
            entry: 0x1040,
            has_symbols: true,
            debug: "embedded".into(),
            text: Some((0x1040, 0x200)),
            data: None,
            mode: "PID 48211".into(),
        };
        assert_eq!(
            texts(&file_info(&f)),
            vec![
                "📄 File Information:",
                "  Path:        /opt/orderd",
                "  ELF type:    DYN (PIE)",
                "  Entry point: 0x1040",
                "  Symbols:     yes",
                "  Debug info:  embedded",
                "  .text:       0x1040 (size 0x200)",
                "  .data:       none",
                "  Mode:        PID 48211",
            ]
        );
    }
}
