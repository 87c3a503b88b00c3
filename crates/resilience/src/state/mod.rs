//! The lock-free state machine: one 64-bit word changed only by compare-and-swap.
//!
//! Why one word: a transition, the count that caused it and the probe budget change together or
//! not at all, so no interleaving of threads can open twice, close on a stale probe, or admit
//! more probes than allowed. The generation tags every permit and the stored open period, so an
//! outcome that arrives after the circuit moved on cannot act on a later period (the one
//! exception is [`PermitToken::CLOSED`], which a foreign fast path uses for calls it admitted
//! without asking: it acts on whichever closed period is current).
//!
//! OPEN -> HALF_OPEN is decided lazily by the next call once the open period is over, so a
//! breaker costs no timer and no thread.
//!
//! One concept per module:
//! - `word`: the bit layout of the state word, its decoding, and [`State`];
//! - `token`: [`PermitToken`], and what a generation wrap means for a token held across it;
//! - `period`: the start and deadline of the open period beside the word, and who writes them;
//! - `machine`: the `StateMachine` itself, its memory orderings, and the reads that make no
//!   transition;
//! - `acquire`: admitting a call (the closed fast path, half-opening, probe slots);
//! - `outcome`: recording a success, a failure or a cancellation.

mod acquire;
mod machine;
mod outcome;
mod period;
mod token;
mod word;

#[cfg(test)]
mod tests;

pub(crate) use acquire::Admission;
pub(crate) use machine::{Limits, StateMachine, Transition};
pub use token::PermitToken;
pub use word::State;
