'use strict'
const test = require('ava')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

test('the generated index.d.ts types the documented usage (tsc --strict)', (t) => {
  const tsc = require.resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types')], { encoding: 'utf8' })
  t.is(r.status, 0, r.stdout + r.stderr)
})

test('index.d.ts declares the public classes and nothing of the private call path', (t) => {
  const dts = require('node:fs').readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  for (const name of ['class CircuitBreaker ', 'class CircuitBreakerRegistry', 'interface CircuitBreakerMetrics', 'interface CircuitBreakerOptions', 'class CircuitOpenError', 'class CircuitTimeoutError', 'call<T>(']) {
    t.true(dts.includes(name), name)
  }
  t.false(dts.includes('__breaker'))
})
