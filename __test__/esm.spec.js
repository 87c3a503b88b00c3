'use strict'
// ESM named imports: Node's ESM loader sees the names of resilience.js by reading its source
// (cjs-module-lexer), so every public name must be an `exports.Name = ...` statement there.
// These tests import the entry from ESM the way Node does for an installed package (the packed and
// installed copy is tested in package.spec.js) and compare it with what require() returns.
const test = require('ava')
const path = require('node:path')
const { pathToFileURL } = require('node:url')

const entry = path.join(__dirname, '..', 'resilience.js')
const cjs = require(entry)
const binding = require('../index.js')

test('import * sees exactly the names require() returns, the very same values (one instance)', async (t) => {
  const ns = await import(pathToFileURL(entry).href)
  const named = Object.keys(ns).filter((k) => k !== 'default').sort()
  t.deepEqual(named, Object.keys(cjs).sort())
  for (const name of named) t.is(ns[name], cjs[name], name)
  t.is(ns.default, cjs)
})

test('the exports are the binding without its private functions, plus the error classes', (t) => {
  const internal = Object.keys(binding).filter((k) => k.startsWith('__') && k !== '__napiBindingTarget')
  t.true(internal.includes('__breakerAcquire'), 'the private functions are found on the binding')
  const expected = Object.keys(binding)
    .filter((k) => !internal.includes(k))
    .concat(['CircuitOpenError', 'CircuitTimeoutError', 'HttpError', 'DatabaseError'])
  t.deepEqual(Object.keys(cjs).sort(), expected.sort())
  for (const k of Object.keys(cjs)) {
    t.false(typeof cjs[k] === 'function' && k.startsWith('__'), `${k} is private`)
  }
})

test('named imports from an .mjs file: a call through a breaker, and an open circuit rejected with CircuitOpenError', async (t) => {
  const mod = await import(pathToFileURL(path.join(__dirname, 'fixtures', 'esm-usage.mjs')).href)
  const result = await mod.run(pathToFileURL(entry).href)
  t.deepEqual(result, { value: 42, open: true, code: 'ERR_CIRCUIT_OPEN', state: 'OPEN', sameClass: true })
})
