//! The layout of the words a breaker shares with a foreign runtime.
//!
//! The Node.js binding exposes these 16 bytes to JavaScript as an external `ArrayBuffer` and
//! reads them with 32-bit `Atomics`, so that a call through a closed circuit never crosses into
//! native code: it loads the state slot, runs the call, and adds one to the fast-success slot.
//! Everything else (failures, probes, transitions) goes through
//! [`crate::CircuitBreaker::acquire_token`] and [`crate::CircuitBreaker::complete`].
//!
//! Slots are 32-bit, indexed as an `Int32Array` over the block.

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

/// Reserved for flags telling the fast path which policies need native bookkeeping.
pub const FLAGS_SLOT: usize = 3;
