//! The TUI in a real terminal: ghostscope runs inside a detached tmux
//! session against the session fixture; keys go in, the screen comes back.

use std::time::Duration;

use e2e_tests::tmux::{bpf_prog_ids, bpf_prog_loaded, TmuxTui, EXIT_MARK};
use e2e_tests::{build_fixture, Fixture};

const WAIT: Duration = Duration::from_secs(20);

/// Starts the fixture and the TUI attached to it, waiting for the prompt.
fn open(name: &str) -> (Fixture, TmuxTui) {
    let exe = build_fixture("session", "gcc", &["-g", "-O0"]);
    let fixture = Fixture::start(&exe);
    let dir = std::env::temp_dir().join(format!("gs-tui-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let pid = fixture.pid().to_string();
    let tui = TmuxTui::start(name, &["-p", &pid], &dir);
    tui.expect("(ghostscope)", WAIT);
    tui.expect("session.c", WAIT);
    (fixture, tui)
}

/// Types `quit` and checks the exit: status 0, the shell's screen back, and
/// every BPF program the TUI held gone.
fn quit_cleanly(tui: &TmuxTui, keys: &[&str]) {
    let pid = tui.ghostscope_pid().expect("ghostscope runs");
    let progs = bpf_prog_ids(pid);
    tui.keys(keys);
    let screen = tui.expect(EXIT_MARK, WAIT);
    assert!(screen.contains("GS_EXIT=0"), "{screen}");
    // The alternate screen is left: no panel border remains.
    assert!(!screen.contains("Interactive Command"), "{screen}");
    for id in progs {
        assert!(!bpf_prog_loaded(id), "BPF program {id} still loaded");
    }
}

#[test]
fn input_mode_trace_streams_values_and_commands_manage_it() {
    let (_fixture, tui) = open("input");
    tui.keys(&["trace tick", "Enter"]);
    tui.expect("Script Editor", WAIT);
    tui.keys(&["print \"N={} S={}\", n, step\\;"]);
    tui.keys(&["C-s"]);
    tui.expect("1 successful", WAIT);
    let screen = tui.expect("N=", WAIT);
    assert!(screen.contains("TraceID:0"), "{screen}");
    let pid = tui.ghostscope_pid().unwrap();
    assert!(!bpf_prog_ids(pid).is_empty(), "a program is loaded");

    tui.keys(&["info trace", "Enter"]);
    tui.expect("#0   Active   tick", WAIT);
    tui.keys(&["disable 0", "Enter"]);
    tui.expect("Disabled trace 0", WAIT);
    tui.keys(&["info trace", "Enter"]);
    tui.expect("#0   Disabled tick", WAIT);
    tui.keys(&["enable 0", "Enter"]);
    tui.expect("Enabled trace 0", WAIT);
    tui.keys(&["info trace", "Enter"]);
    let (screen, ok) = tui.wait_for(WAIT, |s| s.matches("#0   Active   tick").count() == 2);
    assert!(ok, "{screen}");
    tui.keys(&["delete 0", "Enter"]);
    tui.keys(&["info trace", "Enter"]);
    tui.expect("traces 0 (0 on)", WAIT);
    quit_cleanly(&tui, &["quit", "Enter"]);
}

#[test]
fn source_panel_space_traces_the_cursor_line() {
    let (_fixture, tui) = open("source");
    // Command mode, then Tab to the source panel.
    tui.keys(&["Escape"]);
    // A lone Escape followed at once by Tab would read as Alt+Tab.
    std::thread::sleep(Duration::from_millis(300));
    tui.keys(&["Tab"]);
    tui.keys(&["o"]);
    tui.expect("Open File", WAIT);
    tui.keys(&["session.c"]);
    tui.keys(&["Enter"]);
    tui.keys(&["1", "4", "G"]);
    tui.keys(&["Space"]);
    // The target (the file's full DWARF path) wraps in the narrow panel.
    tui.expect("Script Editor", WAIT);
    tui.keys(&["print \"STEP={}\", step\\;"]);
    tui.keys(&["C-s"]);
    tui.expect("STEP=", WAIT);
    quit_cleanly(&tui, &["C-c", "C-c"]);
}

#[test]
fn syntax_error_shows_line_and_column_and_attaches_nothing() {
    let (_fixture, tui) = open("syntax");
    tui.keys(&["trace tick", "Enter"]);
    tui.expect("Script Editor", WAIT);
    tui.keys(&["print n n\\;"]);
    tui.keys(&["C-s"]);
    let screen = tui.expect("1 failed", WAIT);
    assert!(screen.contains("line 1, column"), "{screen}");
    let pid = tui.ghostscope_pid().unwrap();
    assert!(bpf_prog_ids(pid).is_empty(), "nothing attached");
    let screen = tui.screen();
    assert!(screen.contains("(0 events)"), "{screen}");
    quit_cleanly(&tui, &["exit", "Enter"]);
}

#[test]
fn ctrl_c_twice_quits() {
    let (_fixture, tui) = open("ctrlc");
    tui.keys(&["C-c"]);
    tui.expect("Ctrl+C again", WAIT);
    quit_cleanly(&tui, &["C-c"]);
}

#[test]
fn terminal_going_away_ends_the_session() {
    let (_fixture, tui) = open("hangup");
    tui.keys(&["trace idle", "Enter"]);
    tui.expect("Script Editor", WAIT);
    tui.keys(&["print rounds\\;", "C-s"]);
    tui.expect("rounds =", WAIT);
    let pid = tui.ghostscope_pid().unwrap();
    let progs = bpf_prog_ids(pid);
    assert!(!progs.is_empty());
    tui.kill();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        // A zombie counts as gone: the pane's shell died with the session.
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.contains(") Z") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ghostscope still running 5 s after its terminal went away"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for id in progs {
        assert!(!bpf_prog_loaded(id), "BPF program {id} still loaded");
    }
}
