//! The update loop driven with scripted session events and keys.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ghostscope_protocol::session::{
    AddressDescription, AddressOutcome, AddressResult, FileInfo, Reply, Request, SessionEvent,
    SourcePosition, TraceOutcome, TraceSelector, TraceState,
};

use super::*;
use crate::command::panel::CommandMode;
use crate::output::panel::OutputMode;
use crate::test_support::*;

fn attached(target: &str, trace_id: u32) -> TraceOutcome {
    TraceOutcome {
        target: target.into(),
        addresses: vec![AddressOutcome {
            pc: 0x1149,
            result: AddressResult::Attached {
                trace_id,
                inline: false,
                source: Some(SourcePosition {
                    file: "orders.c".into(),
                    line: 12,
                    column: 0,
                }),
            },
        }],
        error: None,
    }
}

fn describe(index: usize, function: &str, line: u32) -> AddressDescription {
    AddressDescription {
        index,
        pc: 0x1149,
        module: "/opt/orderd/bin/orderd".into(),
        function: Some(function.into()),
        inline: false,
        source: Some(SourcePosition {
            file: ORDERS_C.into(),
            line,
            column: 0,
        }),
        variables: vec![],
    }
}

#[test]
fn loading_then_summary_then_main_layout() {
    let mut h = Harness::loading(config());
    assert_eq!(h.app.phase, Phase::Loading);
    h.session(SessionEvent::Loading(progress(false)));
    assert!(h.app.progress.is_some());
    h.key(KeyCode::Char('x'));
    assert_eq!(h.app.phase, Phase::Loading, "keys wait for loading");
    h.session(ready_event());
    assert!(matches!(h.app.phase, Phase::Summary(_)));
    let requests: Vec<Request> = h.requests().into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        requests,
        vec![
            Request::LinesWithCode {
                file: ORDERS_C.into()
            },
            Request::SourceFiles
        ]
    );
    assert_eq!(h.app.source.cursor, 22, "opens at main");
    h.app.tick(h.now + SUMMARY_TIME);
    assert_eq!(h.app.phase, Phase::Main);
}

#[test]
fn load_failure_waits_for_a_key() {
    let mut h = Harness::loading(config());
    h.session(SessionEvent::LoadFailed("no such process".into()));
    assert_eq!(h.app.exit, None);
    h.key(KeyCode::Char('q'));
    assert_eq!(
        h.app.exit,
        Some(UiExit::LoadFailed("no such process".into()))
    );
}

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
fn quit_waits_for_stopped_or_times_out() {
    let mut h = Harness::ready();
    h.command("quit");
    let (_, req) = h.one_request();
    assert_eq!(req, Request::Shutdown);
    assert_eq!(h.app.exit, None);
    h.session(SessionEvent::Stopped { error: None });
    assert_eq!(h.app.exit, Some(UiExit::Quit));

    let mut h = Harness::ready();
    h.command("exit");
    h.app.tick(h.now + SHUTDOWN_TIMEOUT);
    assert_eq!(h.app.exit, Some(UiExit::Quit));
}

#[test]
fn ctrl_c_twice_within_two_seconds_quits() {
    let mut h = Harness::ready();
    h.ctrl('c');
    assert_eq!(h.app.hint.as_ref().unwrap().0, "Press Ctrl+C again to exit");
    assert!(h.requests().is_empty());
    h.now += Duration::from_secs(3);
    h.app.tick(h.now);
    assert!(h.app.hint.is_none(), "the hint expires");
    h.ctrl('c');
    h.now += Duration::from_millis(500);
    h.ctrl('c');
    assert_eq!(h.one_request().1, Request::Shutdown);
    h.session(SessionEvent::Stopped { error: None });
    assert_eq!(h.app.exit, Some(UiExit::Quit));
}

#[test]
fn engine_stop_and_disconnect() {
    let mut h = Harness::ready();
    h.session(SessionEvent::Stopped {
        error: Some("ring buffer gone".into()),
    });
    assert_eq!(
        h.app.exit,
        Some(UiExit::EngineStopped(Some("ring buffer gone".into())))
    );
    let mut h = Harness::ready();
    h.app.on_disconnect();
    assert_eq!(h.app.exit, Some(UiExit::EngineStopped(None)));
}

#[test]
fn events_losses_and_saturation() {
    let mut h = Harness::ready();
    h.session(SessionEvent::Events(vec![
        event(0, &["a"]),
        event(0, &["b"]),
    ]));
    assert_eq!(h.app.output.total(), 2);
    h.session(SessionEvent::Loss {
        trace_id: 0,
        target: "update_order".into(),
        lost: 5,
        total: 9,
    });
    let loss = "⚠ eBPF output helper failed: trace #0 (update_order) lost 5 events in kernel before userspace delivery (total 9)";
    assert_eq!(h.scrollback().last().unwrap(), loss);
    assert_eq!(h.app.output.cards().back().unwrap().lines(), vec![loss]);
    h.session(SessionEvent::QueueSaturated {
        dropped: 100,
        total: 300,
        capacity: 65536,
    });
    assert_eq!(
        h.scrollback().last().unwrap(),
        "⚠ Trace queue saturated: dropped 100 events in last 1s (total 300, capacity 65536)"
    );
    assert_eq!(
        h.app.output.cards().back().unwrap().lines(),
        vec!["Warning: TUI trace queue saturated; dropped 100 events before display in last 1s (total 300, capacity 65536)"]
    );
    h.session(SessionEvent::Status("trace 'dl_fn' armed".into()));
    assert_eq!(h.scrollback().last().unwrap(), "trace 'dl_fn' armed");
}

#[test]
fn event_history_is_bounded() {
    let mut cfg = config();
    cfg.ebpf_max_messages = 100;
    let mut h = Harness::ready_with(cfg);
    for batch in 0..5 {
        h.session(SessionEvent::Events(
            (0..70).map(|i| event(batch, &[&i.to_string()])).collect(),
        ));
    }
    assert_eq!(h.app.output.total(), 350);
    assert_eq!(h.app.output.cards().len(), 100);
    assert_eq!(h.app.output.cards()[0].number, Some(251));
}

#[test]
fn focus_and_layout_keys() {
    let mut h = Harness::ready();
    assert_eq!(h.app.focus, Panel::InteractiveCommand);
    h.key(KeyCode::Esc); // Command mode: global keys active
    h.key(KeyCode::Tab);
    assert_eq!(h.app.focus, Panel::Source);
    h.key(KeyCode::Tab);
    assert_eq!(h.app.focus, Panel::EbpfInfo);
    h.app
        .on_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT), h.now);
    assert_eq!(h.app.focus, Panel::Source);
    h.ctrl('w');
    h.typed("l");
    assert_eq!(h.app.focus, Panel::EbpfInfo);
    h.ctrl('w');
    h.typed("h");
    assert_eq!(h.app.focus, Panel::Source);
    h.ctrl('w');
    h.typed("v");
    assert_eq!(h.app.layout, Layout::Vertical);
    h.ctrl('w');
    h.typed("j");
    assert_eq!(h.app.focus, Panel::EbpfInfo);
    h.ctrl('w');
    h.typed("k");
    assert_eq!(h.app.focus, Panel::Source);
    h.key(KeyCode::F(2));
    assert_eq!(h.app.layout, Layout::Horizontal);
    h.ctrl('w');
    h.typed("z");
    assert!(h.app.fullscreen);
    assert!(h.app.rects().output.is_none());
    h.key(KeyCode::F(1));
    assert!(!h.app.fullscreen);
    // In Input mode, Tab completes instead of moving the focus.
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    assert_eq!(h.app.focus, Panel::InteractiveCommand);
    h.typed("i");
    assert_eq!(h.app.command.mode, CommandMode::Input);
    h.typed("he");
    h.key(KeyCode::Tab);
    assert_eq!(h.app.command.input.text(), "help ");
}

#[test]
fn space_and_r_in_the_source_panel() {
    let mut h = Harness::ready();
    h.app.focus = Panel::Source;
    h.typed("12G ");
    assert_eq!(h.app.command.mode, CommandMode::Script);
    assert_eq!(h.app.focus, Panel::InteractiveCommand);
    assert_eq!(
        h.app.command.script.as_ref().unwrap().target,
        format!("{ORDERS_C}:12")
    );
    h.key(KeyCode::Esc);
    h.app.focus = Panel::Source;
    h.typed("11GR");
    let (id, req) = h.one_request();
    assert_eq!(
        req,
        Request::Describe {
            target: format!("{ORDERS_C}:11"),
            verbose: false
        }
    );
    h.reply(id, Reply::Described(vec![describe(1, "update_order", 11)]));
    let (id, req) = h.one_request();
    assert_eq!(
        req,
        Request::Describe {
            target: "update_order".into(),
            verbose: false
        }
    );
    h.reply(id, Reply::Described(vec![describe(1, "update_order", 11)]));
    assert_eq!(
        h.app.command.script.as_ref().unwrap().target,
        "update_order%return"
    );
    h.key(KeyCode::Esc);
    h.app.focus = Panel::Source;
    h.typed("13GR");
    let (id, _) = h.one_request();
    h.reply(id, Reply::Described(vec![describe(1, "update_order", 13)]));
    let (id, _) = h.one_request();
    h.reply(id, Reply::Described(vec![describe(1, "update_order", 11)]));
    assert_eq!(
        h.last_response().last().unwrap(),
        "No function starts at this line"
    );
}

#[test]
fn file_search_popup_opens_a_file() {
    let mut h = Harness::ready();
    h.app.focus = Panel::Source;
    h.typed("o");
    assert!(h.app.source.file_search.is_some());
    h.typed("CART");
    let popup = h.app.source.file_search.as_ref().unwrap();
    assert_eq!(popup.results(&h.app.file_list).len(), 1);
    h.key(KeyCode::Enter);
    assert!(h.app.source.file_search.is_none());
    assert_eq!(h.app.source.dwarf_path(), Some("/build/orderd/src/cart.c"));
    assert!(
        matches!(h.app.source.content, SourceContent::Error(_)),
        "cart.c is not in testdata"
    );
    h.typed("o");
    h.ctrl('c');
    assert!(h.app.source.file_search.is_none());
}

#[test]
fn markers_follow_trace_updates_and_compiles() {
    let mut h = Harness::ready();
    h.command(&format!("trace {ORDERS_C}:13"));
    h.ctrl('s');
    let (id, _) = h.one_request();
    assert_eq!(h.app.compiling.len(), 1);
    h.reply(
        id,
        Reply::TraceAdded(TraceOutcome {
            target: format!("{ORDERS_C}:13"),
            addresses: vec![AddressOutcome {
                pc: 0x1150,
                result: AddressResult::Failed("verifier".into()),
            }],
            error: None,
        }),
    );
    assert!(h.app.compiling.is_empty());
    assert_eq!(h.app.failed_lines.len(), 1);
    h.session(SessionEvent::TraceUpdated(trace_info(
        0,
        "x",
        13,
        TraceState::Active,
    )));
    assert!(
        h.app.failed_lines.is_empty(),
        "a trace on the line clears the failure"
    );
    h.session(SessionEvent::TraceRemoved(0));
    assert!(h.app.traces.is_empty());
}

#[test]
fn tab_completes_function_names_from_the_engine() {
    let mut h = Harness::ready();
    h.typed("trace upd");
    h.key(KeyCode::Tab);
    let (id, req) = h.one_request();
    assert_eq!(
        req,
        Request::FunctionNames {
            prefix: "upd".into(),
            limit: 500
        }
    );
    h.reply(id, Reply::FunctionNames(vec!["update_order".into()]));
    assert_eq!(h.app.command.input.text(), "trace update_order ");
    h.ctrl('u');
    h.typed("trace ord");
    h.key(KeyCode::Tab);
    let (id, _) = h.one_request();
    h.reply(id, Reply::FunctionNames(vec![]));
    assert_eq!(
        h.app.command.input.text(),
        "trace orders.c:",
        "file: from DWARF"
    );
    h.ctrl('u');
    h.typed("info ");
    h.key(KeyCode::Tab);
    assert!(h.scrollback().is_empty(), "the first Tab lists nothing");
    h.key(KeyCode::Tab);
    assert_eq!(
        h.scrollback().last().unwrap(),
        "trace  source  file  share  function  line  address"
    );
}

#[test]
fn mouse_click_on_a_line_number_traces_it() {
    let mut h = Harness::ready();
    let r = h.app.rects().source.unwrap();
    let scroll = h.app.source.scroll;
    // Row of line 12 inside the border, column on the gutter.
    let row = r.y + 1 + (11 - scroll) as u16;
    h.click(r.x + 2, row);
    assert_eq!(
        h.app.command.script.as_ref().unwrap().target,
        format!("{ORDERS_C}:12")
    );
    h.key(KeyCode::Esc);
    // A click on the code only moves the cursor.
    h.click(r.x + 12, row + 1);
    assert_eq!(h.app.source.cursor, 12);
    assert_eq!(h.app.focus, Panel::Source);
    assert_eq!(h.app.command.mode, CommandMode::Input);
    // With capture off, clicks do nothing.
    h.app.focus = Panel::InteractiveCommand;
    h.command("ui mouse off");
    let out = h.app.rects().output.unwrap();
    h.click(out.x + 2, out.y + 2);
    assert_eq!(h.app.focus, Panel::InteractiveCommand);
}

#[test]
fn output_panel_keys_through_the_app() {
    let mut h = Harness::ready();
    h.session(SessionEvent::Events(
        (0..5).map(|i| event(0, &[&format!("n = {i}")])).collect(),
    ));
    h.key(KeyCode::Esc);
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    assert_eq!(h.app.focus, Panel::EbpfInfo);
    h.typed("k");
    assert_eq!(h.app.output.mode, OutputMode::Scroll);
    h.typed("2G");
    assert_eq!(h.app.output.current(), Some(1));
    h.key(KeyCode::Enter);
    assert_eq!(h.app.output.expanded, Some(0));
    h.key(KeyCode::Esc);
    h.typed("G");
    assert_eq!(h.app.output.mode, OutputMode::Auto);
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
