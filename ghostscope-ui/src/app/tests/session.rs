//! Session events: loading, replies, events, losses, and every way out.

use std::time::Duration;

use crossterm::event::KeyCode;
use ghostscope_protocol::session::{
    AddressOutcome, AddressResult, Reply, Request, SessionEvent, TraceOutcome, TraceState,
};

use super::super::*;
use crate::test_support::*;

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
    h.app.on_disconnect();
    assert_eq!(h.app.exit, None, "the engine is gone, the error stays up");
    h.key(KeyCode::Char('q'));
    assert_eq!(
        h.app.exit,
        Some(UiExit::LoadFailed("no such process".into()))
    );
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
