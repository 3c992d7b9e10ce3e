//! The terminal side: entering and leaving the alternate screen and raw
//! mode (restored on every way out, panics included), and the frame loop
//! that feeds input and session events into the [`App`] and draws it at a
//! fixed rate.

use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ghostscope_protocol::session::SessionEvent;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

use crate::app::App;
use crate::{RequestSink, UiConfig, UiExit};

/// Time between frames (30 fps at most).
const FRAME: Duration = Duration::from_millis(33);
/// Session messages handled per loop turn, so input stays responsive
/// under an event flood (each message may carry a batch of events).
const MESSAGES_PER_TURN: usize = 2048;
/// Input events read per loop turn.
const INPUTS_PER_TURN: usize = 256;

/// Set while the TUI owns the terminal.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Leaves the alternate screen, raw mode, mouse capture and bracketed
/// paste, once, if the TUI had entered them.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        let _ = execute!(
            out,
            DisableMouseCapture,
            DisableBracketedPaste,
            LeaveAlternateScreen,
            crossterm::cursor::Show
        );
        let _ = disable_raw_mode();
    }
}

/// Owns the terminal modes; dropping it (also while unwinding from a
/// panic) puts the terminal back.
struct TerminalGuard;

impl TerminalGuard {
    fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let guard = TerminalGuard;
        let mut out = io::stdout();
        execute!(out, EnterAlternateScreen, EnableBracketedPaste)?;
        if mouse {
            execute!(out, EnableMouseCapture)?;
        }
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync + 'static>;

/// While the UI runs, a panic anywhere first puts the terminal back, so the
/// panic message lands on the normal screen; the previous hook runs after.
struct PanicGuard {
    previous: Option<std::sync::Arc<PanicHook>>,
}

impl PanicGuard {
    fn install() -> PanicGuard {
        let previous = std::sync::Arc::new(std::panic::take_hook());
        let chained = previous.clone();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            chained(info);
        }));
        PanicGuard {
            previous: Some(previous),
        }
    }
}

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return; // Not while a hook may be running.
        }
        drop(std::panic::take_hook());
        if let Some(previous) = self
            .previous
            .take()
            .and_then(|p| std::sync::Arc::try_unwrap(p).ok())
        {
            std::panic::set_hook(previous);
        }
    }
}

/// Runs the UI until it exits.
pub fn run(
    config: UiConfig,
    mut requests: RequestSink,
    events: Receiver<SessionEvent>,
) -> io::Result<UiExit> {
    let panic_guard = PanicGuard::install();
    let guard = TerminalGuard::enter(config.mouse)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.hide_cursor()?;
    let mut app = App::new(config, Instant::now());
    let result = event_loop(&mut terminal, &mut app, &mut requests, &events);
    drop(terminal);
    drop(guard);
    drop(panic_guard);
    result
}

fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    app: &mut App,
    requests: &mut RequestSink,
    events: &Receiver<SessionEvent>,
) -> io::Result<UiExit> {
    let mut next_draw = Instant::now();
    loop {
        let timeout = next_draw
            .saturating_duration_since(Instant::now())
            .min(FRAME);
        if event::poll(timeout)? {
            for _ in 0..INPUTS_PER_TURN {
                let now = Instant::now();
                match event::read()? {
                    Event::Key(k) => app.on_key(k, now),
                    Event::Mouse(m) => app.on_mouse(m, now),
                    Event::Paste(text) => app.on_paste(&text),
                    Event::Resize(w, h) => app.resize(Rect::new(0, 0, w, h)),
                    _ => {}
                }
                if app.exit.is_some() || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
        let now = Instant::now();
        for _ in 0..MESSAGES_PER_TURN {
            match events.try_recv() {
                Ok(ev) => app.on_session(ev, now),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    app.on_disconnect();
                    break;
                }
            }
        }
        for (id, request) in app.take_requests() {
            requests(id, request);
        }
        app.tick(Instant::now());
        if app.mouse_changed {
            app.mouse_changed = false;
            let mut out = io::stdout();
            if app.mouse {
                execute!(out, EnableMouseCapture)?;
            } else {
                execute!(out, DisableMouseCapture)?;
            }
        }
        if let Some(exit) = app.exit.take() {
            return Ok(exit);
        }
        let now = Instant::now();
        if now >= next_draw {
            let size = terminal.size()?;
            app.resize(Rect::new(0, 0, size.width, size.height));
            terminal.draw(|frame| crate::view::render(app, frame, now))?;
            next_draw = now + FRAME;
        }
    }
}
