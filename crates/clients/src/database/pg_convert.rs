//! PostgreSQL parameter conversions: a value as the type the server inferred for its parameter,
//! accepting what node-postgres users pass (numbers or numeric strings for integers, strings or
//! numbers for numeric, objects or JSON text for json/jsonb, `Date`s or ISO text for timestamps).
//! Nothing is sent for a value that cannot be converted: the error names the parameter and never
//! shows the value.

use std::str::FromStr;

use bigdecimal::BigDecimal;
use sqlx::postgres::{PgTypeInfo, PgTypeKind};
use sqlx::TypeInfo;

use super::error::{DbError, DbErrorKind};
use super::pg_decode::oid;
use super::value::Value;

/// The base of a domain, and whether `ty` is an enum (text on the wire).
pub(super) fn base_of(ty: &PgTypeInfo) -> (Option<u32>, bool) {
    match ty.kind() {
        PgTypeKind::Domain(base) => base_of(base),
        PgTypeKind::Enum(_) => (None, true),
        _ if ty.name().eq_ignore_ascii_case("citext") => (Some(oid::TEXT), false),
        _ => (ty.oid().map(|o| o.0), false),
    }
}

pub(super) fn f64_to_int(i: usize, f: f64, min: f64, max: f64, what: &str) -> Result<i64, DbError> {
    if f.fract() != 0.0 || !f.is_finite() {
        return Err(DbError::param(
            DbErrorKind::ParamValue,
            i,
            format!("{what} needs an integer, got a number with a fraction"),
        ));
    }
    if f < min || f > max {
        return Err(DbError::param(
            DbErrorKind::ParamRange,
            i,
            format!("the number is out of range for {what}"),
        ));
    }
    Ok(f as i64)
}

pub(super) fn to_i64(i: usize, v: &Value, what: &str, min: i64, max: i64) -> Result<i64, DbError> {
    let n = match v {
        Value::Int(n) | Value::BigInt(n) => *n,
        // 2^63 is exactly representable; anything >= it is out of range.
        Value::Float(f) => f64_to_int(
            i,
            *f,
            -9.223_372_036_854_776e18,
            9.223_372_036_854_775e18,
            what,
        )?,
        Value::Text(s) | Value::Decimal(s) => match s.trim().parse::<i64>() {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
                ) =>
            {
                return Err(DbError::param(
                    DbErrorKind::ParamRange,
                    i,
                    format!("the string is out of range for {what}"),
                ))
            }
            Err(_) => {
                return Err(DbError::param(
                    DbErrorKind::ParamValue,
                    i,
                    format!("the string is not a valid {what}"),
                ))
            }
        },
        other => return Err(mismatch(i, other, what)),
    };
    if n < min || n > max {
        return Err(DbError::param(
            DbErrorKind::ParamRange,
            i,
            format!("the value is out of range for {what}"),
        ));
    }
    Ok(n)
}

pub(super) fn mismatch(i: usize, v: &Value, what: &str) -> DbError {
    DbError::param(
        DbErrorKind::ParamType,
        i,
        format!("{} cannot be bound to a {what} parameter", v.type_name()),
    )
}

pub(super) fn bad(i: usize, what: &str) -> DbError {
    DbError::param(
        DbErrorKind::ParamValue,
        i,
        format!("the string is not a valid {what}"),
    )
}

/// Text for a text parameter, as node-postgres would send it.
pub(super) fn to_text(i: usize, v: &Value) -> Result<String, DbError> {
    Ok(match v {
        Value::Text(s) | Value::Decimal(s) | Value::Special(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) | Value::BigInt(n) => n.to_string(),
        Value::Float(f) => js_number_text(*f),
        Value::Json(j) => j.to_string(),
        Value::Timestamp(t) => Value::iso_timestamp(t),
        Value::DateTime(t) => Value::iso_datetime(t),
        Value::Date(d) => d.to_string(),
        Value::Time(t) => t.format("%H:%M:%S%.f").to_string(),
        Value::Uuid(u) => u.hyphenated().to_string(),
        other => return Err(mismatch(i, other, "text")),
    })
}

/// `String(n)` for the numbers people bind as text (integers print without `.0`).
pub(super) fn js_number_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

pub(super) fn to_json(i: usize, v: &Value) -> Result<serde_json::Value, DbError> {
    use serde_json::Value as J;
    Ok(match v {
        Value::Json(j) => j.clone(),
        Value::Array(_) => v.to_json(),
        Value::Text(s) => serde_json::from_str(s).map_err(|_| {
            DbError::param(
                DbErrorKind::ParamValue,
                i,
                "the string is not valid JSON text",
            )
        })?,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(n) | Value::BigInt(n) => J::from(*n),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| {
                DbError::param(
                    DbErrorKind::ParamValue,
                    i,
                    "a non-finite number is not JSON",
                )
            })?,
        other @ (Value::Timestamp(_)
        | Value::DateTime(_)
        | Value::Date(_)
        | Value::Uuid(_)
        | Value::Decimal(_)) => J::String(to_text(i, other)?),
        other => return Err(mismatch(i, other, "json")),
    })
}

pub(super) fn to_decimal(i: usize, v: &Value) -> Result<BigDecimal, DbError> {
    let text = match v {
        Value::Int(n) | Value::BigInt(n) => return Ok(BigDecimal::from(*n)),
        Value::Float(f) if f.is_finite() => f.to_string(),
        Value::Float(_) => {
            return Err(DbError::param(
                DbErrorKind::ParamValue,
                i,
                "a non-finite number cannot be bound to numeric",
            ))
        }
        Value::Text(s) | Value::Decimal(s) => s.trim().to_string(),
        other => return Err(mismatch(i, other, "numeric")),
    };
    BigDecimal::from_str(&text).map_err(|_| bad(i, "numeric"))
}
