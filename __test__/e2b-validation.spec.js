'use strict'
// Bad arguments to E2BSandboxCircuitBreaker: the constructor throws TypeError / RangeError with
// a Node.js-style code; call methods never throw but reject, send nothing and count nothing.
const test = require('ava')
const { E2BSandboxCircuitBreaker } = require('../resilience.js')
const { KEY, e2bServer, client } = require('./_e2b.js')

function throwsCode(t, fn, Class, code) {
  const err = t.throws(fn)
  t.true(err instanceof Class, `${err?.name}: ${err?.message}`)
  t.is(err.code, code, err.message)
  return err
}

test('the constructor refuses bad options', (t) => {
  const make = (options) => () => new E2BSandboxCircuitBreaker(options)
  throwsCode(t, make('nope'), TypeError, 'ERR_INVALID_ARG_TYPE')
  throwsCode(t, make({ apiKey: 42 }), TypeError, 'ERR_INVALID_ARG_TYPE')
  throwsCode(t, make({ apiKey: KEY, bogus: 1 }), TypeError, 'ERR_INVALID_ARG_VALUE')
  throwsCode(t, make({ apiKey: KEY, apiUrl: 'not a url' }), TypeError, 'ERR_INVALID_URL')
  throwsCode(t, make({ apiKey: KEY, sandboxUrl: 'ftp://example.test' }), TypeError, 'ERR_INVALID_URL')
  throwsCode(t, make({ apiKey: KEY, domain: 'e2b.app/x' }), TypeError, 'ERR_INVALID_ARG_VALUE')
  throwsCode(t, make({ apiKey: KEY, domain: 7 }), TypeError, 'ERR_INVALID_ARG_TYPE')
  throwsCode(t, make({ apiKey: KEY, timeout: -1 }), RangeError, 'ERR_OUT_OF_RANGE')
  throwsCode(t, make({ apiKey: KEY, failureThreshold: 0 }), RangeError, 'ERR_OUT_OF_RANGE')
  throwsCode(t, make({ apiKey: KEY, proxyFromEnv: 'no' }), TypeError, 'ERR_INVALID_ARG_TYPE')
  throwsCode(t, make({ apiKey: KEY, name: '' }), TypeError, 'ERR_INVALID_ARG_VALUE')
  const badKey = throwsCode(t, make({ apiKey: 'e2b_se\ncret' }), TypeError, 'ERR_INVALID_ARG_VALUE')
  t.false(badKey.message.includes('cret'))
  t.notThrows(make(undefined))
  t.notThrows(make(null))
  t.notThrows(make({ apiKey: KEY, timeout: undefined }))
})

test('call methods reject bad arguments without sending or counting anything', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s)
  const cases = [
    [() => e2b.createSandbox(5), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => e2b.createSandbox(''), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => e2b.createSandbox('base', 'x'), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => e2b.createSandbox('base', { timeout: 1.5 }), RangeError, 'ERR_OUT_OF_RANGE'],
    [() => e2b.createSandbox('base', { timeout: -1 }), RangeError, 'ERR_OUT_OF_RANGE'],
    [() => e2b.createSandbox('base', { timeout: '60' }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => e2b.createSandbox('base', { metadata: { a: 1 } }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => e2b.createSandbox('base', { envVars: [] }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => e2b.createSandbox('base', { bogus: true }), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => e2b.executeCode(), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => e2b.executeCode(42, 'print(1)'), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => e2b.executeCode('abc'), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => e2b.executeCode('abc', 'x', { timeout: 0 }), RangeError, 'ERR_OUT_OF_RANGE'],
    [() => e2b.executeCode('abc', 'x', { language: 1 }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => e2b.executeCode('abc', 'x', { envs: {} }), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => e2b.executeCode('abc', 'x', { language: 'python', contextId: 'c1' }), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => e2b.executeCode('../sandboxes', 'x'), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => e2b.executeCode('', 'x'), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => e2b.stopSandbox(null), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => e2b.stopSandbox('a b'), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => e2b.setSandboxTimeout('abc'), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => e2b.setSandboxTimeout('abc', 2 ** 31), RangeError, 'ERR_OUT_OF_RANGE'],
    [() => e2b.setSandboxTimeout('abc', NaN), RangeError, 'ERR_OUT_OF_RANGE'],
    [() => e2b.setSandboxTimeout('a.b', 10), TypeError, 'ERR_INVALID_ARG_VALUE'],
  ]
  for (const [call, Class, code] of cases) {
    let promise
    t.notThrows(() => {
      promise = call()
    }, call.toString())
    t.true(promise instanceof Promise)
    const err = await t.throwsAsync(promise, undefined, call.toString())
    t.true(err instanceof Class, `${call}: ${err.name} ${err.message}`)
    t.is(err.code, code, `${call}: ${err.message}`)
  }
  t.deepEqual(s.requests, [])
  t.is(e2b.getMetrics().totalCalls, 0)
})
