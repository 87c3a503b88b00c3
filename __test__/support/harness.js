'use strict'
// Shared machinery of the protocol stand-ins (e2b-server.js, inference-server.js): fault rules,
// the request log, the `/__control` endpoint, waits that end when the server closes, and the
// child-process mode. Test support only: nothing here is product code.

const http = require('node:http')

const STATUS_KINDS = new Set(['status', 'delay', 'hang', 'drop'])

/**
 * Fault rules, consumed in the order they were added. A rule matches a request when its `route`
 * is the request's route name, `'*'`, or an array containing it, and its optional filters
 * (`sandboxId`, `model`) equal the request's. `times` (default: unlimited) counts matches; an
 * exhausted rule is removed.
 */
class Faults {
  constructor(extraKinds = []) {
    this.rules = []
    this.nextId = 1
    this.kinds = new Set([...STATUS_KINDS, ...extraKinds])
  }

  add(spec) {
    if (!spec || typeof spec !== 'object') throw new TypeError('a fault is an object')
    const kind = spec.kind ?? (spec.status !== undefined ? 'status' : undefined)
    if (!this.kinds.has(kind)) {
      throw new TypeError(`fault kind must be one of ${[...this.kinds].join(', ')} (got ${kind})`)
    }
    if (kind === 'status' && !Number.isInteger(spec.status)) {
      throw new TypeError('a status fault needs an integer `status`')
    }
    if (kind === 'delay' && !(spec.delayMs >= 0)) {
      throw new TypeError('a delay fault needs `delayMs` >= 0')
    }
    const times = spec.times === undefined || spec.times === null ? Infinity : spec.times
    if (!(times > 0)) throw new TypeError('`times` must be a positive number (omit it for "all")')
    const rule = { ...spec, kind, route: spec.route ?? '*', id: this.nextId++, remaining: times }
    this.rules.push(rule)
    return rule.id
  }

  clear(route) {
    if (route === undefined) this.rules = []
    else this.rules = this.rules.filter((r) => r.route !== route)
  }

  /** The first matching rule (a copy), consuming one of its `times`; undefined when none. */
  take(route, ctx = {}) {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]
      const routes = Array.isArray(rule.route) ? rule.route : [rule.route]
      if (!routes.includes('*') && !routes.includes(route)) continue
      if (rule.sandboxId !== undefined && rule.sandboxId !== ctx.sandboxId) continue
      if (rule.model !== undefined && rule.model !== ctx.model) continue
      rule.remaining -= 1
      if (rule.remaining <= 0) this.rules.splice(i, 1)
      return { ...rule }
    }
    return undefined
  }

  list() {
    return this.rules.map((r) => ({ ...r, remaining: r.remaining === Infinity ? null : r.remaining }))
  }
}

/** Python's `json.dumps` layout (", " and ": " separators, non-ASCII escaped), for faithful lines. */
function pyJson(value) {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN'
    if (value === Infinity) return 'Infinity'
    if (value === -Infinity) return '-Infinity'
    return JSON.stringify(value)
  }
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`
  const entries = Object.entries(value).filter(([, v]) => v !== undefined)
  return `{${entries.map(([k, v]) => `${pyJson(k)}: ${pyJson(v)}`).join(', ')}}`
}

/** JSON with non-finite numbers written as the bare tokens NaN / Infinity / -Infinity. */
function jsonWithNonFinite(value) {
  const marker = '\u0000nonfinite:'
  const text = JSON.stringify(value, (_key, v) =>
    typeof v === 'number' && !Number.isFinite(v) ? `${marker}${String(v)}` : v,
  )
  return text.replace(/"\\u0000nonfinite:(NaN|Infinity|-Infinity)"/g, '$1')
}

/**
 * Starts an http server on 127.0.0.1 around `service`:
 *   service.route(req, url, body) -> { route, ctx }   (route name and fault-filter context)
 *   service.handle(call)           -> handles the request (call: see below)
 *   service.actions                -> extra /__control actions: name -> (payload) => result object
 *   service.defaultFaultBody(route, status, message) -> the body of a status fault
 * Returns the pieces the public server objects are built from.
 */
async function startHarness(service, { host = '127.0.0.1', port = 0, extraFaultKinds = [] } = {}) {
  const faults = new Faults(extraFaultKinds)
  const requests = []
  let seq = 0
  let closed = false
  const wakers = new Set()

  /** Resolves after `ms`, or early (to `false`) when the server closes; true when it elapsed. */
  function wait(ms) {
    if (closed) return Promise.resolve(false)
    return new Promise((resolve) => {
      const waker = () => {
        clearTimeout(timer)
        wakers.delete(waker)
        resolve(false)
      }
      const timer = setTimeout(() => {
        wakers.delete(waker)
        resolve(true)
      }, ms)
      wakers.add(waker)
    })
  }

  /** Never resolves to true: holds a request until the server closes or the client leaves. */
  function hangUntilClosed(res) {
    return new Promise((resolve) => {
      if (closed || res.destroyed) return resolve(false)
      const waker = () => {
        wakers.delete(waker)
        resolve(false)
      }
      wakers.add(waker)
      res.on('close', waker)
    })
  }

  // Responses under a `drop` fault with `partial: true`: their body is cut in half.
  const partials = new WeakSet()

  function sendRaw(res, status, text, headers = {}) {
    if (res.headersSent || res.destroyed) return
    if (partials.has(res)) return sendPartial(res, status, text, headers)
    const buf = Buffer.from(text, 'utf8')
    res.writeHead(status, { 'content-length': buf.length, ...headers })
    res.end(buf)
  }

  function sendJson(res, status, body, headers = {}) {
    sendRaw(res, status, JSON.stringify(body), { 'content-type': 'application/json', ...headers })
  }

  function sendText(res, status, text, headers = {}) {
    sendRaw(res, status, text, { 'content-type': 'text/plain; charset=utf-8', ...headers })
  }

  function sendEmpty(res, status, headers = {}) {
    if (res.headersSent || res.destroyed) return
    if (partials.has(res)) return res.socket?.destroy()
    res.writeHead(status, headers)
    res.end()
  }

  /** Headers, then the first half of the body, then the socket is destroyed. */
  function sendPartial(res, status, text, headers = {}) {
    if (res.headersSent || res.destroyed) return
    const buf = Buffer.from(text, 'utf8')
    res.writeHead(status, { 'content-length': buf.length, ...headers })
    res.write(buf.subarray(0, Math.max(1, Math.floor(buf.length / 2))), () => res.socket?.destroy())
  }

  function retryAfterHeader(fault) {
    let retryAfter = fault.retryAfter
    if (retryAfter === undefined && fault.status === 429) retryAfter = 1
    return retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }
  }

  /** Applies a status fault. */
  function sendFault(res, route, fault) {
    const headers = retryAfterHeader(fault)
    const message = fault.message ?? http.STATUS_CODES[fault.status] ?? 'Error'
    const body = fault.body !== undefined ? fault.body : service.defaultFaultBody(route, fault.status, message)
    if (typeof body === 'string') sendText(res, fault.status, body, headers)
    else sendJson(res, fault.status, body, headers)
  }

  function control(payload) {
    const action = payload.action
    switch (action) {
      case 'setFault':
      case 'addFault':
        return { id: faults.add(payload.fault ?? payload) }
      case 'clearFaults':
        faults.clear(payload.route)
        return {}
      case 'faults':
        return { faults: faults.list() }
      case 'requests':
        return { requests }
      case 'clearRequests':
        requests.length = 0
        return {}
      case 'reset':
        faults.clear()
        requests.length = 0
        if (service.actions.reset) service.actions.reset(payload)
        return {}
      default:
        if (action !== 'reset' && typeof service.actions[action] === 'function') {
          return service.actions[action](payload) ?? {}
        }
        throw Object.assign(new Error(`unknown control action ${JSON.stringify(action)}`), {
          status: 400,
        })
    }
  }

  async function onRequest(req, res) {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const body = Buffer.concat(chunks).toString('utf8')
    const url = new URL(req.url, 'http://placeholder')

    if (url.pathname === '/__control' || url.pathname.startsWith('/__control/')) {
      let payload = {}
      if (url.pathname === '/__control/requests' && req.method === 'GET') {
        payload = { action: 'requests' }
      } else if (req.method !== 'POST') {
        return sendJson(res, 405, { error: 'POST /__control with {"action": ...}' })
      } else {
        try {
          payload = body ? JSON.parse(body) : {}
        } catch (e) {
          return sendJson(res, 400, { error: `invalid JSON: ${e.message}` })
        }
      }
      try {
        return sendJson(res, 200, { ok: true, ...control(payload) })
      } catch (e) {
        return sendJson(res, e.status ?? 400, { ok: false, error: e.message })
      }
    }

    let json
    try {
      json = body ? JSON.parse(body) : undefined
    } catch {
      json = undefined
    }
    const { route, ctx = {} } = service.route(req, url, body)
    const record = {
      seq: ++seq,
      at: Date.now(),
      method: req.method,
      path: url.pathname + url.search,
      pathname: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      rawHeaders: [...req.rawHeaders],
      body,
      json,
      route,
      ...ctx,
    }
    requests.push(record)

    const fault = faults.take(route, ctx)
    if (fault?.delayMs > 0) {
      if (!(await wait(fault.delayMs)) || res.destroyed) return
    }
    const streamed = service.streamingRoutes?.has(route) ?? false
    const midStream = streamed && fault?.afterLines > 0
    if (fault?.kind === 'hang' && !midStream) return hangUntilClosed(res)
    if (fault?.kind === 'drop' && !midStream) {
      if (fault.partial && !streamed) partials.add(res)
      else return req.socket.destroy()
    }
    if (fault?.kind === 'status') return sendFault(res, route, fault)
    const call = { req, res, url, body, route, ctx, record, fault: fault?.kind === 'delay' ? undefined : fault }
    return service.handle(call)
  }

  const sockets = new Set()
  const server = http.createServer((req, res) => {
    onRequest(req, res).catch((err) => {
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, { code: 500, message: String(err?.stack ?? err) })
      else res.destroy()
    })
  })
  server.keepAliveTimeout = 5000
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  const url = `http://${address.address}:${address.port}`

  async function close() {
    if (closed) return
    closed = true
    for (const waker of [...wakers]) waker()
    const done = new Promise((resolve) => server.close(() => resolve()))
    server.closeAllConnections?.()
    for (const socket of sockets) socket.destroy()
    await done
  }

  return {
    server,
    url,
    port: address.port,
    faults,
    requests,
    wait,
    hangUntilClosed,
    isClosed: () => closed,
    send: { raw: sendRaw, json: sendJson, text: sendText, empty: sendEmpty, partial: sendPartial },
    control,
    close,
  }
}

/** Parses `--flag value` / `--flag=value` / `--flag` (true) arguments. */
function parseArgs(argv) {
  const out = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) continue
    const eq = arg.indexOf('=')
    if (eq !== -1) {
      out[arg.slice(2, eq)] = arg.slice(eq + 1)
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      out[arg.slice(2)] = argv[++i]
    } else {
      out[arg.slice(2)] = true
    }
  }
  return out
}

/**
 * Child-process mode: starts the server, prints one JSON line (`{"url": ...}` plus `extra`) on
 * stdout, serves until SIGTERM / SIGINT (or stdin closes, with --exit-on-stdin-close).
 */
async function runCli(start, toOptions) {
  const args = parseArgs(process.argv.slice(2))
  let s
  try {
    s = await start(toOptions(args))
  } catch (err) {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exit(2)
  }
  const stop = () => {
    s.close().finally(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  if (args['exit-on-stdin-close']) {
    process.stdin.on('end', stop)
    process.stdin.on('close', stop)
    process.stdin.resume()
  }
  process.stdout.write(`${JSON.stringify({ url: s.url, ...(s.cliInfo ?? {}) })}\n`)
}

module.exports = { startHarness, parseArgs, runCli, pyJson, jsonWithNonFinite, Faults }
