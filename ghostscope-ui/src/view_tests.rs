//! Rendering tests: each panel and mode drawn on ratatui's `TestBackend`
//! and compared with the committed `insta` snapshot.

use std::time::Duration;

use crossterm::event::KeyCode;
use ghostscope_protocol::session::{
    AddressOutcome, AddressResult, Reply, SessionEvent, SourcePosition, TraceOutcome, TraceState,
};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

use crate::test_support::*;
use crate::{Layout, Panel};

fn draw(h: &mut Harness, width: u16, height: u16) -> Terminal<TestBackend> {
    h.app.resize(Rect::new(0, 0, width, height));
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let now = h.now;
    terminal
        .draw(|f| crate::view::render(&h.app, f, now))
        .unwrap();
    terminal
}

fn with_traces(h: &mut Harness) {
    let mut a = trace_info(0, "update_order", 11, TraceState::Active);
    a.hits = 1204;
    h.session(SessionEvent::TraceUpdated(a));
    h.session(SessionEvent::TraceUpdated(trace_info(
        1,
        "orders.c:19",
        19,
        TraceState::Disabled,
    )));
    let mut r = trace_info(2, "place_order%return", 17, TraceState::Active);
    r.hits = 77;
    r.lost = 3;
    h.session(SessionEvent::TraceUpdated(r));
}

#[test]
fn loading_screen() {
    let mut h = Harness::loading(config());
    h.session(SessionEvent::Loading(progress(false)));
    h.now += Duration::from_millis(300);
    insta::assert_snapshot!(draw(&mut h, 100, 24).backend());
}

#[test]
fn loading_many_modules_keeps_the_one_loading_in_view() {
    let mut h = Harness::loading(config());
    let mut p = progress(false);
    for k in 0..30 {
        p.modules.push(ghostscope_protocol::session::ModuleLoad {
            path: format!("/usr/lib/libm{k}.so"),
            state: ghostscope_protocol::session::ModuleLoadState::Pending,
        });
    }
    h.session(SessionEvent::Loading(p));
    let t = draw(&mut h, 80, 24);
    let text = t.backend().to_string();
    assert!(text.contains("libc.so.6  loading"), "{text}");
    assert!(text.contains("more below"), "{text}");
    insta::assert_snapshot!(t.backend());
}

#[test]
fn loading_summary_and_failure() {
    let mut h = Harness::loading(config());
    h.session(SessionEvent::Ready(
        ghostscope_protocol::session::SessionReady {
            pid: Some(4242),
            main_module: "/opt/orderd/bin/orderd".into(),
            main_source: None,
            progress: progress(true),
            launch_program: None,
        },
    ));
    insta::assert_snapshot!("loading_summary", draw(&mut h, 100, 24).backend());
    let mut h = Harness::loading(config());
    h.session(SessionEvent::Loading(progress(false)));
    h.session(SessionEvent::LoadFailed(
        "cannot read /proc/4242/maps: No such process".into(),
    ));
    insta::assert_snapshot!("loading_failed", draw(&mut h, 100, 24).backend());
}

#[test]
fn main_layout_with_markers_search_and_status_bar() {
    let mut h = Harness::ready();
    with_traces(&mut h);
    h.command(&format!("trace {ORDERS_C}:24"));
    h.ctrl('s');
    h.session(SessionEvent::Events(vec![
        event(0, &["o->total = 1.5"]),
        event(0, &["o->total = 3"]),
    ]));
    h.app.focus = Panel::Source;
    h.typed("/order\n");
    insta::assert_snapshot!(draw(&mut h, 140, 30).backend());
}

#[test]
fn source_file_that_cannot_be_opened() {
    let mut cfg = config();
    cfg.source_substitutions.clear();
    let mut h = Harness::ready_with(cfg);
    insta::assert_snapshot!(draw(&mut h, 120, 16).backend());
}

#[test]
fn file_search_popup() {
    let mut h = Harness::ready();
    h.app.focus = Panel::Source;
    h.typed("osrc/");
    h.key(KeyCode::Down);
    insta::assert_snapshot!(draw(&mut h, 120, 24).backend());
}

#[test]
fn script_editor_and_results() {
    let mut h = Harness::ready();
    h.command("trace update_order");
    h.typed("if o->total > 10 {\n    print \"big {}\", o->id; // note\n}");
    insta::assert_snapshot!("script_editor", draw(&mut h, 120, 20).backend());
    h.ctrl('s');
    let (id, _) = h.one_request();
    h.reply(
        id,
        Reply::TraceAdded(TraceOutcome {
            target: "update_order".into(),
            addresses: vec![
                AddressOutcome {
                    pc: 0x1149,
                    result: AddressResult::Attached {
                        trace_id: 0,
                        inline: false,
                        source: Some(SourcePosition {
                            file: "orders.c".into(),
                            line: 12,
                            column: 0,
                        }),
                    },
                },
                AddressOutcome {
                    pc: 0x1290,
                    result: AddressResult::Failed("verifier rejected the program".into()),
                },
            ],
            error: None,
        }),
    );
    h.typed("info tr");
    insta::assert_snapshot!("command_responses", draw(&mut h, 120, 20).backend());
}

fn many_events(h: &mut Harness) {
    let mut err = event(1, &["ExprError: o->customer (read error at 0x0)"]);
    err.error = true;
    h.session(SessionEvent::Events(vec![
        event(0, &["o->total = 1.5"]),
        event(
            0,
            &[
                "backtrace: complete, 5 frames (max 128)",
                "  #0 update_order(struct order* o, double amount) at orders.c:13:14 [orderd+0x1149]",
                "  #1 place_order(struct order* o) at orders.c:20:12 [orderd+0x11a0]",
                "  #2 main() at orders.c:27:9 [orderd+0x11f0]",
                "  #3 __libc_start_call_main [libc.so.6+0x27249]",
                "  #4 __libc_start_main [libc.so.6+0x27304]",
            ],
        ),
        event(0, &["a = 1", "b = 2", "c = 3", "d = 4"]),
        err,
    ]));
    h.session(SessionEvent::Loss {
        trace_id: 0,
        target: "update_order".into(),
        lost: 5,
        total: 5,
    });
}

#[test]
fn output_cards_collapsed_selected_and_expanded() {
    let mut cfg = config();
    cfg.show_source_panel = false;
    cfg.two_panel_ratios = Some([2, 1]);
    let mut h = Harness::ready_with(cfg);
    many_events(&mut h);
    h.app.focus = Panel::EbpfInfo;
    insta::assert_snapshot!("output_auto", draw(&mut h, 110, 34).backend());
    h.typed("2G");
    insta::assert_snapshot!("output_selected", draw(&mut h, 110, 34).backend());
    h.key(KeyCode::Enter);
    insta::assert_snapshot!("output_expanded", draw(&mut h, 110, 34).backend());
}

#[test]
fn vertical_and_fullscreen_layouts() {
    let mut h = Harness::ready();
    with_traces(&mut h);
    many_events(&mut h);
    h.app.layout = Layout::Vertical;
    insta::assert_snapshot!("vertical", draw(&mut h, 100, 44).backend());
    h.app.layout = Layout::Horizontal;
    h.app.focus = Panel::Source;
    h.key(KeyCode::F(1));
    insta::assert_snapshot!("fullscreen_source", draw(&mut h, 100, 20).backend());
}

#[test]
fn command_mode_and_reverse_search() {
    let mut h = Harness::ready();
    h.app.show_source = false;
    h.command("info trace 3");
    h.command("help srcpath");
    h.key(KeyCode::Esc);
    h.typed("kkkk");
    insta::assert_snapshot!("command_mode", draw(&mut h, 100, 14).backend());
    h.typed("i");
    h.ctrl('r');
    h.typed("info");
    insta::assert_snapshot!("reverse_search", draw(&mut h, 100, 14).backend());
}

#[test]
fn ctrl_c_hint_and_launch_status() {
    let mut h = Harness::ready();
    h.app.ready.as_mut().unwrap().launch_program = Some("./orderd".into());
    h.app.show_source = false;
    h.ctrl('c');
    insta::assert_snapshot!(draw(&mut h, 100, 12).backend());
}

/// One second of a 100,000 events/s flood (100 batches of 1,000) with the
/// 30 frames drawn in that second must cost far less than the second.
#[test]
fn a_flood_is_cheap_to_absorb_and_draw() {
    let mut h = Harness::ready();
    let batches: Vec<Vec<ghostscope_protocol::session::TraceEvent>> = (0..100)
        .map(|b| {
            (0..1000)
                .map(|i| {
                    event(
                        0,
                        &[
                            &format!("o->total = {}", b * 1000 + i),
                            "o->customer = \"alice\"",
                            "backtrace: complete, 3 frames (max 128)",
                            "  #0 update_order(struct order* o) at orders.c:13:14 [orderd+0x1149]",
                        ],
                    )
                })
                .collect()
        })
        .collect();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
    h.app.resize(Rect::new(0, 0, 200, 50));
    let start = std::time::Instant::now();
    for (k, batch) in batches.into_iter().enumerate() {
        h.session(SessionEvent::Events(batch));
        if k % 3 == 0 {
            let now = h.now;
            terminal
                .draw(|f| crate::view::render(&h.app, f, now))
                .unwrap();
        }
    }
    let took = start.elapsed();
    eprintln!("100,000 events + 34 frames: {took:?}");
    assert_eq!(h.app.output.total(), 100_000);
    assert_eq!(h.app.output.cards().len(), h.app.config.ebpf_max_messages);
    // Unoptimised builds are about ten times slower.
    let budget = if cfg!(debug_assertions) { 5000 } else { 500 };
    assert!(took < Duration::from_millis(budget), "took {took:?}");
}

/// Tiny and odd terminal sizes draw without panicking, in every phase.
#[test]
fn any_size_draws() {
    let mut loading = Harness::loading(config());
    loading.session(SessionEvent::Loading(progress(false)));
    let mut main = Harness::ready();
    with_traces(&mut main);
    many_events(&mut main);
    main.command("help");
    main.app.focus = Panel::Source;
    main.typed("o");
    let mut script = Harness::ready();
    script.command("trace update_order");
    script.typed("print 1;\nprint 2;\nprint 3;");
    for (w, h) in [(1, 1), (2, 3), (5, 4), (12, 6), (30, 12), (7, 40), (200, 3)] {
        draw(&mut loading, w, h);
        draw(&mut script, w, h);
        draw(&mut main, w, h);
        main.app.fullscreen = !main.app.fullscreen;
        draw(&mut main, w, h);
    }
}
