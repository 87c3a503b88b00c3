//! PostgreSQL cells, decoded from the binary wire format by the column's type OID.
//!
//! Decoded here rather than through sqlx's `Decode` impls for three reasons: numeric keeps
//! exactly the digits and scale PostgreSQL printed (`1.50`, `NaN`), `infinity` timestamps and
//! dates come back as the strings PostgreSQL prints instead of overflowing chrono, and arrays of
//! any supported element type (of any dimension) decode with the same code. Every read checks
//! its length, so a malformed value is an error, never a panic.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use sqlx::postgres::{PgColumn, PgRow, PgTypeInfo, PgTypeKind, PgValueFormat, PgValueRef};
use sqlx::{Column, Row, TypeInfo, ValueRef};
use uuid::Uuid;

use super::error::{DbError, DbErrorKind};
use super::render::{CellWriter, JsRows};
use super::value::{Rows, Value};

/// Type OIDs of the built-in types this client maps.
pub(crate) mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const XML: u32 = 142;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const UNKNOWN: u32 = 705;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    /// `void`, the type of `pg_sleep()` and other functions that return nothing: `''`, as
    /// node-postgres gives it.
    pub const VOID: u32 = 2278;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

type Decoded = Result<Value, String>;

/// What a type decodes as: a built-in OID, an enum (text on the wire), or an array of one.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Scalar(u32),
    Text,
    Array(Box<Shape>),
}

/// The shape of `ty`, or `None` if this client does not map it.
pub(crate) fn shape_of(ty: &PgTypeInfo) -> Option<Shape> {
    match ty.kind() {
        PgTypeKind::Enum(_) => return Some(Shape::Text),
        PgTypeKind::Domain(base) => return shape_of(base),
        PgTypeKind::Array(elem) => return shape_of(elem).map(|s| Shape::Array(Box::new(s))),
        _ => {}
    }
    let oid = ty.oid()?.0;
    if let Some(elem) = array_element(oid) {
        return Some(Shape::Array(Box::new(Shape::Scalar(elem))));
    }
    if ty.name().eq_ignore_ascii_case("citext") {
        return Some(Shape::Text);
    }
    use oid::*;
    matches!(
        oid,
        BOOL | BYTEA
            | VOID
            | NAME
            | INT8
            | INT2
            | INT4
            | TEXT
            | OID
            | JSON
            | XML
            | FLOAT4
            | FLOAT8
            | UNKNOWN
            | BPCHAR
            | VARCHAR
            | DATE
            | TIME
            | TIMESTAMP
            | TIMESTAMPTZ
            | NUMERIC
            | UUID
            | JSONB
    )
    .then_some(Shape::Scalar(oid))
}

/// Element OIDs of the built-in array types this client maps.
fn array_element(array_oid: u32) -> Option<u32> {
    use oid::*;
    Some(match array_oid {
        1000 => BOOL,
        1001 => BYTEA,
        1003 => NAME,
        1016 => INT8,
        1005 => INT2,
        1007 => INT4,
        1009 => TEXT,
        1028 => OID,
        199 => JSON,
        1021 => FLOAT4,
        1022 => FLOAT8,
        1014 => BPCHAR,
        1015 => VARCHAR,
        1182 => DATE,
        1183 => TIME,
        1115 => TIMESTAMP,
        1185 => TIMESTAMPTZ,
        1231 => NUMERIC,
        2951 => UUID,
        3807 => JSONB,
        _ => return None,
    })
}

fn take<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes
        .get(..N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("expected {N} bytes, got {}", bytes.len()))
}

fn exact<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes
        .try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", bytes.len()))
}

fn utf8(bytes: &[u8]) -> Result<String, String> {
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|e| e.to_string())
}

/// 2000-01-01 00:00:00, PostgreSQL's epoch.
pub(crate) fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

fn timestamp(bytes: &[u8]) -> Result<Result<NaiveDateTime, &'static str>, String> {
    let us = i64::from_be_bytes(exact::<8>(bytes)?);
    Ok(match us {
        i64::MAX => Err("infinity"),
        i64::MIN => Err("-infinity"),
        _ => Ok(pg_epoch()
            .checked_add_signed(TimeDelta::microseconds(us))
            .ok_or("timestamp out of range")?),
    })
}

/// Decodes one binary scalar of type `oid`.
fn scalar(oid: u32, bytes: &[u8]) -> Decoded {
    use oid::*;
    Ok(match oid {
        BOOL => Value::Bool(exact::<1>(bytes)?[0] != 0),
        INT2 => Value::Int(i16::from_be_bytes(exact(bytes)?).into()),
        INT4 => Value::Int(i32::from_be_bytes(exact(bytes)?).into()),
        OID => Value::Int(u32::from_be_bytes(exact(bytes)?).into()),
        INT8 => Value::BigInt(i64::from_be_bytes(exact(bytes)?)),
        FLOAT4 => Value::Float(f32::from_be_bytes(exact(bytes)?).into()),
        FLOAT8 => Value::Float(f64::from_be_bytes(exact(bytes)?)),
        NUMERIC => numeric(bytes)?,
        BYTEA => Value::Bytes(bytes.to_vec()),
        VOID => Value::Text(String::new()),
        JSON => Value::Json(serde_json::from_slice(bytes).map_err(|e| e.to_string())?),
        JSONB => match bytes.split_first() {
            Some((1, rest)) => {
                Value::Json(serde_json::from_slice(rest).map_err(|e| e.to_string())?)
            }
            _ => return Err("unknown jsonb version".into()),
        },
        UUID => Value::Uuid(Uuid::from_bytes(exact(bytes)?)),
        DATE => match i32::from_be_bytes(exact(bytes)?) {
            i32::MAX => Value::Special("infinity".into()),
            i32::MIN => Value::Special("-infinity".into()),
            days => Value::Date(
                pg_epoch()
                    .date()
                    .checked_add_signed(TimeDelta::days(days.into()))
                    .ok_or("date out of range")?,
            ),
        },
        TIME => {
            let us = i64::from_be_bytes(exact(bytes)?);
            let secs = u32::try_from(us.div_euclid(1_000_000)).map_err(|_| "time out of range")?;
            let nanos = (us.rem_euclid(1_000_000) * 1000) as u32;
            Value::Time(
                NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
                    .ok_or("time out of range")?,
            )
        }
        TIMESTAMP => match timestamp(bytes)? {
            Ok(t) => Value::DateTime(t),
            Err(special) => Value::Special(special.into()),
        },
        TIMESTAMPTZ => match timestamp(bytes)? {
            Ok(t) => Value::Timestamp(DateTime::<Utc>::from_naive_utc_and_offset(t, Utc)),
            Err(special) => Value::Special(special.into()),
        },
        _ => Value::Text(utf8(bytes)?),
    })
}

/// The text PostgreSQL prints for a binary numeric: every digit and the scale, or
/// `NaN` / `Infinity` / `-Infinity`.
fn numeric(bytes: &[u8]) -> Decoded {
    let header = take::<8>(bytes)?;
    let ndigits = i16::from_be_bytes([header[0], header[1]]);
    let weight = i16::from_be_bytes([header[2], header[3]]) as i32;
    let sign = u16::from_be_bytes([header[4], header[5]]);
    let dscale = u16::from_be_bytes([header[6], header[7]]) as usize;
    let body = &bytes[8..];
    if ndigits < 0 || body.len() != ndigits as usize * 2 {
        return Err("malformed numeric".into());
    }
    let digit = |i: i32| -> i32 {
        if i < 0 || i >= ndigits as i32 {
            0
        } else {
            let at = i as usize * 2;
            i16::from_be_bytes([body[at], body[at + 1]]) as i32
        }
    };
    let mut s = String::new();
    match sign {
        0x0000 => {}
        0x4000 => s.push('-'),
        0xC000 => return Ok(Value::Decimal("NaN".into())),
        0xD000 => return Ok(Value::Decimal("Infinity".into())),
        0xF000 => return Ok(Value::Decimal("-Infinity".into())),
        _ => return Err("malformed numeric sign".into()),
    }
    if weight < 0 {
        s.push('0');
    } else {
        for i in 0..=weight {
            let _ = if i == 0 {
                write!(s, "{}", digit(i))
            } else {
                write!(s, "{:04}", digit(i))
            };
        }
    }
    if dscale > 0 {
        s.push('.');
        let start = s.len();
        let mut i = weight + 1;
        while s.len() - start < dscale {
            let _ = write!(s, "{:04}", digit(i));
            i += 1;
        }
        s.truncate(start + dscale);
    }
    Ok(Value::Decimal(s))
}

/// Decodes a binary array: dimensions, then elements, nested per dimension.
fn array(elem: &Shape, bytes: &[u8]) -> Decoded {
    let ndim = i32::from_be_bytes(take(bytes)?);
    let mut at = 12usize; // ndim, has-null flag, element oid
    if ndim == 0 {
        return Ok(Value::Array(Vec::new()));
    }
    let ndim = usize::try_from(ndim).map_err(|_| "malformed array")?;
    let mut dims = Vec::with_capacity(ndim);
    for _ in 0..ndim {
        let len = i32::from_be_bytes(take(bytes.get(at..).unwrap_or_default())?);
        dims.push(usize::try_from(len).map_err(|_| "malformed array")?);
        at += 8; // length and lower bound
    }
    let mut flat = Vec::new();
    let total: usize = dims.iter().product();
    for _ in 0..total {
        let len = i32::from_be_bytes(take(bytes.get(at..).unwrap_or_default())?);
        at += 4;
        if len < 0 {
            flat.push(Value::Null);
            continue;
        }
        let end = at + len as usize;
        let item = bytes.get(at..end).ok_or("malformed array")?;
        flat.push(decode_shape(elem, item)?);
        at = end;
    }
    // Nest from the innermost dimension outwards.
    for &d in dims.iter().skip(1).rev() {
        let mut grouped = Vec::with_capacity(flat.len() / d.max(1));
        let mut items = flat.into_iter();
        loop {
            let chunk: Vec<Value> = items.by_ref().take(d).collect();
            if chunk.is_empty() {
                break;
            }
            grouped.push(Value::Array(chunk));
        }
        flat = grouped;
    }
    Ok(Value::Array(flat))
}

fn decode_shape(shape: &Shape, bytes: &[u8]) -> Decoded {
    match shape {
        Shape::Scalar(oid) => scalar(*oid, bytes),
        Shape::Text => Ok(Value::Text(utf8(bytes)?)),
        Shape::Array(elem) => array(elem, bytes),
    }
}

/// What every cell of one column is decoded with, worked out once per result.
struct ColumnDecoder {
    name: String,
    ty: PgTypeInfo,
    shape: Option<Shape>,
}

impl ColumnDecoder {
    fn new(column: &PgColumn) -> Self {
        let ty = column.type_info().clone();
        Self {
            name: column.name().to_string(),
            shape: shape_of(&ty),
            ty,
        }
    }

    fn failed(&self, e: impl std::fmt::Display) -> DbError {
        DbError::new(
            DbErrorKind::Decode,
            format!(
                "Column '{}' ({}) could not be decoded: {e}",
                self.name,
                self.ty.name()
            ),
        )
    }

    /// Writes the cell `value` to `cells`: text straight from the wire (no `String` made), the
    /// rest through [`ColumnDecoder::decode`] (which allocates nothing for numbers and
    /// booleans).
    fn render(&self, value: PgValueRef<'_>, cells: &mut CellWriter) -> Result<(), DbError> {
        use oid::*;
        let text_like = matches!(
            self.shape,
            Some(Shape::Text | Shape::Scalar(TEXT | VARCHAR | BPCHAR | NAME | UNKNOWN | XML))
        );
        if text_like && !value.is_null() && value.format() == PgValueFormat::Binary {
            let bytes = value.as_bytes().map_err(|e| self.failed(e))?;
            cells.text(std::str::from_utf8(bytes).map_err(|e| self.failed(e))?);
        } else {
            cells.cell(&self.decode(value)?);
        }
        Ok(())
    }

    fn decode(&self, value: PgValueRef<'_>) -> Result<Value, DbError> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        if value.format() == PgValueFormat::Text {
            return value
                .as_str()
                .map(|s| Value::Text(s.to_string()))
                .map_err(|e| self.failed(e));
        }
        let Some(shape) = &self.shape else {
            return Err(DbError::new(
                DbErrorKind::UnsupportedType,
                format!(
                    "Column '{column}' has PostgreSQL type {}, which has no JavaScript mapping; cast it in SQL (for example {column}::text)",
                    self.ty.name(),
                    column = self.name,
                ),
            ));
        };
        let bytes = value.as_bytes().map_err(|e| self.failed(e))?;
        decode_shape(shape, bytes).map_err(|e| self.failed(e))
    }
}

/// Renders every row for JavaScript (as `decode_rows(rows)?.to_js()` would, without building a
/// [`Value`] for the common scalar types).
pub(crate) fn render_rows(rows: &[PgRow]) -> Result<JsRows, DbError> {
    let Some(first) = rows.first() else {
        return Ok(Rows::default().to_js());
    };
    let decoders: Vec<ColumnDecoder> = first.columns().iter().map(ColumnDecoder::new).collect();
    let mut cells = CellWriter::with_capacity(rows.len() * decoders.len());
    for row in rows {
        for (i, decoder) in decoders.iter().enumerate() {
            let raw = row.try_get_raw(i).map_err(|e| DbError::from_sqlx(e, &[]))?;
            decoder.render(raw, &mut cells)?;
        }
    }
    Ok(cells.finish(decoders.iter().map(|d| d.name.as_str()), rows.len()))
}

/// Decodes every row.
pub(crate) fn decode_rows(rows: Vec<PgRow>) -> Result<Rows, DbError> {
    let Some(first) = rows.first() else {
        return Ok(Rows::default());
    };
    let decoders: Vec<ColumnDecoder> = first.columns().iter().map(ColumnDecoder::new).collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut cells = Vec::with_capacity(decoders.len());
        for (i, decoder) in decoders.iter().enumerate() {
            let raw = row.try_get_raw(i).map_err(|e| DbError::from_sqlx(e, &[]))?;
            cells.push(decoder.decode(raw)?);
        }
        out.push(cells);
    }
    Ok(Rows {
        columns: decoders.into_iter().map(|d| d.name).collect(),
        rows: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(ndigits: i16, weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut b = Vec::new();
        for x in [ndigits as u16, weight as u16, sign, dscale] {
            b.extend_from_slice(&x.to_be_bytes());
        }
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numerics_keep_digits_and_scale() {
        let dec = |b: Vec<u8>| match numeric(&b).unwrap() {
            Value::Decimal(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(dec(num(2, 0, 0, 2, &[1, 5000])), "1.50");
        assert_eq!(dec(num(1, 1, 0x4000, 0, &[1])), "-10000");
        assert_eq!(dec(num(1, -1, 0, 4, &[5])), "0.0005");
        assert_eq!(dec(num(1, -2, 0, 8, &[12])), "0.00000012");
        assert_eq!(dec(num(0, 0, 0, 0, &[])), "0");
        assert_eq!(dec(num(0, 0, 0, 3, &[])), "0.000");
        assert_eq!(dec(num(3, 1, 0, 2, &[12, 3456, 7800])), "123456.78");
        assert_eq!(dec(num(0, 0, 0xC000, 0, &[])), "NaN");
        assert!(numeric(&[0, 1]).is_err());
        assert!(numeric(&num(2, 0, 0, 0, &[1])).is_err());
    }

    #[test]
    fn special_timestamps_and_dates() {
        assert_eq!(
            scalar(oid::TIMESTAMPTZ, &i64::MAX.to_be_bytes()).unwrap(),
            Value::Special("infinity".into())
        );
        assert_eq!(
            scalar(oid::DATE, &i32::MIN.to_be_bytes()).unwrap(),
            Value::Special("-infinity".into())
        );
        assert!(scalar(oid::INT8, &[1, 2]).is_err());
        assert!(scalar(oid::TIMESTAMP, &(i64::MAX - 1).to_be_bytes()).is_err());
    }
}
