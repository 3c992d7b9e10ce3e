//! Every input command: what it sends and the exact response text.

use crossterm::event::KeyCode;
use ghostscope_protocol::session::{
    FileInfo, Reply, Request, SessionEvent, TraceOutcome, TraceSelector, TraceState,
};

use super::super::*;
use super::*;
use crate::command::panel::CommandMode;
use crate::test_support::*;

#[test]
fn trace_opens_the_editor_submits_and_shows_results() {
    let mut h = Harness::ready();
    h.command("trace update_order");
    assert_eq!(h.app.command.mode, CommandMode::Script);
    h.typed("print o->total;\nprint amount;");
    assert!(h.requests().is_empty(), "typing sends nothing");
    h.ctrl('s');
    assert_eq!(h.app.command.mode, CommandMode::Input);
    let (id, req) = h.one_request();
    assert_eq!(
        req,
        Request::AddTrace {
            target: "update_order".into(),
            body: "print o->total;\nprint amount;".into(),
            index: None,
            enabled: true,
        }
    );
    h.reply(id, Reply::TraceAdded(attached("update_order", 0)));
    assert_eq!(
        h.last_response(),
        vec![
            "trace update_order {",
            "    print o->total;",
            "    print amount;",
            "}",
            "🎯 Target: update_order",
            "",
            "✅ Trace Results: 1 successful, 0 failed",
            "  • update_order (0x1149) — call @ orders.c:12 → trace_id: 0",
        ]
    );
    // The same target restores the last body.
    h.command("trace update_order");
    assert_eq!(
        h.app.command.script.as_ref().unwrap().body(),
        "print o->total;\nprint amount;"
    );
    h.key(KeyCode::Esc);
    assert_eq!(
        h.last_response().last().unwrap(),
        "Script editing cancelled"
    );
    assert_eq!(h.app.command.mode, CommandMode::Input);
}

#[test]
fn whole_failure_and_ctrl_c_cancel_in_script_mode() {
    let mut h = Harness::ready();
    h.command("t nosuch");
    h.typed("print x;");
    h.ctrl('c');
    assert_eq!(h.app.command.mode, CommandMode::Input);
    assert_eq!(h.app.exit, None, "Ctrl+C in script mode only cancels");
    h.command("t nosuch");
    h.ctrl('s');
    let (id, _) = h.one_request();
    h.reply(
        id,
        Reply::TraceAdded(TraceOutcome {
            target: "nosuch".into(),
            addresses: vec![],
            error: Some(
                "No addresses resolved for function 'nosuch' - function not found in debug symbols"
                    .into(),
            ),
        }),
    );
    let r = h.last_response();
    assert_eq!(
        r[r.len() - 4..],
        [
            "🎯 Target: nosuch",
            "",
            "❌ Trace Results: 0 successful, 1 failed",
            "No addresses resolved for function 'nosuch' - function not found in debug symbols",
        ]
    );
}

#[test]
fn trace_index_is_checked_against_the_addresses() {
    let mut h = Harness::ready();
    h.command("trace update_order 3");
    let (id, req) = h.one_request();
    assert_eq!(
        req,
        Request::Describe {
            target: "update_order".into(),
            verbose: false
        }
    );
    h.reply(
        id,
        Reply::Described(vec![
            describe(1, "update_order", 12),
            describe(2, "update_order", 12),
        ]),
    );
    assert_eq!(
        h.last_response(),
        vec!["✗ Selected index 3 is out of range for function 'update_order' (valid 1..=2). Use 'info function update_order' to view indices."]
    );
    h.command("trace orders.c:13 2");
    let (id, _) = h.one_request();
    h.reply(id, Reply::Described(vec![describe(1, "update_order", 13)]));
    assert_eq!(
        h.last_response(),
        vec!["✗ Selected index 2 is out of range for orders.c:13 (valid 1..=1). Use 'info' to view indices."]
    );
    h.command("trace update_order 2");
    let (id, _) = h.one_request();
    h.reply(
        id,
        Reply::Described(vec![
            describe(1, "update_order", 12),
            describe(2, "update_order", 12),
        ]),
    );
    assert_eq!(h.app.command.mode, CommandMode::Script);
    h.typed("print 1;");
    h.ctrl('s');
    let (_, req) = h.one_request();
    assert!(matches!(req, Request::AddTrace { index: Some(2), .. }));
}

#[test]
fn enable_disable_delete_send_requests_and_report() {
    let mut h = Harness::ready();
    h.command("disable 3");
    let (id, req) = h.one_request();
    assert_eq!(req, Request::Disable(TraceSelector::Id(3)));
    h.reply(id, Reply::TracesChanged { ids: vec![3] });
    assert_eq!(h.last_response(), vec!["✅ Disabled trace 3"]);
    h.command("en all");
    let (id, req) = h.one_request();
    assert_eq!(req, Request::Enable(TraceSelector::All));
    h.reply(id, Reply::TracesChanged { ids: vec![0, 3] });
    assert_eq!(h.last_response(), vec!["✅ Enabled 2 traces: 0, 3"]);
    h.session(SessionEvent::TraceUpdated(trace_info(
        7,
        "update_order",
        12,
        TraceState::Active,
    )));
    h.command("del 7");
    let (id, req) = h.one_request();
    assert_eq!(req, Request::Delete(TraceSelector::Id(7)));
    h.reply(id, Reply::TracesChanged { ids: vec![7] });
    assert_eq!(h.last_response(), vec!["✅ Deleted trace 7"]);
    assert!(h.app.traces.is_empty());
    h.command("delete 9");
    let (id, _) = h.one_request();
    h.reply(id, Reply::Error("Trace ID not found".into()));
    assert_eq!(h.last_response(), vec!["✗ Trace ID not found"]);
    h.command("enable");
    assert_eq!(h.last_response(), vec!["Usage: enable <trace_id|all>"]);
    h.command("frob");
    assert_eq!(h.last_response(), vec!["✗ Unknown command"]);
}

#[test]
fn info_commands_format_replies() {
    let mut h = Harness::ready();
    h.command("info trace 5");
    assert_eq!(h.last_response(), vec!["✗ Trace not found"]);
    let mut t = trace_info(0, "update_order", 12, TraceState::Active);
    t.hits = 12;
    t.lost = 2;
    h.session(SessionEvent::TraceUpdated(t));
    h.command("i t");
    assert_eq!(
        h.last_response(),
        vec![
            "🔍 Traces: 1 total (1 active, 0 disabled, 0 pending, 0 failed)",
            "  #0   Active   update_order  0x1149  /opt/orderd/bin/orderd  12 hits  2 lost",
        ]
    );
    h.command("info");
    assert_eq!(h.last_response()[0], "📋 Info sub-commands:");
    h.command("info file");
    let (id, req) = h.one_request();
    assert_eq!(req, Request::FileInfo);
    h.reply(
        id,
        Reply::FileInfo(FileInfo {
            path: "/opt/orderd/bin/orderd".into(),
            elf_type: "DYN (PIE)".into(),
            entry: 0x1040,
            has_symbols: true,
            debug: "embedded".into(),
            text: Some((0x1040, 0x300)),
            data: Some((0x4000, 0x20)),
            mode: "PID 4242".into(),
        }),
    );
    assert_eq!(h.last_response()[0], "📄 File Information:");
    h.command("i sh all");
    let (id, req) = h.one_request();
    assert_eq!(req, Request::SharedLibraries);
    h.reply(id, Reply::SharedLibraries(vec![]));
    assert_eq!(h.last_response()[0], "📚 Shared Libraries (0):");
    h.command("info source");
    let (id, req) = h.one_request();
    assert_eq!(req, Request::SourceFiles);
    h.reply(id, Reply::SourceFiles(vec![]));
    assert_eq!(h.last_response(), vec!["No source files found."]);
    h.command("info function update_order v");
    let (id, req) = h.one_request();
    assert_eq!(
        req,
        Request::Describe {
            target: "update_order".into(),
            verbose: true
        }
    );
    h.reply(id, Reply::Described(vec![]));
    assert_eq!(
        h.last_response(),
        vec!["✗ Function 'update_order' not found in any loaded module"]
    );
}

#[test]
fn source_loads_blocks_with_index_and_disabled() {
    let mut h = Harness::ready();
    let dir = temp_dir("source-cmd");
    let file = dir.join("t.gs");
    std::fs::write(
        &file,
        "// Index: 2\ntrace update_order {\n    print o->id;\n}\n\n//@disabled\ntrace orders.c:13 {\n    print amount;\n}\n",
    )
    .unwrap();
    h.command(&format!("source {}", file.display()));
    let reqs: Vec<Request> = h.requests().into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        reqs,
        vec![
            Request::AddTrace {
                target: "update_order".into(),
                body: "print o->id;".into(),
                index: Some(2),
                enabled: true
            },
            Request::AddTrace {
                target: "orders.c:13".into(),
                body: "print amount;".into(),
                index: None,
                enabled: false
            },
        ]
    );
    assert_eq!(
        h.last_response(),
        vec![format!("✅ Loading 2 trace blocks from {}", file.display())]
    );
    h.command("source /no/such/file.gs");
    assert_eq!(h.last_response(), vec!["✗ File not found"]);
    h.command("source");
    assert_eq!(h.last_response(), vec!["Usage: source <filename>"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn save_traces_output_and_session() {
    let mut h = Harness::ready();
    let dir = temp_dir("save-cmds");
    let traces = dir.join("t.gs");
    h.command(&format!("save traces {}", traces.display()));
    assert_eq!(h.last_response(), vec!["✗ No traces to save"]);
    h.session(SessionEvent::TraceUpdated(trace_info(
        0,
        "update_order",
        12,
        TraceState::Active,
    )));
    h.session(SessionEvent::TraceUpdated(trace_info(
        1,
        "orders.c:19",
        19,
        TraceState::Disabled,
    )));
    h.command(&format!("s t {}", traces.display()));
    assert_eq!(
        h.last_response(),
        vec![format!("✅ Saved 2 traces to {}", traces.display())]
    );
    let text = std::fs::read_to_string(&traces).unwrap();
    assert!(text.starts_with("// GhostScope Trace Save File v1.0\n"));
    assert!(text.contains("// Binary: /opt/orderd/bin/orderd\n// PID: 4242\n// Filter: all\n"));
    assert!(text.contains("//@disabled\ntrace orders.c:19 {\n    print o->total;\n}\n"));

    let out = dir.join("out.log");
    h.command(&format!("save output {}", out.display()));
    assert_eq!(
        h.last_response(),
        vec![format!(
            "✅ Real-time output logging started: {}",
            out.display()
        )]
    );
    h.session(SessionEvent::Events(vec![event(
        0,
        &["total = 1.5", "amount = 1.5"],
    )]));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "total = 1.5\namount = 1.5\n"
    );
    h.command("stop output");
    assert_eq!(
        h.last_response(),
        vec![format!(
            "✅ Output logging stopped: {} (2 lines written)",
            out.display()
        )]
    );
    h.command("stop output");
    assert_eq!(h.last_response(), vec!["✗ Output logging is not active"]);

    let session = dir.join("session.log");
    h.command(&format!("save session {}", session.display()));
    h.command("info trace 9");
    h.command("stop session");
    assert_eq!(
        std::fs::read_to_string(&session).unwrap(),
        ">>> info trace 9\n    ✗ Trace not found\n>>> stop session\n"
    );
    h.command("stop session");
    assert_eq!(h.last_response(), vec!["✗ Session logging is not active"]);
    h.command("stop");
    assert_eq!(h.last_response(), vec!["Usage: stop <output|session>"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn srcpath_rules_reload_the_source_panel() {
    let mut cfg = config();
    cfg.source_substitutions.clear();
    let mut h = Harness::ready_with(cfg);
    assert!(matches!(h.app.source.content, SourceContent::Error(_)));
    h.command(&format!(
        "srcpath map /build/orderd {}",
        testdata().display()
    ));
    assert_eq!(
        h.last_response(),
        vec![format!(
            "✅ Added mapping: /build/orderd → {}",
            testdata().display()
        )]
    );
    assert!(matches!(h.app.source.content, SourceContent::File(_)));
    assert_eq!(
        h.app.file_list[1].shown,
        format!("{}/src/orders.c", testdata().display())
    );
    h.command("srcpath map /build/orderd /elsewhere");
    assert_eq!(
        h.last_response(),
        vec!["✅ Updated mapping: /build/orderd → /elsewhere"]
    );
    h.command("srcpath remove /build/orderd");
    assert_eq!(h.last_response(), vec!["✅ Removed: /build/orderd"]);
    h.command("srcpath remove /nothing");
    assert_eq!(h.last_response(), vec!["✗ No runtime rule for '/nothing'"]);
    h.command(&format!("srcpath add {}/src", testdata().display()));
    assert!(
        matches!(h.app.source.content, SourceContent::File(_)),
        "found by basename"
    );
    h.command("srcpath clear");
    assert_eq!(
        h.last_response(),
        vec!["✅ Cleared all runtime source path rules"]
    );
    assert!(matches!(h.app.source.content, SourceContent::Error(_)));
    h.command("srcpath");
    assert_eq!(h.last_response()[0], "📂 Source path rules:");
    h.command("srcpath bogus");
    assert_eq!(
        h.last_response(),
        vec!["Usage: srcpath [add <dir> | map <from> <to> | remove <path> | clear | reset]"]
    );
}

#[test]
fn ui_help_clear_commands() {
    let mut h = Harness::ready();
    h.command("ui source off");
    assert!(!h.app.show_source);
    assert!(h.app.rects().source.is_none());
    assert_eq!(h.last_response(), vec!["✅ Source panel hidden"]);
    h.command("ui source on");
    assert!(h.app.show_source);
    h.command("ui mouse off");
    assert!(!h.app.mouse && h.app.mouse_changed);
    h.command("ui source");
    assert_eq!(h.last_response(), vec!["Usage: ui source <on|off>"]);
    h.command("help");
    let help = h.last_response();
    assert_eq!(help[0], "📘 Ghostscope Commands:");
    for group in [
        "Tracing:",
        "Information:",
        "Source paths:",
        "Control:",
        "UI:",
        "Navigation:",
        "General:",
    ] {
        assert!(help.iter().any(|l| l == group), "{group}");
    }
    h.command("help srcpath");
    assert_eq!(
        h.last_response()[0],
        "📘 Source Path Command - Detailed Help"
    );
    h.command("clear");
    assert_eq!(h.last_response(), vec!["✅ Command history cleared."]);
    assert!(h.app.command.history.entries().is_empty());
}

#[test]
fn history_file_is_written_and_suggests() {
    let dir = temp_dir("history-file");
    let mut cfg = config();
    cfg.history_enabled = true;
    cfg.history_file = dir.join(".ghostscope_history");
    let mut h = Harness::ready_with(cfg.clone());
    h.command("info trace");
    h.command("info trace");
    h.command("help");
    assert_eq!(
        std::fs::read_to_string(&cfg.history_file).unwrap(),
        "info trace\nhelp\n"
    );
    let mut again = Harness::ready_with(cfg);
    again.typed("inf");
    assert_eq!(again.app.command.suggestion().as_deref(), Some("o trace"));
    again.ctrl('r');
    again.typed("hel");
    again.key(KeyCode::Enter);
    assert_eq!(again.last_response()[0], "📘 Ghostscope Commands:");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn info_line_and_address_and_filtered_saves() {
    let mut h = Harness::ready();
    h.command("i l orders.c:13 verbose");
    assert_eq!(
        h.one_request().1,
        Request::Describe {
            target: "orders.c:13".into(),
            verbose: true
        }
    );
    h.command("info address orderd:0x1149");
    let (id, req) = h.one_request();
    assert_eq!(
        req,
        Request::Describe {
            target: "orderd:0x1149".into(),
            verbose: false
        }
    );
    h.reply(id, Reply::Described(vec![describe(1, "update_order", 13)]));
    assert_eq!(
        h.last_response()[..3],
        [
            "🔍 Address orderd:0x1149: 1 address",
            "  [1] 0x1149 — call @ /build/orderd/src/orders.c:13",
            "      Function: update_order",
        ]
    );
    h.command("info line orders.c");
    assert_eq!(
        h.last_response(),
        vec!["Usage: info line <file:line> [verbose|v]"]
    );

    let dir = temp_dir("filtered-save");
    h.session(SessionEvent::TraceUpdated(trace_info(
        0,
        "update_order",
        12,
        TraceState::Active,
    )));
    h.session(SessionEvent::TraceUpdated(trace_info(
        1,
        "place_order",
        17,
        TraceState::Disabled,
    )));
    let file = dir.join("d.gs");
    h.command(&format!("save traces disabled {}", file.display()));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("// Filter: disabled only\n// Traces: 1 total (0 enabled, 1 disabled)\n"));
    assert!(text.contains("trace place_order {") && !text.contains("trace update_order {"));
    h.command("ui mouse on");
    assert_eq!(h.last_response(), vec!["✅ Mouse capture on"]);
    let _ = std::fs::remove_dir_all(dir);
}
