//! Assigns each statement marker and captured value a fixed event offset.

use ghostscope_protocol::wire::{EVENT_HEADER_SIZE, FAILURE_PAYLOAD_SIZE, RECORD_HEADER_SIZE};

/// Hands out 8-byte aligned record offsets after the event header.
#[derive(Debug)]
pub(crate) struct EventLayout {
    next: u32,
    markers: Vec<u32>,
}

impl EventLayout {
    pub(crate) fn new() -> EventLayout {
        EventLayout {
            next: EVENT_HEADER_SIZE,
            markers: Vec::new(),
        }
    }

    fn take(&mut self, payload: u32) -> u32 {
        let offset = self.next;
        self.next += RECORD_HEADER_SIZE + payload.div_ceil(8) * 8;
        offset
    }

    /// A statement marker; it can hold a failure (for conditions).
    pub(crate) fn marker(&mut self) -> u32 {
        let offset = self.take(FAILURE_PAYLOAD_SIZE);
        self.markers.push(offset);
        offset
    }

    /// A value record with room for `bytes` (and for a failure detail).
    /// Returns (offset, capacity).
    pub(crate) fn value(&mut self, bytes: u32) -> (u32, u32) {
        let capacity = bytes.max(FAILURE_PAYLOAD_SIZE).div_ceil(8) * 8;
        (self.take(capacity), capacity)
    }

    /// Total size so far.
    pub(crate) fn size(&self) -> u32 {
        self.next
    }

    /// Every marker handed out, to be initialised to "not run".
    pub(crate) fn markers(&self) -> &[u32] {
        &self.markers
    }
}
