'use strict'
// ApiCircuitBreaker against a real HTTP server on 127.0.0.1 (_http-server.js): requests,
// responses, bodies both ways, caller errors (4xx) that must not trip, and the breaker behind it.
// Failure classes: http-breaker.spec.js; bad input and secrets: http-validation.spec.js;
// worker threads and proxies: http-process.spec.js.
const test = require('ava')
const { ApiCircuitBreaker, CircuitBreaker, HttpError } = require('../resilience.js')
const { uniqueName, settle } = require('./_helpers.js')
const { startServer } = require('./_http-server.js')

let server
test.before(async () => {
  server = await startServer()
})
test.after.always(() => server.close())

// Tests are deterministic whatever HTTP_PROXY says (http-process.spec.js covers the default).
function makeApi(options = {}) {
  return new ApiCircuitBreaker(uniqueName('api'), { proxyFromEnv: false, ...options })
}

test('get resolves with parsed JSON, text, a Buffer for binary and null for no content', async (t) => {
  const api = makeApi()
  t.deepEqual(await api.get(server.url('/json')), { symbol: 'AAPL', price: 101.5 })
  t.is(await api.get(server.url('/text')), 'hello')
  const binary = await api.get(server.url('/binary'))
  t.true(Buffer.isBuffer(binary))
  t.deepEqual([...binary], [0, 1, 2, 255])
  t.is(await api.get(server.url('/empty')), null)
  t.is(api.state, 'CLOSED')
  t.is(api.getState(), 'CLOSED')
  t.is(api.getMetrics().successfulCalls, 4)
})

test('responseType forces json, text or buffer', async (t) => {
  const api = makeApi()
  t.is(await api.get(server.url('/json'), { responseType: 'text' }), '{"symbol":"AAPL","price":101.5}')
  const buffer = await api.get(server.url('/text'), { responseType: 'buffer' })
  t.is(buffer.toString(), 'hello')
  t.is(await api.get(server.url('/empty'), { responseType: 'json' }), null)
  const err = await t.throwsAsync(api.get(server.url('/text'), { responseType: 'json' }), { instanceOf: HttpError })
  t.is(err.code, 'ERR_HTTP_DECODE')
  t.is(err.status, 200)
  t.is(err.body, 'hello')
  t.regex(err.message, /not valid JSON/)
  t.is(api.getMetrics().successfulCalls, 4, 'the exchange itself succeeded')
})

test('relative URLs resolve against baseUrl like new URL(url, baseUrl)', async (t) => {
  const api = makeApi({ baseUrl: server.url('/v1/') })
  t.is((await api.get('echo')).url, '/v1/echo')
  t.is((await api.get('/echo')).url, '/echo')
  t.is((await api.get('../echo?a=1')).url, '/echo?a=1')
  t.deepEqual(await api.get(server.url('/json')), { symbol: 'AAPL', price: 101.5 }, 'absolute URLs pass')
})

test('default headers, per-request headers and query parameters are sent', async (t) => {
  const api = makeApi({
    baseUrl: server.url('/'),
    headers: { 'x-client': 'neural-trader', 'x-overridden': 'default' },
  })
  const echoed = await api.get('echo?fixed=1', {
    headers: { 'X-Overridden': 'request', 'x-extra': 'yes' },
    query: { symbol: 'BRK.B', note: 'a b&c', limit: 10, live: true, tag: ['x', 'y'] },
  })
  t.is(echoed.headers['x-client'], 'neural-trader')
  t.is(echoed.headers['x-overridden'], 'request')
  t.is(echoed.headers['x-extra'], 'yes')
  const query = new URL(echoed.url, 'http://x').searchParams
  t.is(query.get('fixed'), '1')
  t.is(query.get('symbol'), 'BRK.B')
  t.is(query.get('note'), 'a b&c')
  t.is(query.get('limit'), '10')
  t.is(query.get('live'), 'true')
  t.deepEqual(query.getAll('tag'), ['x', 'y'])
})

test('post, put and delete send objects as JSON, strings as text and bytes as bytes', async (t) => {
  const api = makeApi({ baseUrl: server.url('/') })
  const posted = await api.post('echo', { symbol: 'AAPL', qty: 10 })
  t.is(posted.method, 'POST')
  t.is(posted.headers['content-type'], 'application/json')
  t.deepEqual(JSON.parse(posted.body), { symbol: 'AAPL', qty: 10 })
  const put = await api.put('echo', [1, 2, 3])
  t.is(put.method, 'PUT')
  t.is(put.body, '[1,2,3]')
  const text = await api.post('echo', 'plain words')
  t.is(text.headers['content-type'], 'text/plain; charset=utf-8')
  t.is(text.body, 'plain words')
  const bytes = await api.put('echo', Buffer.from([0, 255, 7]))
  t.is(bytes.headers['content-type'], 'application/octet-stream')
  t.is(bytes.bodyHex, '00ff07')
  const view = new Uint16Array([1, 2, 3]).subarray(1)
  t.is((await api.post('echo', view)).bodyHex, '02000300')
  t.is((await api.post('echo', new Uint8Array([9, 8]).buffer)).bodyHex, '0908')
  t.is((await api.post('echo', 42)).body, '42')
  const custom = await api.post('echo', '<a/>', { headers: { 'content-type': 'application/xml' } })
  t.is(custom.headers['content-type'], 'application/xml')
  const none = await api.post('echo', null)
  t.is(none.body, '')
  t.is(none.headers['content-type'], undefined)
  const deleted = await api.delete('echo')
  t.is(deleted.method, 'DELETE')
  t.is(await api.delete('empty'), null)
})

test('request resolves with status, headers and body', async (t) => {
  const api = makeApi({ baseUrl: server.url('/') })
  const response = await api.request({
    method: 'patch',
    url: 'echo',
    headers: { 'x-id': '7' },
    query: { q: 'z' },
    body: { ok: true },
    timeout: 5000,
  })
  t.is(response.status, 200)
  t.is(response.headers['content-type'], 'application/json')
  t.is(response.body.method, 'PATCH')
  t.is(response.body.url, '/echo?q=z')
  t.is(response.body.headers['x-id'], '7')
  t.is(response.body.body, '{"ok":true}')
  const empty = await api.request({ url: 'empty' })
  t.is(empty.status, 204)
  t.is(empty.body, null)
  const raw = await api.request({ url: 'json', responseType: 'buffer' })
  t.true(Buffer.isBuffer(raw.body))
  t.is((await api.request({ method: 'HEAD', url: 'json' })).body, null)
})

test('one keep-alive connection serves sequential requests', async (t) => {
  const local = await startServer()
  try {
    const api = makeApi()
    for (let i = 0; i < 20; i++) await api.get(local.url('/json'))
    t.is(local.state.requests, 20)
    // Usually 1; a connection goes back to the pool just after its response is read, so on a
    // loaded machine the next request may now and then open another.
    t.true(local.state.connections <= 3, `${local.state.connections} connections for 20 requests`)
  } finally {
    await local.close()
  }
})

test('4xx responses reject with an HttpError (status, headers, body) and do not trip', async (t) => {
  const api = makeApi({ failureThreshold: 1 })
  for (const code of [400, 401, 403, 404, 409, 422]) {
    const err = await t.throwsAsync(api.get(server.url(`/status/${code}`)), { instanceOf: HttpError })
    t.true(err instanceof Error)
    t.is(err.name, 'HttpError')
    t.is(err.code, 'ERR_HTTP_STATUS')
    t.is(err.status, code)
    t.is(typeof err.statusText, 'string')
    t.is(err.method, 'GET')
    t.is(err.url, server.url(`/status/${code}`))
    t.is(err.headers['content-type'], 'application/json')
    t.deepEqual(err.body, { error: `status ${code}` })
    t.is(err.message, `GET ${server.url(`/status/${code}`)} responded ${code} ${err.statusText}`)
  }
  t.is(api.state, 'CLOSED')
  const m = api.getMetrics()
  t.is(m.ignoredCalls, 6)
  t.is(m.failedCalls, 0)
  t.is(m.totalCalls, 6)
  t.deepEqual(await api.get(server.url('/json')), { symbol: 'AAPL', price: 101.5 })
})

test('the breaker getter is the same breaker: options, metrics, and call() shares the circuit', async (t) => {
  const api = makeApi({ failureThreshold: 2, resetTimeout: 60000, timeout: 1234 })
  const { breaker } = api
  t.true(breaker instanceof CircuitBreaker)
  t.is(breaker.name, api.name)
  t.deepEqual(breaker.options, {
    failureThreshold: 2,
    successThreshold: 2,
    timeout: 1234,
    resetTimeout: 60000,
    halfOpenMaxCalls: 2,
    stackTrace: true,
  })
  await api.get(server.url('/json'))
  t.deepEqual(breaker.getMetrics(), api.getMetrics())
  await settle(breaker.call(() => Promise.reject(new Error('from JS'))))
  await settle(api.get(server.url('/status/500')))
  t.is(api.state, 'OPEN', 'one JS failure and one HTTP failure open a threshold-2 breaker')
  t.is(breaker.state, 'OPEN')
  const err = await t.throwsAsync(api.get(server.url('/json')))
  t.is(err.code, 'ERR_CIRCUIT_OPEN')
})

test('defaults: failureThreshold 5, successThreshold 2, resetTimeout 30 s, timeout 10 s', (t) => {
  const api = new ApiCircuitBreaker(uniqueName('defaults'))
  t.deepEqual(api.breaker.options, {
    failureThreshold: 5,
    successThreshold: 2,
    timeout: 10000,
    resetTimeout: 30000,
    halfOpenMaxCalls: 2,
    stackTrace: true,
  })
})

test('many requests in flight all settle and are all counted', async (t) => {
  const api = makeApi({ baseUrl: server.url('/') })
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => (i % 10 === 0 ? settle(api.get('status/404')) : api.get('json'))),
  )
  t.is(results.filter((r) => r.symbol === 'AAPL').length, 180)
  const m = api.getMetrics()
  t.is(m.successfulCalls, 180)
  t.is(m.ignoredCalls, 20)
  t.is(m.totalCalls, 200)
})
