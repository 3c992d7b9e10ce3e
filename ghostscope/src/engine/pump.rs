//! The event drain: takes events from the ring buffer, decodes them and
//! hands them to a sink (stdout in script mode, the front-end queue in the
//! TUI), and checks the kernel-side loss counters once a second. It never
//! waits for anything but the ring buffer and its own timers.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ghostscope_loader::{EventStream, LoaderError, LossReader};
use ghostscope_protocol::backtrace::FrameSymbolizer;
use ghostscope_protocol::{DecodeError, DecodedEvent, EventDecoder, TraceMeta};
use thiserror::Error;

/// How often the reader looks at the ring buffer when no wake-up came.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Events decoded per batch before timers and the stop signal are looked at again.
pub const BATCH: usize = 4096;
/// Longest time spent on the events left in the buffer at the end.
const FINAL_DRAIN: Duration = Duration::from_secs(1);
/// How often a sink may refresh what it shows (counters).
const REFRESH_INTERVAL: Duration = Duration::from_millis(250);

/// Where decoded events go.
pub trait EventSink {
    /// One decoded event. Returns whether to go on (false: the sink has
    /// all it wants, e.g. `--max-events`).
    fn event(&mut self, event: DecodedEvent) -> io::Result<bool>;
    /// The end of a batch of events (flush).
    fn end_batch(&mut self) -> io::Result<()>;
    /// The kernel lost `new` more events of a trace (`total` in all).
    fn losses(&mut self, trace_id: u32, target: &str, new: u64, total: u64);
    /// Called once a second, after the loss check, and once more at the end.
    fn every_second(&mut self);
    /// Called a few times a second.
    fn refresh(&mut self) {}
}

/// A change to the set of traces the drain can decode.
pub enum RegistryChange {
    /// A trace about to be attached: decode its events with this metadata.
    Add {
        /// How to decode the trace's events.
        meta: TraceMeta,
        /// The trace's target text, for loss reports.
        target: String,
    },
    /// A trace that was unloaded.
    Remove(u32),
    /// Names and source positions for backtrace frames, once `bt` is used.
    Symbolizer(Arc<dyn FrameSymbolizer>),
}

/// The sending side of registry changes, held by the engine.
pub type RegistrySender = Sender<RegistryChange>;

/// Why the drain stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum PumpEnd<T> {
    /// The stop future finished with this value.
    Stopped(T),
    /// The sink wanted no more events.
    SinkDone,
    /// The sink's reader went away (a closed pipe).
    SinkClosed,
}

/// What ended the drain with an error.
#[derive(Debug, Error)]
pub enum PumpError {
    /// The ring buffer could not be read.
    #[error(transparent)]
    Read(#[from] LoaderError),
    /// The sink failed.
    #[error("failed to write events: {0}")]
    Write(io::Error),
}

/// Moves events from the ring buffer to a sink.
pub struct EventPump {
    stream: EventStream,
    decoder: EventDecoder,
    targets: HashMap<u32, String>,
    registry: Receiver<RegistryChange>,
    losses: LossReader,
    losses_seen: HashMap<u32, u64>,
}

/// What one batch did.
struct Pumped {
    drained: usize,
    sink_done: bool,
}

impl EventPump {
    /// Colours backtrace blocks (pretty output on a terminal).
    pub fn set_backtrace_color(&mut self, on: bool) {
        self.decoder.set_backtrace_color(on);
    }

    /// Also renders JSON items for `--script-output json`.
    pub fn set_json_items(&mut self, on: bool) {
        self.decoder.set_json_items(on);
    }

    /// A drain of `stream` that decodes the traces `registry` announces.
    pub fn new(
        stream: EventStream,
        registry: Receiver<RegistryChange>,
        losses: LossReader,
    ) -> EventPump {
        EventPump {
            stream,
            decoder: EventDecoder::new(),
            targets: HashMap::new(),
            registry,
            losses,
            losses_seen: HashMap::new(),
        }
    }

    /// Drains into `sink` until `stop` finishes or the sink is done. Then
    /// reports losses, calls `detach` (so what is left in the buffer is a
    /// finite amount), and drains what is left for at most a second
    /// (cli.md §13), unless the sink is done.
    pub async fn run<S: EventSink, T>(
        &mut self,
        sink: &mut S,
        stop: impl Future<Output = T>,
        detach: impl FnOnce(),
    ) -> Result<PumpEnd<T>, PumpError> {
        let mut second = tokio::time::interval(Duration::from_secs(1));
        let mut refresh = tokio::time::interval(REFRESH_INTERVAL);
        tokio::pin!(stop);
        // After a full batch more events are waiting: look again at once.
        let mut backlog = false;
        let end = loop {
            let poll = if backlog {
                Duration::ZERO
            } else {
                POLL_INTERVAL
            };
            tokio::select! {
                biased;
                value = &mut stop => break PumpEnd::Stopped(value),
                _ = second.tick() => {
                    self.check_losses(sink);
                    sink.every_second();
                }
                _ = refresh.tick() => sink.refresh(),
                r = self.stream.wait(poll) => r?,
            }
            match self.pump(sink) {
                Ok(p) if p.sink_done => break PumpEnd::SinkDone,
                Ok(p) => backlog = p.drained == BATCH,
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => break PumpEnd::SinkClosed,
                Err(e) => return Err(PumpError::Write(e)),
            }
        };
        self.check_losses(sink);
        detach();
        if !matches!(end, PumpEnd::SinkDone) {
            let until = Instant::now() + FINAL_DRAIN;
            while Instant::now() < until {
                match self.pump(sink) {
                    Ok(p) if p.drained == BATCH && !p.sink_done => continue,
                    _ => break,
                }
            }
        }
        sink.refresh();
        sink.every_second();
        Ok(end)
    }

    /// Applies the registry changes sent so far.
    fn apply_registry(&mut self) {
        apply_changes(&self.registry, &mut self.decoder, &mut self.targets);
    }

    /// Drains one batch into the sink.
    fn pump<S: EventSink>(&mut self, sink: &mut S) -> io::Result<Pumped> {
        self.apply_registry();
        let mut result = Ok(false);
        let EventPump {
            stream,
            decoder,
            targets,
            registry,
            ..
        } = self;
        let drained = stream.drain(BATCH, |bytes| {
            if !matches!(result, Ok(false)) {
                return;
            }
            let decoded = match decoder.decode(bytes) {
                // A trace registered while this batch was being drained:
                // its registration was sent before its attach, so it is
                // waiting in the channel.
                Err(DecodeError::UnknownTrace(_)) => {
                    apply_changes(registry, decoder, targets);
                    decoder.decode(bytes)
                }
                other => other,
            };
            let Ok(event) = decoded else {
                return;
            };
            match sink.event(event) {
                Ok(true) => {}
                Ok(false) => result = Ok(true),
                Err(e) => result = Err(e),
            }
        });
        let sink_done = result?;
        sink.end_batch()?;
        Ok(Pumped { drained, sink_done })
    }

    fn check_losses<S: EventSink>(&mut self, sink: &mut S) {
        for (trace_id, total) in self.losses.loss_counts() {
            let seen = self.losses_seen.entry(trace_id).or_insert(0);
            if total > *seen {
                let target = self
                    .targets
                    .get(&trace_id)
                    .map(String::as_str)
                    .unwrap_or("?");
                sink.losses(trace_id, target, total - *seen, total);
                *seen = total;
            }
        }
    }
}

fn apply_changes(
    registry: &Receiver<RegistryChange>,
    decoder: &mut EventDecoder,
    targets: &mut HashMap<u32, String>,
) {
    while let Ok(change) = registry.try_recv() {
        match change {
            RegistryChange::Add { meta, target } => {
                targets.insert(meta.trace_id, target);
                decoder.add_trace(meta);
            }
            RegistryChange::Remove(id) => {
                decoder.remove_trace(id);
                targets.remove(&id);
            }
            RegistryChange::Symbolizer(s) => decoder.set_symbolizer(s),
        }
    }
}
