'use strict'
// What trips an E2BSandboxCircuitBreaker and what does not, against the local E2B server's fault
// switches: 5xx, 429 (held open for its Retry-After), timeouts, connections dropped before the
// answer or mid-stream, and a closed interpreter port count; 401, a vanished or expired sandbox
// (ERR_SANDBOX_NOT_FOUND) and stopping a sandbox that is already gone do not.
const test = require('ava')
const { CircuitOpenError, CircuitTimeoutError, HttpError } = require('../resilience.js')
const { e2bServer, client } = require('./_e2b.js')
const { settle, sleep } = require('./_helpers.js')

test('401 (a wrong key) rejects with an HttpError without tripping', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s, { apiKey: 'e2b_deadbeef', failureThreshold: 1 })
  for (let i = 0; i < 3; i++) {
    const err = await t.throwsAsync(e2b.createSandbox())
    t.true(err instanceof HttpError)
    t.is(err.code, 'ERR_HTTP_STATUS')
    t.is(err.status, 401)
    t.deepEqual(err.body, { code: 401, message: 'Invalid API key' })
  }
  t.is(e2b.state, 'CLOSED')
  t.like(e2b.getMetrics(), { ignoredCalls: 3, failedCalls: 0 })
})

test('429 with Retry-After trips and keeps the circuit open at least that long', async (t) => {
  const s = await e2bServer(t)
  s.setFault({ route: 'createSandbox', status: 429, retryAfter: 2, times: 1 })
  const e2b = client(s, { failureThreshold: 1, resetTimeout: 100 })
  const started = Date.now()
  const err = await t.throwsAsync(e2b.createSandbox())
  t.true(err instanceof HttpError)
  t.is(err.status, 429)
  t.is(err.retryAfter, 2000)
  t.is(e2b.state, 'OPEN')
  await sleep(600) // well past resetTimeout, not past Retry-After
  const open = await t.throwsAsync(e2b.createSandbox())
  t.true(open instanceof CircuitOpenError, String(open))
  t.is(s.requests.length, 1, 'nothing sent while open')
  await sleep(Math.max(0, 2150 - (Date.now() - started)))
  t.is(typeof (await e2b.createSandbox()), 'string', 'the probe after Retry-After goes through')
  t.like(e2b.getMetrics(), { failedCalls: 1, rejectedCalls: 1, successfulCalls: 1, timesOpened: 1 })
})

test('the team concurrency limit (429 from the server itself) trips too', async (t) => {
  const s = await e2bServer(t, { maxSandboxes: 1, rateLimitRetryAfter: 30 })
  const e2b = client(s, { failureThreshold: 1 })
  await e2b.createSandbox()
  const err = await t.throwsAsync(e2b.createSandbox())
  t.is(err.status, 429)
  t.is(err.retryAfter, 30000)
  t.regex(err.body.message, /maximum number of concurrent E2B sandboxes/)
  t.is(e2b.state, 'OPEN')
})

for (const status of [500, 502, 503, 504]) {
  test(`${status} from the control plane trips the breaker`, async (t) => {
    const s = await e2bServer(t)
    s.setFault({ route: ['createSandbox', 'listSandboxes'], status })
    const e2b = client(s, { failureThreshold: 2 })
    const first = await t.throwsAsync(e2b.createSandbox())
    t.is(first.status, status)
    const second = await t.throwsAsync(e2b.listSandboxes())
    t.is(second.code, 'ERR_HTTP_STATUS')
    t.is(e2b.state, 'OPEN')
    const sent = s.requests.length
    t.true((await t.throwsAsync(e2b.listSandboxes())) instanceof CircuitOpenError)
    t.is(s.requests.length, sent)
    t.like(e2b.getMetrics(), { failedCalls: 2, rejectedCalls: 1, timesOpened: 1 })
  })
}

test('a 500 from the interpreter and a closed port (502) trip it', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s, { failureThreshold: 2 })
  const id = await e2b.createSandbox()
  s.setFault({ route: 'execute', status: 500, times: 1 })
  t.is((await t.throwsAsync(e2b.executeCode(id, '1'))).status, 500)
  s.closePort(id)
  const closed = await t.throwsAsync(e2b.executeCode(id, '1'))
  t.is(closed.status, 502)
  t.like(closed.body, { message: 'The sandbox is running but port is not open', port: 49999 })
  t.is(e2b.state, 'OPEN')
})

test('a slow answer rejects with CircuitTimeoutError and counts', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s, { failureThreshold: 2, timeout: 300 })
  s.setFault({ route: 'createSandbox', kind: 'delay', delayMs: 3000, times: 1 })
  const started = Date.now()
  const err = await t.throwsAsync(e2b.createSandbox())
  t.true(err instanceof CircuitTimeoutError, String(err))
  t.is(err.code, 'ERR_CIRCUIT_TIMEOUT')
  t.is(err.timeout, 300)
  t.true(Date.now() - started < 2000)
  t.is(e2b.getMetrics().failedCalls, 1)
})

test('an execution that outlives its own timeout option rejects and counts', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s, { failureThreshold: 1 })
  const id = await e2b.createSandbox()
  const err = await t.throwsAsync(e2b.executeCode(id, "sleep(2)\nprint('late')", { timeout: 200 }))
  t.is(err.code, 'ERR_CIRCUIT_TIMEOUT')
  t.is(err.timeout, 200)
  t.is(e2b.state, 'OPEN')
})

test('a connection dropped mid-stream (no end_of_execution) trips', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s, { failureThreshold: 2 })
  const id = await e2b.createSandbox()
  s.setFault({ route: 'execute', kind: 'drop', afterLines: 2 })
  for (let i = 0; i < 2; i++) {
    const err = await t.throwsAsync(e2b.executeCode(id, 'print(1)\nprint(2)\nprint(3)'))
    t.true(['ERR_HTTP_IO', 'ERR_E2B_STREAM'].includes(err.code), `${err.code}: ${err.message}`)
  }
  t.is(e2b.state, 'OPEN')
  t.like(e2b.getMetrics(), { failedCalls: 2 })
})

test('a connection dropped before any answer trips', async (t) => {
  const s = await e2bServer(t)
  s.setFault({ route: 'createSandbox', kind: 'drop' })
  const e2b = client(s, { failureThreshold: 2 })
  for (let i = 0; i < 2; i++) {
    const err = await t.throwsAsync(e2b.createSandbox())
    t.true(err instanceof HttpError)
    t.regex(err.code, /^ERR_HTTP_(IO|CONNECT)$/)
  }
  t.is(e2b.state, 'OPEN')
})

test('a vanished or expired sandbox is ERR_SANDBOX_NOT_FOUND and does not trip', async (t) => {
  const s = await e2bServer(t)
  const e2b = client(s, { failureThreshold: 1 })
  const gone = await e2b.createSandbox()
  const expired = await e2b.createSandbox()
  s.vanish(gone)
  s.expire(expired)
  for (const id of [gone, expired]) {
    const err = await t.throwsAsync(e2b.executeCode(id, '1'))
    t.false(err instanceof HttpError)
    t.true(err instanceof Error)
    t.is(err.code, 'ERR_SANDBOX_NOT_FOUND')
    t.is(err.sandboxId, id)
    t.true(err.message.includes(id))
  }
  const again = await t.throwsAsync(e2b.executeCode(gone, '1'))
  t.is(again.code, 'ERR_SANDBOX_NOT_FOUND', 'looked up again on the control plane: 404')
  t.is((await t.throwsAsync(e2b.setSandboxTimeout(gone, 60))).code, 'ERR_SANDBOX_NOT_FOUND')
  t.false(await e2b.stopSandbox(gone))
  t.false(await e2b.stopSandbox(expired))
  t.is(e2b.state, 'CLOSED')
  t.like(e2b.getMetrics(), { failedCalls: 0, ignoredCalls: 6 })
})

test('the circuit closes again after successful half-open probes', async (t) => {
  const s = await e2bServer(t)
  s.setFault({ route: 'listSandboxes', status: 503, times: 1 })
  const e2b = client(s, { failureThreshold: 1, successThreshold: 2, resetTimeout: 150 })
  await t.throwsAsync(e2b.listSandboxes())
  t.is(e2b.state, 'OPEN')
  await sleep(250)
  t.deepEqual(await e2b.listSandboxes(), [])
  t.is(e2b.state, 'HALF_OPEN')
  t.deepEqual(await e2b.listSandboxes(), [])
  t.is(e2b.state, 'CLOSED')
})

test('listSandboxes follows X-Next-Token across pages', async (t) => {
  const s = await e2bServer(t)
  const ids = []
  for (let i = 0; i < 230; i++) ids.push(s.createSandbox({ metadata: { n: String(i) } }).sandboxID)
  const e2b = client(s)
  const listed = await e2b.listSandboxes()
  t.deepEqual(
    listed.map((sb) => sb.sandboxId),
    ids,
  )
  t.is(listed[229].metadata.n, '229')
  t.deepEqual(
    s.requests.map((r) => [r.query.limit, typeof r.query.nextToken]),
    [
      ['100', 'undefined'],
      ['100', 'string'],
      ['100', 'string'],
    ],
  )
  t.is(e2b.getMetrics().successfulCalls, 3, 'one breaker call per page')
  const { status } = await settle(e2b.listSandboxes())
  t.is(status, 'fulfilled')
})

test('a stream that ends cleanly without end_of_execution, or with a non-JSON line, trips', async (t) => {
  const s = await e2bServer(t)
  // An interpreter behind a proxy that ends the body early (or answers an HTML page with 200).
  const bodies = ['{"type": "stdout", "text": "1\\n"}\n', '<html>upstream reset</html>\n']
  const http = require('node:http')
  const proxy = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => res.end(bodies.shift()))
  })
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => proxy.close())
  const e2b = client(s, { failureThreshold: 2, sandboxUrl: `http://127.0.0.1:${proxy.address().port}` })
  const id = await e2b.createSandbox()
  for (const expected of [/before end_of_execution/, /not a JSON object/]) {
    const err = await t.throwsAsync(e2b.executeCode(id, 'print(1)'))
    t.is(err.code, 'ERR_E2B_STREAM')
    t.regex(err.message, expected)
  }
  t.is(e2b.state, 'OPEN')
  t.like(e2b.getMetrics(), { failedCalls: 2, successfulCalls: 1 })
})
