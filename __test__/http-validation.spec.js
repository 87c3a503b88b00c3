'use strict'
// ApiCircuitBreaker: bad input gets a typed error with a stable code (the constructor throws,
// request methods reject), is never counted against the service, and no secret (userinfo,
// Authorization and API-key header values, api_key query values) shows in any error or metric.
const test = require('ava')
const util = require('node:util')
const { ApiCircuitBreaker, HttpError } = require('../resilience.js')
const { uniqueName, settle } = require('./_helpers.js')
const { startServer, closedPort } = require('./_http-server.js')

let server
test.before(async () => {
  server = await startServer()
})
test.after.always(() => server.close())

function makeApi(options = {}) {
  return new ApiCircuitBreaker(uniqueName('api-input'), { proxyFromEnv: false, ...options })
}

function manyHeaders(n) {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, 'v']))
}

function throwsTyped(t, fn, Class, code, pattern) {
  const err = t.throws(fn, { instanceOf: Class })
  t.is(err.code, code, err.message)
  if (pattern) t.regex(err.message, pattern)
}

test('the constructor refuses bad names and options with TypeError / RangeError', (t) => {
  throwsTyped(t, () => new ApiCircuitBreaker(), TypeError, 'ERR_INVALID_ARG_TYPE', /"name"/)
  throwsTyped(t, () => new ApiCircuitBreaker(42), TypeError, 'ERR_INVALID_ARG_TYPE')
  throwsTyped(t, () => new ApiCircuitBreaker(''), TypeError, 'ERR_INVALID_ARG_VALUE')
  throwsTyped(t, () => new ApiCircuitBreaker(uniqueName('x'), 'x'), TypeError, 'ERR_INVALID_ARG_TYPE', /"options"/)
  const bad = [
    [{ nope: 1 }, TypeError, 'ERR_INVALID_ARG_VALUE', /"nope" is not an ApiCircuitBreaker option/],
    [{ baseUrl: 5 }, TypeError, 'ERR_INVALID_ARG_TYPE', /"baseUrl"/],
    [{ baseUrl: 'not a url' }, TypeError, 'ERR_INVALID_URL'],
    [{ baseUrl: 'ftp://example.test/' }, TypeError, 'ERR_INVALID_URL', /unsupported URL scheme 'ftp:'/],
    [{ timeout: 0 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ timeout: '10' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ connectTimeout: -1 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxRetryAfter: Infinity }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxResponseBytes: 0 }, RangeError, 'ERR_OUT_OF_RANGE', /"maxResponseBytes"/],
    [{ maxResponseBytes: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxResponseBytes: 2 ** 53 }, RangeError, 'ERR_OUT_OF_RANGE'],
    // Issue 9: a limit no memory can hold was accepted; 4 GiB is the largest.
    [{ maxResponseBytes: 2 ** 40 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxResponseBytes: 2 ** 32 + 1 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ maxResponseBytes: '1024' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ failureThreshold: 0 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ successThreshold: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ halfOpenMaxCalls: '2' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ resetTimeout: NaN }, RangeError, 'ERR_OUT_OF_RANGE'],
    [{ proxyFromEnv: 'no' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ headers: 'x' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ headers: { 'x-n': 1 } }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ headers: { 'bad name': 'v' } }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [{ headers: { 'x-api-key': 'line\nbreak-secret' } }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [{ headers: manyHeaders(1001) }, TypeError, 'ERR_INVALID_ARG_VALUE', /too many headers/],
    [{ headers: { 'x-key': 'v\uD800' } }, TypeError, 'ERR_INVALID_ARG_VALUE', /lone surrogate/],
    [{ headers: { ['x-\uDC00']: 'v' } }, TypeError, 'ERR_INVALID_ARG_VALUE', /lone surrogate/],
    [{ baseUrl: 'http://127.0.0.1/\uD800/' }, TypeError, 'ERR_INVALID_ARG_VALUE', /lone surrogate/],
  ]
  for (const [options, Class, code, pattern] of bad) {
    throwsTyped(t, () => new ApiCircuitBreaker(uniqueName('bad'), options), Class, code, pattern)
  }
  const err = t.throws(() => new ApiCircuitBreaker('h', { headers: { 'x-api-key': 'line\nbreak-secret' } }))
  t.false(err.message.includes('break-secret'), 'a bad header value is never shown')
  t.notThrows(() => new ApiCircuitBreaker(uniqueName('ok'), { timeout: false, headers: {}, baseUrl: undefined }))
  t.notThrows(() => new ApiCircuitBreaker(uniqueName('ok'), { maxResponseBytes: 1 }))
  t.notThrows(() => new ApiCircuitBreaker(uniqueName('ok'), { maxResponseBytes: 2 ** 32 }))
})

test('request methods reject (never throw) bad arguments with typed errors', async (t) => {
  const api = makeApi({ failureThreshold: 1 })
  const cases = [
    [() => api.get(), TypeError, 'ERR_INVALID_ARG_TYPE', /"url" argument must be of type string/],
    [() => api.get(42), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => api.get({ href: server.url('/json') }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => api.get('not a url'), TypeError, 'ERR_INVALID_URL'],
    [() => api.get('/relative'), TypeError, 'ERR_INVALID_URL', /baseUrl/],
    [() => api.get('ftp://127.0.0.1/file'), TypeError, 'ERR_INVALID_URL', /unsupported URL scheme/],
    [() => api.get('file:///etc/passwd'), TypeError, 'ERR_INVALID_URL'],
    [() => api.get('http://[::1'), TypeError, 'ERR_INVALID_URL'],
    [() => api.get(server.url('/json'), 'opts'), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => api.get(server.url('/json'), { nope: true }), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => api.get(server.url('/json'), { timeout: -5 }), RangeError, 'ERR_OUT_OF_RANGE'],
    [() => api.get(server.url('/json'), { responseType: 'blob' }), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => api.get(server.url('/json'), { headers: { a: null } }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => api.get(server.url('/json'), { headers: { 'a:b': 'v' } }), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => api.get(server.url('/json'), { query: { a: {} } }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => api.get(server.url('/json'), { headers: manyHeaders(40000) }), TypeError, 'ERR_INVALID_ARG_VALUE', /too many/],
    [() => api.post(server.url('/echo'), () => 1), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => api.post(server.url('/echo'), Symbol('s')), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => api.post(server.url('/echo'), 10n), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => api.post(server.url('/echo'), { n: 10n }), TypeError, 'ERR_INVALID_ARG_VALUE', /BigInt/],
    [() => api.request(), TypeError, 'ERR_INVALID_ARG_TYPE', /"url"/],
    [() => api.request('http://x'), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => api.request({ url: server.url('/json'), method: 'BAD METHOD' }), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [() => api.request({ url: server.url('/json'), method: 7 }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [() => api.request({ url: server.url('/json'), bogus: 1 }), TypeError, 'ERR_INVALID_ARG_VALUE'],
    // Issue 9: lone surrogates were sent as U+FFFD; they are refused.
    [() => api.get(server.url('/json?q=\uD800')), TypeError, 'ERR_INVALID_ARG_VALUE', /lone surrogate/],
    [() => api.request({ url: server.url('/json\uDC00') }), TypeError, 'ERR_INVALID_ARG_VALUE', /lone surrogate/],
    [() => api.get(server.url('/json'), { headers: { 'x-a': 'v\uD800' } }), TypeError, 'ERR_INVALID_ARG_VALUE', /"headers"/],
    [() => api.get(server.url('/json'), { headers: { 'x-\uD800': 'v' } }), TypeError, 'ERR_INVALID_ARG_VALUE', /"headers"/],
    [() => api.get(server.url('/json'), { query: { q: '\uDFFF' } }), TypeError, 'ERR_INVALID_ARG_VALUE', /"query"/],
    [() => api.get(server.url('/json'), { query: { ['\uD83D']: 'v' } }), TypeError, 'ERR_INVALID_ARG_VALUE', /"query"/],
    [() => api.get(server.url('/json'), { query: { q: ['ok', 'x\uD800'] } }), TypeError, 'ERR_INVALID_ARG_VALUE', /"query"/],
  ]
  for (const [call, Class, code, pattern] of cases) {
    let promise
    t.notThrows(() => {
      promise = call()
    })
    t.true(promise instanceof Promise)
    const err = await t.throwsAsync(promise, { instanceOf: Class })
    t.is(err.code, code, err.message)
    if (pattern) t.regex(err.message, pattern)
  }
  const cycle = {}
  cycle.self = cycle
  const err = await t.throwsAsync(api.post(server.url('/echo'), cycle), { instanceOf: TypeError })
  t.is(err.code, 'ERR_INVALID_ARG_VALUE')
  t.is(api.getMetrics().totalCalls, 0, 'nothing was counted')
  t.is(api.state, 'CLOSED')
})

const SECRETS = ['pa55-word-9', 'query-key-456', 'bearer-tok-789', 'header-key-123']

function assertNoSecret(t, text, where) {
  for (const secret of SECRETS) t.false(text.includes(secret), `${secret} shows in ${where}: ${text}`)
}

test('userinfo is sent as Basic auth but never shown', async (t) => {
  const api = makeApi()
  const echoed = await api.get(`http://trader:pa55-word-9@127.0.0.1:${server.port}/echo`)
  t.is(echoed.headers.authorization, `Basic ${Buffer.from('trader:pa55-word-9').toString('base64')}`)
  t.is(echoed.url, '/echo')
  const explicit = await api.get(`http://trader:pa55-word-9@127.0.0.1:${server.port}/echo`, {
    headers: { authorization: 'Bearer bearer-tok-789' },
  })
  t.is(explicit.headers.authorization, 'Bearer bearer-tok-789', 'an explicit header wins')
})

test('no secret appears in any error message, error field or metric', async (t) => {
  const port = await closedPort()
  const api = makeApi({ headers: { 'x-api-key': 'header-key-123' }, failureThreshold: 100, timeout: 200, maxResponseBytes: 1024 })
  const base = `http://user:pa55-word-9@127.0.0.1:${server.port}`
  const targets = [
    `http://user:pa55-word-9@127.0.0.1:${port}/x?api_key=query-key-456`,
    `${base}/status/500?api_key=query-key-456`,
    `${base}/status/404?token=query-key-456`,
    `${base}/truncate?api_key=query-key-456`,
    `${base}/close?apiKey=query-key-456`,
    `${base}/hang?api_key=query-key-456`,
    `${base}/redirect-loop?api_key=query-key-456`,
    `ftp://user:pa55-word-9@127.0.0.1/?api_key=query-key-456`,
    `http://user:pa55-word-9@[bad/?api_key=query-key-456`,
    `${base}/text?api_key=query-key-456`,
    `${base}/big/5000?api_key=query-key-456`,
  ]
  const codes = new Set()
  for (const url of targets) {
    const { reason } = await settle(
      api.get(url, { headers: { Authorization: 'Bearer bearer-tok-789' }, responseType: url.includes('/text') ? 'json' : 'auto' }),
    )
    t.truthy(reason, url)
    codes.add(reason.code)
    assertNoSecret(t, reason.message, 'message')
    assertNoSecret(t, String(reason.stack), 'stack')
    assertNoSecret(t, util.inspect(reason, { depth: 5 }), 'inspect')
    assertNoSecret(t, JSON.stringify(reason), 'JSON')
    if (reason instanceof HttpError && reason.url !== undefined) t.regex(reason.url, /\*\*\*/)
  }
  t.deepEqual(
    [...codes].sort(),
    [
      'ERR_CIRCUIT_TIMEOUT',
      'ERR_HTTP_BODY_TOO_LARGE',
      'ERR_HTTP_CONNECT',
      'ERR_HTTP_DECODE',
      'ERR_HTTP_IO',
      'ERR_HTTP_REDIRECT',
      'ERR_HTTP_STATUS',
      'ERR_INVALID_URL',
    ].sort(),
  )
  assertNoSecret(t, JSON.stringify(api.getMetrics()), 'metrics')
  assertNoSecret(t, util.inspect(api, { depth: 5 }), 'inspect(api)')
  assertNoSecret(t, JSON.stringify(api.breaker.options), 'options')
})

test('credential-looking response headers are masked in errors, not in responses', async (t) => {
  const local = require('node:http').createServer((req, res) => {
    res.writeHead(req.url === '/ok' ? 200 : 403, {
      'set-cookie': 'sid=session-value-1',
      'x-csrf-token': 'csrf-value-2',
      'content-type': 'text/plain',
    })
    res.end('body')
  })
  await new Promise((resolve) => local.listen(0, '127.0.0.1', resolve))
  try {
    const api = makeApi({ baseUrl: `http://127.0.0.1:${local.address().port}/` })
    const err = await t.throwsAsync(api.get('denied'), { instanceOf: HttpError })
    t.is(err.status, 403)
    t.is(err.headers['set-cookie'], '***')
    t.is(err.headers['x-csrf-token'], '***')
    t.is(err.body, 'body')
    const ok = await api.request({ url: 'ok' })
    t.is(ok.headers['set-cookie'], 'sid=session-value-1')
    t.is(ok.headers['x-csrf-token'], 'csrf-value-2')
  } finally {
    local.closeAllConnections()
    await new Promise((resolve) => local.close(resolve))
  }
})
