'use strict'
// Shared helpers of the NeuralCircuitBreaker specs (not a spec file itself).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

let counter = 0
/** A fresh path in the temporary directory (nothing is created). */
function tempPath(name) {
  counter += 1
  return path.join(os.tmpdir(), `neural-spec-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}-${name}`)
}

/** Removes `file` and anything left next to it (`file.*.tmp`). */
function removeAll(file) {
  const dir = path.dirname(file)
  const base = path.basename(file)
  for (const entry of fs.readdirSync(dir)) {
    if (entry === base || (entry.startsWith(`${base}.`) && entry.endsWith('.tmp'))) {
      fs.rmSync(path.join(dir, entry), { force: true })
    }
  }
}

/** `n` evenly spaced one-feature rows over [lo, hi]. */
function line(n, lo, hi) {
  return Array.from({ length: n }, (_, i) => [lo + ((hi - lo) * i) / (n - 1)])
}

/** A side x side grid over [lo, hi]², as rows [a, b]. */
function grid(side, lo, hi) {
  const step = (hi - lo) / (side - 1)
  const rows = []
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < side; j++) rows.push([lo + i * step, lo + j * step])
  }
  return rows
}

/**
 * Writes a safetensors file (the format the built-in model saves) by hand: `tensors` maps a
 * name to `{ dtype: 'F32' | 'F64', shape, data }` (data flat, row-major).
 */
function writeSafetensors(file, tensors) {
  const header = {}
  const chunks = []
  let offset = 0
  for (const [name, { dtype, shape, data }] of Object.entries(tensors)) {
    const bytes = dtype === 'F64' ? Buffer.from(new Float64Array(data).buffer) : Buffer.from(new Float32Array(data).buffer)
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] }
    chunks.push(bytes)
    offset += bytes.length
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - (json.length % 8)) % 8)
  const size = Buffer.alloc(8)
  size.writeBigUInt64LE(BigInt(Buffer.byteLength(json)))
  fs.writeFileSync(file, Buffer.concat([size, Buffer.from(json), ...chunks]))
}

/**
 * A model file of the built-in format: `layers` as [weightRows, bias] pairs, inputs and
 * outputs standardised with mean 0 and spread 1 (the network sees the features as they are).
 */
function writeModel(file, layers) {
  const tensors = {}
  layers.forEach(([weight, bias], i) => {
    tensors[`layer${i}.weight`] = { dtype: 'F32', shape: [weight.length, weight[0].length], data: weight.flat() }
    tensors[`layer${i}.bias`] = { dtype: 'F32', shape: [bias.length], data: bias }
  })
  const inputs = layers[0][0][0].length
  const outputs = layers[layers.length - 1][1].length
  for (const [prefix, dim] of [['inputs', inputs], ['outputs', outputs]]) {
    tensors[`${prefix}.mean`] = { dtype: 'F64', shape: [dim], data: new Array(dim).fill(0) }
    tensors[`${prefix}.std`] = { dtype: 'F64', shape: [dim], data: new Array(dim).fill(1) }
  }
  writeSafetensors(file, tensors)
}

module.exports = { tempPath, removeAll, line, grid, writeSafetensors, writeModel }
