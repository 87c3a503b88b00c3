//! The JavaScript side of the binding: how JS values are read and described, how JS errors
//! are made, and the per-environment helpers `resilience.js` registers.
//!
//! - [`options`]: option sets declared once (`#[derive(OptionSet)]`), argument readers;
//! - [`errors`]: every JS error the binding makes, and [`errors::config_error`];
//! - [`promise`]: the one way a Promise-returning method rejects a bad argument;
//! - [`describe`]: the "Received ..." text of argument errors; [`bytes`]: binary values;
//! - [`helpers`]: the error classes and row builder registered by `resilience.js`.

pub(crate) mod bytes;
pub(crate) mod describe;
pub(crate) mod errors;
pub(crate) mod helpers;
pub(crate) mod options;
pub(crate) mod promise;

use napi::bindgen_prelude::{JsObjectValue, Object, PromiseRaw};
use napi::{sys, Env, Error, Result, Status, Unknown};

/// An argument as JS passed it (`None` for `undefined` or `null`): methods read their own.
pub(crate) type Arg<'a> = Option<Unknown<'a>>;

/// What a Promise-returning method returns (`V`: what the promise resolves with).
pub(crate) type Async<'a, V = Unknown<'a>> = Result<PromiseRaw<'a, V>>;

/// `Ok` when an N-API call succeeded, otherwise an `Error` saying it could not `what`.
pub(crate) fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(
            Status::GenericFailure,
            format!("could not {what}"),
        ))
    }
}

/// Parses JSON text into a JS value with the engine's own `JSON.parse` (faster than building
/// the value property by property through N-API). Text that is not JSON is an `Err` carrying
/// the `SyntaxError`, with no exception left pending (`call` clears it; `apply` would not).
pub(crate) fn parse_json<'env>(env: &'env Env, text: &str) -> Result<Unknown<'env>> {
    let global = env.get_global()?;
    let json: Object = global.get_named_property("JSON")?;
    let parse: napi::bindgen_prelude::Function<String, Unknown> =
        json.get_named_property("parse")?;
    parse.call(text.to_string())
}
