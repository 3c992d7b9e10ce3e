//! Keys and mouse through the app: focus, layout, source, output, completion.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ghostscope_protocol::session::{Reply, Request, SessionEvent};

use super::super::*;
use super::*;
use crate::command::panel::CommandMode;
use crate::output::panel::OutputMode;
use crate::test_support::*;

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
    // Esc and Tab sent together arrive as Alt+Tab: Command mode, then Tab.
    h.app.focus = Panel::InteractiveCommand;
    h.typed("i");
    assert_eq!(h.app.command.mode, CommandMode::Input);
    h.app
        .on_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::ALT), h.now);
    assert_eq!(h.app.command.mode, CommandMode::Command);
    assert_eq!(h.app.focus, Panel::Source);
    h.app.focus = Panel::InteractiveCommand;
    h.typed("i");
    // In Input mode, Tab completes instead of moving the focus.
    h.key(KeyCode::Tab);
    h.key(KeyCode::Tab);
    assert_eq!(h.app.focus, Panel::InteractiveCommand);
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
    h.app.focus = Panel::Source;
    h.typed("10GR");
    let (id, _) = h.one_request();
    h.reply(
        id,
        Reply::Error("No addresses resolved for source line orders.c:10".into()),
    );
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
    h.ctrl('c');
    assert_eq!(
        h.app.output.expanded, None,
        "Ctrl+C closes the expanded card"
    );
    assert!(h.app.hint.is_none(), "and is not the first press of a quit");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Esc);
    assert_eq!(h.app.output.expanded, None);
    h.typed("G");
    assert_eq!(h.app.output.mode, OutputMode::Auto);
}

#[test]
fn double_click_expands_a_card_and_the_wheel_scrolls() {
    let mut h = Harness::ready();
    h.session(SessionEvent::Events(
        (0..3).map(|i| event(0, &[&format!("n = {i}")])).collect(),
    ));
    let out = h.app.rects().output.unwrap();
    // The second card: one-line cards are three rows high.
    h.click(out.x + 3, out.y + 1 + 4);
    assert_eq!(h.app.focus, Panel::EbpfInfo);
    assert_eq!(h.app.output.current(), Some(1));
    assert_eq!(h.app.output.expanded, None);
    h.click(out.x + 3, out.y + 1 + 4);
    assert_eq!(h.app.output.expanded, Some(0));
    h.key(KeyCode::Esc);

    let src = h.app.rects().source.unwrap();
    let before = h.app.source.scroll;
    let wheel = |kind| crossterm::event::MouseEvent {
        kind,
        column: src.x + 5,
        row: src.y + 3,
        modifiers: KeyModifiers::NONE,
    };
    h.app
        .on_mouse(wheel(crossterm::event::MouseEventKind::ScrollDown), h.now);
    assert_eq!(h.app.source.scroll, before + 3);
    h.app
        .on_mouse(wheel(crossterm::event::MouseEventKind::ScrollUp), h.now);
    assert_eq!(h.app.source.scroll, before);
}
