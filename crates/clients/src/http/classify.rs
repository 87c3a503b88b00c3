//! What an HTTP exchange means for the circuit: the only breaker logic of the HTTP client.
//!
//! The usual transient predicate (Polly, Microsoft.Extensions.Http.Resilience): a network
//! failure, a timeout, any 5xx, 408 and 429 count against the service; other 4xx are the
//! caller's mistakes (a wrong id, a bad request, missing credentials) and must not open the
//! circuit for everyone, so they are [`Outcome::Ignored`]: the caller gets the error, the circuit
//! does not move. A 429 or 503 with `Retry-After` is [`Outcome::FailureRetryAfter`]: if it opens
//! the circuit (or finds it open), the circuit stays open at least that long.

use std::time::{Duration, SystemTime};

use neural_trader_resilience::Outcome;
use reqwest::StatusCode;

use super::error::ApiError;
use super::request::Response;

/// The longest `Retry-After` honoured by default (one hour): a service asking for more is
/// capped, so that one bad header cannot keep the circuit open for days.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The outcome of one exchange (the `classify` function given to the core's `execute_with`).
pub fn outcome_of(result: &Result<Response, ApiError>) -> Outcome {
    match result {
        Ok(response) => status_outcome(response.status, None),
        Err(e) => error_outcome(e),
    }
}

/// The outcome of an exchange that ended with `error` (for clients built on this layer that
/// classify their own results).
pub fn error_outcome(error: &ApiError) -> Outcome {
    match error {
        ApiError::Status(e) => status_outcome(e.status, e.retry_after),
        ApiError::Connect { .. } | ApiError::Io { .. } | ApiError::Redirect { .. } => {
            Outcome::Failure
        }
        // Errors that are not the service's (refused before sending, a body the caller could
        // not decode): the exchange does not move the circuit.
        _ => Outcome::Ignored,
    }
}

/// The outcome of a response with `status` (and the `Retry-After` it carried, if any).
pub fn status_outcome(status: StatusCode, retry_after: Option<Duration>) -> Outcome {
    let code = status.as_u16();
    if code >= 500 || code == 408 || code == 429 {
        match retry_after {
            Some(wait) if (code == 429 || code == 503) && !wait.is_zero() => {
                Outcome::FailureRetryAfter(wait)
            }
            _ => Outcome::Failure,
        }
    } else if code >= 400 {
        Outcome::Ignored
    } else {
        Outcome::Success
    }
}

/// Parses a `Retry-After` value, delta-seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, and the obsolete RFC 850 and asctime forms), into a wait
/// from `now`, capped at `max`. A date in the past is a wait of zero; anything else is `None`.
pub fn parse_retry_after(value: &str, now: SystemTime, max: Duration) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let wait = if value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still "a very long time": capped below.
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let date = httpdate::parse_http_date(value).ok()?;
        date.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    #[test]
    fn server_errors_timeouts_and_throttling_are_failures() {
        for code in [500, 502, 503, 504, 599, 408, 429] {
            assert_eq!(
                status_outcome(status(code), None),
                Outcome::Failure,
                "{code}"
            );
        }
    }

    #[test]
    fn other_client_errors_are_ignored_and_the_rest_succeeds() {
        for code in [400, 401, 403, 404, 409, 422, 451] {
            assert_eq!(
                status_outcome(status(code), None),
                Outcome::Ignored,
                "{code}"
            );
        }
        for code in [200, 201, 204, 301, 304] {
            assert_eq!(
                status_outcome(status(code), None),
                Outcome::Success,
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_holds_429_and_503_only() {
        let wait = Some(Duration::from_secs(7));
        assert_eq!(
            status_outcome(status(429), wait),
            Outcome::FailureRetryAfter(Duration::from_secs(7))
        );
        assert_eq!(
            status_outcome(status(503), wait),
            Outcome::FailureRetryAfter(Duration::from_secs(7))
        );
        assert_eq!(status_outcome(status(500), wait), Outcome::Failure);
        assert_eq!(
            status_outcome(status(429), Some(Duration::ZERO)),
            Outcome::Failure
        );
    }

    #[test]
    fn transport_errors_fail_and_caller_errors_are_ignored() {
        let io = Err(ApiError::Io {
            message: "reset".into(),
        });
        assert_eq!(outcome_of(&io), Outcome::Failure);
        let connect = Err(ApiError::Connect {
            message: "refused".into(),
        });
        assert_eq!(outcome_of(&connect), Outcome::Failure);
        assert_eq!(
            outcome_of(&Err(ApiError::invalid_argument("x"))),
            Outcome::Ignored
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00
        let max = DEFAULT_MAX_RETRY_AFTER;
        assert_eq!(
            parse_retry_after("120", now, max),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now, max), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now, max),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now, max),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed Oct 21 07:28:10 2015", now, max),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now, max),
            Some(Duration::ZERO),
            "a date in the past"
        );
    }

    #[test]
    fn retry_after_is_capped_and_garbage_is_none() {
        let now = SystemTime::UNIX_EPOCH;
        let max = Duration::from_secs(3600);
        assert_eq!(parse_retry_after("86400", now, max), Some(max));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now, max),
            Some(max)
        );
        for bad in ["", "-5", "1.5", "soon", "Wed, 99 Foo 2015"] {
            assert_eq!(parse_retry_after(bad, now, max), None, "{bad:?}");
        }
    }
}
