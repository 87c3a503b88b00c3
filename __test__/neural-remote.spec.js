'use strict'
// NeuralCircuitBreaker over a model server, for both protocols (Open Inference Protocol v2 and
// TensorFlow Serving REST), against the protocol-faithful local inference server: predictions,
// and what trips the breaker (503, NaN, refused connections, timeouts) and what does not (404,
// 400). Each test has a server of its own, so that fault rules do not cross.
const test = require('ava')
const { NeuralCircuitBreaker, CircuitOpenError, CircuitTimeoutError, HttpError } = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')
const { closedPort } = require('./_http-server.js')
const { startInferenceServer } = require('./support/inference-server.js')

const MODELS = {
  m: { weights: [1, 2, 3], bias: 0.5, versions: ['1', '2'] }, // y = x0 + 2 x1 + 3 x2 + 0.5
  pair: { weights: [[1, 1], [-1, 1]], bias: [0, 1] },
}
const ROUTE = { v2: 'infer', tfserving: 'predict' }

async function server(t) {
  const s = await startInferenceServer({ models: MODELS })
  t.teardown(() => s.close())
  return s
}

function remote(s, protocol, options = {}) {
  return new NeuralCircuitBreaker(uniqueName(`nn-${protocol}`), {
    endpoint: s.url,
    protocol,
    model: 'm',
    proxyFromEnv: false,
    resetTimeout: 60000,
    ...options,
  })
}

for (const protocol of ['v2', 'tfserving']) {
  test(`${protocol}: predictions, several outputs, a pinned version and headers`, async (t) => {
    const s = await server(t)
    const cb = remote(s, protocol)
    t.is(cb.backend, protocol)
    t.deepEqual(await cb.predict([1, 2, 3]), [14.5])
    t.deepEqual(await cb.predict([-0.5, 0, 0.001]), [0.003])
    t.deepEqual(await remote(s, protocol, { model: 'pair' }).predict([2, 5]), [7, 4])
    const pinned = remote(s, protocol, { version: 1, headers: { authorization: 'Bearer t0ken' } })
    t.deepEqual(await pinned.predict([0, 0, 0]), [0.5])
    // The breaker's name is the model name by default.
    const named = new NeuralCircuitBreaker('m', { endpoint: s.url, protocol, proxyFromEnv: false })
    t.deepEqual(await named.predict([1, 1, 1]), [6.5])

    const paths = s.requests.map((r) => r.path)
    const [infer, pinnedPath, pairPath] =
      protocol === 'v2'
        ? ['/v2/models/m/infer', '/v2/models/m/versions/1/infer', '/v2/models/pair/infer']
        : ['/v1/models/m:predict', '/v1/models/m/versions/1:predict', '/v1/models/pair:predict']
    t.deepEqual(paths, [infer, infer, pairPath, pinnedPath, infer])
    t.is(s.requests[3].headers.authorization, 'Bearer t0ken')
    t.is(cb.getMetrics().successfulCalls, 2)
  })

  test(`${protocol}: 503 opens the circuit`, async (t) => {
    const s = await server(t)
    s.setFault({ route: ROUTE[protocol], status: 503 })
    const cb = remote(s, protocol, { failureThreshold: 2 })
    for (let i = 0; i < 2; i++) {
      const err = await t.throwsAsync(cb.predict([1, 2, 3]))
      t.true(err instanceof HttpError)
      t.is(err.code, 'ERR_HTTP_STATUS')
      t.is(err.status, 503)
      t.is(typeof err.body.error, 'string')
    }
    t.is(cb.state, 'OPEN')
    const sent = s.requests.length
    const err = await t.throwsAsync(cb.predict([1, 2, 3]))
    t.true(err instanceof CircuitOpenError)
    t.is(s.requests.length, sent, 'an open circuit sends nothing')
    const m = cb.getMetrics()
    t.is(m.failedCalls, 2)
    t.is(m.rejectedCalls, 1)
  })

  test(`${protocol}: 404 (unknown model) and 400 (wrong dimension) do not move the circuit`, async (t) => {
    const s = await server(t)
    const missing = remote(s, protocol, { model: 'missing', failureThreshold: 1 })
    const cb = remote(s, protocol, { failureThreshold: 1 })
    for (let i = 0; i < 3; i++) {
      const notFound = await t.throwsAsync(missing.predict([1, 2, 3]))
      t.true(notFound instanceof HttpError)
      t.is(notFound.status, 404)
      t.regex(notFound.body.error, /missing/)
      const badRequest = await t.throwsAsync(cb.predict([1, 2]))
      t.true(badRequest instanceof HttpError)
      t.is(badRequest.status, 400)
    }
    for (const breaker of [missing, cb]) {
      t.is(breaker.state, 'CLOSED')
      t.is(breaker.getMetrics().ignoredCalls, 3)
      t.is(breaker.getMetrics().failedCalls, 0)
    }
    // Features that are not finite numbers are refused before anything is sent.
    const sent = s.requests.length
    const nan = await t.throwsAsync(cb.predict([1, NaN, 3]))
    t.true(nan instanceof TypeError)
    t.is(nan.code, 'ERR_INVALID_ARG_VALUE')
    t.is(s.requests.length, sent)
  })

  test(`${protocol}: NaN and infinite outputs open the circuit`, async (t) => {
    const s = await server(t)
    const cb = remote(s, protocol, { failureThreshold: 3 })
    for (const value of ['NaN', 'Infinity', '-Infinity']) {
      s.setFault({ route: ROUTE[protocol], kind: 'nan', value, times: 1 })
      const err = await t.throwsAsync(cb.predict([1, 2, 3]))
      t.is(err.constructor, Error)
      t.is(err.code, 'ERR_MODEL_NON_FINITE', value)
    }
    t.is(cb.state, 'OPEN')
    t.is(cb.getMetrics().failedCalls, 3)
  })

  test(`${protocol}: an answer without the instance's output opens the circuit`, async (t) => {
    const s = await server(t)
    const cb = remote(s, protocol, { failureThreshold: 1 })
    s.setFault({ route: ROUTE[protocol], kind: 'shape', mode: 'rows', times: 1 })
    const err = await t.throwsAsync(cb.predict([1, 2, 3]))
    t.is(err.code, 'ERR_MODEL_RESPONSE')
    t.is(cb.state, 'OPEN')
  })

  test(`${protocol}: a hung server times out after predictTimeout and opens the circuit`, async (t) => {
    const s = await server(t)
    s.setFault({ route: ROUTE[protocol], kind: 'hang' })
    const cb = remote(s, protocol, { failureThreshold: 2, predictTimeout: 150 })
    for (let i = 0; i < 2; i++) {
      const started = Date.now()
      const err = await t.throwsAsync(cb.predict([1, 2, 3]))
      t.true(err instanceof CircuitTimeoutError)
      t.is(err.code, 'ERR_CIRCUIT_TIMEOUT')
      t.is(err.timeout, 150)
      t.true(Date.now() - started >= 140)
    }
    t.is(cb.state, 'OPEN')
  })

  test(`${protocol}: refused connections open the circuit`, async (t) => {
    const port = await closedPort()
    const cb = new NeuralCircuitBreaker(uniqueName('nn-refused'), {
      endpoint: `http://127.0.0.1:${port}`,
      protocol,
      proxyFromEnv: false,
      failureThreshold: 2,
    })
    for (let i = 0; i < 2; i++) {
      const err = await t.throwsAsync(cb.predict([1, 2, 3]))
      t.true(err instanceof HttpError)
      t.is(err.code, 'ERR_HTTP_CONNECT')
    }
    t.is(cb.state, 'OPEN')
  })
}
