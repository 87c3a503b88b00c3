//! How a JS value is shown in an error message: the "Received ..." of Node's own argument
//! errors, with one deliberate difference: a string's content is never shown (a string passed
//! where something else was expected may be a password or a token). `lib/errors.js` follows
//! the same rules, so a message reads the same whichever side made it.

use std::ptr;

use napi::bindgen_prelude::{JsObjectValue, Object};
use napi::{sys, Env, JsValue, Unknown, ValueType};

/// `value` as Node describes it after "Received": `null`, `type number (0.5)`, `type string`,
/// `function f`, `an instance of Array`.
pub(crate) fn received(env: &Env, value: &Unknown<'_>) -> String {
    match value.get_type() {
        Ok(ValueType::Null) => "null".into(),
        Ok(ValueType::Undefined) => "undefined".into(),
        Ok(ValueType::Number) => match unsafe { value.cast::<f64>() } {
            Ok(n) => format!("type number ({})", number(n)),
            Err(_) => "type number".into(),
        },
        Ok(ValueType::Boolean) => match unsafe { value.cast::<bool>() } {
            Ok(b) => format!("type boolean ({b})"),
            Err(_) => "type boolean".into(),
        },
        Ok(ValueType::String) => "type string".into(),
        Ok(ValueType::BigInt) => "type bigint".into(),
        Ok(ValueType::Symbol) => "type symbol".into(),
        Ok(ValueType::Function) => match name_of(env, value, &["name"]) {
            Some(name) => format!("function {name}"),
            None => "function <anonymous>".into(),
        },
        _ if value.is_array().unwrap_or(false) => "an instance of Array".into(),
        _ => match name_of(env, value, &["constructor", "name"]) {
            Some(name) => format!("an instance of {name}"),
            None => "an object".into(),
        },
    }
}

/// A number as JavaScript's `String(n)` writes it (`-0` for negative zero, as Node's messages).
pub(crate) fn number(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if n == 0.0 && n.is_sign_negative() {
        "-0".into()
    } else if n.abs() >= 1e21 || (n != 0.0 && n.abs() < 1e-6) {
        // JavaScript switches to exponent notation here; Rust's `{:e}` writes `1e21` alike.
        let text = format!("{n:e}");
        match text.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
            _ => text,
        }
    } else {
        format!("{n}")
    }
}

/// Follows `path` from `value` (`constructor.name`) and returns the string found, if any. A
/// getter or Proxy trap that throws is swallowed: describing a value must not fail.
fn name_of(env: &Env, value: &Unknown<'_>, path: &[&str]) -> Option<String> {
    let mut current = *value;
    for key in path {
        // SAFETY: `current` is an object or a function (the callers' cases, then a property).
        let object: Object = unsafe { current.cast() }.ok()?;
        match object.get_named_property::<Unknown>(key) {
            Ok(next) => current = next,
            Err(_) => {
                clear_exception(env);
                return None;
            }
        }
    }
    if current.get_type().ok()? != ValueType::String {
        return None;
    }
    let name = unsafe { current.cast::<String>() }.ok()?;
    (!name.is_empty()).then_some(name)
}

/// Clears a pending exception, if any.
pub(crate) fn clear_exception(env: &Env) {
    let mut pending = false;
    // SAFETY: plain N-API calls on this env.
    unsafe {
        sys::napi_is_exception_pending(env.raw(), &mut pending);
        if pending {
            let mut ignored = ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env.raw(), &mut ignored);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_read_as_in_javascript() {
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(5.0), "5");
        assert_eq!(number(-0.0), "-0");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(number(2f64.powi(60)), "1152921504606847000");
        assert_eq!(number(1e21), "1e+21");
        assert_eq!(number(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(number(1e-7), "1e-7");
    }
}
