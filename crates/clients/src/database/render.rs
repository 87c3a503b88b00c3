//! Rows rendered for JavaScript the way node-postgres returns them, as JSON text that the
//! engine's own `JSON.parse` turns into objects (much cheaper than building each cell through
//! N-API), plus a few patches for what JSON cannot carry: bytes (`Buffer`s) and non-finite
//! floats.
//!
//! int8, BIGINT and numeric/DECIMAL are strings; other integers and floats numbers; timestamps
//! ISO 8601 strings; dates `YYYY-MM-DD`; JSON documents parsed. When two columns share a name
//! the last one wins, as in pg.

use std::io::Write as _;

use super::value::{Rows, Value};

/// A cell JSON cannot carry, to set after parsing.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchValue {
    /// Bytes, as a `Buffer`.
    Bytes(Vec<u8>),
    /// `NaN`, `Infinity` or `-Infinity`.
    Number(f64),
}

/// Where a patch goes: row, column name, then indices into nested arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// The row.
    pub row: u32,
    /// The column's name.
    pub column: String,
    /// Indices into nested arrays (empty for the cell itself).
    pub path: Vec<u32>,
    /// The value.
    pub value: PatchValue,
}

/// Rows as JSON text (an array of objects) plus patches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsRows {
    /// `[{"col": value, ...}, ...]`.
    pub json: String,
    /// Cells to set after parsing, in order.
    pub patches: Vec<Patch>,
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing a &str to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

struct Cursor<'a> {
    out: Vec<u8>,
    patches: Vec<Patch>,
    row: u32,
    column: &'a str,
    path: Vec<u32>,
}

impl Cursor<'_> {
    fn patch(&mut self, value: PatchValue) {
        self.out.extend_from_slice(b"null");
        self.patches.push(Patch {
            row: self.row,
            column: self.column.to_string(),
            path: self.path.clone(),
            value,
        });
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Bool(b) => self
                .out
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(n) => {
                let _ = write!(self.out, "{n}");
            }
            Value::BigInt(n) => {
                let _ = write!(self.out, "\"{n}\"");
            }
            Value::Float(f) if f.is_finite() => {
                let _ = serde_json::to_writer(&mut self.out, f);
            }
            Value::Float(f) => self.patch(PatchValue::Number(*f)),
            Value::Decimal(s) | Value::Text(s) | Value::Special(s) => write_str(&mut self.out, s),
            Value::Bytes(b) => self.patch(PatchValue::Bytes(b.clone())),
            Value::Json(j) => {
                let _ = serde_json::to_writer(&mut self.out, j);
            }
            Value::Timestamp(t) => write_str(&mut self.out, &Value::iso_timestamp(t)),
            Value::DateTime(t) => write_str(&mut self.out, &Value::iso_datetime(t)),
            Value::Date(d) => write_str(&mut self.out, &d.to_string()),
            Value::Time(t) => write_str(&mut self.out, &t.format("%H:%M:%S%.f").to_string()),
            Value::Uuid(u) => write_str(&mut self.out, &u.hyphenated().to_string()),
            Value::Array(items) => {
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.path.push(i as u32);
                    self.value(item);
                    self.path.pop();
                }
                self.out.push(b']');
            }
        }
    }
}

impl Rows {
    /// Renders the rows for JavaScript (see the module docs).
    pub fn to_js(&self) -> JsRows {
        // Only the last of several columns with one name is kept.
        let keep: Vec<bool> = (0..self.columns.len())
            .map(|i| !self.columns[i + 1..].contains(&self.columns[i]))
            .collect();
        let mut c = Cursor {
            out: Vec::with_capacity(64 + self.rows.len() * self.columns.len() * 16),
            patches: Vec::new(),
            row: 0,
            column: "",
            path: Vec::new(),
        };
        c.out.push(b'[');
        for (r, row) in self.rows.iter().enumerate() {
            if r > 0 {
                c.out.push(b',');
            }
            c.out.push(b'{');
            c.row = r as u32;
            let mut first = true;
            for ((name, value), keep) in self.columns.iter().zip(row).zip(&keep) {
                if !keep {
                    continue;
                }
                if !first {
                    c.out.push(b',');
                }
                first = false;
                write_str(&mut c.out, name);
                c.out.push(b':');
                c.column = name;
                c.value(value);
            }
            c.out.push(b'}');
        }
        c.out.push(b']');
        JsRows {
            // Only valid UTF-8 was written (serde_json escapes, ASCII punctuation).
            json: String::from_utf8(c.out).unwrap_or_default(),
            patches: c.patches,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_node_postgres() {
        let rows = Rows {
            columns: vec!["a".into(), "b".into(), "a".into(), "c".into(), "d".into()].into(),
            rows: vec![vec![
                Value::Int(1),
                Value::BigInt(9_007_199_254_740_993),
                Value::Text("x\"y".into()),
                Value::Bytes(vec![1]),
                Value::Array(vec![Value::Float(f64::NAN), Value::Decimal("1.50".into())]),
            ]],
        };
        let js = rows.to_js();
        assert_eq!(
            js.json,
            r#"[{"b":"9007199254740993","a":"x\"y","c":null,"d":[null,"1.50"]}]"#
        );
        assert_eq!(js.patches.len(), 2);
        assert_eq!(js.patches[0].column, "c");
        assert_eq!(js.patches[1].path, vec![0]);
    }
}
