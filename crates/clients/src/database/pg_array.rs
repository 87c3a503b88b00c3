//! PostgreSQL array parameters (`WHERE id = ANY($1)`, `unnest($1)`): a JS array (which arrives
//! as JSON) or a [`Value::Array`] bound as a one-dimensional array of the element type the server
//! inferred, encoded in the binary array format with exactly that element type (so `varchar[]`,
//! enum arrays and domain arrays work as well as `text[]`).
//!
//! Elements: text-like and enum types, bool, int2/4/8, float4/8, uuid, timestamptz, timestamp,
//! date, json and jsonb. Nested arrays and other element types are refused.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo};
use sqlx::{Encode, Postgres};

use super::error::{DbError, DbErrorKind};
use super::parse::{parse_bool, parse_date, parse_naive_datetime, parse_timestamp};
use super::pg_convert::{bad, base_of, mismatch, to_i64, to_json, to_text};
use super::pg_decode::{oid, pg_epoch};
use super::value::Value;

/// A one-dimensional array, elements already encoded.
pub(super) struct PgArray {
    elem_oid: u32,
    items: Vec<Option<Vec<u8>>>,
}

impl Encode<'_, Postgres> for PgArray {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let has_null = self.items.iter().any(Option::is_none);
        let ndim: i32 = if self.items.is_empty() { 0 } else { 1 };
        buf.extend_from_slice(&ndim.to_be_bytes());
        buf.extend_from_slice(&i32::from(has_null).to_be_bytes());
        buf.extend_from_slice(&self.elem_oid.to_be_bytes());
        if ndim == 1 {
            buf.extend_from_slice(&i32::try_from(self.items.len())?.to_be_bytes());
            buf.extend_from_slice(&1i32.to_be_bytes()); // lower bound
        }
        for item in &self.items {
            match item {
                None => buf.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(bytes) => {
                    buf.extend_from_slice(&i32::try_from(bytes.len())?.to_be_bytes());
                    buf.extend_from_slice(bytes);
                }
            }
        }
        Ok(IsNull::No)
    }
}

/// The elements of an array parameter.
fn elements(i: usize, v: &Value) -> Result<Vec<Value>, DbError> {
    match v {
        Value::Array(items) => Ok(items.clone()),
        Value::Json(serde_json::Value::Array(items)) => Ok(items.iter().map(from_json).collect()),
        other => Err(mismatch(i, other, "array")),
    }
}

fn from_json(j: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => n
            .as_i64()
            .map(Value::BigInt)
            .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN))),
        J::String(s) => Value::Text(s.clone()),
        other => Value::Json(other.clone()),
    }
}

fn micros_since_pg_epoch(t: chrono::NaiveDateTime, i: usize) -> Result<[u8; 8], DbError> {
    (t - pg_epoch())
        .num_microseconds()
        .map(i64::to_be_bytes)
        .ok_or_else(|| DbError::param(DbErrorKind::ParamRange, i, "a timestamp is out of range"))
}

/// Encodes one element as the binary value of `base` (`None`: the element type is not one this
/// client encodes).
fn element(
    i: usize,
    v: &Value,
    base: Option<u32>,
    is_enum: bool,
) -> Result<Option<Vec<u8>>, DbError> {
    if is_enum {
        return Ok(Some(to_text(i, v)?.into_bytes()));
    }
    let Some(base) = base else { return Ok(None) };
    let nested = || DbError::param(DbErrorKind::ParamType, i, "nested arrays are not supported");
    if matches!(
        v,
        Value::Json(serde_json::Value::Array(_)) | Value::Array(_)
    ) && !matches!(base, oid::JSON | oid::JSONB)
    {
        return Err(nested());
    }
    Ok(Some(match base {
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::UNKNOWN => {
            to_text(i, v)?.into_bytes()
        }
        oid::BOOL => {
            let b = match v {
                Value::Bool(b) => *b,
                Value::Text(s) => parse_bool(s).ok_or_else(|| bad(i, "boolean"))?,
                other => return Err(mismatch(i, other, "boolean")),
            };
            vec![u8::from(b)]
        }
        oid::INT2 => (to_i64(i, v, "smallint", i16::MIN.into(), i16::MAX.into())? as i16)
            .to_be_bytes()
            .to_vec(),
        oid::INT4 => (to_i64(i, v, "integer", i32::MIN.into(), i32::MAX.into())? as i32)
            .to_be_bytes()
            .to_vec(),
        oid::INT8 => to_i64(i, v, "bigint", i64::MIN, i64::MAX)?
            .to_be_bytes()
            .to_vec(),
        oid::FLOAT4 | oid::FLOAT8 => {
            let f = match v {
                Value::Float(f) => *f,
                Value::Int(n) | Value::BigInt(n) => *n as f64,
                Value::Text(s) => s
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| bad(i, "floating-point number"))?,
                other => return Err(mismatch(i, other, "floating-point")),
            };
            if base == oid::FLOAT4 {
                (f as f32).to_be_bytes().to_vec()
            } else {
                f.to_be_bytes().to_vec()
            }
        }
        oid::UUID => match v {
            Value::Uuid(u) => u.as_bytes().to_vec(),
            Value::Text(s) => uuid::Uuid::parse_str(s.trim())
                .map_err(|_| bad(i, "UUID"))?
                .as_bytes()
                .to_vec(),
            other => return Err(mismatch(i, other, "uuid")),
        },
        oid::TIMESTAMPTZ => {
            let t = match v {
                Value::Timestamp(t) => *t,
                Value::Text(s) => parse_timestamp(s).ok_or_else(|| bad(i, "timestamp"))?,
                other => return Err(mismatch(i, other, "timestamptz")),
            };
            micros_since_pg_epoch(t.naive_utc(), i)?.to_vec()
        }
        oid::TIMESTAMP => {
            let t = match v {
                Value::Timestamp(t) => t.naive_utc(),
                Value::DateTime(t) => *t,
                Value::Text(s) => parse_naive_datetime(s).ok_or_else(|| bad(i, "timestamp"))?,
                other => return Err(mismatch(i, other, "timestamp")),
            };
            micros_since_pg_epoch(t, i)?.to_vec()
        }
        oid::DATE => {
            let d = match v {
                Value::Date(d) => *d,
                Value::Timestamp(t) => t.date_naive(),
                Value::Text(s) => parse_date(s).ok_or_else(|| bad(i, "date"))?,
                other => return Err(mismatch(i, other, "date")),
            };
            let days = i32::try_from((d - pg_epoch().date()).num_days()).map_err(|_| {
                DbError::param(DbErrorKind::ParamRange, i, "a date is out of range")
            })?;
            days.to_be_bytes().to_vec()
        }
        oid::JSON => to_json(i, v)?.to_string().into_bytes(),
        oid::JSONB => {
            let mut out = vec![1u8];
            out.extend_from_slice(to_json(i, v)?.to_string().as_bytes());
            out
        }
        _ => return Ok(None),
    }))
}

/// The array parameter `v` for an array parameter whose element type is `elem`.
pub(super) fn to_array(
    i: usize,
    v: &Value,
    ty: &PgTypeInfo,
    elem: &PgTypeInfo,
) -> Result<PgArray, DbError> {
    let unsupported = || {
        DbError::param(
            DbErrorKind::ParamType,
            i,
            format!(
                "PostgreSQL type {} is not supported as a parameter",
                sqlx::TypeInfo::name(ty)
            ),
        )
    };
    let elem_oid = elem.oid().ok_or_else(unsupported)?.0;
    let (base, is_enum) = base_of(elem);
    let mut items = Vec::new();
    for item in elements(i, v)? {
        if matches!(item, Value::Null) {
            items.push(None);
            continue;
        }
        items.push(Some(
            element(i, &item, base, is_enum)?.ok_or_else(unsupported)?,
        ));
    }
    Ok(PgArray { elem_oid, items })
}
