//! Atomic types of the state machine, swapped for `loom`'s model-checked ones when the crate is
//! built with `--cfg resilience_loom` (see `tests/loom.rs`).

#[cfg(resilience_loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};
#[cfg(not(resilience_loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
