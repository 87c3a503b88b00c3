//! Options objects read from JS, declared once.
//!
//! An option set is one `#[napi(object)]` struct with `#[derive(OptionSet)]`
//! (`crates/binding-derive`): its fields give the generated typings, and from the same fields
//! the derive makes the reader of a JS object (each key converted by the field type's
//! [`FromJs`]), the list of keys for the unknown-key check and [`OptionSet::received`] for
//! error messages. napi's own object conversion is not used to read: it ignores unknown keys
//! and reports a wrong type as `InvalidArg` without Node's codes.
//!
//! Reading only checks types. Ranges are checked once, by the core's and the clients'
//! `validate()` when the read options are converted (`TryFrom` / `config()` next to each
//! declaration); their [`ConfigError`] is rendered by [`crate::js::errors::config_error`], with
//! the value as the user gave it ([`given`]).

use std::collections::HashMap;

use napi::bindgen_prelude::{Either, JsObjectValue, Object, Utf16String};
use napi::{Env, JsValue, Result, Unknown, ValueType};
use neural_trader_resilience::ConfigError;

use super::describe::{number, received};
use super::errors::{config_error, Noun};

/// A set of options read from a JS object, strictly. Implemented by `#[derive(OptionSet)]`.
pub(crate) trait OptionSet: Default {
    /// What one of these options is, for the unknown-key error: `a circuit breaker option`.
    const WHAT: &'static str;

    /// The JS names of the options, for the unknown-key error.
    fn keys() -> String;

    /// Reads `key` into `self`; `Ok(false)` when `key` is none of this set's options.
    fn read_key(&mut self, env: &Env, key: &str, value: Unknown<'_>) -> Result<bool>;

    /// The value given for the field named `field` in Rust, as an error message shows it.
    fn received(&self, field: &str) -> Option<String>;
}

/// Two option sets read from one object (a domain breaker's own options and the circuit
/// breaker's): each key goes to the first set that knows it.
#[derive(Default)]
pub(crate) struct Both<T, U>(pub(crate) T, pub(crate) U);

impl<T: OptionSet, U: OptionSet> OptionSet for Both<T, U> {
    const WHAT: &'static str = T::WHAT;

    fn keys() -> String {
        format!("{}, {}", T::keys(), U::keys())
    }

    fn read_key(&mut self, env: &Env, key: &str, value: Unknown<'_>) -> Result<bool> {
        Ok(self.0.read_key(env, key, value)? || self.1.read_key(env, key, value)?)
    }

    fn received(&self, field: &str) -> Option<String> {
        self.0.received(field).or_else(|| self.1.received(field))
    }
}

/// Reads an options argument: `undefined` or `null` gives every default.
pub(crate) fn read<T: OptionSet>(
    env: &Env,
    argument: &str,
    value: Option<Unknown<'_>>,
) -> Result<T> {
    let mut options = T::default();
    if let Some(object) = read_object(env, argument, value)? {
        for (key, value) in entries(env, argument, &object)? {
            if !options.read_key(env, &key, value)? {
                return Err(unknown_option(env, &key, T::WHAT, &T::keys()));
            }
        }
    }
    Ok(options)
}

fn unknown_option(env: &Env, key: &str, what: &str, names: &str) -> napi::Error {
    let message = format!("The option \"{key}\" is not {what} (expected one of {names})");
    super::errors::JsErrorSpec::new(
        super::errors::ErrorClass::TypeError,
        "ERR_INVALID_ARG_VALUE",
        message,
    )
    .into_napi_error(env)
}

/// `error` with its `received` replaced by the value as given in `options` when the field is
/// one of theirs (the core saw the value after conversion to its own type).
pub(crate) fn given<T: OptionSet>(mut error: ConfigError, options: &T) -> ConfigError {
    if let Some(text) = options.received(&error.field) {
        error.received = text;
    }
    error
}

/// Reads an argument that must be a plain object: `None` for `undefined` or `null`, a
/// `TypeError` (`ERR_INVALID_ARG_TYPE`) for anything else that is not an object.
pub(crate) fn read_object<'a>(
    env: &Env,
    argument: &str,
    value: Option<Unknown<'a>>,
) -> Result<Option<Object<'a>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    match value.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::Object if !value.is_array()? => Ok(Some(unsafe { value.cast()? })),
        _ => Err(invalid_type(
            env,
            argument,
            Noun::Argument,
            "of type object",
            &value,
        )),
    }
}

/// The enumerable keys of `object` (own and inherited, as `for...in`) with a value other than
/// `undefined`. A key with a lone surrogate is refused (`ERR_INVALID_ARG_VALUE`, naming
/// `field`) rather than replaced by U+FFFD: two different keys must not become one.
pub(crate) fn entries<'a>(
    env: &Env,
    field: &str,
    object: &Object<'a>,
) -> Result<Vec<(String, Unknown<'a>)>> {
    let names = object.get_property_names()?;
    let count = names.get_array_length()?;
    let mut out = Vec::new();
    for i in 0..count {
        let name: Unknown = names.get_element(i)?;
        let key = if name.get_type()? == ValueType::String {
            well_formed(env, field, Noun::Option, &name)?
        } else {
            name.coerce_to_string()?.into_utf8()?.into_owned()?
        };
        if let Some(value) = object.get::<Unknown>(&key)? {
            if value.get_type()? != ValueType::Undefined {
                out.push((key, value));
            }
        }
    }
    Ok(out)
}

/// A JS string as Rust's `String`, strictly: a lone surrogate (which has no UTF-8 form) is a
/// `TypeError` `ERR_INVALID_ARG_VALUE` naming `field`, never a silent U+FFFD (napi's own
/// conversion replaces it, so that SQL, a header or a query could differ from what was given).
/// `value` must be a string.
pub(crate) fn well_formed(
    env: &Env,
    field: &str,
    noun: Noun,
    value: &Unknown<'_>,
) -> Result<String> {
    let units = unsafe { value.cast::<Utf16String>()? };
    String::from_utf16(&units).map_err(|_| {
        invalid_value(
            env,
            field,
            noun,
            "a well-formed string",
            "a string with a lone surrogate",
        )
    })
}

/// A `TypeError` (`ERR_INVALID_ARG_TYPE`): `field` must be `expected`, and `value` is not.
pub(crate) fn invalid_type(
    env: &Env,
    field: &str,
    noun: Noun,
    expected: &'static str,
    value: &Unknown<'_>,
) -> napi::Error {
    let error = ConfigError::invalid_type(field.to_string(), expected, received(env, value));
    config_error(&error, noun).into_napi_error(env)
}

/// A `TypeError` (`ERR_INVALID_ARG_VALUE`) for a value of the right type that is not allowed.
pub(crate) fn invalid_value(
    env: &Env,
    field: &str,
    noun: Noun,
    expected: impl Into<String>,
    received: impl Into<String>,
) -> napi::Error {
    let error = ConfigError::invalid_value(field.to_string(), expected.into(), received);
    config_error(&error, noun).into_napi_error(env)
}

/// Reads a breaker name: a non-empty, well-formed string.
pub(crate) fn read_name(env: &Env, name: Option<Unknown<'_>>) -> Result<String> {
    let name = read_string_argument(env, "name", name)?;
    neural_trader_resilience::validate_name(&name)
        .map_err(|e| config_error(&e, Noun::Argument).into_napi_error(env))?;
    Ok(name)
}

/// Reads a string argument; a lone surrogate is refused rather than replaced.
pub(crate) fn read_string_argument(
    env: &Env,
    argument: &'static str,
    value: Option<Unknown<'_>>,
) -> Result<String> {
    match value {
        Some(v) if v.get_type()? == ValueType::String => {
            well_formed(env, argument, Noun::Argument, &v)
        }
        Some(v) => Err(invalid_type(
            env,
            argument,
            Noun::Argument,
            "of type string",
            &v,
        )),
        None => {
            let error = ConfigError::invalid_type(argument, "of type string", "undefined");
            Err(config_error(&error, Noun::Argument).into_napi_error(env))
        }
    }
}

/// Reads a number argument.
pub(crate) fn read_number_argument(
    env: &Env,
    argument: &'static str,
    value: Option<Unknown<'_>>,
) -> Result<f64> {
    match value {
        Some(v) if v.get_type()? == ValueType::Number => unsafe { v.cast::<f64>() },
        Some(v) => Err(invalid_type(
            env,
            argument,
            Noun::Argument,
            "of type number",
            &v,
        )),
        None => {
            let error = ConfigError::invalid_type(argument, "of type number", "undefined");
            Err(config_error(&error, Noun::Argument).into_napi_error(env))
        }
    }
}

/// A field type read from a JS value. `field` is the key, for error messages.
pub(crate) trait FromJs: Sized {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self>;
}

/// A value as an error message shows it (plain numbers; nothing for strings, which may be
/// secrets).
pub(crate) trait Received {
    fn received(&self) -> String {
        String::new()
    }
}

fn expect(
    env: &Env,
    field: &str,
    value: &Unknown<'_>,
    ty: ValueType,
    expected: &'static str,
) -> Result<()> {
    if value.get_type()? == ty {
        Ok(())
    } else {
        Err(invalid_type(env, field, Noun::Option, expected, value))
    }
}

impl FromJs for f64 {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self> {
        expect(env, field, &value, ValueType::Number, "of type number")?;
        unsafe { value.cast::<f64>() }
    }
}

impl Received for f64 {
    fn received(&self) -> String {
        number(*self)
    }
}

impl FromJs for bool {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self> {
        expect(env, field, &value, ValueType::Boolean, "of type boolean")?;
        unsafe { value.cast::<bool>() }
    }
}

impl Received for bool {
    fn received(&self) -> String {
        self.to_string()
    }
}

impl FromJs for String {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self> {
        expect(env, field, &value, ValueType::String, "of type string")?;
        well_formed(env, field, Noun::Option, &value)
    }
}

impl Received for String {}

/// The most elements an array-of-strings option may have (checked before anything is read).
pub(crate) const MAX_STRINGS: u32 = 1000;

/// An array of strings (`safeQueryParams`, `secretHeaders`): `TypeError` if it is not one,
/// `RangeError` past [`MAX_STRINGS`] elements, before allocating for them.
impl FromJs for Vec<String> {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self> {
        if value.get_type()? != ValueType::Object || !value.is_array()? {
            return Err(invalid_type(
                env,
                field,
                Noun::Option,
                "an array of strings",
                &value,
            ));
        }
        let array: Object = unsafe { value.cast()? };
        let len = array.get_array_length()?;
        if len > MAX_STRINGS {
            let error = ConfigError::out_of_range(
                field.to_string(),
                format!("an array of at most {MAX_STRINGS} strings"),
                format!("an array of length {len}"),
            );
            return Err(config_error(&error, Noun::Option).into_napi_error(env));
        }
        let mut out = Vec::with_capacity(len as usize);
        for i in 0..len {
            let item: Unknown = array.get_element(i)?;
            if item.get_type()? != ValueType::String {
                return Err(invalid_type(
                    env,
                    field,
                    Noun::Option,
                    "an array of strings",
                    &item,
                ));
            }
            out.push(unsafe { item.cast::<String>()? });
        }
        Ok(out)
    }
}

impl Received for Vec<String> {}

/// A string option that must be one of `choices` (the value is shown when it is not: it
/// names a choice, it is no secret).
pub(crate) fn one_of<T: Copy>(
    env: &Env,
    field: &str,
    value: Unknown<'_>,
    choices: &[(&str, T)],
) -> Result<T> {
    let text = String::from_js(env, field, value)?;
    match choices.iter().find(|(name, _)| *name == text) {
        Some(&(_, choice)) => Ok(choice),
        None => {
            let names: Vec<String> = choices.iter().map(|(n, _)| format!("'{n}'")).collect();
            let expected = format!("one of {}", names.join(", "));
            Err(invalid_value(
                env,
                field,
                Noun::Option,
                expected,
                format!("{text:?}"),
            ))
        }
    }
}

/// `number | false`: a duration that `false` disables.
impl FromJs for Either<f64, bool> {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self> {
        match value.get_type()? {
            ValueType::Number => Ok(Either::A(unsafe { value.cast::<f64>()? })),
            ValueType::Boolean if !unsafe { value.cast::<bool>()? } => Ok(Either::B(false)),
            _ => Err(invalid_type(
                env,
                field,
                Noun::Option,
                "a number of milliseconds or false",
                &value,
            )),
        }
    }
}

impl Received for Either<f64, bool> {
    fn received(&self) -> String {
        match self {
            Either::A(n) => number(*n),
            Either::B(b) => b.to_string(),
        }
    }
}

/// `T` or `null` (`None`).
#[derive(Debug, Clone, Default)]
pub(crate) struct OrNull<T>(pub(crate) Option<T>);

impl<T: FromJs> FromJs for OrNull<T> {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self> {
        if value.get_type()? == ValueType::Null {
            return Ok(Self(None));
        }
        T::from_js(env, field, value).map(|v| Self(Some(v)))
    }
}

impl<T> Received for OrNull<T> {}

/// An object of strings (headers, metadata, environment variables), in the object's key order.
#[derive(Debug, Clone, Default)]
pub(crate) struct StringMap(pub(crate) Vec<(String, String)>);

impl FromJs for StringMap {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self> {
        let Some(object) = read_object(env, field, Some(value))? else {
            return Ok(Self::default());
        };
        let mut pairs = Vec::new();
        for (name, value) in entries(env, field, &object)? {
            if value.get_type()? != ValueType::String {
                return Err(invalid_type(
                    env,
                    field,
                    Noun::Option,
                    "an object of strings",
                    &value,
                ));
            }
            pairs.push((name, well_formed(env, field, Noun::Option, &value)?));
        }
        Ok(Self(pairs))
    }
}

impl Received for StringMap {}

impl From<StringMap> for HashMap<String, String> {
    fn from(map: StringMap) -> Self {
        map.0.into_iter().collect()
    }
}

/// A nested option set (the trading system's `marketData: { ... }`).
impl<T: OptionSet> FromJs for T {
    fn from_js(env: &Env, field: &str, value: Unknown<'_>) -> Result<Self> {
        read(env, field, Some(value))
    }
}

impl<T: OptionSet> Received for T {}
