//! Loads ghostscope's BPF programs, attaches them as uprobes, drains the
//! shared event ring buffer and reads the per-trace loss counters.
//!
//! The loader creates the maps itself, once: one ring buffer for every
//! trace, so events arrive in the order they happened, and one hash of loss
//! counters keyed by trace id. Programs refer to both by file descriptor
//! (baked in by the compiler), so no map is pinned in bpffs and nothing is
//! left behind when ghostscope exits, however it exits: uprobes live only
//! as long as the file descriptors that hold them.

#![warn(missing_docs)]

mod maps;

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aya::maps::{HashMap as BpfHashMap, Map, MapData, RingBuf};
use aya::programs::uprobe::{UProbeAttachLocation, UProbeScope};
use aya::programs::{ProgramError, UProbe};
use aya::{Ebpf, EbpfLoader};
use thiserror::Error;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

pub use maps::MapKind;

/// What can go wrong while loading, attaching or reading.
#[derive(Debug, Error)]
pub enum LoaderError {
    /// A shared map could not be created.
    #[error("failed to create the {what} map: {source}")]
    MapCreate {
        /// Which map.
        what: &'static str,
        /// The kernel's answer.
        source: std::io::Error,
    },
    /// The object file is not something aya can load.
    #[error("failed to parse the BPF object of trace {trace_id}: {message}")]
    Object {
        /// Trace id.
        trace_id: u32,
        /// aya's message.
        message: String,
    },
    /// The kernel verifier rejected a program.
    #[error("the kernel verifier rejected the program of trace {trace_id}: {reason}")]
    Verifier {
        /// Trace id.
        trace_id: u32,
        /// The verifier's own words (its last lines).
        reason: String,
        /// The full verifier log.
        log: String,
    },
    /// Loading failed for another reason.
    #[error("failed to load the program of trace {trace_id}: {message}")]
    Load {
        /// Trace id.
        trace_id: u32,
        /// What happened.
        message: String,
    },
    /// `perf_event_open` or the link creation failed.
    #[error("failed to attach uprobe at {} offset 0x{offset:x}: {message}", path.display())]
    Attach {
        /// Probed file.
        path: PathBuf,
        /// File offset.
        offset: u64,
        /// What happened.
        message: String,
    },
    /// Reading the ring buffer failed.
    #[error("failed to read events: {0}")]
    Read(std::io::Error),
}

/// The aya loader, while it is being created and once it is ready.
enum LoaderSlot {
    Pending(std::thread::JoinHandle<EbpfLoader<'static>>),
    Ready(Box<EbpfLoader<'static>>),
    Empty,
}

impl LoaderSlot {
    /// The loader, waiting for its creation to finish the first time.
    fn get(&mut self) -> &mut EbpfLoader<'static> {
        if let LoaderSlot::Pending(_) | LoaderSlot::Empty = self {
            let loader = match std::mem::replace(self, LoaderSlot::Empty) {
                // If the thread panicked, build the loader here instead.
                LoaderSlot::Pending(handle) => handle.join().unwrap_or_else(|_| EbpfLoader::new()),
                _ => EbpfLoader::new(),
            };
            *self = LoaderSlot::Ready(Box::new(loader));
        }
        match self {
            LoaderSlot::Ready(loader) => loader,
            _ => unreachable!("just made ready"),
        }
    }
}

/// One attached trace program.
struct AttachedTrace {
    /// Owns the program and its link; dropping it detaches the uprobe.
    _ebpf: Ebpf,
}

/// Loads and attaches trace programs that share one event ring buffer.
pub struct TraceLoader {
    /// Built on a background thread: `EbpfLoader::new` parses the kernel's
    /// BTF (toolchain P12), which overlaps with LLVM compiling the programs.
    loader: LoaderSlot,
    events_fd: i32,
    losses_fd: i32,
    losses: BpfHashMap<MapData, u32, u64>,
    events: Option<RingBuf<MapData>>,
    attached: BTreeMap<u32, AttachedTrace>,
    /// The backtrace unwind maps, created on first use.
    unwind: Option<UnwindMaps>,
}

/// The maps in-kernel backtraces read: pages of unwind rows and their index.
struct UnwindMaps {
    rows: std::os::fd::OwnedFd,
    index: std::os::fd::OwnedFd,
}

/// What the unwind maps hold, as raw map values.
#[derive(Debug, Clone, Copy)]
pub struct UnwindContents<'a> {
    /// Most pages the rows map holds.
    pub max_pages: u32,
    /// Bytes per page.
    pub page_size: u32,
    /// Pages, concatenated.
    pub pages: &'a [u8],
    /// The index: the one element of the index map.
    pub index: &'a [u8],
}

impl TraceLoader {
    /// Creates the shared maps. `ringbuf_size` must be a power of two and a
    /// multiple of the page size.
    pub fn new(ringbuf_size: u32) -> Result<TraceLoader, LoaderError> {
        let events = maps::create(MapKind::RingBuf { size: ringbuf_size })?;
        let losses = maps::create(MapKind::LossCounters { max_traces: 65536 })?;
        let events_fd = events.as_raw_fd();
        let events = MapData::from_fd(events).map_err(|e| LoaderError::MapCreate {
            what: "event ring buffer",
            source: std::io::Error::other(e.to_string()),
        })?;
        let events =
            RingBuf::try_from(Map::RingBuf(events)).map_err(|e| LoaderError::MapCreate {
                what: "event ring buffer",
                source: std::io::Error::other(e.to_string()),
            })?;
        let losses_fd = losses.as_raw_fd();
        let losses = MapData::from_fd(losses).map_err(|e| LoaderError::MapCreate {
            what: "loss counter",
            source: std::io::Error::other(e.to_string()),
        })?;
        let losses =
            BpfHashMap::try_from(Map::HashMap(losses)).map_err(|e| LoaderError::MapCreate {
                what: "loss counter",
                source: std::io::Error::other(e.to_string()),
            })?;
        Ok(TraceLoader {
            // Created once, in the background: EbpfLoader::new parses the kernel BTF.
            loader: LoaderSlot::Pending(std::thread::spawn(EbpfLoader::new)),
            events_fd,
            losses_fd,
            losses,
            events: Some(events),
            attached: BTreeMap::new(),
            unwind: None,
        })
    }

    /// Creates the backtrace unwind maps (once) and fills them; returns
    /// their file descriptors (rows, index) for the compiler. Called
    /// again, it rewrites their contents.
    pub fn load_unwind_tables(
        &mut self,
        contents: UnwindContents<'_>,
    ) -> Result<(i32, i32), LoaderError> {
        if self.unwind.is_none() {
            let rows = maps::create(MapKind::UnwindRows {
                pages: contents.max_pages,
                value_size: contents.page_size,
            })?;
            let index = maps::create(MapKind::UnwindIndex {
                value_size: contents.index.len() as u32,
            })?;
            self.unwind = Some(UnwindMaps { rows, index });
        }
        let maps = self.unwind.as_ref().expect("just created");
        let rows_fd = maps.rows.as_raw_fd();
        let index_fd = maps.index.as_raw_fd();
        maps::fill_array(
            rows_fd,
            "unwind rows",
            contents.pages,
            contents.page_size as usize,
        )?;
        maps::fill_array(
            index_fd,
            "unwind index",
            contents.index,
            contents.index.len(),
        )?;
        Ok((rows_fd, index_fd))
    }

    /// File descriptor of the event ring buffer, for the compiler.
    pub fn events_fd(&self) -> i32 {
        self.events_fd
    }

    /// File descriptor of the loss counters, for the compiler.
    pub fn losses_fd(&self) -> i32 {
        self.losses_fd
    }

    /// Loads `object`, verifies its program and attaches it at `file_offset`
    /// of `target`, for process `pid` only when given.
    pub fn attach(
        &mut self,
        trace_id: u32,
        object: &[u8],
        program: &str,
        target: &Path,
        file_offset: u64,
        pid: Option<u32>,
    ) -> Result<(), LoaderError> {
        let mut ebpf = self
            .loader
            .get()
            .load(object)
            .map_err(|e| LoaderError::Object {
                trace_id,
                message: e.to_string(),
            })?;
        let prog: &mut UProbe = ebpf
            .program_mut(program)
            .ok_or_else(|| LoaderError::Load {
                trace_id,
                message: format!("program {program} is missing from the object"),
            })?
            .try_into()
            .map_err(|e: ProgramError| LoaderError::Load {
                trace_id,
                message: e.to_string(),
            })?;

        prog.load().map_err(|e| load_error(trace_id, e))?;
        let scope = match pid.and_then(NonZeroU32::new) {
            Some(p) => UProbeScope::OneProcess(p),
            None => UProbeScope::AllProcesses,
        };
        prog.attach(
            UProbeAttachLocation::AbsoluteOffset(file_offset),
            target,
            scope,
        )
        .map_err(|e| LoaderError::Attach {
            path: target.to_path_buf(),
            offset: file_offset,
            message: error_chain(&e),
        })?;
        // Registered after a successful attach, so only live traces count losses.
        let _ = self.losses.insert(trace_id, 0, 0);
        self.attached
            .insert(trace_id, AttachedTrace { _ebpf: ebpf });
        Ok(())
    }

    /// Detaches one trace; returns whether it was attached.
    pub fn detach(&mut self, trace_id: u32) -> bool {
        let _ = self.losses.remove(&trace_id);
        self.attached.remove(&trace_id).is_some()
    }

    /// Detaches every trace.
    pub fn detach_all(&mut self) {
        let ids: Vec<u32> = self.attached.keys().copied().collect();
        for id in ids {
            self.detach(id);
        }
    }

    /// Ids of attached traces.
    pub fn attached(&self) -> Vec<u32> {
        self.attached.keys().copied().collect()
    }

    /// Events the kernel could not deliver, per trace id, since attach.
    pub fn loss_counts(&self) -> Vec<(u32, u64)> {
        self.losses.iter().filter_map(|r| r.ok()).collect()
    }

    /// Takes the event stream; it can be taken once.
    pub fn take_event_stream(&mut self) -> Result<EventStream, LoaderError> {
        let ring = self.events.take().ok_or_else(|| {
            LoaderError::Read(std::io::Error::other("the event stream was already taken"))
        })?;
        // SAFETY: the AsyncFd owns the RingBuf that owns the fd, so the fd
        // stays open for as long as it is registered (toolchain P15).
        let fd = unsafe { AsyncFd::register_with_interest(ring, Interest::READABLE) }
            .map_err(|e| LoaderError::Read(e.into_parts().1))?;
        Ok(EventStream { fd })
    }
}

impl Drop for TraceLoader {
    fn drop(&mut self) {
        self.detach_all();
    }
}

/// The event ring buffer, readable from a tokio runtime.
pub struct EventStream {
    fd: AsyncFd<RingBuf<MapData>>,
}

impl EventStream {
    /// Waits until events may be ready or `poll` has passed. Programs submit
    /// most events without waking the reader, so the timer is what usually
    /// ends the wait.
    pub async fn wait(&mut self, poll: Duration) -> Result<(), LoaderError> {
        tokio::select! {
            guard = self.fd.readable_mut() => {
                let mut guard = guard.map_err(LoaderError::Read)?;
                guard.clear_ready();
            }
            _ = tokio::time::sleep(poll) => {}
        }
        Ok(())
    }

    /// Hands up to `max` available events to `f`; returns how many there
    /// were. Bounded because a busy target can refill the buffer as fast as
    /// it is read, and the caller must still get to handle signals.
    pub fn drain(&mut self, max: usize, mut f: impl FnMut(&[u8])) -> usize {
        let ring = self.fd.get_mut();
        let mut n = 0;
        while n < max {
            let Some(item) = ring.next() else { break };
            f(&item);
            n += 1;
        }
        n
    }
}

fn load_error(trace_id: u32, e: ProgramError) -> LoaderError {
    match e {
        ProgramError::LoadError {
            io_error,
            verifier_log,
        } => {
            let log = verifier_log.to_string();
            let reason = verifier_reason(&log).unwrap_or_else(|| io_error.to_string());
            LoaderError::Verifier {
                trace_id,
                reason,
                log,
            }
        }
        other => LoaderError::Load {
            trace_id,
            message: error_chain(&other),
        },
    }
}

/// The verifier's complaint: the last meaningful line of its log.
fn verifier_reason(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .find(|l| {
            !l.starts_with("processed ")
                && !l.starts_with("verification time")
                && !l.starts_with("stack depth")
                && !l.starts_with("max_states_per_insn")
        })
        .map(str::to_string)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_reason_is_the_last_real_line() {
        let log = "0: R1=ctx() R10=fp0\n; \n1: (79) r2 = *(u64 *)(r1 +113)\ninvalid bpf_context access off=113 size=8\nprocessed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";
        assert_eq!(
            verifier_reason(log).as_deref(),
            Some("invalid bpf_context access off=113 size=8")
        );
        assert_eq!(verifier_reason(""), None);
    }
}
