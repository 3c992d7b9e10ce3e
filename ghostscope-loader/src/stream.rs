//! The event stream: the shared ring buffer, or one perf buffer per CPU
//! (`--force-perf-event-array`), readable from a tokio runtime.

use std::ops::ControlFlow;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use aya::maps::perf::{PerfEvent, PerfEventArrayBuffer};
use aya::maps::{MapData, RingBuf};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::LoaderError;

/// Byte offset of the kernel timestamp in every event header
/// (`ghostscope_protocol::wire::HEADER_TIMESTAMP`).
const TIMESTAMP_OFFSET: usize = ghostscope_protocol::wire::HEADER_TIMESTAMP as usize;

/// The events of every trace, as the programs submitted them.
pub struct EventStream {
    source: Source,
}

enum Source {
    Ring(AsyncFd<RingBuf<MapData>>),
    Perf(PerfBuffers),
}

/// The per-CPU perf buffers, polled together through one epoll instance.
struct PerfBuffers {
    buffers: Vec<PerfEventArrayBuffer<MapData>>,
    /// Readable when any buffer is.
    epoll: AsyncFd<OwnedFd>,
    /// Events of one batch, copied out of the buffers to be put in time order.
    arena: Vec<u8>,
    /// (timestamp, start, end) of each event in `arena`.
    order: Vec<(u64, usize, usize)>,
    /// Samples the kernel reported lost (`PERF_RECORD_LOST`). The programs
    /// count the same losses per trace when the output helper fails, so
    /// this total only cross-checks them.
    kernel_lost: u64,
    /// The buffer the next batch starts with.
    next_first: usize,
}

impl EventStream {
    pub(crate) fn ring(ring: RingBuf<MapData>) -> Result<EventStream, LoaderError> {
        // SAFETY: the AsyncFd owns the RingBuf that owns the fd, so the fd
        // stays open for as long as it is registered (toolchain P15).
        let fd = unsafe { AsyncFd::register_with_interest(ring, Interest::READABLE) }
            .map_err(|e| LoaderError::Read(e.into_parts().1))?;
        Ok(EventStream {
            source: Source::Ring(fd),
        })
    }

    pub(crate) fn perf(
        buffers: Vec<PerfEventArrayBuffer<MapData>>,
    ) -> Result<EventStream, LoaderError> {
        // SAFETY: plain syscall; the result is checked.
        let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epfd < 0 {
            return Err(LoaderError::Read(std::io::Error::last_os_error()));
        }
        // SAFETY: a new descriptor nothing else owns.
        let epoll = unsafe { OwnedFd::from_raw_fd(epfd) };
        for (i, buffer) in buffers.iter().enumerate() {
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: i as u64,
            };
            // SAFETY: both descriptors are open; `ev` outlives the call.
            let r = unsafe {
                libc::epoll_ctl(
                    epoll.as_raw_fd(),
                    libc::EPOLL_CTL_ADD,
                    buffer.as_raw_fd(),
                    &mut ev,
                )
            };
            if r != 0 {
                return Err(LoaderError::Read(std::io::Error::last_os_error()));
            }
        }
        // SAFETY: the AsyncFd owns the epoll fd, so it stays open for as
        // long as it is registered.
        let epoll = unsafe { AsyncFd::register_with_interest(epoll, Interest::READABLE) }
            .map_err(|e| LoaderError::Read(e.into_parts().1))?;
        Ok(EventStream {
            source: Source::Perf(PerfBuffers {
                buffers,
                epoll,
                arena: Vec::new(),
                order: Vec::new(),
                kernel_lost: 0,
                next_first: 0,
            }),
        })
    }

    /// Waits until events may be ready or `poll` has passed. Ring-buffer
    /// programs submit most events without waking the reader, so there the
    /// timer is what usually ends the wait.
    pub async fn wait(&mut self, poll: Duration) -> Result<(), LoaderError> {
        match &mut self.source {
            Source::Ring(fd) => tokio::select! {
                guard = fd.readable_mut() => {
                    guard.map_err(LoaderError::Read)?.clear_ready();
                }
                _ = tokio::time::sleep(poll) => {}
            },
            Source::Perf(perf) => tokio::select! {
                guard = perf.epoll.readable() => {
                    let mut guard = guard.map_err(LoaderError::Read)?;
                    // Empty the epoll ready list; the buffers are read by `drain`.
                    let mut ready = [libc::epoll_event { events: 0, u64: 0 }; 16];
                    // SAFETY: the epoll fd is open and `ready` has room for 16.
                    unsafe { libc::epoll_wait(guard.get_inner().as_raw_fd(), ready.as_mut_ptr(), 16, 0) };
                    guard.clear_ready();
                }
                _ = tokio::time::sleep(poll) => {}
            },
        }
        Ok(())
    }

    /// Hands up to `max` available events to `f`; returns how many there
    /// were. Bounded because a busy target can refill the buffer as fast as
    /// it is read, and the caller must still get to handle signals. Events
    /// of per-CPU buffers are handed over in time order within the batch.
    pub fn drain(&mut self, max: usize, mut f: impl FnMut(&[u8])) -> usize {
        match &mut self.source {
            Source::Ring(fd) => {
                let ring = fd.get_mut();
                let mut n = 0;
                while n < max {
                    let Some(item) = ring.next() else { break };
                    f(&item);
                    n += 1;
                }
                n
            }
            Source::Perf(perf) => perf.drain(max, f),
        }
    }

    /// Samples the kernel itself reported lost from per-CPU buffers (0 for
    /// the ring buffer). Already counted per trace by the programs.
    pub fn kernel_reported_lost(&self) -> u64 {
        match &self.source {
            Source::Ring(_) => 0,
            Source::Perf(perf) => perf.kernel_lost,
        }
    }
}

impl PerfBuffers {
    fn drain(&mut self, max: usize, mut f: impl FnMut(&[u8])) -> usize {
        self.arena.clear();
        self.order.clear();
        let PerfBuffers {
            buffers,
            arena,
            order,
            kernel_lost,
            next_first,
            ..
        } = self;
        // Start at a different CPU each batch, so a busy CPU cannot starve
        // the others when the batch fills up.
        let cpus = buffers.len();
        let first = *next_first % cpus.max(1);
        *next_first = next_first.wrapping_add(1);
        for i in 0..cpus {
            if order.len() >= max {
                break;
            }
            let _ = buffers[(first + i) % cpus].try_fold((), |(), event| {
                match event {
                    PerfEvent::Sample { head, tail } => {
                        let start = arena.len();
                        arena.extend_from_slice(head);
                        arena.extend_from_slice(tail);
                        let ts = arena
                            .get(start + TIMESTAMP_OFFSET..start + TIMESTAMP_OFFSET + 8)
                            .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
                        order.push((ts, start, arena.len()));
                    }
                    PerfEvent::Lost { count } => *kernel_lost += count,
                }
                if order.len() >= max {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
        }
        // Stable: events of one CPU keep their order when timestamps tie.
        order.sort_by_key(|&(ts, _, _)| ts);
        for &(_, start, end) in order.iter() {
            f(&arena[start..end]);
        }
        order.len()
    }
}
