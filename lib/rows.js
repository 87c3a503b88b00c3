'use strict'
// The row objects of database query results: `buildRows`, which resilience.js registers with
// the binding (`__setJsHelpers`) and which src/database/rows.rs calls on the JS thread for each
// result.
//
// The binding hands over every cell of a result as one flat JSON array (or the parsed array,
// when the result had cells JSON cannot carry: bytes, non-finite floats), plus the column names
// as a JSON array. `JSON.parse` of the flat array measured ~3x cheaper than of an array of row
// objects, and the rows are then made here with one constructor per list of column names,
// cached (at most MAX_ROW_SHAPES lists, then the cache starts over). The names are arguments of
// the generated function, never part of its source, and computed keys define own properties (a
// column named `__proto__` is a plain property); a repeated name keeps its first position and
// its last value, as node-postgres does. Without this helper (the bare generated binding) the
// binding builds the same rows itself through N-API.
//
// This module imports nothing.

const MAX_ROW_SHAPES = 256
const rowShapes = new Map()

/** The function that makes `count` rows of `columnCount` cells each from a flat array. */
function rowShape(columns, columnCount) {
  let make = rowShapes.get(columns)
  if (make === undefined) {
    const names = JSON.parse(columns)
    const keys = names.map((_, j) => `k${j}`)
    const fields = names.map((_, j) => `[k${j}]: v[i + ${j}]`).join(', ')
    const body = `return function rows(v, count) {
      const out = new Array(count)
      for (let r = 0, i = 0; r < count; r++, i += ${columnCount}) out[r] = { ${fields} }
      return out
    }`
    make = new Function(...keys, body)(...names)
    if (rowShapes.size >= MAX_ROW_SHAPES) rowShapes.clear()
    rowShapes.set(columns, make)
  }
  return make
}

/** The rows of a result: `columns` (JSON array of names), cells as JSON text or parsed array. */
function buildRows(columns, columnCount, rowCount, cells) {
  const values = typeof cells === 'string' ? JSON.parse(cells) : cells
  return rowShape(columns, columnCount)(values, rowCount)
}

module.exports = { buildRows }
