//! Breaker configuration, its defaults and its validation.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// Largest accepted `failure_threshold` / `success_threshold`: the consecutive count lives in 30
/// bits of the state word.
pub const MAX_THRESHOLD: u32 = (1 << 30) - 1;

/// Largest accepted `half_open_max_calls`: probes in flight live in 16 bits of the state word.
pub const MAX_HALF_OPEN_CALLS: u32 = u16::MAX as u32;

/// Largest accepted duration, in milliseconds (about 8.9 years). `timeout` may also be
/// [`Duration::MAX`], which disables the per-call deadline.
pub const MAX_DURATION_MS: u64 = 1 << 48;

/// How a circuit breaker decides to open, to probe and to close.
///
/// ```
/// use neural_trader_resilience::CircuitBreakerConfig;
/// use std::time::Duration;
///
/// let critical = CircuitBreakerConfig {
///     failure_threshold: 10,
///     success_threshold: 3,
///     timeout: Duration::from_secs(5),
///     reset_timeout: Duration::from_secs(30),
///     ..Default::default()
/// };
/// assert!(critical.validate().is_ok());
/// assert_eq!(critical.half_open_max_calls(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CircuitBreakerConfig {
    /// Number of consecutive failures before opening circuit (default 5).
    pub failure_threshold: u32,

    /// Number of consecutive successes needed to close from half-open (default 2).
    pub success_threshold: u32,

    /// Timeout for individual operations (default 30 s). [`Duration::MAX`] disables it.
    pub timeout: Duration,

    /// Time to wait before transitioning from open to half-open (default 60 s).
    pub reset_timeout: Duration,

    /// Probe calls admitted at once while half-open; `None` means `success_threshold`.
    pub half_open_max_calls: Option<u32>,

    /// Whether a binding's errors carry a stack trace of the call site (default true): the Node
    /// binding's `CircuitOpenError` then starts at the caller of `call`. `false` where
    /// open-circuit rejections are hot, as capturing a stack is most of their cost. Rust errors
    /// are values and carry no trace either way.
    pub stack_trace: bool,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            success_threshold: 2,
            timeout: Duration::from_secs(30),
            reset_timeout: Duration::from_secs(60),
            half_open_max_calls: None,
            stack_trace: true,
        }
    }
}

impl CircuitBreakerConfig {
    /// The number of probes admitted at once while half-open.
    pub fn half_open_max_calls(&self) -> u32 {
        // The default is capped: probes in flight live in 16 bits of the state word, and a
        // count past them would carry into the generation (a silent transition).
        self.half_open_max_calls
            .unwrap_or(self.success_threshold.min(MAX_HALF_OPEN_CALLS))
    }

    /// Whether calls get a deadline (`timeout` is not [`Duration::MAX`]).
    pub fn has_timeout(&self) -> bool {
        self.timeout != Duration::MAX
    }

    /// Checks every field against its range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_count("failure_threshold", self.failure_threshold, MAX_THRESHOLD)?;
        validate_count("success_threshold", self.success_threshold, MAX_THRESHOLD)?;
        if let Some(n) = self.half_open_max_calls {
            validate_count("half_open_max_calls", n, MAX_HALF_OPEN_CALLS)?;
        }
        if self.has_timeout() {
            validate_duration("timeout", self.timeout)?;
        }
        validate_duration("reset_timeout", self.reset_timeout)
    }

    /// A copy with every out-of-range field moved to the nearest valid value (a threshold of 0
    /// becomes 1, a zero duration becomes 1 ms). Used by the infallible constructors.
    pub fn clamped(&self) -> Self {
        let clamp_ms = |d: Duration| {
            let ms = duration_ms_ceil(d).clamp(1, MAX_DURATION_MS);
            Duration::from_millis(ms)
        };
        Self {
            failure_threshold: self.failure_threshold.clamp(1, MAX_THRESHOLD),
            success_threshold: self.success_threshold.clamp(1, MAX_THRESHOLD),
            timeout: if self.has_timeout() {
                clamp_ms(self.timeout)
            } else {
                Duration::MAX
            },
            reset_timeout: clamp_ms(self.reset_timeout),
            half_open_max_calls: self
                .half_open_max_calls
                .map(|n| n.clamp(1, MAX_HALF_OPEN_CALLS)),
            stack_trace: self.stack_trace,
        }
    }
}

/// Whole milliseconds in `d`, rounded up so that a deadline is never early.
pub(crate) fn duration_ms_ceil(d: Duration) -> u64 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// Checks a count: an integer from 1 to `max`.
pub fn validate_count(field: &'static str, value: u32, max: u32) -> Result<(), ConfigError> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::out_of_range(
            field,
            format!("an integer >= 1 and <= {max}"),
            value.to_string(),
        ))
    }
}

/// Checks a duration: more than zero and at most [`MAX_DURATION_MS`].
pub fn validate_duration(field: &'static str, value: Duration) -> Result<(), ConfigError> {
    if value.is_zero() || duration_ms_ceil(value) > MAX_DURATION_MS {
        Err(ConfigError::out_of_range(
            field,
            DURATION_RANGE,
            format!("{value:?}"),
        ))
    } else {
        Ok(())
    }
}

/// What every duration must be, in the words of [`ConfigError::expected`].
pub const DURATION_RANGE: &str = "a finite number of milliseconds > 0 and <= 281474976710656";
const _: () = assert!(MAX_DURATION_MS == 281_474_976_710_656);

/// What kind of configuration mistake a [`ConfigError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigErrorKind {
    /// A value of the wrong type (only produced by bindings that read untyped input).
    InvalidType,
    /// A value outside its allowed range.
    OutOfRange,
    /// A value of the right type that is not allowed (an unknown option, an empty name).
    InvalidValue,
}

impl ConfigErrorKind {
    /// The stable error code, as Node.js spells it.
    pub fn code(self) -> &'static str {
        match self {
            ConfigErrorKind::InvalidType => "ERR_INVALID_ARG_TYPE",
            ConfigErrorKind::OutOfRange => "ERR_OUT_OF_RANGE",
            ConfigErrorKind::InvalidValue => "ERR_INVALID_ARG_VALUE",
        }
    }
}

/// A rejected configuration value, as data: which field, what kind of mistake, what was
/// expected and what was given. Each language renders it in its own words: `Display` here
/// (`failure_threshold must be an integer >= 1 and <= 1073741823, got 0`), the Node.js
/// binding as Node's own messages (`The value of "failureThreshold" is out of range. ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The field (or argument) at fault, as named in Rust (`failure_threshold`); a binding may
    /// name it as its users spell it.
    pub field: Cow<'static, str>,
    /// The kind of mistake.
    pub kind: ConfigErrorKind,
    /// What the value must be, as a phrase that follows "must be" (`an integer >= 1`).
    pub expected: Cow<'static, str>,
    /// The value given, as text (empty when it is not worth showing, such as a secret).
    pub received: String,
}

impl ConfigError {
    fn new(
        kind: ConfigErrorKind,
        field: impl Into<Cow<'static, str>>,
        expected: impl Into<Cow<'static, str>>,
        received: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            kind,
            expected: expected.into(),
            received: received.into(),
        }
    }

    /// A value outside its range.
    pub fn out_of_range(
        field: impl Into<Cow<'static, str>>,
        expected: impl Into<Cow<'static, str>>,
        received: impl Into<String>,
    ) -> Self {
        Self::new(ConfigErrorKind::OutOfRange, field, expected, received)
    }

    /// A value of the wrong type.
    pub fn invalid_type(
        field: impl Into<Cow<'static, str>>,
        expected: impl Into<Cow<'static, str>>,
        received: impl Into<String>,
    ) -> Self {
        Self::new(ConfigErrorKind::InvalidType, field, expected, received)
    }

    /// A value that is not allowed.
    pub fn invalid_value(
        field: impl Into<Cow<'static, str>>,
        expected: impl Into<Cow<'static, str>>,
        received: impl Into<String>,
    ) -> Self {
        Self::new(ConfigErrorKind::InvalidValue, field, expected, received)
    }

    /// The stable error code (`ERR_OUT_OF_RANGE`, ...).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} must be {}", self.field, self.expected)?;
        if !self.received.is_empty() {
            write!(f, ", got {}", self.received)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Checks a breaker name: it must not be empty.
pub fn validate_name(name: &str) -> Result<(), ConfigError> {
    if name.is_empty() {
        Err(ConfigError::invalid_value(
            "name",
            "a non-empty string",
            "''",
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_design() {
        let c = CircuitBreakerConfig::default();
        assert_eq!(c.failure_threshold, 5);
        assert_eq!(c.success_threshold, 2);
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.reset_timeout, Duration::from_secs(60));
        assert_eq!(c.half_open_max_calls(), 2);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn out_of_range_values_are_reported_and_clamped() {
        let c = CircuitBreakerConfig {
            failure_threshold: 0,
            reset_timeout: Duration::ZERO,
            ..Default::default()
        };
        let err = c.validate().unwrap_err();
        assert_eq!(err.field, "failure_threshold");
        assert_eq!(err.code(), "ERR_OUT_OF_RANGE");
        let fixed = c.clamped();
        assert_eq!(fixed.failure_threshold, 1);
        assert_eq!(fixed.reset_timeout, Duration::from_millis(1));
        assert!(fixed.validate().is_ok());
    }

    #[test]
    fn the_default_probe_limit_fits_the_state_word() {
        let c = CircuitBreakerConfig {
            success_threshold: MAX_THRESHOLD,
            ..Default::default()
        };
        assert_eq!(c.half_open_max_calls(), MAX_HALF_OPEN_CALLS);
    }

    #[test]
    fn timeout_max_disables_the_deadline() {
        let c = CircuitBreakerConfig {
            timeout: Duration::MAX,
            ..Default::default()
        };
        assert!(!c.has_timeout());
        assert!(c.validate().is_ok());
        assert_eq!(c.clamped().timeout, Duration::MAX);
    }

    #[test]
    fn sub_millisecond_durations_round_up() {
        assert_eq!(duration_ms_ceil(Duration::from_micros(1)), 1);
        assert_eq!(duration_ms_ceil(Duration::from_millis(7)), 7);
    }

    #[test]
    fn empty_names_are_refused() {
        assert_eq!(
            validate_name("").unwrap_err().code(),
            "ERR_INVALID_ARG_VALUE"
        );
        assert!(validate_name("api").is_ok());
    }
}
