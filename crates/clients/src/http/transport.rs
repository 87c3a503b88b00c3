//! One exchange over reqwest: send, read the whole body, and turn every failure into an
//! [`ApiError`] whose message shows no secret.
//!
//! reqwest's own `Display` starts with the request URL (query included), so it is never used:
//! messages are built from the error's source chain (hyper and I/O errors, which name no URL)
//! and still pass through [`Context::clean`].

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::RETRY_AFTER;
use reqwest::StatusCode;

use super::classify::parse_retry_after;
use super::error::{ApiError, StatusError};
use super::redirect::{follow, location, MAX_REDIRECTS};
use super::request::Response;
use super::target::{Context, Prepared};

/// What an exchange accepts from the service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The longest `Retry-After` honoured.
    pub(crate) max_retry_after: Duration,
    /// The largest body read.
    pub(crate) max_response_bytes: u64,
}

/// Sends `prepared`, follows redirects (see `super::redirect`) and reads the whole response:
/// `Ok` below 400, [`ApiError::Status`] from 400.
pub(crate) async fn exchange(
    client: &reqwest::Client,
    prepared: Prepared,
    limits: &Limits,
) -> Result<Response, ApiError> {
    let Prepared {
        mut request,
        context,
    } = prepared;
    let mut redirects = 0;
    let mut response = loop {
        // Kept to build the next request from (a body of bytes clones without a copy).
        let sent = request.try_clone();
        let response = client
            .execute(request)
            .await
            .map_err(|e| transport_error(&context, &e))?;
        let Some(next) = location(response.status(), response.headers(), response.url()) else {
            break response;
        };
        let redirect_error = |why: &str| ApiError::Redirect {
            message: format!("{}: {why}", context.describe()),
        };
        let next = next.map_err(redirect_error)?;
        if redirects == MAX_REDIRECTS {
            return Err(redirect_error(&format!(
                "too many redirects (more than {MAX_REDIRECTS})"
            )));
        }
        redirects += 1;
        let status = response.status();
        match sent {
            Some(sent) => request = follow(sent, status, next, &context.policy.secret_headers),
            // A body that cannot be sent twice: the redirect is the answer.
            None => break response,
        }
    };
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let url = if response.url().as_str() == context.sent_url {
        context.shown.clone()
    } else {
        context.policy.show(response.url())
    };
    let body = read_body(&mut response, &context, limits.max_response_bytes).await?;
    if status.as_u16() < 400 {
        return Ok(Response {
            status,
            url,
            headers,
            body,
        });
    }
    let retry_after =
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now(), limits.max_retry_after))
        } else {
            None
        };
    Err(ApiError::Status(Box::new(StatusError {
        method: context.method,
        url,
        status,
        headers,
        body,
        retry_after,
    })))
}

/// Reads the body of `response`, at most `limit` bytes (refused at once when its
/// `Content-Length` says more; a body of one chunk is kept without a copy).
async fn read_body(
    response: &mut reqwest::Response,
    context: &Context,
    limit: u64,
) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::BodyTooLarge {
        message: format!(
            "{}: the response body is larger than maxResponseBytes ({limit} bytes)",
            context.describe()
        ),
        limit,
    };
    if response.content_length().is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total = 0u64;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(context, &e))?
    {
        total += chunk.len() as u64;
        if total > limit {
            return Err(too_large());
        }
        chunks.push(chunk);
    }
    Ok(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => chunks.concat().into(),
    })
}

/// The [`ApiError`] for a failed exchange.
pub(crate) fn transport_error(context: &Context, error: &reqwest::Error) -> ApiError {
    let detail = context.clean(&source_chain(error));
    let what = context.describe();
    if error.is_connect() {
        ApiError::Connect {
            message: format!("{what}: could not connect: {detail}"),
        }
    } else if error.is_redirect() {
        ApiError::Redirect {
            message: format!("{what}: {detail}"),
        }
    } else if error.is_builder() {
        ApiError::invalid_argument(format!("{what}: the request cannot be built: {detail}"))
    } else if error.is_body() || error.is_decode() {
        ApiError::Io {
            message: format!("{what}: the response body could not be read: {detail}"),
        }
    } else {
        ApiError::Io {
            message: format!("{what}: the exchange failed: {detail}"),
        }
    }
}

/// The messages of `error`'s sources (not its own, which shows the URL), deepest last, without
/// repeats.
fn source_chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p == &text) {
            parts.push(text);
        }
        source = e.source();
    }
    if parts.is_empty() {
        "unknown error".to_string()
    } else {
        parts.join(": ")
    }
}
