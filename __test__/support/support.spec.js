'use strict'
// Proves the protocol stand-ins (e2b-server.js, inference-server.js) speak the documented
// protocols (see README.md here), with plain fetch / http, so that tests built on
// them test the product's clients against something faithful.

const test = require('ava')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { once } = require('node:events')
const { startE2BServer } = require('./e2b-server.js')
const { startInferenceServer } = require('./inference-server.js')

const API_KEY = 'e2b_0123456789abcdef0123456789abcdef01234567'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// ---- helpers ----------------------------------------------------------------------------------

async function e2b(t, options = {}) {
  const s = await startE2BServer({ apiKey: API_KEY, keepaliveMs: 40, lineDelayMs: 2, ...options })
  t.teardown(() => s.close())
  return s
}

async function inference(t, options = {}) {
  const s = await startInferenceServer(options)
  t.teardown(() => s.close())
  return s
}

function api(s, method, p, body, headers = {}) {
  return fetch(`${s.url}${p}`, {
    method,
    headers: { 'X-API-Key': API_KEY, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
}

async function createSandbox(s, body = {}) {
  const res = await api(s, 'POST', '/sandboxes', { templateID: 'code-interpreter-v1', ...body })
  if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`)
  return res.json()
}

/** POST /execute the way the SDK does (E2b-Sandbox-Id header, X-Access-Token). */
function execute(s, sb, body, headers = {}, signal) {
  return fetch(`${s.url}/execute`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'E2b-Sandbox-Id': sb.sandboxID,
      'E2b-Sandbox-Port': '49999',
      ...(sb.envdAccessToken ? { 'X-Access-Token': sb.envdAccessToken } : {}),
      ...headers,
    },
    body: JSON.stringify(typeof body === 'string' ? { code: body } : body),
    signal,
  })
}

/** Reads a JSON-lines body: [{ line, at }] with the arrival time (ms since start) of each line. */
async function readLines(res, start = Date.now()) {
  const out = []
  let buffer = ''
  const decoder = new TextDecoder()
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true })
    let nl
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const text = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      if (text.trim()) out.push({ line: JSON.parse(text), at: Date.now() - start })
    }
  }
  if (buffer.trim()) throw new Error(`unterminated line: ${buffer}`)
  return out
}

async function run(s, sb, body) {
  const res = await execute(s, sb, body)
  return { status: res.status, lines: (await readLines(res)).map((l) => l.line) }
}

// ---- E2B control plane ------------------------------------------------------------------------

test('e2b: POST /sandboxes creates a Sandbox with random ids, GET returns its SandboxDetail', async (t) => {
  const s = await e2b(t)
  const res = await api(s, 'POST', '/sandboxes', {
    templateID: 'code-interpreter-v1',
    timeout: 60,
    metadata: { user: 'u1' },
    envVars: { A: '1' },
  })
  t.is(res.status, 201)
  const sb = await res.json()
  t.is(sb.templateID, 'code-interpreter-v1')
  t.regex(sb.sandboxID, /^[a-z0-9]{20}$/)
  t.regex(sb.clientID, /^[0-9a-f]{8}$/)
  t.is(typeof sb.envdVersion, 'string')
  t.regex(sb.envdAccessToken, /^[0-9a-f]{64}$/)
  t.is(sb.domain, 'e2b.app')
  const other = await createSandbox(s)
  t.not(other.sandboxID, sb.sandboxID)
  t.not(other.envdAccessToken, sb.envdAccessToken)

  const detail = await (await api(s, 'GET', `/sandboxes/${sb.sandboxID}`)).json()
  t.like(detail, { templateID: 'code-interpreter-v1', sandboxID: sb.sandboxID, clientID: sb.clientID, state: 'running', metadata: { user: 'u1' }, cpuCount: 2, memoryMB: 512 })
  const ttl = Date.parse(detail.endAt) - Date.parse(detail.startedAt)
  t.true(ttl >= 59_000 && ttl <= 61_000)
})

test('e2b: control-plane errors are {code, message}: 401 without / with a wrong key, 400, 404', async (t) => {
  const s = await e2b(t)
  const noKey = await fetch(`${s.url}/sandboxes`, { method: 'POST', body: '{"templateID":"base"}' })
  t.is(noKey.status, 401)
  t.like(await noKey.json(), { code: 401 })
  const bearer = await fetch(`${s.url}/sandboxes/x`, { headers: { Authorization: `Bearer ${API_KEY}` } })
  t.is(bearer.status, 401, 'the key is only accepted in X-API-Key')
  const wrong = await api(s, 'GET', '/sandboxes/x', undefined, { 'X-API-Key': 'e2b_wrong' })
  t.is(wrong.status, 401)
  const body = await wrong.json()
  t.is(body.code, 401)
  t.is(typeof body.message, 'string')

  const noTemplate = await api(s, 'POST', '/sandboxes', { timeout: 10 })
  t.is(noTemplate.status, 400)
  t.like(await noTemplate.json(), { code: 400 })
  t.is((await api(s, 'POST', '/sandboxes', '{not json')).status, 400)
  t.is((await api(s, 'POST', '/sandboxes', { templateID: 'base', timeout: -1 })).status, 400)

  for (const [method, p, b] of [
    ['GET', '/sandboxes/nope'],
    ['DELETE', '/sandboxes/nope'],
    ['POST', '/sandboxes/nope/timeout', { timeout: 5 }],
    ['POST', '/sandboxes/nope/pause'],
    ['POST', '/sandboxes/nope/connect', { timeout: 5 }],
  ]) {
    const res = await api(s, method, p, b)
    t.is(res.status, 404, `${method} ${p}`)
    t.like(await res.json(), { code: 404 })
  }
})

test('e2b: timeout, pause (409 when paused), connect (201 resumed / 200 running), delete', async (t) => {
  const s = await e2b(t)
  const sb = await createSandbox(s, { timeout: 30 })
  const id = sb.sandboxID

  t.is((await api(s, 'POST', `/sandboxes/${id}/timeout`, { timeout: 300 })).status, 204)
  const detail = await (await api(s, 'GET', `/sandboxes/${id}`)).json()
  t.true(Date.parse(detail.endAt) - Date.now() > 290_000)
  t.is((await api(s, 'POST', `/sandboxes/${id}/timeout`, {})).status, 400)

  t.is((await api(s, 'POST', `/sandboxes/${id}/pause`)).status, 204)
  const paused = await api(s, 'POST', `/sandboxes/${id}/pause`)
  t.is(paused.status, 409)
  t.like(await paused.json(), { code: 409 })
  t.is((await (await api(s, 'GET', `/sandboxes/${id}`)).json()).state, 'paused')

  const resumed = await api(s, 'POST', `/sandboxes/${id}/connect`, { timeout: 60 })
  t.is(resumed.status, 201)
  t.like(await resumed.json(), { sandboxID: id, envdAccessToken: sb.envdAccessToken })
  const running = await api(s, 'POST', `/sandboxes/${id}/connect`, { timeout: 60 })
  t.is(running.status, 200)
  t.is((await running.json()).sandboxID, id)
  t.is((await api(s, 'POST', `/sandboxes/${id}/connect`, {})).status, 400, 'timeout is required')

  t.is((await api(s, 'DELETE', `/sandboxes/${id}`)).status, 204)
  t.is((await api(s, 'GET', `/sandboxes/${id}`)).status, 404)
  t.is((await api(s, 'DELETE', `/sandboxes/${id}`)).status, 404)
})

test('e2b: GET /v2/sandboxes pages with limit and X-Next-Token, filters by state and metadata', async (t) => {
  const s = await e2b(t)
  const ids = []
  for (let i = 0; i < 5; i++) ids.push((await createSandbox(s, { metadata: { group: i < 3 ? 'a' : 'b' } })).sandboxID)
  t.is((await api(s, 'POST', `/sandboxes/${ids[4]}/pause`)).status, 204)

  const seen = []
  let token
  let pages = 0
  do {
    const res = await api(s, 'GET', `/v2/sandboxes?limit=2${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`)
    t.is(res.status, 200)
    const page = await res.json()
    t.true(page.length <= 2)
    for (const item of page) {
      t.truthy(item.startedAt && item.endAt && item.state && item.envdVersion)
      seen.push(item.sandboxID)
    }
    token = res.headers.get('x-next-token')
    pages++
  } while (token)
  t.is(pages, 3)
  t.deepEqual(seen.sort(), [...ids].sort())

  const running = await (await api(s, 'GET', '/v2/sandboxes?state=running')).json()
  t.is(running.length, 4)
  const paused = await (await api(s, 'GET', '/v2/sandboxes?state=paused')).json()
  t.deepEqual(paused.map((x) => x.sandboxID), [ids[4]])
  const groupA = await (await api(s, 'GET', `/v2/sandboxes?metadata=${encodeURIComponent('group=a')}`)).json()
  t.deepEqual(groupA.map((x) => x.sandboxID).sort(), ids.slice(0, 3).sort())
  t.is((await api(s, 'GET', '/v2/sandboxes?limit=0')).status, 400)
  t.is((await api(s, 'GET', '/v2/sandboxes?nextToken=bogus')).status, 400)
})

test('e2b: a sandbox vanishes after its timeout (404 on the control plane, 502 on /execute)', async (t) => {
  const s = await e2b(t)
  const created = Date.now()
  const sb = await createSandbox(s, { timeout: 0.4 })
  const returned = Date.now() // the sandbox was created before this, so it ends by returned + 400
  const before = await api(s, 'GET', `/sandboxes/${sb.sandboxID}`)
  if (Date.now() - created < 350) t.is(before.status, 200) // (unless the machine is very busy)
  const detail = await before.json()
  if (before.status === 200) t.is(Date.parse(detail.endAt) - Date.parse(detail.startedAt), 400)
  await sleep(Math.max(0, returned + 500 - Date.now()))
  t.is((await api(s, 'GET', `/sandboxes/${sb.sandboxID}`)).status, 404)
  const res = await execute(s, sb, "print('x')")
  t.is(res.status, 502)
  t.deepEqual(await res.json(), { sandboxId: sb.sandboxID, message: 'The sandbox was not found', code: 502 })

  const auto = await createSandbox(s, { timeout: 0.05, autoPause: true })
  await sleep(150)
  t.is((await (await api(s, 'GET', `/sandboxes/${auto.sandboxID}`)).json()).state, 'paused', 'autoPause pauses instead')
})

test('e2b: 429 when the concurrency limit is reached, with Retry-After', async (t) => {
  const s = await e2b(t, { maxSandboxes: 1, rateLimitRetryAfter: 3 })
  await createSandbox(s)
  const res = await api(s, 'POST', '/sandboxes', { templateID: 'base' })
  t.is(res.status, 429)
  t.is(res.headers.get('retry-after'), '3')
  t.like(await res.json(), { code: 429 })
})

// ---- E2B code interpreter ---------------------------------------------------------------------

test('e2b /execute: JSON lines arrive incrementally, keepalives during silences, end_of_execution last', async (t) => {
  const s = await e2b(t, { keepaliveMs: 40, lineDelayMs: 2 })
  const sb = await createSandbox(s)
  const start = Date.now()
  const res = await execute(s, sb, "print('before')\nsleep(0.2)\nprint('after')\n1 + 2")
  t.is(res.status, 200)
  const lines = await readLines(res, start)
  const types = lines.map((l) => l.line.type)
  t.is(types[0], 'number_of_executions')
  t.is(types[types.length - 1], 'end_of_execution')
  t.true(types.filter((x) => x === 'keepalive').length >= 3, types.join(','))
  const before = lines.find((l) => l.line.type === 'stdout' && l.line.text === 'before\n')
  const after = lines.find((l) => l.line.type === 'stdout' && l.line.text === 'after\n')
  t.truthy(before && after)
  t.true(after.at - before.at >= 180, `'before' arrived ${after.at - before.at} ms before 'after': streamed, not buffered`)
  t.true(Date.parse(before.line.timestamp) > 0)
  t.deepEqual(lines.find((l) => l.line.type === 'result').line, { type: 'result', text: '3', extra: {}, is_main_result: true })
})

test('e2b /execute: the mini interpreter (stdout, stderr, results, env vars, errors as HTTP 200)', async (t) => {
  const s = await e2b(t)
  const sb = await createSandbox(s, { envVars: { FROM_SANDBOX: 'sandbox' } })

  let r = await run(s, sb, "print('hello')\nprint(\"x\", 2)")
  t.is(r.status, 200)
  t.deepEqual(r.lines.filter((l) => l.type === 'stdout').map((l) => l.text), ['hello\n', 'x 2\n'])
  t.false(r.lines.some((l) => l.type === 'result'), 'print returns None: no main result')

  r = await run(s, sb, "import sys; print('e', file=sys.stderr)")
  t.like(r.lines.find((l) => l.type === 'stderr'), { text: 'e\n' })

  r = await run(s, sb, "'hi'")
  t.like(r.lines.find((l) => l.type === 'result'), { text: 'hi', is_main_result: true })

  r = await run(s, sb, { code: "import os\nprint(os.environ['X'])\nos.environ.get('FROM_SANDBOX')", env_vars: { X: 'from-request' } })
  t.like(r.lines.find((l) => l.type === 'stdout'), { text: 'from-request\n' })
  t.like(r.lines.find((l) => l.type === 'result'), { text: 'sandbox' })

  r = await run(s, sb, "print('partial')\nraise ValueError('boom')\nprint('never')")
  t.is(r.status, 200, 'a user-code exception is a result, not a service failure')
  t.deepEqual(r.lines.filter((l) => l.type === 'stdout').map((l) => l.text), ['partial\n'])
  const error = r.lines.find((l) => l.type === 'error')
  t.is(error.name, 'ValueError')
  t.is(error.value, 'boom')
  t.true(error.traceback.includes("raise ValueError('boom')"))
  t.is(r.lines[r.lines.length - 1].type, 'end_of_execution')

  r = await run(s, sb, "os.environ['MISSING']")
  t.like(r.lines.find((l) => l.type === 'error'), { name: 'KeyError', value: "'MISSING'" })
  r = await run(s, sb, 'x = 6 * 7')
  r = await run(s, sb, 'x')
  t.like(r.lines.find((l) => l.type === 'result'), { text: '42' }, 'variables persist in the kernel')
  r = await run(s, sb, "JSON({'a': 1})")
  t.like(r.lines.find((l) => l.type === 'result'), { json: { a: 1 }, is_main_result: true })
  r = await run(s, sb, "print('unclosed'")
  t.like(r.lines.find((l) => l.type === 'error'), { name: 'SyntaxError' })
  t.false(r.lines.some((l) => l.type === 'stdout'), 'a syntax error runs nothing')

  const counts = s.sandboxes.find((x) => x.sandboxID === sb.sandboxID)
  t.is(counts.executions, 10)
  r = await run(s, sb, '1')
  t.like(r.lines[0], { type: 'number_of_executions', execution_count: 11 })
})

test('e2b /execute: request validation, token, port and addressing', async (t) => {
  const s = await e2b(t)
  const sb = await createSandbox(s)

  const both = await execute(s, sb, { code: '1', language: 'python', context_id: 'abc' })
  t.is(both.status, 400)
  t.is(await both.text(), 'Only one of context_id or language can be provided')
  t.is((await execute(s, sb, { language: 'python' })).status, 422, 'code is required')
  t.is((await execute(s, sb, { code: '1', context_id: 'nope' })).status, 404)
  t.is((await execute(s, sb, "print('x')", { 'X-Access-Token': 'wrong' })).status, 401)

  const closed = await execute(s, sb, '1', { 'E2b-Sandbox-Port': '8080' })
  t.is(closed.status, 502)
  t.like(await closed.json(), { sandboxId: sb.sandboxID, port: 8080, code: 502 })

  const unknown = await execute(s, { sandboxID: 'doesnotexist' }, '1')
  t.is(unknown.status, 502)
  t.deepEqual(await unknown.json(), { sandboxId: 'doesnotexist', message: 'The sandbox was not found', code: 502 })

  // the path-prefix form and the real Host form
  const viaPrefix = await fetch(`${s.sandboxUrl(sb.sandboxID)}/execute`, {
    method: 'POST',
    headers: { 'X-Access-Token': sb.envdAccessToken },
    body: JSON.stringify({ code: '2 + 2' }),
  })
  t.like((await readLines(viaPrefix)).find((l) => l.line.type === 'result').line, { text: '4' })
  const viaHost = await new Promise((resolve, reject) => {
    const req = require('node:http').request(`${s.url}/execute`, {
      method: 'POST',
      headers: { Host: `49999-${sb.sandboxID}.e2b.app`, 'X-Access-Token': sb.envdAccessToken },
    })
    req.on('response', (res) => {
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode, text }))
    })
    req.on('error', reject)
    req.end(JSON.stringify({ code: '3 + 3' }))
  })
  t.is(viaHost.status, 200)
  t.true(viaHost.text.includes('"text": "6"'))

  const noId = await fetch(`${s.url}/execute`, { method: 'POST', body: '{"code":"1"}' })
  t.is(noId.status, 400)

  const tokenless = await e2b(t, { accessToken: false })
  const open = await createSandbox(tokenless)
  t.is(open.envdAccessToken, undefined)
  t.is((await execute(tokenless, open, '1')).status, 200)

  s.vanish(sb.sandboxID)
  t.is((await execute(s, sb, '1')).status, 502)
})

// ---- E2B switches -----------------------------------------------------------------------------

test('e2b faults: N failures with a status (429 carries Retry-After), then normal service', async (t) => {
  const s = await e2b(t)
  s.setFault({ route: 'createSandbox', status: 429, retryAfter: 7, times: 1 })
  s.setFault({ route: 'createSandbox', status: 503, times: 2 })
  const first = await api(s, 'POST', '/sandboxes', { templateID: 'base' })
  t.is(first.status, 429)
  t.is(first.headers.get('retry-after'), '7')
  t.like(await first.json(), { code: 429 })
  t.is((await api(s, 'POST', '/sandboxes', { templateID: 'base' })).status, 503)
  t.is((await api(s, 'POST', '/sandboxes', { templateID: 'base' })).status, 503)
  t.is((await api(s, 'POST', '/sandboxes', { templateID: 'base' })).status, 201)

  const sb = await createSandbox(s)
  s.setFault({ route: 'execute', status: 504 })
  for (let i = 0; i < 3; i++) t.is((await execute(s, sb, '1')).status, 504)
  t.is((await api(s, 'GET', `/sandboxes/${sb.sandboxID}`)).status, 200, 'other routes unaffected')
  s.clearFaults()
  t.is((await execute(s, sb, '1')).status, 200)
})

test('e2b faults: delay, hang, drop before the response and after the first JSON line', async (t) => {
  const s = await e2b(t)
  const sb = await createSandbox(s)

  s.setFault({ route: 'getSandbox', kind: 'delay', delayMs: 150, times: 1 })
  let start = Date.now()
  t.is((await api(s, 'GET', `/sandboxes/${sb.sandboxID}`)).status, 200)
  t.true(Date.now() - start >= 140)

  s.setFault({ route: 'getSandbox', kind: 'hang', times: 1 })
  start = Date.now()
  await t.throwsAsync(fetch(`${s.url}/sandboxes/${sb.sandboxID}`, { headers: { 'X-API-Key': API_KEY }, signal: AbortSignal.timeout(100) }), { any: true, name: 'TimeoutError' })

  s.setFault({ route: 'getSandbox', kind: 'drop', times: 1 })
  await t.throwsAsync(api(s, 'GET', `/sandboxes/${sb.sandboxID}`))

  s.setFault({ route: 'getSandbox', kind: 'drop', partial: true, times: 1 })
  const partial = await api(s, 'GET', `/sandboxes/${sb.sandboxID}`)
  t.is(partial.status, 200)
  await t.throwsAsync(partial.json())

  s.setFault({ route: 'execute', kind: 'drop', afterLines: 1, times: 1 })
  const dropped = await execute(s, sb, "print('a')\nprint('b')")
  t.is(dropped.status, 200)
  const seen = []
  await t.throwsAsync(async () => {
    for await (const l of readLinesIter(dropped)) seen.push(l)
  })
  t.deepEqual(seen.map((l) => l.type), ['number_of_executions'])

  s.setFault({ route: 'execute', kind: 'hang', afterLines: 2, times: 1 })
  const stalled = await execute(s, sb, "print('a')\nprint('b')", {}, AbortSignal.timeout(800))
  const got = []
  await t.throwsAsync(async () => {
    for await (const l of readLinesIter(stalled)) got.push(l)
  }, { any: true, name: 'TimeoutError' })
  t.deepEqual(got.map((l) => l.type), ['number_of_executions', 'stdout'])

  t.is((await run(s, sb, '5')).lines.find((l) => l.type === 'result').text, '5', 'back to normal')
})

async function* readLinesIter(res) {
  let buffer = ''
  const decoder = new TextDecoder()
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true })
    let nl
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const text = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      if (text.trim()) yield JSON.parse(text)
    }
  }
}

test('e2b: requests are recorded; the API key travels only in X-API-Key', async (t) => {
  const s = await e2b(t)
  const sb = await createSandbox(s, { metadata: { k: 'v' } })
  await run(s, sb, '1')
  const [create, exec] = s.requests
  t.is(create.method, 'POST')
  t.is(create.path, '/sandboxes')
  t.is(create.route, 'createSandbox')
  t.is(create.headers['x-api-key'], API_KEY)
  t.like(create.json, { templateID: 'code-interpreter-v1', metadata: { k: 'v' } })
  t.is(exec.route, 'execute')
  t.is(exec.sandboxId, sb.sandboxID)
  t.is(exec.headers['x-access-token'], sb.envdAccessToken)
  for (const r of s.requests) {
    const elsewhere = JSON.stringify({ path: r.path, body: r.body, headers: { ...r.headers, 'x-api-key': undefined } })
    t.false(elsewhere.includes(API_KEY), `${r.method} ${r.path}`)
  }
})

test('e2b: POST /__control sets faults, vanishes sandboxes and returns the request log', async (t) => {
  const s = await e2b(t)
  const sb = await createSandbox(s)
  const control = async (payload) => (await fetch(`${s.url}/__control`, { method: 'POST', body: JSON.stringify(payload) })).json()

  t.like(await control({ action: 'setFault', fault: { route: 'getSandbox', status: 500, times: 1 } }), { ok: true })
  t.is((await api(s, 'GET', `/sandboxes/${sb.sandboxID}`)).status, 500)
  t.is((await api(s, 'GET', `/sandboxes/${sb.sandboxID}`)).status, 200)
  t.like(await control({ action: 'vanish', sandboxId: sb.sandboxID }), { ok: true, vanished: true })
  t.is((await api(s, 'GET', `/sandboxes/${sb.sandboxID}`)).status, 404)
  const { requests } = await control({ action: 'requests' })
  t.deepEqual(requests.map((r) => r.route), ['createSandbox', 'getSandbox', 'getSandbox', 'getSandbox'])
  t.false((await control({ action: 'nope' })).ok)
})

// ---- child-process mode -----------------------------------------------------------------------

async function spawnServer(t, script, args) {
  const child = spawn(process.execPath, [path.join(__dirname, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => child.kill('SIGKILL'))
  let text = ''
  for await (const chunk of child.stdout) {
    text += chunk
    if (text.includes('\n')) break
  }
  return { child, info: JSON.parse(text.slice(0, text.indexOf('\n'))) }
}

test('child process: e2b-server.js --api-key prints {"url"} and serves until killed', async (t) => {
  const { child, info } = await spawnServer(t, 'e2b-server.js', ['--api-key', 'e2b_child'])
  t.regex(info.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const res = await fetch(`${info.url}/sandboxes`, { method: 'POST', headers: { 'X-API-Key': 'e2b_child' }, body: '{"templateID":"base"}' })
  t.is(res.status, 201)
  await fetch(`${info.url}/__control`, { method: 'POST', body: JSON.stringify({ action: 'setFault', fault: { route: '*', status: 503, retryAfter: 2 } }) })
  const failed = await fetch(`${info.url}/v2/sandboxes`, { headers: { 'X-API-Key': 'e2b_child' } })
  t.is(failed.status, 503)
  t.is(failed.headers.get('retry-after'), '2')
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.is(code, 0)
})

test('child process: inference-server.js --weights --bias', async (t) => {
  const { info } = await spawnServer(t, 'inference-server.js', ['--model', 'lin', '--weights', '2,0', '--bias', '1'])
  t.deepEqual(info.models, ['lin'])
  const res = await fetch(`${info.url}/v1/models/lin:predict`, { method: 'POST', body: '{"instances": [[3, 9]]}' })
  t.deepEqual(await res.json(), { predictions: [7] })
})

// ---- inference: Open Inference Protocol v2 ----------------------------------------------------

const v2Infer = (s, model, body, suffix = '') =>
  fetch(`${s.url}/v2/models/${model}${suffix}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) })
const input = (rows, extra = {}) => ({ name: 'input', shape: [rows.length, rows[0]?.length ?? 3], datatype: 'FP32', data: rows.flat(), ...extra })

test('v2: health, readiness, metadata, and infer computes w·x + b', async (t) => {
  const s = await inference(t, { weights: [1, 2, 3], bias: 0.5, versions: ['1', '2'] })
  t.is((await fetch(`${s.url}/v2/health/live`)).status, 200)
  t.is((await fetch(`${s.url}/v2/health/ready`)).status, 200)
  t.is((await fetch(`${s.url}/v2/models/linear/ready`)).status, 200)
  t.is((await fetch(`${s.url}/v2/models/linear/versions/2/ready`)).status, 200)
  const unknown = await fetch(`${s.url}/v2/models/nope/ready`)
  t.is(unknown.status, 404)
  t.is(typeof (await unknown.json()).error, 'string')
  t.like(await (await fetch(`${s.url}/v2/models/linear`)).json(), { name: 'linear', versions: ['1', '2'] })

  const res = await v2Infer(s, 'linear', { id: 'req-1', inputs: [input([[1, 1, 1], [0, 0, 2]])], outputs: [{ name: 'output' }] })
  t.is(res.status, 200)
  t.deepEqual(await res.json(), {
    model_name: 'linear',
    model_version: '2',
    id: 'req-1',
    outputs: [{ name: 'output', datatype: 'FP64', shape: [2, 1], data: [6.5, 6.5] }],
  })
  const v1 = await (await v2Infer(s, 'linear', { inputs: [input([[1, 0, 0]])] }, '/versions/1')).json()
  t.is(v1.model_version, '1')
  t.is(v1.id, undefined)
  t.is((await v2Infer(s, 'linear', { inputs: [input([[1, 0, 0]])] }, '/versions/9')).status, 404)
})

test('v2: errors are {"error"}: 404 unknown model, 400 bad input', async (t) => {
  const s = await inference(t)
  const unknown = await v2Infer(s, 'nope', { inputs: [input([[1, 2, 3]])] })
  t.is(unknown.status, 404)
  t.is(typeof (await unknown.json()).error, 'string')
  const bad = [
    '{not json',
    {},
    { inputs: [] },
    { inputs: [input([[1, 2, 3]], { name: 'other' })] },
    { inputs: [input([[1, 2]])] },
    { inputs: [input([[1, 2, 3]], { datatype: 'BYTES' })] },
    { inputs: [input([[1, 2, 3]], { shape: [2, 3] })] },
    { inputs: [input([[1, 2, 3]], { data: [1, 2, 'x'] })] },
    { inputs: [input([[1, 2, 3]])], outputs: [{ name: 'nope' }] },
  ]
  for (const body of bad) {
    const res = await v2Infer(s, 'linear', body)
    t.is(res.status, 400, JSON.stringify(body))
    t.is(typeof (await res.json()).error, 'string')
  }
})

test('v2: several outputs per instance, FP32 outputs rounded like float32', async (t) => {
  const s = await inference(t, { models: { two: { weights: [[1, 0], [0, 0.1]], bias: [0, 0.2], datatype: 'FP32' } } })
  const out = (await (await v2Infer(s, 'two', { inputs: [{ name: 'input', shape: [2, 2], datatype: 'FP64', data: [[1, 1], [2, 3]] }] })).json()).outputs[0]
  t.deepEqual(out.shape, [2, 2])
  t.is(out.datatype, 'FP32')
  t.deepEqual(out.data, [1, Math.fround(0.1 + 0.2), 2, Math.fround(0.3 + 0.2)])
})

// ---- inference: TensorFlow Serving REST --------------------------------------------------------

const tfPredict = (s, model, body) =>
  fetch(`${s.url}/v1/models/${model}:predict`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) })

test('tf serving: instances -> predictions, columnar inputs -> outputs, status, errors', async (t) => {
  const s = await inference(t, { weights: [1, 2, 3], bias: 0.5 })
  t.deepEqual(await (await tfPredict(s, 'linear', { instances: [[1, 1, 1], [0, 0, 1]] })).json(), { predictions: [6.5, 3.5] })
  t.deepEqual(await (await tfPredict(s, 'linear', { instances: [{ input: [1, 0, 0] }] })).json(), { predictions: [1.5] })
  t.deepEqual(await (await tfPredict(s, 'linear', { inputs: [[0, 1, 0]] })).json(), { outputs: [2.5] })
  t.deepEqual(await (await tfPredict(s, 'linear', { inputs: { input: [[0, 1, 0]] } })).json(), { outputs: [2.5] })
  const versioned = await fetch(`${s.url}/v1/models/linear/versions/1:predict`, { method: 'POST', body: '{"instances": [[0, 0, 0]]}' })
  t.deepEqual(await versioned.json(), { predictions: [0.5] })

  t.deepEqual(await (await fetch(`${s.url}/v1/models/linear`)).json(), {
    model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }],
  })
  const missing = await tfPredict(s, 'nope', { instances: [[1, 2, 3]] })
  t.is(missing.status, 404)
  t.regex((await missing.json()).error, /Servable not found/)
  for (const body of ['{bad', { instances: [[1, 2]] }, { instances: [[1, 2, 3]], inputs: [[1, 2, 3]] }, {}]) {
    const res = await tfPredict(s, 'linear', body)
    t.is(res.status, 400, JSON.stringify(body))
    t.is(typeof (await res.json()).error, 'string')
  }
})

// ---- inference switches -----------------------------------------------------------------------

test('inference faults: 503 / 500 with {"error"}, unready models, delay, hang, drop', async (t) => {
  const s = await inference(t)
  s.setFault({ route: 'infer', status: 503, times: 1 })
  s.setFault({ route: ['infer', 'predict'], status: 500, times: 1, message: 'boom' })
  const unavailable = await v2Infer(s, 'linear', { inputs: [input([[1, 2, 3]])] })
  t.is(unavailable.status, 503)
  t.is(typeof (await unavailable.json()).error, 'string')
  const internal = await tfPredict(s, 'linear', { instances: [[1, 2, 3]] })
  t.is(internal.status, 500)
  t.deepEqual(await internal.json(), { error: 'boom' })
  t.is((await tfPredict(s, 'linear', { instances: [[1, 2, 3]] })).status, 200)

  s.setModelReady('linear', false)
  t.is((await fetch(`${s.url}/v2/models/linear/ready`)).status, 503)
  t.is((await v2Infer(s, 'linear', { inputs: [input([[1, 2, 3]])] })).status, 503)
  t.is((await tfPredict(s, 'linear', { instances: [[1, 2, 3]] })).status, 503)
  t.is((await (await fetch(`${s.url}/v1/models/linear`)).json()).model_version_status[0].state, 'LOADING')
  s.setModelReady('linear', true)
  s.setReady(false)
  t.is((await fetch(`${s.url}/v2/health/ready`)).status, 503)
  s.setReady(true)

  s.setFault({ route: 'predict', kind: 'delay', delayMs: 120, times: 1 })
  const start = Date.now()
  t.is((await tfPredict(s, 'linear', { instances: [[1, 2, 3]] })).status, 200)
  t.true(Date.now() - start >= 110)
  s.setFault({ route: 'predict', kind: 'hang', times: 1 })
  await t.throwsAsync(fetch(`${s.url}/v1/models/linear:predict`, { method: 'POST', body: '{"instances":[[1,2,3]]}', signal: AbortSignal.timeout(100) }), { any: true, name: 'TimeoutError' })
  s.setFault({ route: 'predict', kind: 'drop', times: 1 })
  await t.throwsAsync(tfPredict(s, 'linear', { instances: [[1, 2, 3]] }))
  s.setFault({ route: 'infer', kind: 'drop', partial: true, times: 1 })
  const cut = await v2Infer(s, 'linear', { inputs: [input([[1, 2, 3]])] })
  await t.throwsAsync(cut.text())
})

test('inference faults: bare NaN / Infinity tokens, wrong output shapes', async (t) => {
  const s = await inference(t, { weights: [1, 2, 3], bias: 0.5 })
  s.setFault({ route: 'predict', kind: 'nan', times: 1 })
  const nan = await (await tfPredict(s, 'linear', { instances: [[1, 1, 1], [0, 0, 1]] })).text()
  t.is(nan, '{"predictions":[NaN,3.5]}')
  t.throws(() => JSON.parse(nan), { instanceOf: SyntaxError }, 'strict JSON rejects it')

  s.setFault({ route: 'infer', kind: 'nan', value: 'Infinity', index: 'all', times: 1 })
  const inf = await (await v2Infer(s, 'linear', { inputs: [input([[1, 1, 1], [0, 0, 1]])] })).text()
  t.true(inf.includes('"data":[Infinity,Infinity]'), inf)

  s.setFault({ route: 'predict', kind: 'shape', times: 1 })
  t.deepEqual(await (await tfPredict(s, 'linear', { instances: [[1, 1, 1], [0, 0, 1]] })).json(), { predictions: [6.5] })
  s.setFault({ route: 'infer', kind: 'shape', mode: 'mismatch', times: 1 })
  const out = (await (await v2Infer(s, 'linear', { inputs: [input([[1, 1, 1], [0, 0, 1]])] })).json()).outputs[0]
  t.deepEqual(out.shape, [2, 1])
  t.is(out.data.length, 3, 'declared shape and data disagree')
  t.is(s.requests.length, 4)
})
