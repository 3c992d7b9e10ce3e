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
mod stream;

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use aya::maps::{HashMap as BpfHashMap, Map, MapData, PerfEventArray, RingBuf};
use aya::programs::uprobe::{UProbeAttachLocation, UProbeLinkId, UProbeScope};
use aya::programs::{ProgramError, UProbe};
use aya::{Ebpf, EbpfLoader};
use thiserror::Error;

pub use maps::MapKind;
pub use stream::EventStream;

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
    /// Removing a uprobe failed.
    #[error("failed to detach the uprobe of trace {trace_id}: {message}")]
    Detach {
        /// Trace id.
        trace_id: u32,
        /// What happened.
        message: String,
    },
    /// No trace with this id is loaded.
    #[error("trace {0} is not loaded")]
    UnknownTrace(u32),
    /// Reading the ring buffer failed.
    #[error("failed to read events: {0}")]
    Read(std::io::Error),
}

/// How events travel from the programs to user space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportConfig {
    /// One `BPF_MAP_TYPE_RINGBUF` shared by every CPU and trace.
    RingBuf {
        /// Bytes: a power of two and a multiple of the page size.
        size: u32,
    },
    /// One perf buffer per CPU (`BPF_MAP_TYPE_PERF_EVENT_ARRAY`), for
    /// kernels without ring buffers or by request.
    PerfEventArray {
        /// Pages of each CPU's buffer (a power of two).
        pages_per_cpu: u32,
        /// The largest event, for the per-CPU scratch element programs
        /// build events in.
        max_event_size: u32,
    },
}

/// The events map the loader created, before the stream is taken.
enum EventsMap {
    Ring(RingBuf<MapData>),
    Perf {
        array: PerfEventArray<MapData>,
        pages_per_cpu: u32,
    },
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

/// One loaded trace program and where its uprobe goes.
struct LoadedTrace {
    /// Owns the program and its link; dropping it detaches and unloads.
    ebpf: Ebpf,
    /// Name of the program inside the object.
    program: String,
    /// The probed file.
    target: PathBuf,
    /// File offset of the probed instruction.
    file_offset: u64,
    /// PID filter of the uprobe.
    pid: Option<u32>,
    /// The uprobe link while attached.
    link: Option<UProbeLinkId>,
}

impl LoadedTrace {
    fn uprobe(&mut self, trace_id: u32) -> Result<&mut UProbe, LoaderError> {
        let program = &self.program;
        self.ebpf
            .program_mut(program)
            .ok_or_else(|| LoaderError::Load {
                trace_id,
                message: format!("program {program} is missing from the object"),
            })?
            .try_into()
            .map_err(|e: ProgramError| LoaderError::Load {
                trace_id,
                message: e.to_string(),
            })
    }
}

/// Loads and attaches trace programs that share one event ring buffer.
///
/// A trace is first *loaded* (parsed, verified, its loss counter created)
/// and then *attached* (its uprobe created). Detaching keeps the program
/// loaded, so it can be attached again without compiling or verifying it
/// anew; unloading releases it.
pub struct TraceLoader {
    /// Built on a background thread: `EbpfLoader::new` parses the kernel's
    /// BTF (toolchain P12), which overlaps with LLVM compiling the programs.
    loader: LoaderSlot,
    events_fd: i32,
    losses_fd: i32,
    losses: BpfHashMap<MapData, u32, u64>,
    events: Option<EventsMap>,
    /// The per-CPU scratch element of the perf transport.
    scratch: Option<std::os::fd::OwnedFd>,
    traces: BTreeMap<u32, LoadedTrace>,
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
    /// Creates the shared maps of `transport`.
    pub fn new(transport: TransportConfig) -> Result<TraceLoader, LoaderError> {
        let (events_fd, events, scratch) = create_events(transport)?;
        let losses = maps::create(MapKind::LossCounters { max_traces: 65536 })?;
        let losses_fd = losses.as_raw_fd();
        let losses = loss_map(losses)?;
        Ok(TraceLoader {
            // Created once, in the background: EbpfLoader::new parses the kernel BTF.
            loader: LoaderSlot::Pending(std::thread::spawn(EbpfLoader::new)),
            events_fd,
            losses_fd,
            losses,
            events: Some(events),
            scratch,
            traces: BTreeMap::new(),
            unwind: None,
        })
    }

    /// File descriptor of the per-CPU scratch element programs build
    /// events in, with the perf transport only.
    pub fn event_scratch_fd(&self) -> Option<i32> {
        self.scratch.as_ref().map(|fd| fd.as_raw_fd())
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

    /// File descriptor of the events map (ring buffer or perf event
    /// array), for the compiler.
    pub fn events_fd(&self) -> i32 {
        self.events_fd
    }

    /// File descriptor of the loss counters, for the compiler.
    pub fn losses_fd(&self) -> i32 {
        self.losses_fd
    }

    /// Loads `object` and verifies its program, to be attached at
    /// `file_offset` of `target`, for process `pid` only when given. The
    /// uprobe is not created yet: see [`TraceLoader::enable`].
    pub fn load(
        &mut self,
        trace_id: u32,
        object: &[u8],
        program: &str,
        target: &Path,
        file_offset: u64,
        pid: Option<u32>,
    ) -> Result<(), LoaderError> {
        let ebpf = self
            .loader
            .get()
            .load(object)
            .map_err(|e| LoaderError::Object {
                trace_id,
                message: e.to_string(),
            })?;
        let mut trace = LoadedTrace {
            ebpf,
            program: program.to_string(),
            target: target.to_path_buf(),
            file_offset,
            pid,
            link: None,
        };
        trace
            .uprobe(trace_id)?
            .load()
            .map_err(|e| load_error(trace_id, e))?;
        // Registered once the program is loaded, so only live traces count losses.
        let _ = self.losses.insert(trace_id, 0, 0);
        self.traces.insert(trace_id, trace);
        Ok(())
    }

    /// Creates the uprobe of a loaded trace; attaching an attached trace
    /// does nothing.
    pub fn enable(&mut self, trace_id: u32) -> Result<(), LoaderError> {
        let trace = self
            .traces
            .get_mut(&trace_id)
            .ok_or(LoaderError::UnknownTrace(trace_id))?;
        if trace.link.is_some() {
            return Ok(());
        }
        let scope = match trace.pid.and_then(NonZeroU32::new) {
            Some(p) => UProbeScope::OneProcess(p),
            None => UProbeScope::AllProcesses,
        };
        let (target, file_offset) = (trace.target.clone(), trace.file_offset);
        let link = trace
            .uprobe(trace_id)?
            .attach(
                UProbeAttachLocation::AbsoluteOffset(file_offset),
                &target,
                scope,
            )
            .map_err(|e| LoaderError::Attach {
                path: target.clone(),
                offset: file_offset,
                message: error_chain(&e),
            })?;
        trace.link = Some(link);
        Ok(())
    }

    /// Removes the uprobe of a trace and keeps its program loaded; returns
    /// whether it was attached.
    pub fn disable(&mut self, trace_id: u32) -> Result<bool, LoaderError> {
        let Some(trace) = self.traces.get_mut(&trace_id) else {
            return Ok(false);
        };
        let Some(link) = trace.link.take() else {
            return Ok(false);
        };
        trace
            .uprobe(trace_id)?
            .detach(link)
            .map_err(|e| LoaderError::Detach {
                trace_id,
                message: error_chain(&e),
            })?;
        Ok(true)
    }

    /// Detaches and unloads one trace; returns whether it was loaded.
    pub fn unload(&mut self, trace_id: u32) -> bool {
        let _ = self.losses.remove(&trace_id);
        self.traces.remove(&trace_id).is_some()
    }

    /// Detaches and unloads every trace.
    pub fn unload_all(&mut self) {
        let ids: Vec<u32> = self.traces.keys().copied().collect();
        for id in ids {
            self.unload(id);
        }
    }

    /// Ids of traces whose uprobe is attached.
    pub fn attached(&self) -> Vec<u32> {
        self.traces
            .iter()
            .filter(|(_, t)| t.link.is_some())
            .map(|(id, _)| *id)
            .collect()
    }

    /// Whether a trace's uprobe is attached.
    pub fn is_attached(&self, trace_id: u32) -> bool {
        self.traces.get(&trace_id).is_some_and(|t| t.link.is_some())
    }

    /// Ids of loaded traces, attached or not.
    pub fn loaded(&self) -> Vec<u32> {
        self.traces.keys().copied().collect()
    }

    /// Events the kernel could not deliver, per trace id, since load.
    pub fn loss_counts(&self) -> Vec<(u32, u64)> {
        read_losses(&self.losses)
    }

    /// A second handle on the loss counters, for a thread that reports
    /// losses while this loader keeps loading and attaching.
    pub fn loss_reader(&self) -> Result<LossReader, LoaderError> {
        // SAFETY: the descriptor is owned by `self.losses` and open; it is
        // only borrowed for the duplication.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(self.losses_fd) }
            .try_clone_to_owned()
            .map_err(|e| LoaderError::MapCreate {
                what: "loss counter",
                source: e,
            })?;
        Ok(LossReader {
            losses: loss_map(fd)?,
        })
    }

    /// Takes the event stream; it can be taken once.
    pub fn take_event_stream(&mut self) -> Result<EventStream, LoaderError> {
        let events = self.events.take().ok_or_else(|| {
            LoaderError::Read(std::io::Error::other("the event stream was already taken"))
        })?;
        match events {
            EventsMap::Ring(ring) => EventStream::ring(ring),
            EventsMap::Perf {
                mut array,
                pages_per_cpu,
            } => {
                let cpus = aya::util::online_cpus().map_err(|(what, e)| {
                    LoaderError::Read(std::io::Error::new(e.kind(), format!("{what}: {e}")))
                })?;
                let mut buffers = Vec::with_capacity(cpus.len());
                for cpu in cpus {
                    let buffer = array.open(cpu, Some(pages_per_cpu as usize)).map_err(|e| {
                        LoaderError::MapCreate {
                            what: "per-CPU event buffer",
                            source: std::io::Error::other(format!("CPU {cpu}: {e}")),
                        }
                    })?;
                    buffers.push(buffer);
                }
                EventStream::perf(buffers)
            }
        }
    }
}

/// Creates the events map of `transport`: its fd, its aya handle, and the
/// scratch element of the perf transport.
fn create_events(
    transport: TransportConfig,
) -> Result<(i32, EventsMap, Option<std::os::fd::OwnedFd>), LoaderError> {
    let aya_error = |what: &'static str, e: &dyn std::fmt::Display| LoaderError::MapCreate {
        what,
        source: std::io::Error::other(e.to_string()),
    };
    match transport {
        TransportConfig::RingBuf { size } => {
            let fd = maps::create(MapKind::RingBuf { size })?;
            let raw = fd.as_raw_fd();
            let data = MapData::from_fd(fd).map_err(|e| aya_error("event ring buffer", &e))?;
            let ring = RingBuf::try_from(Map::RingBuf(data))
                .map_err(|e| aya_error("event ring buffer", &e))?;
            Ok((raw, EventsMap::Ring(ring), None))
        }
        TransportConfig::PerfEventArray {
            pages_per_cpu,
            max_event_size,
        } => {
            let cpus = aya::util::nr_cpus().map_err(|(what, e)| LoaderError::MapCreate {
                what: "per-CPU event buffer",
                source: std::io::Error::new(e.kind(), format!("{what}: {e}")),
            })?;
            let fd = maps::create(MapKind::PerfEventArray { cpus: cpus as u32 })?;
            let raw = fd.as_raw_fd();
            let data = MapData::from_fd(fd).map_err(|e| aya_error("per-CPU event buffer", &e))?;
            let array = PerfEventArray::try_from(Map::PerfEventArray(data))
                .map_err(|e| aya_error("per-CPU event buffer", &e))?;
            let scratch = maps::create(MapKind::EventScratch {
                value_size: max_event_size.next_multiple_of(8),
            })?;
            Ok((
                raw,
                EventsMap::Perf {
                    array,
                    pages_per_cpu,
                },
                Some(scratch),
            ))
        }
    }
}

/// Reads the per-trace loss counters from any thread.
pub struct LossReader {
    losses: BpfHashMap<MapData, u32, u64>,
}

impl LossReader {
    /// Events the kernel could not deliver, per loaded trace id.
    pub fn loss_counts(&self) -> Vec<(u32, u64)> {
        read_losses(&self.losses)
    }
}

fn read_losses(losses: &BpfHashMap<MapData, u32, u64>) -> Vec<(u32, u64)> {
    losses.iter().filter_map(|r| r.ok()).collect()
}

fn loss_map(fd: std::os::fd::OwnedFd) -> Result<BpfHashMap<MapData, u32, u64>, LoaderError> {
    let map = MapData::from_fd(fd).map_err(|e| LoaderError::MapCreate {
        what: "loss counter",
        source: std::io::Error::other(e.to_string()),
    })?;
    BpfHashMap::try_from(Map::HashMap(map)).map_err(|e| LoaderError::MapCreate {
        what: "loss counter",
        source: std::io::Error::other(e.to_string()),
    })
}

impl Drop for TraceLoader {
    fn drop(&mut self) {
        self.unload_all();
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
