// The package from require() in the same suite: one set of classes for import and require.
import { createRequire } from 'node:module'
import { expect, test } from 'vitest'
import * as esm from '@neural-trader/resilience'

const require = createRequire(import.meta.url)

test('require() and import give the same classes', () => {
  const cjs = require('@neural-trader/resilience')
  expect(cjs.CircuitBreaker).toBe(esm.CircuitBreaker)
  expect(cjs.CircuitOpenError).toBe(esm.CircuitOpenError)
})
