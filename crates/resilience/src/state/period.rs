//! The open period: when it began and when it ends, kept in two slots beside the state word.
//!
//! Each slot holds `(ms << 16) | generation`, the generation being that of the OPEN word the
//! period belongs to, so a reader holding a word can tell whether the slot describes that
//! word's period ([`OpenPeriod::until`] and [`OpenPeriod::started`] return `None` if not).
//!
//! # Who writes, and when
//!
//! - [`OpenPeriod::publish`] writes both slots, `opened_at` then `open_until`. Only the thread
//!   whose compare-and-swap moved the word into OPEN calls it, once, right after that CAS (see
//!   `StateMachine::on_failure`). Plain stores are enough: until they land, no other thread
//!   writes a value tagged with the new generation, and a late extension of the previous
//!   period either lands first (and is overwritten) or fails its compare-and-swap against the
//!   new value.
//! - [`OpenPeriod::extend`] raises `open_until` by compare-and-swap, for a failure with a
//!   `Retry-After` reported while the word its reporter loaded is OPEN. It acts only while the
//!   slot carries that word's generation and only toward a later deadline, so within a period
//!   the deadline only grows. An extension that races with the half-opening may come too late:
//!   if the half-opener read the deadline first, the period ends anyway, and the extension
//!   changes a slot nobody reads until the next opening overwrites it.
//! - Nothing else writes them ([`OpenPeriod::new`] tags both with `u16::MAX`, a generation no
//!   OPEN word has before the first opening, at generation 1).
//!
//! `open_until` is stored last with `Release` and loaded with `Acquire`: a thread that finds
//! the deadline of the current period also sees its start, and whatever the opener did before
//! publishing (it counts `times_opened` first).
//!
//! # Why a 16-bit tag is enough
//!
//! The circuit leaves OPEN only through `acquire`, which rejects calls until `open_until`
//! carries the current generation; so a period's slots are written before any later period's,
//! and each slot holds the tag of the latest open period, or, until that period's opener has
//! stored it, of the one before. Consecutive open periods are 2 (HALF_OPEN -> OPEN) or 3 (by
//! way of CLOSED) generations apart, so the one before never passes for the current OPEN word's
//! period. Only a reader that loaded the word long before reading a slot can see its
//! generation again after a wrap (65,536 transitions in between): it then reads a later period
//! with the same generation (see `acquire.rs`).

use crate::sync::{AtomicU64, Ordering};

/// The largest time a tagged slot holds: 48 bits, so that `ms << 16` loses nothing. An open
/// period that would end later (a reset timeout near [`crate::MAX_DURATION_MS`]) ends at this
/// time instead, which no clock reaches (clock readings fit in 48 bits).
const MAX_TAGGED_MS: u64 = (1 << 48) - 1;

fn tag(ms: u64, generation: u16) -> u64 {
    (ms.min(MAX_TAGGED_MS) << 16) | generation as u64
}

fn untag(tagged: u64, generation: u16) -> Option<u64> {
    (tagged as u16 == generation).then_some(tagged >> 16)
}

/// The start and the deadline of the current (or last) open period.
#[repr(C)]
#[derive(Debug)]
pub(super) struct OpenPeriod {
    /// `(deadline_ms << 16) | generation` of the current open period.
    open_until: AtomicU64,
    /// `(start_ms << 16) | generation` of the current open period.
    opened_at: AtomicU64,
}

impl OpenPeriod {
    pub(super) fn new() -> Self {
        Self {
            // Tagged with a generation (u16::MAX) that the closed word (generation 0) does not have.
            open_until: AtomicU64::new(u16::MAX as u64),
            opened_at: AtomicU64::new(u16::MAX as u64),
        }
    }

    /// Starts the open period of `generation` at `start_ms`, lasting `open_ms`. Only the thread
    /// that opened the circuit calls this, once per period.
    pub(super) fn publish(&self, generation: u16, start_ms: u64, open_ms: u64) {
        self.opened_at
            .store(tag(start_ms, generation), Ordering::Release);
        self.open_until.store(
            tag(start_ms.saturating_add(open_ms), generation),
            Ordering::Release,
        );
    }

    /// When the open period of `generation` ends, once its opener has published it.
    pub(super) fn until(&self, generation: u16) -> Option<u64> {
        untag(self.open_until.load(Ordering::Acquire), generation)
    }

    /// When the open period of `generation` began, if the slot still holds that period.
    pub(super) fn started(&self, generation: u16) -> Option<u64> {
        untag(self.opened_at.load(Ordering::Acquire), generation)
    }

    /// Makes the open period of `generation` end no earlier than `deadline_ms`.
    pub(super) fn extend(&self, generation: u16, deadline_ms: u64) {
        let wanted = tag(deadline_ms, generation);
        let mut current = self.open_until.load(Ordering::Acquire);
        // Only the open period of `generation`, once its opener has stored it, and only later.
        while untag(current, generation).is_some() && current < wanted {
            match self.open_until.compare_exchange_weak(
                current,
                wanted,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
    }
}
