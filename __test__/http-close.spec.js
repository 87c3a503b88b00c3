'use strict'
// ApiCircuitBreaker.close() (issue 9: 2,000 breakers left up to 740 keep-alive sockets open):
// later and in-flight requests reject with HttpError ERR_HTTP_CLOSED without counting against
// the service, close twice resolves, and the server sees every connection closed. The server's
// count is read until it is 0 (bounded, for a broken build), never timed.
const test = require('ava')
const { ApiCircuitBreaker, E2BSandboxCircuitBreaker, NeuralCircuitBreaker, HttpError } = require('../resilience.js')
const { uniqueName, sleep } = require('./_helpers.js')
const { startServer } = require('./_http-server.js')
const { startInferenceServer } = require('./support/inference-server.js')

function makeApi(options = {}) {
  return new ApiCircuitBreaker(uniqueName('api-close'), { proxyFromEnv: false, failureThreshold: 1, ...options })
}

/** The server's open connections once they reach 0, or after 10 s, whichever is first. */
async function drained(server) {
  for (let i = 0; i < 1000; i++) {
    if ((await server.openConnections()) === 0) return 0
    await sleep(10)
  }
  return server.openConnections()
}

test('after close() requests reject with ERR_HTTP_CLOSED, close twice resolves, the socket is closed', async (t) => {
  const server = await startServer({ keepAliveTimeout: 120000 })
  t.teardown(() => server.close())
  const api = makeApi()
  await api.get(server.url('/json'))
  t.is(await server.openConnections(), 1, 'a keep-alive connection')

  t.is(await api.close(), undefined)
  t.is(await drained(server), 0)
  const err = await t.throwsAsync(api.get(server.url('/json')), { instanceOf: HttpError })
  t.is(err.code, 'ERR_HTTP_CLOSED')
  t.is(server.state.requests, 1, 'nothing more was sent')
  t.is(api.state, 'CLOSED', 'not counted against the service (threshold 1)')
  t.is(api.getMetrics().failedCalls, 0)

  await api.close()
  await api[Symbol.asyncDispose]()
  t.is((await t.throwsAsync(api.request({ url: server.url('/json') }))).code, 'ERR_HTTP_CLOSED')
})

test('close() cancels a request in flight', async (t) => {
  const server = await startServer({ keepAliveTimeout: 120000 })
  t.teardown(() => server.close())
  const api = makeApi()
  const pending = api.get(server.url('/hang'))
  while (server.state.requests === 0) await sleep(5)
  await api.close()
  const err = await t.throwsAsync(pending, { instanceOf: HttpError })
  t.is(err.code, 'ERR_HTTP_CLOSED')
  t.is(api.state, 'CLOSED')
  t.is(await drained(server), 0)
})

test('200 breakers created, used and closed leave no connection open', async (t) => {
  const server = await startServer({ keepAliveTimeout: 120000 })
  t.teardown(() => server.close())
  const apis = Array.from({ length: 200 }, () => makeApi())
  await Promise.all(apis.map((api) => api.get(server.url('/json'))))
  t.is(await server.openConnections(), 200)
  await Promise.all(apis.map((api) => api.close()))
  t.is(await drained(server), 0)
})

test('Symbol.asyncDispose is close() (await using)', async (t) => {
  const server = await startServer({ keepAliveTimeout: 120000 })
  t.teardown(() => server.close())
  const api = makeApi()
  t.is(typeof api[Symbol.asyncDispose], 'function')
  await api.get(server.url('/json'))
  await api[Symbol.asyncDispose]()
  t.is((await t.throwsAsync(api.get(server.url('/json')))).code, 'ERR_HTTP_CLOSED')
  t.is(await drained(server), 0)
  const e2b = new E2BSandboxCircuitBreaker({ name: uniqueName('e2b-close'), apiKey: 'e2b_x', proxyFromEnv: false })
  t.is(typeof e2b[Symbol.asyncDispose], 'function')
  await e2b[Symbol.asyncDispose]()
  await e2b.close()
  t.is((await t.throwsAsync(e2b.listSandboxes())).code, 'ERR_HTTP_CLOSED')
})

test('NeuralCircuitBreaker.close() closes a model server client; the built-in model has none', async (t) => {
  const s = await startInferenceServer({ models: { m: { weights: [1, 2], bias: 0 } } })
  t.teardown(() => s.close())
  const remote = new NeuralCircuitBreaker(uniqueName('nn-close'), { endpoint: s.url, protocol: 'v2', model: 'm', proxyFromEnv: false })
  t.deepEqual(await remote.predict([1, 1]), [3])
  await remote[Symbol.asyncDispose]()
  await remote.close()
  const err = await t.throwsAsync(remote.predict([1, 1]), { instanceOf: HttpError })
  t.is(err.code, 'ERR_HTTP_CLOSED')
  t.is(remote.getMetrics().failedCalls, 0)
  const builtin = new NeuralCircuitBreaker(uniqueName('nn-builtin'))
  t.is(await builtin.close(), undefined)
})
