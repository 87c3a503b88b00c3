'use strict'
// Every failure class trips an ApiCircuitBreaker (5xx, 408, 429, timeouts, refused connections,
// sockets closed mid-response, redirect loops); Retry-After keeps the circuit open past its
// reset timeout; the circuit recovers through half-open. Against a real server on 127.0.0.1.
const test = require('ava')
const { ApiCircuitBreaker, CircuitOpenError, CircuitTimeoutError, HttpError } = require('../resilience.js')
const { sleep, uniqueName, settle } = require('./_helpers.js')
const { startServer, closedPort } = require('./_http-server.js')

let server
test.before(async () => {
  server = await startServer()
})
test.after.always(() => server.close())

function makeApi(options = {}) {
  return new ApiCircuitBreaker(uniqueName('api-trip'), { proxyFromEnv: false, resetTimeout: 60000, ...options })
}

/**
 * Sends `threshold` (2) failing requests to `path` on a server of its own (or to `url`), checks
 * each error, then checks that the circuit is open and that the next request is rejected
 * without reaching the server.
 */
async function tripsOn(t, { path, url }, check, options = {}) {
  const local = path === undefined ? null : await startServer()
  const target = local === null ? url : local.url(path)
  try {
    const api = makeApi({ failureThreshold: 2, ...options })
    for (let i = 0; i < 2; i++) {
      t.is(api.state, 'CLOSED')
      const { status, reason } = await settle(api.get(target))
      t.is(status, 'rejected')
      check(reason)
    }
    t.is(api.state, 'OPEN', target)
    const before = local?.state.requests
    const { reason } = await settle(api.get(target))
    t.true(reason instanceof CircuitOpenError, String(reason))
    t.is(reason.code, 'ERR_CIRCUIT_OPEN')
    t.is(reason.message, `Circuit breaker '${api.name}' is OPEN`)
    t.is(reason.breaker, api.name)
    if (local !== null) t.is(local.state.requests, before, 'an open circuit sends nothing')
    const m = api.getMetrics()
    t.is(m.failedCalls, 2)
    t.is(m.rejectedCalls, 1)
    t.is(m.timesOpened, 1)
  } finally {
    await local?.close()
  }
}

for (const code of [500, 502, 503, 504, 408, 429]) {
  test(`status ${code} trips the breaker`, async (t) => {
    await tripsOn(t, { path: `/status/${code}` }, (err) => {
      t.true(err instanceof HttpError)
      t.is(err.code, 'ERR_HTTP_STATUS')
      t.is(err.status, code)
      t.deepEqual(err.body, { error: `status ${code}` })
    })
  })
}

test('a request that outlives its timeout rejects with CircuitTimeoutError and trips', async (t) => {
  const started = Date.now()
  await tripsOn(
    t,
    { path: '/hang' },
    (err) => {
      t.true(err instanceof CircuitTimeoutError, String(err))
      t.is(err.code, 'ERR_CIRCUIT_TIMEOUT')
      t.is(err.timeout, 100)
      t.regex(err.message, /timed out after 100 ms/)
    },
    { timeout: 100 },
  )
  t.true(Date.now() - started < 5000)
})

test('the deadline covers the body: a slow response times out', async (t) => {
  const api = makeApi({ timeout: 100 })
  const err = await t.throwsAsync(api.get(server.url('/delay/600')), { instanceOf: CircuitTimeoutError })
  t.is(err.code, 'ERR_CIRCUIT_TIMEOUT')
  t.is(api.getMetrics().failedCalls, 1)
})

test('a refused connection rejects with ERR_HTTP_CONNECT and trips', async (t) => {
  const port = await closedPort()
  await tripsOn(t, { url: `http://127.0.0.1:${port}/x` }, (err) => {
    t.true(err instanceof HttpError)
    t.is(err.code, 'ERR_HTTP_CONNECT')
    t.regex(err.message, /could not connect/)
  })
})

test('a socket closed mid-response rejects with ERR_HTTP_IO and trips', async (t) => {
  await tripsOn(t, { path: '/truncate' }, (err) => {
    t.true(err instanceof HttpError)
    t.is(err.code, 'ERR_HTTP_IO')
  })
})

test('a socket closed before any response rejects with ERR_HTTP_IO and trips', async (t) => {
  await tripsOn(t, { path: '/close' }, (err) => {
    t.true(err instanceof HttpError)
    t.is(err.code, 'ERR_HTTP_IO')
  })
})

test('a redirect loop rejects with ERR_HTTP_REDIRECT and trips', async (t) => {
  await tripsOn(t, { path: '/redirect-loop' }, (err) => {
    t.true(err instanceof HttpError)
    t.is(err.code, 'ERR_HTTP_REDIRECT')
  })
})

test('a per-request timeout overrides the breaker timeout, both ways', async (t) => {
  const short = makeApi({ timeout: 50 })
  t.deepEqual(await short.get(server.url('/delay/200'), { timeout: 5000 }), { delayed: 200 })
  t.deepEqual((await short.request({ url: server.url('/delay/200'), timeout: false })).body, { delayed: 200 })
  const long = makeApi()
  const started = Date.now()
  const err = await t.throwsAsync(long.get(server.url('/hang'), { timeout: 80 }), { instanceOf: CircuitTimeoutError })
  t.is(err.timeout, 80)
  t.true(Date.now() - started < 3000)
  t.is(long.getMetrics().failedCalls, 1)
})

/**
 * Opens the circuit (threshold 1, resetTimeout 100 ms) with one 429 carrying `retryAfter`,
 * checks it still rejects at `stillOpenAt` ms, and that a request passes at `passesAt` ms.
 */
async function holdsOpen(t, retryAfter, stillOpenAt, passesAt) {
  const api = makeApi({ failureThreshold: 1, resetTimeout: 100 })
  const started = Date.now()
  const err = await t.throwsAsync(api.get(server.url(`/status/429?retry_after=${encodeURIComponent(retryAfter)}`)))
  t.is(err.status, 429)
  t.is(typeof err.retryAfter, 'number')
  t.is(api.state, 'OPEN')
  await sleep(stillOpenAt - (Date.now() - started))
  const early = await settle(api.get(server.url('/json')))
  t.true(early.reason instanceof CircuitOpenError, 'still open well past the 100 ms reset timeout')
  await sleep(passesAt - (Date.now() - started))
  t.deepEqual(await api.get(server.url('/json')), { symbol: 'AAPL', price: 101.5 })
  t.is(api.state, 'HALF_OPEN')
}

test('Retry-After in seconds holds the circuit open longer than resetTimeout', async (t) => {
  await holdsOpen(t, '1', 400, 1200)
})

test('Retry-After as an HTTP-date holds the circuit open longer than resetTimeout', async (t) => {
  // Whole seconds: two seconds from now is 1 to 2 s away.
  await holdsOpen(t, new Date(Date.now() + 2000).toUTCString(), 400, 2200)
})

test('Retry-After on a 503 holds too; a huge one is capped by maxRetryAfter', async (t) => {
  const api = makeApi({ failureThreshold: 1, resetTimeout: 50, maxRetryAfter: 300 })
  const err = await t.throwsAsync(api.get(server.url('/status/503?retry_after=86400')))
  t.is(err.retryAfter, 300)
  await sleep(150)
  t.is((await settle(api.get(server.url('/json')))).reason?.code, 'ERR_CIRCUIT_OPEN')
  await sleep(300)
  t.deepEqual(await api.get(server.url('/json')), { symbol: 'AAPL', price: 101.5 })
})

test('the circuit recovers through half-open; a failing probe reopens it', async (t) => {
  const local = await startServer()
  try {
    const api = makeApi({ failureThreshold: 2, successThreshold: 2, resetTimeout: 100 })
    const url = local.url('/flaky')
    local.state.failing = true
    for (let i = 0; i < 2; i++) t.is((await settle(api.get(url))).reason.status, 503)
    t.is(api.state, 'OPEN')
    await sleep(180)
    t.is((await settle(api.get(url))).reason.status, 503, 'the probe fails')
    t.is(api.state, 'OPEN')
    local.state.failing = false
    await sleep(180)
    t.deepEqual(await api.get(url), { ok: true })
    t.is(api.state, 'HALF_OPEN')
    t.deepEqual(await api.get(url), { ok: true })
    t.is(api.state, 'CLOSED')
    const m = api.getMetrics()
    t.is(m.timesOpened, 2)
    t.is(m.timesHalfOpened, 2)
  } finally {
    await local.close()
  }
})

test('4xx during half-open neither closes nor reopens the circuit', async (t) => {
  const api = makeApi({ failureThreshold: 1, successThreshold: 1, resetTimeout: 50 })
  await settle(api.get(server.url('/status/500')))
  await sleep(120)
  t.is((await settle(api.get(server.url('/status/404')))).reason.status, 404)
  t.is(api.state, 'HALF_OPEN', 'an ignored probe gives its slot back')
  await api.get(server.url('/json'))
  t.is(api.state, 'CLOSED')
})

test('a body over maxResponseBytes rejects with ERR_HTTP_BODY_TOO_LARGE and does not trip; the limit is inclusive', async (t) => {
  const api = makeApi({ failureThreshold: 1, maxResponseBytes: 4096 })
  t.is((await api.get(server.url('/big/4096'))).length, 4094, 'exactly the limit is read')
  t.is((await api.get(server.url('/big/4096?chunked=1'))).length, 4094)
  for (const path of ['/big/4097', '/big/100000', '/big/100000?chunked=1']) {
    const e = await t.throwsAsync(api.get(server.url(path)), { instanceOf: HttpError, code: 'ERR_HTTP_BODY_TOO_LARGE' })
    t.is(e.limit, 4096)
    t.regex(e.message, /GET http:\/\/127\.0\.0\.1:\d+\/big\/\d+.* larger than maxResponseBytes \(4096 bytes\)/)
  }
  t.is(api.state, 'CLOSED', 'the service answered: not its failure')
  const m = api.getMetrics()
  t.is(m.ignoredCalls, 3)
  t.is(m.failedCalls, 0)
  // The default is 64 MiB: a 1 MB document reads fine.
  t.is((await makeApi().get(server.url('/big/1000000?chunked=1'))).length, 999998)
})
