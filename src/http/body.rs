//! Bodies across the boundary.
//!
//! Request bodies from JS: `undefined` / `null` send none; a string is text
//! (`text/plain; charset=utf-8`); a `Buffer`, typed array, `DataView` or `ArrayBuffer` is bytes
//! (`application/octet-stream`); any other object, number or boolean is JSON
//! (`application/json`, serialized by the engine's `JSON.stringify`). A `content-type` header
//! overrides the implied type.
//!
//! Response bodies to JS, by `responseType`: `'auto'` (default) follows the `content-type`
//! (JSON parsed, text as a string, binary as a `Buffer`, no content-type: a string when the
//! body is UTF-8; an empty body is `null`); `'json'` always parses (empty: `null`); `'text'`
//! always a string; `'buffer'` always a `Buffer`. UTF-8 is decoded on the Tokio thread; only
//! `JSON.parse` runs on the JS thread.

use napi::bindgen_prelude::{Buffer, Function, JsObjectValue, Null, Object, ToNapiValue};
use napi::{Env, Result, Unknown, ValueType};
use neural_trader_clients::http::Bytes;
use neural_trader_clients::http::{body_kind, Body, BodyKind, HeaderMap};

use crate::js::bytes::bytes_of;
use crate::js::describe::received;
use crate::js::errors::{ErrorClass, JsErrorSpec};
use crate::js::{parse_json, Arg};

/// What the caller wants the response body as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseType {
    Auto,
    Json,
    Text,
    Buffer,
}

/// A response body decoded as far as Rust can, ready for JS.
pub(crate) enum Payload {
    Null,
    /// JSON text, parsed on the JS thread.
    Json(String),
    Text(String),
    Bytes(Bytes),
}

fn utf8(bytes: Bytes) -> String {
    match String::from_utf8(Vec::from(bytes)) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

impl Payload {
    /// `body` by its `content-type` (`responseType: 'auto'`).
    pub(crate) fn auto(headers: &HeaderMap, body: Bytes) -> Self {
        match body_kind(headers, &body) {
            BodyKind::Empty => Payload::Null,
            BodyKind::Json => Payload::Json(utf8(body)),
            BodyKind::Text => Payload::Text(utf8(body)),
            BodyKind::Binary => Payload::Bytes(body),
        }
    }

    /// `body` as the caller asked.
    pub(crate) fn decode(kind: ResponseType, headers: &HeaderMap, body: Bytes) -> Self {
        match kind {
            ResponseType::Auto => Self::auto(headers, body),
            ResponseType::Json if body.is_empty() => Payload::Null,
            ResponseType::Json => Payload::Json(utf8(body)),
            ResponseType::Text => Payload::Text(utf8(body)),
            ResponseType::Buffer => Payload::Bytes(body),
        }
    }

    /// The JS value; `Err` (with the text and the parser's message) when JSON text is not JSON.
    pub(crate) fn into_js(self, env: &Env) -> std::result::Result<Unknown<'_>, NotJson> {
        let converted = match self {
            Payload::Null => Null.into_unknown(env),
            Payload::Text(text) => text.into_unknown(env),
            Payload::Bytes(bytes) => Buffer::from(Vec::from(bytes)).into_unknown(env),
            Payload::Json(text) => {
                return parse_json(env, &text).map_err(|e| NotJson {
                    text,
                    reason: e.reason.clone(),
                })
            }
        };
        converted.map_err(|e| NotJson {
            text: String::new(),
            reason: e.reason.clone(),
        })
    }
}

/// A body announced as JSON that `JSON.parse` refused.
pub(crate) struct NotJson {
    pub(crate) text: String,
    /// `SyntaxError: ...`.
    pub(crate) reason: String,
}

impl NotJson {
    /// The text itself, as a JS string.
    pub(crate) fn text(self, env: &Env) -> Result<Unknown<'_>> {
        self.text.into_unknown(env)
    }
}

/// Reads a request body (see the module docs).
pub(crate) fn read_body(env: &Env, value: Arg<'_>) -> Result<Body> {
    let Some(value) = value else {
        return Ok(Body::Empty);
    };
    match value.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(Body::Empty),
        ValueType::String => Ok(Body::Text(unsafe { value.cast::<String>()? })),
        ValueType::Object => match bytes_of(env, &value)? {
            Some((_, bytes)) => Ok(Body::Bytes(bytes.into())),
            None => stringify(env, value),
        },
        ValueType::Number | ValueType::Boolean => stringify(env, value),
        _ => Err(JsErrorSpec::new(
            ErrorClass::TypeError,
            "ERR_INVALID_ARG_TYPE",
            format!(
                "The \"body\" argument must be a string, a Buffer, a typed array, an \
                 ArrayBuffer or a JSON-serializable value. Received {}",
                received(env, &value)
            ),
        )
        .throw(env)),
    }
}

/// `JSON.stringify(value)`; a value it refuses (a cycle, a BigInt) or turns into `undefined`
/// is a `TypeError` (`ERR_INVALID_ARG_VALUE`).
fn stringify(env: &Env, value: Unknown<'_>) -> Result<Body> {
    let global = env.get_global()?;
    let json: Object = global.get_named_property("JSON")?;
    let stringify: Function<Unknown, Unknown> = json.get_named_property("stringify")?;
    let refused = |reason: String| {
        JsErrorSpec::new(
            ErrorClass::TypeError,
            "ERR_INVALID_ARG_VALUE",
            format!("The \"body\" argument cannot be serialized as JSON: {reason}"),
        )
        .throw(env)
    };
    let text = match stringify.call(value) {
        Ok(text) => text,
        Err(e) => return Err(refused(e.reason.clone())),
    };
    if text.get_type()? != ValueType::String {
        return Err(refused("JSON.stringify returned undefined".into()));
    }
    let text: String = unsafe { text.cast()? };
    Ok(Body::Json(text.into_bytes().into()))
}
