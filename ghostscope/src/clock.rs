//! Event timestamps as people read them. Events carry
//! `bpf_ktime_get_ns()`, which counts CLOCK_MONOTONIC; these helpers turn
//! it into wall-clock text.

use chrono::{DateTime, Local};

/// Converts monotonic nanoseconds into local wall-clock time.
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    /// Wall-clock nanoseconds at monotonic time zero.
    at_monotonic_zero_ns: Option<i128>,
}

impl WallClock {
    /// Reads both clocks now to find their offset.
    pub fn new() -> WallClock {
        WallClock {
            at_monotonic_zero_ns: wall_clock_at_monotonic_zero(),
        }
    }

    /// `YYYY-MM-DD HH:MM:SS.mmm` in the local time zone (milliseconds
    /// truncated), or None when the clocks could not be read.
    pub fn local_text(&self, monotonic_ns: u64) -> Option<String> {
        local_text(self.at_monotonic_zero_ns? + monotonic_ns as i128)
    }
}

impl Default for WallClock {
    fn default() -> WallClock {
        WallClock::new()
    }
}

/// Local wall-clock texts for a stream of events in time order: the
/// date and time of day are formatted once per second, not per event.
#[derive(Debug, Clone, Default)]
pub struct LocalTimes {
    clock: WallClock,
    /// The last second formatted, as wall-clock seconds and its text.
    last: Option<(i64, String)>,
}

impl LocalTimes {
    /// A formatter that reads both clocks now.
    pub fn new() -> LocalTimes {
        LocalTimes::default()
    }

    /// The same text as [`WallClock::local_text`].
    pub fn text(&mut self, monotonic_ns: u64) -> Option<String> {
        let wall_ns = self.clock.at_monotonic_zero_ns? + monotonic_ns as i128;
        let secs = i64::try_from(wall_ns.div_euclid(1_000_000_000)).ok()?;
        let millis = wall_ns.rem_euclid(1_000_000_000) / 1_000_000;
        let prefix = match &self.last {
            Some((s, text)) if *s == secs => text,
            _ => {
                let full = local_text(secs as i128 * 1_000_000_000)?;
                let text = full[..full.len() - 4].to_string();
                &self.last.insert((secs, text)).1
            }
        };
        Some(format!("{prefix}.{millis:03}"))
    }
}

/// `boot+<secs>.<mmm>s`.
pub fn boot_text(ns: u64) -> String {
    let ms = ns / 1_000_000;
    format!("boot+{}.{:03}s", ms / 1000, ms % 1000)
}

fn local_text(wall_ns: i128) -> Option<String> {
    let secs = i64::try_from(wall_ns.div_euclid(1_000_000_000)).ok()?;
    let nanos = wall_ns.rem_euclid(1_000_000_000) as u32;
    let t: DateTime<Local> = DateTime::from_timestamp(secs, nanos)?.with_timezone(&Local);
    Some(format!(
        "{}.{:03}",
        t.format("%Y-%m-%d %H:%M:%S"),
        nanos / 1_000_000
    ))
}

fn wall_clock_at_monotonic_zero() -> Option<i128> {
    let read = |clock: libc::clockid_t| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid timespec to write into.
        (unsafe { libc::clock_gettime(clock, &mut ts) } == 0)
            .then(|| ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128)
    };
    Some(read(libc::CLOCK_REALTIME)? - read(libc::CLOCK_MONOTONIC)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_text_has_millisecond_precision() {
        let text = WallClock::new().local_text(5_000_000_000).unwrap();
        // YYYY-MM-DD HH:MM:SS.mmm
        assert_eq!(text.len(), 23, "{text}");
        assert_eq!(&text[19..20], ".");
        assert_eq!(boot_text(1_234_567_890), "boot+1.234s");
    }

    #[test]
    fn cached_texts_match_uncached_ones() {
        let clock = WallClock::new();
        let mut cached = LocalTimes { clock, last: None };
        for ns in [
            5_000_000_000,
            5_999_000_000,
            6_000_000_000,
            6_001_999_999,
            5_000_000_001,
        ] {
            assert_eq!(cached.text(ns), clock.local_text(ns), "{ns}");
        }
    }
}
