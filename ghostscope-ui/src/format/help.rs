//! `help` and `help srcpath` (tui.md §6.6).

use ratatui::style::Color;
use ratatui::text::{Line, Span};

use crate::styled::{bold, colored, text_line};

const GROUPS: &[(&str, &[(&str, &str)])] = &[
    (
        "Tracing",
        &[
            (
                "trace <target> [index]  (t)",
                "edit a script for a function, file:line, 0xADDR or module:0xADDR",
            ),
            ("enable <id|all>  (en)", "re-attach traces"),
            ("disable <id|all>  (dis)", "detach traces, keep them loaded"),
            ("delete <id|all>  (del)", "detach and unload traces"),
            (
                "source <file>  (s)",
                "load the trace blocks of a script file",
            ),
            (
                "save traces [enabled|disabled] [file]  (s t)",
                "write traces to a script file",
            ),
        ],
    ),
    (
        "Information",
        &[
            ("info  (i)", "list the info sub-commands"),
            ("info trace [id]  (i t)", "traces, hits and losses"),
            ("info source  (i s)", "source files by module"),
            ("info file  (i f)", "the main executable"),
            ("info share [all]  (i sh)", "shared libraries"),
            (
                "info function <name> [v]  (i f)",
                "addresses and variables of a function",
            ),
            (
                "info line <file:line> [v]  (i l)",
                "addresses and variables of a line",
            ),
            (
                "info address <0xADDR> [v]  (i a)",
                "what is at a module address",
            ),
        ],
    ),
    (
        "Source paths",
        &[
            ("srcpath", "show the path rules"),
            ("srcpath add <dir>", "look up files by name in a directory"),
            ("srcpath map <from> <to>", "rewrite a path prefix"),
            ("srcpath remove <path>", "remove a runtime rule"),
            ("srcpath clear | reset", "remove every runtime rule"),
            ("help srcpath", "detailed help"),
        ],
    ),
    (
        "Control",
        &[
            (
                "save output [file]  (s o)",
                "log events to a file as they arrive",
            ),
            (
                "save session [file]  (s s)",
                "log commands and responses to a file",
            ),
            ("stop output | stop session", "stop a log"),
            ("quit | exit", "detach everything and exit"),
        ],
    ),
    (
        "UI",
        &[
            ("ui source on|off", "show or hide the source panel"),
            (
                "ui mouse on|off",
                "mouse capture (click a line number to trace it)",
            ),
            ("Tab / Shift+Tab", "focus the next / previous panel"),
            (
                "Ctrl+W h/j/k/l, v, z",
                "focus by direction, toggle layout, fullscreen",
            ),
            ("F1 / F2", "fullscreen / toggle layout"),
        ],
    ),
    (
        "Navigation",
        &[
            (
                "Source: h j k l, gg G <N>G, w b ^ $",
                "move; / search, n N; o open file",
            ),
            (
                "Source: Space / R",
                "trace the cursor line / return of the function there",
            ),
            ("Output: j k, g G <N>G, Enter", "select cards, expand one"),
            (
                "Command: Esc or jk / i",
                "browse the scrollback / back to input",
            ),
        ],
    ),
    (
        "General",
        &[
            ("help [srcpath]", "this help"),
            ("clear", "clear the command history"),
            ("↑ ↓, Ctrl+R, Tab", "history, reverse search, completion"),
            ("Ctrl+C twice", "exit"),
        ],
    ),
];

fn entry(cmd: &str, what: &str) -> Line<'static> {
    Line::from(vec![
        colored(format!("  {cmd:<46}"), Color::Yellow),
        Span::raw(what.to_string()),
    ])
}

/// `help`.
pub fn help() -> Vec<Line<'static>> {
    let mut out = vec![bold("📘 Ghostscope Commands:", Color::Cyan).into()];
    for (group, items) in GROUPS {
        out.push(text_line(""));
        out.push(bold(format!("{group}:"), Color::Green).into());
        out.extend(items.iter().map(|(c, w)| entry(c, w)));
    }
    out
}

/// `help srcpath`.
pub fn help_srcpath() -> Vec<Line<'static>> {
    let mut out = vec![bold("📘 Source Path Command - Detailed Help", Color::Cyan).into()];
    out.push(text_line(""));
    for l in [
        "Source files are looked up by the path the debug info records (the",
        "compilation directory joined with the file name). When the program was",
        "built elsewhere, tell ghostscope where the files are now:",
    ] {
        out.push(text_line(l));
    }
    out.push(text_line(""));
    for (c, w) in [
        ("srcpath", "show runtime and config rules"),
        (
            "srcpath map <from> <to>",
            "replace the path prefix <from> by <to>",
        ),
        (
            "srcpath add <dir>",
            "find files by name in <dir> (not recursive)",
        ),
        (
            "srcpath remove <path>",
            "remove a runtime mapping (by <from>) or dir",
        ),
        ("srcpath clear", "remove every runtime rule"),
        ("srcpath reset", "same as clear"),
    ] {
        out.push(entry(c, w));
    }
    out.push(text_line(""));
    out.push(text_line(
        "Order: the recorded path; then mappings (runtime first, then config);",
    ));
    out.push(text_line(
        "then the file name in search dirs (runtime first, then config).",
    ));
    out.push(text_line(
        "Example: srcpath map /build/orderd /home/dev/orderd",
    ));
    out
}
