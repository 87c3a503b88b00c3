//! The manual clock the other tests drive time with.

use std::time::Duration;

use neural_trader_resilience::{Clock, ManualClock};

#[test]
fn circuit_breaker_manual_clock_never_goes_backwards() {
    let clock = ManualClock::new();
    clock.set_ms(500);
    clock.set_ms(100);
    assert_eq!(clock.now_ms(), 500);
    clock.advance(Duration::from_micros(2_999));
    assert_eq!(clock.now_ms(), 502, "rounded down to whole milliseconds");
    clock.advance(Duration::MAX);
    assert_eq!(clock.now_ms(), u64::MAX, "saturates");
}
