//! The layout of the words a breaker shares with a foreign runtime.
//!
//! The Node.js binding exposes these 16 bytes to JavaScript as an external `ArrayBuffer` and
//! reads them with 32-bit `Atomics`, so that a call through a closed circuit never crosses into
//! native code: it loads the state slot, runs the call, and adds one to the fast-success slot.
//! Everything else (failures, probes, transitions) goes through
//! [`crate::CircuitBreaker::acquire_token`] and [`crate::CircuitBreaker::complete`].
//!
//! Slots are 32-bit, indexed as an `Int32Array` over the block. The mode bits and the meaning of
//! a zero state slot are checked against the state word's layout at compile time in
//! `state/word.rs`; the slots against the struct behind the block, here.

use crate::sync::{AtomicU32, AtomicU64};

/// Size of the shared block in bytes.
pub const LEN: usize = 16;

/// Slot holding the low half of the state word: bits 0..2 the mode (0 CLOSED, 1 OPEN,
/// 2 HALF_OPEN), bits 2..32 the consecutive count. Zero means "closed, no failure pending".
pub const STATE_SLOT: usize = if cfg!(target_endian = "little") { 0 } else { 1 };

/// Slot the foreign fast path adds one to for each closed-circuit success; folded into
/// `successful_calls` by [`crate::CircuitBreaker::fold_fast_successes`] and every metrics read.
pub const FAST_SUCCESS_SLOT: usize = 2;

/// Mask of the mode bits in [`STATE_SLOT`].
pub const MODE_MASK: i32 = 0b11;

/// Reserved for flags telling the fast path which policies need native bookkeeping. Nothing
/// writes or reads it yet: it stays zero.
pub const FLAGS_SLOT: usize = 3;

/// The shared block itself, laid out as the slot constants above say (checked below). It lives
/// in the breaker's state machine, so it stays put as long as the breaker does (see
/// `CircuitBreaker::shared_words_ptr`).
#[repr(C)]
#[derive(Debug)]
pub(crate) struct SharedWords {
    /// The state word (see `state/word.rs`): changed only by the state machine's
    /// compare-and-swap; the foreign runtime only loads its low half ([`STATE_SLOT`]).
    pub(crate) word: AtomicU64,
    /// [`FAST_SUCCESS_SLOT`]: the foreign runtime adds to it (`Atomics.add`); Rust only takes it
    /// back to zero, with a swap when folding it into the totals and a store when the metrics
    /// are reset.
    pub(crate) fast_successes: AtomicU32,
    /// [`FLAGS_SLOT`]: reserved, always zero.
    pub(crate) flags: AtomicU32,
}

impl SharedWords {
    pub(crate) fn new() -> Self {
        Self {
            word: AtomicU64::new(0),
            fast_successes: AtomicU32::new(0),
            flags: AtomicU32::new(0),
        }
    }
}

// `SharedWords` is the block the constants describe. (Not under loom, whose atomics are larger
// and are never shared with a foreign runtime.)
#[cfg(not(resilience_loom))]
const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    /// Bytes per slot: slots are indexed as an `Int32Array`.
    const SLOT: usize = size_of::<i32>();
    /// Where the low half of a `u64` lies in memory: byte 0 on little-endian targets, 4 on
    /// big-endian ones (worked out here without `cfg!`, unlike `STATE_SLOT`).
    const LOW_HALF: usize = if 1u64.to_ne_bytes()[0] == 1 { 0 } else { 4 };
    assert!(size_of::<SharedWords>() == LEN);
    // 8 for the 64-bit word; every 32-bit slot is then aligned too.
    assert!(align_of::<SharedWords>() == 8);
    assert!(size_of::<AtomicU64>() == 2 * SLOT && size_of::<AtomicU32>() == SLOT);
    assert!(offset_of!(SharedWords, word) + LOW_HALF == STATE_SLOT * SLOT);
    assert!(offset_of!(SharedWords, fast_successes) == FAST_SUCCESS_SLOT * SLOT);
    assert!(offset_of!(SharedWords, flags) == FLAGS_SLOT * SLOT);
    assert!(FLAGS_SLOT < LEN / SLOT);
};
