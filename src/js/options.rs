//! Options objects read from JS, declared once, and the readers of plain arguments.
//!
//! An option set is one `#[napi(object)]` struct with `#[derive(OptionSet)]`
//! (`crates/binding-derive`): its fields give the generated typings, and from the same fields
//! the derive makes the reader of a JS object (each key converted by the field type's
//! [`FromJs`]), the list of keys for the unknown-key check, [`OptionSet::received`] for error
//! messages and, with `into = Type`, [`Merge`]: each given field set on the client's options
//! through [`ToField`]. napi's own object conversion is not used to read: it ignores unknown
//! keys and reports a wrong type as `InvalidArg` without Node's codes.
//!
//! Reading only checks types. Ranges are checked once, by the core's and the clients'
//! `validate()`; their [`ConfigError`] is rendered by [`crate::js::errors::config_error`], with
//! the value as the user gave it ([`given`]).

use std::borrow::Cow;
use std::collections::BTreeMap;

use napi::bindgen_prelude::{Either, JsObjectValue, Object, ToNapiValue, Utf16String};
use napi::{Env, JsValue, Result, Unknown, ValueType};
use neural_trader_resilience::ConfigError;

use super::describe::{number, received};
use super::errors::{config_error, JsErrorSpec, Noun};
use super::Arg;

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

    /// The JS name of the first option given, if any.
    fn first_given(&self) -> Option<&'static str>;
}

/// Sets the options given in `self` on `T` (the client's or the core's options), each field
/// through [`ToField`]. Implemented by `#[derive(OptionSet)]` with `into = T`.
pub(crate) trait Merge<T> {
    fn merge(&self, into: &mut T);
}

/// A JS option value as the field of the client's options it sets.
pub(crate) trait ToField<T> {
    fn to_field(&self) -> T;
}

impl<T: Clone> ToField<T> for T {
    fn to_field(&self) -> T {
        self.clone()
    }
}

impl ToField<Option<String>> for String {
    fn to_field(&self) -> Option<String> {
        Some(self.clone())
    }
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

    fn first_given(&self) -> Option<&'static str> {
        self.0.first_given().or_else(|| self.1.first_given())
    }
}

/// Reads an options argument: `undefined` or `null` gives every default.
pub(crate) fn read<T: OptionSet>(env: &Env, argument: &str, value: Arg<'_>) -> Result<T> {
    let mut options = T::default();
    if let Some(object) = read_object(env, argument, value)? {
        for (key, value) in entries(env, argument, &object)? {
            if !options.read_key(env, &key, value)? {
                let (what, names) = (T::WHAT, T::keys());
                let message =
                    format!("The option \"{key}\" is not {what} (expected one of {names})");
                return Err(JsErrorSpec::type_error("ERR_INVALID_ARG_VALUE", message).throw(env));
            }
        }
    }
    Ok(options)
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
    value: Arg<'a>,
) -> Result<Option<Object<'a>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    match value.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::Object if !value.is_array()? => Ok(Some(unsafe { value.cast()? })),
        _ => Err(At::argument(env, argument).invalid_type("of type object", &value)),
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
    let mut out = Vec::new();
    for i in 0..names.get_array_length()? {
        let name: Unknown = names.get_element(i)?;
        let key = if name.get_type()? == ValueType::String {
            At::option(env, field).string(&name)?
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

/// Where a value is read: its name and whether it is an option or an argument, for the
/// messages of the errors made about it.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) env: &'a Env,
    pub(crate) name: &'a str,
    pub(crate) noun: Noun,
}

impl<'a> At<'a> {
    pub(crate) fn option(env: &'a Env, name: &'a str) -> Self {
        Self {
            env,
            name,
            noun: Noun::Option,
        }
    }

    pub(crate) fn argument(env: &'a Env, name: &'a str) -> Self {
        Self {
            env,
            name,
            noun: Noun::Argument,
        }
    }

    /// `error` in Node's words, as an error to throw or reject with.
    pub(crate) fn error(&self, error: &ConfigError) -> napi::Error {
        config_error(error, self.noun).throw(self.env)
    }

    /// A `TypeError` (`ERR_INVALID_ARG_TYPE`): the value must be `expected`, and `value` is not.
    pub(crate) fn invalid_type(&self, expected: &'static str, value: &Unknown<'_>) -> napi::Error {
        let (field, received) = (self.name.to_string(), received(self.env, value));
        self.error(&ConfigError::invalid_type(field, expected, received))
    }

    /// A `TypeError` (`ERR_INVALID_ARG_VALUE`) for a value of the right type that is not allowed.
    pub(crate) fn invalid_value(
        &self,
        expected: impl Into<Cow<'static, str>>,
        received: impl Into<String>,
    ) -> napi::Error {
        let field = self.name.to_string();
        self.error(&ConfigError::invalid_value(field, expected, received))
    }

    /// A `RangeError` (`ERR_OUT_OF_RANGE`).
    pub(crate) fn out_of_range(
        &self,
        expected: impl Into<Cow<'static, str>>,
        received: impl Into<String>,
    ) -> napi::Error {
        let field = self.name.to_string();
        self.error(&ConfigError::out_of_range(field, expected, received))
    }

    /// A JS string as Rust's `String`, strictly: a lone surrogate (which has no UTF-8 form) is a
    /// `TypeError` `ERR_INVALID_ARG_VALUE`, never a silent U+FFFD (napi's own conversion
    /// replaces it, so that SQL, a header or a query could differ from what was given).
    /// `value` must be a string.
    pub(crate) fn string(&self, value: &Unknown<'_>) -> Result<String> {
        let units = unsafe { value.cast::<Utf16String>()? };
        String::from_utf16(&units).map_err(|_| {
            self.invalid_value("a well-formed string", "a string with a lone surrogate")
        })
    }

    fn expect(&self, value: &Unknown<'_>, ty: ValueType, expected: &'static str) -> Result<()> {
        match value.get_type()? == ty {
            true => Ok(()),
            false => Err(self.invalid_type(expected, value)),
        }
    }
}

/// Reads a plain argument as `T` (a missing one is `undefined`, named in the error).
pub(crate) fn argument<T: FromJs>(env: &Env, name: &str, value: Arg<'_>) -> Result<T> {
    let value = match value {
        Some(value) => value,
        None => ().into_unknown(env)?,
    };
    T::from_js(At::argument(env, name), value)
}

/// Reads a breaker name: a non-empty, well-formed string.
pub(crate) fn read_name(env: &Env, name: Arg<'_>) -> Result<String> {
    let name: String = argument(env, "name", name)?;
    neural_trader_resilience::validate_name(&name)
        .map_err(|e| At::argument(env, "name").error(&e))?;
    Ok(name)
}

/// A field or argument type read from a JS value (`at` names it in error messages).
pub(crate) trait FromJs: Sized {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self>;

    /// The value as an error message shows it (plain numbers; nothing for strings, which may
    /// be secrets).
    fn received(&self) -> String {
        String::new()
    }
}

impl FromJs for f64 {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        at.expect(&value, ValueType::Number, "of type number")?;
        unsafe { value.cast::<f64>() }
    }

    fn received(&self) -> String {
        number(*self)
    }
}

impl FromJs for bool {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        at.expect(&value, ValueType::Boolean, "of type boolean")?;
        unsafe { value.cast::<bool>() }
    }

    fn received(&self) -> String {
        self.to_string()
    }
}

impl FromJs for String {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        at.expect(&value, ValueType::String, "of type string")?;
        at.string(&value)
    }
}

/// The most elements an array-of-strings option may have (checked before anything is read).
pub(crate) const MAX_STRINGS: u32 = 1000;

/// An array of strings (`safeQueryParams`, `secretHeaders`): `TypeError` if it is not one,
/// `RangeError` past [`MAX_STRINGS`] elements, before allocating for them.
impl FromJs for Vec<String> {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        if value.get_type()? != ValueType::Object || !value.is_array()? {
            return Err(at.invalid_type("an array of strings", &value));
        }
        let array: Object = unsafe { value.cast()? };
        let len = array.get_array_length()?;
        if len > MAX_STRINGS {
            let expected = format!("an array of at most {MAX_STRINGS} strings");
            return Err(at.out_of_range(expected, format!("an array of length {len}")));
        }
        let mut out = Vec::with_capacity(len as usize);
        for i in 0..len {
            let item: Unknown = array.get_element(i)?;
            if item.get_type()? != ValueType::String {
                return Err(at.invalid_type("an array of strings", &item));
            }
            out.push(unsafe { item.cast::<String>()? });
        }
        Ok(out)
    }
}

/// A string option that must be one of `choices` (the value is shown when it is not: it
/// names a choice, it is no secret).
pub(crate) fn one_of<T: Copy>(at: At<'_>, value: Unknown<'_>, choices: &[(&str, T)]) -> Result<T> {
    let text = String::from_js(at, value)?;
    match choices.iter().find(|(name, _)| *name == text) {
        Some(&(_, choice)) => Ok(choice),
        None => {
            let names: Vec<String> = choices.iter().map(|(n, _)| format!("'{n}'")).collect();
            Err(at.invalid_value(format!("one of {}", names.join(", ")), format!("{text:?}")))
        }
    }
}

/// `number | false`: a duration that `false` disables.
impl FromJs for Either<f64, bool> {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        match value.get_type()? {
            ValueType::Number => Ok(Either::A(unsafe { value.cast::<f64>()? })),
            ValueType::Boolean if !unsafe { value.cast::<bool>()? } => Ok(Either::B(false)),
            _ => Err(at.invalid_type("a number of milliseconds or false", &value)),
        }
    }

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
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        if value.get_type()? == ValueType::Null {
            return Ok(Self(None));
        }
        T::from_js(at, value).map(|v| Self(Some(v)))
    }
}

/// A string that `null` or `''` leave unset (an API key, a URL).
impl ToField<Option<String>> for OrNull<String> {
    fn to_field(&self) -> Option<String> {
        self.0.clone().filter(|s| !s.is_empty())
    }
}

/// An object of strings (headers, metadata, environment variables), in the object's key order.
#[derive(Debug, Clone, Default)]
pub(crate) struct StringMap(pub(crate) Vec<(String, String)>);

impl FromJs for StringMap {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        let Some(object) = read_object(at.env, at.name, Some(value))? else {
            return Ok(Self::default());
        };
        let mut pairs = Vec::new();
        for (name, value) in entries(at.env, at.name, &object)? {
            if value.get_type()? != ValueType::String {
                return Err(at.invalid_type("an object of strings", &value));
            }
            pairs.push((name, at.string(&value)?));
        }
        Ok(Self(pairs))
    }
}

impl ToField<Vec<(String, String)>> for StringMap {
    fn to_field(&self) -> Vec<(String, String)> {
        self.0.clone()
    }
}

impl ToField<BTreeMap<String, String>> for StringMap {
    fn to_field(&self) -> BTreeMap<String, String> {
        self.0.iter().cloned().collect()
    }
}

/// A nested option set (the trading system's `marketData: { ... }`).
impl<T: OptionSet> FromJs for T {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        read(at.env, at.name, Some(value))
    }
}
