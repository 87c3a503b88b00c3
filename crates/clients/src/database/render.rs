//! Rows rendered for JavaScript the way node-postgres returns them: every cell as one flat JSON
//! array that the engine's own `JSON.parse` reads (much cheaper than building each cell through
//! N-API, and about three times cheaper to parse than an array of objects, whose keys are parsed
//! again on every row), the column names, and a few patches for what JSON cannot carry: bytes
//! (`Buffer`s) and non-finite floats. The binding turns the cells into one object per row with
//! a constructor made once per list of column names.
//!
//! int8, BIGINT and numeric/DECIMAL are strings; other integers and floats numbers; timestamps
//! ISO 8601 strings; dates `YYYY-MM-DD`; JSON documents parsed. When two columns share a name
//! the last one's value wins, at the first one's position, as in pg.

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

/// Where a patch goes: a cell of the flat array, then indices into nested arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// The cell's index in [`JsRows::cells`] (`row * columns + column`).
    pub cell: u32,
    /// Indices into nested arrays (empty for the cell itself).
    pub path: Vec<u32>,
    /// The value.
    pub value: PatchValue,
}

/// Rows as flat JSON cells plus column names and patches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsRows {
    /// The column names as a JSON array of strings (`["id","symbol"]`), in result order,
    /// duplicates included.
    pub columns: String,
    /// How many columns there are.
    pub column_count: u32,
    /// How many rows there are.
    pub row_count: u32,
    /// Every cell, row after row, as one JSON array (`[1,"a",2,"b"]`).
    pub cells: String,
    /// Cells to set after parsing, in order.
    pub patches: Vec<Patch>,
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing a &str to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes cells one after another into the flat JSON array of a [`JsRows`] (used by
/// [`Rows::to_js`], and by the PostgreSQL decoder to render rows without building [`Value`]s).
pub(crate) struct CellWriter {
    out: Vec<u8>,
    patches: Vec<Patch>,
    cell: u32,
    path: Vec<u32>,
}

impl CellWriter {
    /// A writer for about `cells` cells.
    pub(crate) fn with_capacity(cells: usize) -> Self {
        let mut out = Vec::with_capacity(64 + cells * 12);
        out.push(b'[');
        Self {
            out,
            patches: Vec::new(),
            cell: 0,
            path: Vec::new(),
        }
    }

    /// Starts the next cell.
    fn next(&mut self) {
        if self.cell > 0 {
            self.out.push(b',');
        }
        self.cell += 1;
    }

    /// The next cell: `v`.
    pub(crate) fn cell(&mut self, v: &Value) {
        self.next();
        self.value(v);
    }

    /// The next cell: text (PostgreSQL's text cells, written without building a value).
    #[cfg(feature = "database-postgres")]
    pub(crate) fn text(&mut self, s: &str) {
        self.next();
        write_str(&mut self.out, s);
    }

    /// The rendered rows.
    pub(crate) fn finish<'a>(
        mut self,
        columns: impl ExactSizeIterator<Item = &'a str>,
        row_count: usize,
    ) -> JsRows {
        self.out.push(b']');
        let column_count = columns.len();
        let mut names = Vec::with_capacity(2 + column_count * 12);
        names.push(b'[');
        for (i, name) in columns.enumerate() {
            if i > 0 {
                names.push(b',');
            }
            write_str(&mut names, name);
        }
        names.push(b']');
        JsRows {
            // Only valid UTF-8 was written (serde_json escapes, ASCII punctuation).
            columns: String::from_utf8(names).unwrap_or_default(),
            column_count: column_count as u32,
            row_count: row_count as u32,
            cells: String::from_utf8(self.out).unwrap_or_default(),
            patches: self.patches,
        }
    }

    fn patch(&mut self, value: PatchValue) {
        self.out.extend_from_slice(b"null");
        self.patches.push(Patch {
            cell: self.cell - 1,
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
        let mut cells = CellWriter::with_capacity(self.rows.len() * self.columns.len());
        for value in self.rows.iter().flatten() {
            cells.cell(value);
        }
        cells.finish(self.columns.iter().map(String::as_str), self.rows.len())
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
        assert_eq!(js.columns, r#"["a","b","a","c","d"]"#);
        assert_eq!((js.column_count, js.row_count), (5, 1));
        assert_eq!(
            js.cells,
            r#"[1,"9007199254740993","x\"y",null,[null,"1.50"]]"#
        );
        assert_eq!(js.patches.len(), 2);
        assert_eq!(js.patches[0].cell, 3);
        assert_eq!(js.patches[1].cell, 4);
        assert_eq!(js.patches[1].path, vec![0]);
    }
}
