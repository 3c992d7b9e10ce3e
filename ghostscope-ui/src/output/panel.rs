//! eBPF output panel state: the bounded list of event cards, Auto-refresh
//! and Scroll modes, card selection and the expanded view (tui.md §5).

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ghostscope_protocol::session::TraceEvent;

/// Body lines of a card in list view.
pub const LIST_LINES: usize = 3;

/// What a card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardBody {
    /// A trace event.
    Event(TraceEvent),
    /// A system alert (loss, queue saturation), one line.
    System(String),
}

/// One card of the output panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// Event number (`[No:<n>]`), counted over the whole session; system cards have none.
    pub number: Option<u64>,
    /// Content.
    pub body: CardBody,
}

impl Card {
    /// The header (top border title).
    pub fn header(&self) -> String {
        match (&self.body, self.number) {
            (CardBody::Event(e), Some(n)) => format!(
                "[No:{n}] {} TraceID:{} PID:{} TID:{}",
                e.time, e.trace_id, e.pid, e.tid
            ),
            (CardBody::Event(e), None) => {
                format!(
                    "{} TraceID:{} PID:{} TID:{}",
                    e.time, e.trace_id, e.pid, e.tid
                )
            }
            (CardBody::System(_), _) => "System".to_string(),
        }
    }

    /// The body lines.
    pub fn lines(&self) -> Vec<&str> {
        match &self.body {
            CardBody::Event(e) => e.lines.iter().map(String::as_str).collect(),
            CardBody::System(text) => vec![text.as_str()],
        }
    }

    /// Red border.
    pub fn is_error(&self) -> bool {
        matches!(&self.body, CardBody::Event(e) if e.error)
    }

    /// A system alert.
    pub fn is_system(&self) -> bool {
        matches!(self.body, CardBody::System(_))
    }

    /// Rows the card takes in list view (borders included).
    pub fn list_height(&self) -> usize {
        2 + self.lines().len().clamp(1, LIST_LINES)
    }
}

/// Follow the newest card, or stay where the user moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// Follows the newest event.
    Auto,
    /// Stays put.
    Scroll,
}

/// A card placed in the list view: index, first row, rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// Index into the cards.
    pub index: usize,
    /// Row offset inside the panel.
    pub y: usize,
    /// Rows (may be cut at the bottom).
    pub height: usize,
}

/// The eBPF output panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPanel {
    cards: VecDeque<Card>,
    max: usize,
    total: u64,
    /// Auto or Scroll.
    pub mode: OutputMode,
    /// Selected card (index into the cards) in Scroll mode.
    pub selected: usize,
    top: usize,
    /// Expanded view of the selected card, with its scroll offset.
    pub expanded: Option<usize>,
    /// Horizontal scroll of card bodies, in cells.
    pub hscroll: usize,
    /// Text rows of the panel (set before each frame).
    pub height: usize,
    count: String,
    g_pending: bool,
}

impl OutputPanel {
    /// An empty panel keeping at most `max` cards.
    pub fn new(max: usize) -> OutputPanel {
        OutputPanel {
            cards: VecDeque::new(),
            max: max.max(1),
            total: 0,
            mode: OutputMode::Auto,
            selected: 0,
            top: 0,
            expanded: None,
            hscroll: 0,
            height: 20,
            count: String::new(),
            g_pending: false,
        }
    }

    /// Events received over the session (the title count).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The cards kept, oldest first.
    pub fn cards(&self) -> &VecDeque<Card> {
        &self.cards
    }

    /// The highlighted card: the selection, or the newest in Auto mode.
    pub fn current(&self) -> Option<usize> {
        if self.cards.is_empty() {
            None
        } else if self.mode == OutputMode::Auto {
            Some(self.cards.len() - 1)
        } else {
            Some(self.selected.min(self.cards.len() - 1))
        }
    }

    /// The typed count prefix.
    pub fn pending_count(&self) -> &str {
        &self.count
    }

    /// Appends events, numbering them; only the newest `max` are kept.
    pub fn push_events(&mut self, events: Vec<TraceEvent>) {
        let n = events.len();
        let skip = n.saturating_sub(self.max);
        self.total += skip as u64;
        for e in events.into_iter().skip(skip) {
            self.total += 1;
            self.cards.push_back(Card {
                number: Some(self.total),
                body: CardBody::Event(e),
            });
        }
        self.trim();
    }

    /// Appends a system alert card.
    pub fn push_system(&mut self, text: String) {
        self.cards.push_back(Card {
            number: None,
            body: CardBody::System(text),
        });
        self.trim();
    }

    fn trim(&mut self) {
        let over = self.cards.len().saturating_sub(self.max);
        if over == 0 {
            return;
        }
        self.cards.drain(..over);
        if self.mode == OutputMode::Scroll {
            if self.selected < over {
                // The selected card is gone: keep looking at the oldest one.
                self.expanded = None;
            }
            self.selected = self.selected.saturating_sub(over);
            self.top = self.top.saturating_sub(over);
        }
    }

    /// The cards of the list view and where they go, top to bottom.
    pub fn placed(&self) -> Vec<Placed> {
        let h = self.height;
        let mut out = Vec::new();
        if self.cards.is_empty() || h == 0 {
            return out;
        }
        match self.mode {
            OutputMode::Auto => {
                // Stack from the newest upwards; the newest ends at the bottom.
                let mut used = 0;
                let mut picked = Vec::new();
                for i in (0..self.cards.len()).rev() {
                    let ch = self.cards[i].list_height();
                    if used + ch > h && !picked.is_empty() {
                        break;
                    }
                    picked.push((i, ch));
                    used += ch;
                }
                let mut y = 0;
                for (i, ch) in picked.into_iter().rev() {
                    out.push(Placed {
                        index: i,
                        y,
                        height: ch.min(h - y.min(h)),
                    });
                    y += ch;
                }
            }
            OutputMode::Scroll => {
                let mut y = 0;
                for i in self.top..self.cards.len() {
                    if y >= h {
                        break;
                    }
                    let ch = self.cards[i].list_height();
                    out.push(Placed {
                        index: i,
                        y,
                        height: ch.min(h - y),
                    });
                    y += ch;
                }
            }
        }
        out
    }

    /// The card drawn at a row of the panel, if any.
    pub fn card_at_row(&self, row: usize) -> Option<usize> {
        self.placed()
            .into_iter()
            .find(|p| row >= p.y && row < p.y + p.height)
            .map(|p| p.index)
    }

    fn enter_scroll(&mut self) {
        if self.mode == OutputMode::Auto {
            self.mode = OutputMode::Scroll;
            self.selected = self.cards.len().saturating_sub(1);
            // Start with the same cards on screen as Auto showed.
            let first = {
                self.mode = OutputMode::Auto;
                let p = self.placed();
                self.mode = OutputMode::Scroll;
                p.first().map_or(0, |p| p.index)
            };
            self.top = first;
        }
    }

    /// Selects a card (entering Scroll mode) and keeps it on screen.
    pub fn select(&mut self, index: usize) {
        if self.cards.is_empty() {
            return;
        }
        self.enter_scroll();
        self.selected = index.min(self.cards.len() - 1);
        self.keep_visible();
    }

    fn keep_visible(&mut self) {
        if self.selected < self.top {
            self.top = self.selected;
            return;
        }
        // The lowest first card that still shows the whole selection.
        let rows = self.height.max(1);
        let mut used = self.cards[self.selected].list_height();
        let mut lowest_top = self.selected;
        while lowest_top > 0 {
            let more = used + self.cards[lowest_top - 1].list_height();
            if more > rows {
                break;
            }
            used = more;
            lowest_top -= 1;
        }
        self.top = self.top.max(lowest_top);
    }

    /// How many cards from the selection fill `rows` rows going one way.
    fn cards_in_rows(&self, rows: usize, forward: bool) -> usize {
        let mut used = 0;
        let mut n = 0;
        let mut i = self.selected;
        loop {
            let next = if forward {
                if i + 1 >= self.cards.len() {
                    break;
                }
                i + 1
            } else {
                if i == 0 {
                    break;
                }
                i - 1
            };
            used += self.cards[next].list_height();
            if used > rows && n > 0 {
                break;
            }
            n += 1;
            i = next;
        }
        n.max(1)
    }

    /// Back to following the newest event.
    pub fn follow(&mut self) {
        self.mode = OutputMode::Auto;
        self.expanded = None;
    }

    /// Applies one key.
    pub fn key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if let Some(scroll) = self.expanded {
            let page = self.height.saturating_sub(2).max(1);
            let max = self
                .current()
                .map_or(0, |i| self.cards[i].lines().len().saturating_sub(1));
            let scroll = match (key.code, ctrl) {
                (KeyCode::Esc, _) | (KeyCode::Char('c'), true) => {
                    self.expanded = None;
                    return;
                }
                (KeyCode::Char('j') | KeyCode::Down, false) => scroll + 1,
                (KeyCode::Char('k') | KeyCode::Up, false) => scroll.saturating_sub(1),
                (KeyCode::Char('d'), true) => scroll + page / 2,
                (KeyCode::Char('u'), true) => scroll.saturating_sub(page / 2),
                (KeyCode::PageDown, _) => scroll + page,
                (KeyCode::PageUp, _) => scroll.saturating_sub(page),
                _ => scroll,
            };
            self.expanded = Some(scroll.min(max));
            return;
        }
        if let (KeyCode::Char(c @ '0'..='9'), false) = (key.code, ctrl) {
            self.count.push(c);
            return;
        }
        let count = std::mem::take(&mut self.count);
        let g_pending = std::mem::take(&mut self.g_pending);
        if self.cards.is_empty() {
            return;
        }
        let half = (self.height / 2).max(1);
        match (key.code, ctrl) {
            (KeyCode::Char('j') | KeyCode::Down, false) => {
                let was_auto = self.mode == OutputMode::Auto;
                self.enter_scroll();
                if !was_auto {
                    self.select(self.selected + 1);
                }
            }
            (KeyCode::Char('k') | KeyCode::Up, false) => {
                self.enter_scroll();
                self.select(self.selected.saturating_sub(1));
            }
            (KeyCode::Char('h') | KeyCode::Left, false) => {
                self.hscroll = self.hscroll.saturating_sub(4)
            }
            (KeyCode::Char('l') | KeyCode::Right, false) => self.hscroll += 4,
            (KeyCode::Char('d'), true) => {
                self.enter_scroll();
                let n = self.cards_in_rows(half, true);
                self.select(self.selected + n);
            }
            (KeyCode::Char('u'), true) => {
                self.enter_scroll();
                let n = self.cards_in_rows(half, false);
                self.select(self.selected.saturating_sub(n));
            }
            (KeyCode::PageDown, _) => {
                self.enter_scroll();
                let n = self.cards_in_rows(self.height, true);
                self.select(self.selected + n);
            }
            (KeyCode::PageUp, _) => {
                self.enter_scroll();
                let n = self.cards_in_rows(self.height, false);
                self.select(self.selected.saturating_sub(n));
            }
            (KeyCode::Char('g'), false) => {
                let _ = g_pending;
                self.select(0);
            }
            (KeyCode::Char('G'), false) => match count.parse::<u64>() {
                Ok(n) => {
                    let index = self
                        .cards
                        .iter()
                        .position(|c| c.number.is_some_and(|k| k >= n))
                        .unwrap_or(self.cards.len() - 1);
                    self.select(index);
                }
                Err(_) => self.follow(),
            },
            (KeyCode::Enter, _) => {
                if let Some(i) = self.current() {
                    self.select(i);
                    self.expanded = Some(0);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn event(i: u32, lines: usize) -> TraceEvent {
        TraceEvent {
            trace_id: 0,
            pid: 100,
            tid: 101,
            timestamp_ns: i as u64,
            time: "2026-03-02 11:04:17.123".into(),
            lines: (0..lines).map(|k| format!("event {i} line {k}")).collect(),
            error: false,
        }
    }

    fn key(p: &mut OutputPanel, code: KeyCode) {
        p.key(KeyEvent::new(code, KeyModifiers::NONE));
    }

    fn chars(p: &mut OutputPanel, s: &str) {
        for c in s.chars() {
            key(p, KeyCode::Char(c));
        }
    }

    #[test]
    fn numbering_continues_when_old_cards_drop() {
        let mut p = OutputPanel::new(3);
        p.push_events((0..5).map(|i| event(i, 1)).collect());
        p.push_events(vec![event(5, 1)]);
        assert_eq!(p.total(), 6);
        let numbers: Vec<u64> = p.cards().iter().filter_map(|c| c.number).collect();
        assert_eq!(numbers, vec![4, 5, 6]);
        assert_eq!(
            p.cards()[0].header(),
            "[No:4] 2026-03-02 11:04:17.123 TraceID:0 PID:100 TID:101"
        );
    }

    #[test]
    fn navigation_enters_scroll_and_g_returns_to_auto() {
        let mut p = OutputPanel::new(100);
        p.height = 9; // three one-line cards
        p.push_events((0..10).map(|i| event(i, 1)).collect());
        assert_eq!(p.current(), Some(9));
        key(&mut p, KeyCode::Char('k'));
        assert_eq!(p.mode, OutputMode::Scroll);
        assert_eq!(p.current(), Some(8));
        p.push_events(vec![event(10, 1)]);
        assert_eq!(p.current(), Some(8), "scroll mode stays put");
        chars(&mut p, "g");
        assert_eq!(p.current(), Some(0));
        assert_eq!(p.placed()[0].index, 0);
        key(&mut p, KeyCode::Down);
        assert_eq!(p.current(), Some(1));
        chars(&mut p, "7G");
        assert_eq!(p.current(), Some(6));
        assert_eq!(p.placed().last().unwrap().index, 6);
        p.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(p.current(), Some(5));
        key(&mut p, KeyCode::PageUp);
        assert_eq!(p.current(), Some(2));
        key(&mut p, KeyCode::PageDown);
        assert_eq!(p.current(), Some(5));
        chars(&mut p, "ll");
        assert_eq!(p.hscroll, 8);
        chars(&mut p, "h");
        assert_eq!(p.hscroll, 4);
        chars(&mut p, "G");
        assert_eq!(p.mode, OutputMode::Auto);
        assert_eq!(p.current(), Some(10));
    }

    #[test]
    fn expanded_view_scrolls_and_closes() {
        let mut p = OutputPanel::new(100);
        p.height = 6;
        p.push_events(vec![event(0, 10)]);
        key(&mut p, KeyCode::Enter);
        assert_eq!(p.expanded, Some(0));
        chars(&mut p, "jjj");
        assert_eq!(p.expanded, Some(3));
        key(&mut p, KeyCode::Up);
        assert_eq!(p.expanded, Some(2));
        key(&mut p, KeyCode::PageDown);
        assert_eq!(p.expanded, Some(6));
        p.key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
        assert_eq!(p.expanded, Some(8));
        key(&mut p, KeyCode::PageDown);
        assert_eq!(p.expanded, Some(9), "clamped to the last line");
        key(&mut p, KeyCode::Esc);
        assert_eq!(p.expanded, None);
    }

    #[test]
    fn auto_mode_places_newest_at_bottom() {
        let mut p = OutputPanel::new(100);
        p.height = 10;
        p.push_events(vec![event(0, 1), event(1, 5), event(2, 1)]);
        let placed = p.placed();
        assert_eq!(
            placed.iter().map(|x| x.index).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(p.card_at_row(0), Some(1));
        assert_eq!(p.card_at_row(6), Some(2));
    }
}
