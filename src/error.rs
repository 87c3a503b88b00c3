//! Maps core errors to JS errors with a stable `code`.

use napi::{Env, Error, Status};
use neural_trader_resilience::{ConfigError, ConfigErrorKind};

/// Throws `TypeError` or `RangeError` (by `kind`) with `code`, and returns the marker error that
/// tells napi the exception is already pending.
pub(crate) fn throw_config_error(env: &Env, err: &ConfigError, message: &str) -> Error {
    let thrown = match err.kind {
        ConfigErrorKind::OutOfRange => env.throw_range_error(message, Some(err.code())),
        ConfigErrorKind::InvalidType | ConfigErrorKind::InvalidValue => {
            env.throw_type_error(message, Some(err.code()))
        }
    };
    match thrown {
        Ok(()) => Error::new(Status::PendingException, message.to_string()),
        Err(e) => e,
    }
}
