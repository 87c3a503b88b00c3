'use strict'
// A protocol-faithful local stand-in for E2B: the control plane (api.e2b.app: /sandboxes, ...)
// and the code interpreter inside a sandbox (port 49999: /execute streaming JSON lines), served
// by one http server on 127.0.0.1. Test support only, never product code.
//
//   const { startE2BServer } = require('./support/e2b-server.js')
//   const s = await startE2BServer({ apiKey: 'e2b_test' })
//   s.url                      // http://127.0.0.1:PORT (control plane AND code interpreter)
//   s.setFault({ route: 'createSandbox', status: 429, retryAfter: 2, times: 1 })
//   s.requests                 // every request received (method, path, headers, body, json, ...)
//   await s.close()
//
// Child process (for Rust integration tests):
//   node __test__/support/e2b-server.js --api-key KEY [--port N] [--keepalive-ms N]
//        [--line-delay-ms N] [--domain D] [--no-access-token] [--exit-on-stdin-close]
// prints one line `{"url":"http://127.0.0.1:PORT","apiKey":"KEY"}` and serves until killed;
// switches then go through `POST /__control` (see the report in support.spec.js's header).
//
// Which sandbox an interpreter request is for, in this order:
//   1. a path prefix `/__sandbox/{sandboxID}/...` (so `s.sandboxUrl(id)` can be a client's
//      per-sandbox base URL: `${s.sandboxUrl(id)}/execute`);
//   2. the Host header `{port}-{sandboxID}.{anything}` (the real addressing scheme);
//   3. the `E2b-Sandbox-Id` header (what the SDK sends), for any path that is not a control-plane
//      path (`/sandboxes...`, `/v2/...`), i.e. `/execute`, `/contexts`, `/health`.
// With none of them, `/execute` answers 400 {"code":400,"message":...} (a client bug).

const crypto = require('node:crypto')
const { startHarness, runCli, pyJson } = require('./harness.js')
const mini = require('./mini-python.js')

const INTERPRETER_PORT = 49999

const randomId = (len = 20) => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  const bytes = crypto.randomBytes(len)
  let out = ''
  for (const b of bytes) out += alphabet[b % alphabet.length]
  return out
}

/**
 * Options (all optional):
 *   apiKey            the key X-API-Key must equal (default: a random `e2b_<40 hex>`)
 *   host, port        where to listen (127.0.0.1, 0 = any free port)
 *   domain            `domain` of created sandboxes (default 'e2b.app')
 *   accessToken       true (default): sandboxes get an envdAccessToken that /execute requires in
 *                     X-Access-Token; false: none, no token needed
 *   envdVersion       '0.2.0'
 *   defaultTimeout    seconds, when NewSandbox has no timeout (15, the spec default)
 *   maxTimeout        seconds; a larger timeout is a 400 (86400)
 *   maxSandboxes      concurrent running sandboxes before POST /sandboxes answers 429 (Infinity)
 *   rateLimitRetryAfter  Retry-After seconds of that 429 (1)
 *   keepaliveMs       silence before a {"type":"keepalive"} line while code sleeps (5000)
 *   lineDelayMs       delay before each streamed JSON line (5)
 *   cpuCount, memoryMB, diskSizeMB   reported in SandboxDetail (2, 512, 512)
 */
async function startE2BServer(options = {}) {
  const opts = {
    apiKey: options.apiKey ?? `e2b_${crypto.randomBytes(20).toString('hex')}`,
    domain: options.domain ?? 'e2b.app',
    accessToken: options.accessToken ?? true,
    envdVersion: options.envdVersion ?? '0.2.0',
    defaultTimeout: options.defaultTimeout ?? 15,
    maxTimeout: options.maxTimeout ?? 86400,
    maxSandboxes: options.maxSandboxes ?? Infinity,
    rateLimitRetryAfter: options.rateLimitRetryAfter ?? 1,
    keepaliveMs: options.keepaliveMs ?? 5000,
    lineDelayMs: options.lineDelayMs ?? 5,
    cpuCount: options.cpuCount ?? 2,
    memoryMB: options.memoryMB ?? 512,
    diskSizeMB: options.diskSizeMB ?? 512,
  }

  /** sandboxID -> sandbox record (see create()). Insertion order = creation order. */
  const sandboxes = new Map()

  /** Applies expiry: a sandbox past endAt is killed, or paused when it was created with autoPause. */
  function sweep() {
    const now = Date.now()
    for (const [id, sb] of sandboxes) {
      if (sb.state === 'running' && sb.endAt <= now) {
        if (sb.autoPause) sb.state = 'paused'
        else sandboxes.delete(id)
      }
    }
  }

  function find(id) {
    sweep()
    return sandboxes.get(id)
  }

  const iso = (ms) => new Date(ms).toISOString()

  const sandboxBody = (sb) => ({
    templateID: sb.templateID,
    sandboxID: sb.sandboxID,
    alias: sb.alias,
    clientID: sb.clientID,
    envdVersion: sb.envdVersion,
    ...(sb.envdAccessToken ? { envdAccessToken: sb.envdAccessToken } : {}),
    trafficAccessToken: null,
    domain: sb.domain,
  })

  const listedBody = (sb) => ({
    templateID: sb.templateID,
    alias: sb.alias,
    sandboxID: sb.sandboxID,
    clientID: sb.clientID,
    startedAt: iso(sb.startedAt),
    endAt: iso(sb.endAt),
    cpuCount: sb.cpuCount,
    memoryMB: sb.memoryMB,
    diskSizeMB: sb.diskSizeMB,
    metadata: sb.metadata,
    state: sb.state,
    envdVersion: sb.envdVersion,
  })

  const detailBody = (sb) => ({
    ...listedBody(sb),
    ...(sb.envdAccessToken ? { envdAccessToken: sb.envdAccessToken } : {}),
    domain: sb.domain,
  })

  const err = (code, message) => ({ code, message })
  const notFoundBody = (id) => err(404, `sandbox "${id}" doesn't exist or you don't have access to it`)

  function newContext(language = 'python', cwd = '/home/user') {
    return { id: crypto.randomUUID(), language, cwd, executionCount: 0, globals: new Map(), env: new Map() }
  }

  function create(body) {
    const now = Date.now()
    const timeout = body.timeout ?? opts.defaultTimeout
    const id = randomId(20)
    const defaultContext = newContext()
    const sb = {
      templateID: body.templateID,
      alias: body.templateID,
      sandboxID: id,
      clientID: crypto.randomBytes(4).toString('hex'),
      envdVersion: opts.envdVersion,
      envdAccessToken: opts.accessToken ? crypto.randomBytes(32).toString('hex') : undefined,
      domain: opts.domain,
      startedAt: now,
      endAt: now + timeout * 1000,
      state: 'running',
      autoPause: body.autoPause === true,
      metadata: { ...(body.metadata ?? {}) },
      envVars: { ...(body.envVars ?? {}) },
      cpuCount: opts.cpuCount,
      memoryMB: opts.memoryMB,
      diskSizeMB: opts.diskSizeMB,
      contexts: new Map([[defaultContext.id, defaultContext]]),
      defaultContextId: defaultContext.id,
      executions: 0,
      portClosed: false,
    }
    sandboxes.set(id, sb)
    return sb
  }

  const isStringMap = (v) =>
    v === undefined || (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'))

  function validTimeout(t) {
    return typeof t === 'number' && Number.isFinite(t) && t >= 0
  }

  // ---- routing --------------------------------------------------------------------------------

  /** Where an interpreter request points: { sandboxId, port, path } or undefined (control plane). */
  function interpreterTarget(req, url) {
    const prefix = /^\/__sandbox\/([^/]+)(\/.*)?$/.exec(url.pathname)
    if (prefix) return { sandboxId: decodeURIComponent(prefix[1]), port: portHeader(req), path: prefix[2] ?? '/' }
    const host = /^(\d+)-([A-Za-z0-9]+)\./.exec(req.headers.host ?? '')
    if (host) return { sandboxId: host[2], port: Number(host[1]), path: url.pathname }
    const header = req.headers['e2b-sandbox-id']
    if (header && !url.pathname.startsWith('/sandboxes') && !url.pathname.startsWith('/v2/')) {
      return { sandboxId: header, port: portHeader(req), path: url.pathname }
    }
    if (url.pathname === '/execute' || url.pathname.startsWith('/contexts')) {
      return { sandboxId: undefined, port: portHeader(req), path: url.pathname }
    }
    return undefined
  }

  function portHeader(req) {
    const p = req.headers['e2b-sandbox-port']
    return p === undefined ? INTERPRETER_PORT : Number(p)
  }

  const CONTROL_ROUTES = [
    ['GET', /^\/health$/, 'health'],
    ['POST', /^\/sandboxes$/, 'createSandbox'],
    ['GET', /^\/sandboxes$/, 'listSandboxes'],
    ['GET', /^\/v2\/sandboxes$/, 'listSandboxes'],
    ['GET', /^\/sandboxes\/([^/]+)$/, 'getSandbox'],
    ['DELETE', /^\/sandboxes\/([^/]+)$/, 'deleteSandbox'],
    ['POST', /^\/sandboxes\/([^/]+)\/timeout$/, 'timeout'],
    ['POST', /^\/sandboxes\/([^/]+)\/refreshes$/, 'refresh'],
    ['POST', /^\/sandboxes\/([^/]+)\/pause$/, 'pause'],
    ['POST', /^\/sandboxes\/([^/]+)\/resume$/, 'resume'],
    ['POST', /^\/sandboxes\/([^/]+)\/connect$/, 'connect'],
  ]

  function route(req, url) {
    const target = interpreterTarget(req, url)
    if (target) {
      const name =
        target.path === '/execute' ? 'execute' : target.path.startsWith('/contexts') ? 'contexts' : target.path === '/health' ? 'sandboxHealth' : 'interpreterOther'
      return { route: name, ctx: { sandboxId: target.sandboxId, target } }
    }
    for (const [method, re, name] of CONTROL_ROUTES) {
      const m = re.exec(url.pathname)
      if (m && method === req.method) {
        return { route: name, ctx: m[1] ? { sandboxId: decodeURIComponent(m[1]) } : {} }
      }
    }
    return { route: 'unknown', ctx: {} }
  }

  // ---- control plane --------------------------------------------------------------------------

  function handleControl(call, h) {
    const { req, res, url, body, route: name, ctx } = call
    const { json: sendJson, empty } = h.send
    if (name === 'health') return sendJson(res, 200, { message: 'Health check successful' })
    const key = req.headers['x-api-key']
    if (key === undefined) return sendJson(res, 401, err(401, 'authorization header is missing'))
    if (key !== opts.apiKey) return sendJson(res, 401, err(401, 'Invalid API key'))
    if (name === 'unknown') return sendJson(res, 404, err(404, `no route for ${req.method} ${url.pathname}`))

    let payload
    if (body.length > 0) {
      try {
        payload = JSON.parse(body)
      } catch {
        return sendJson(res, 400, err(400, 'request body has an error: failed to decode request body'))
      }
    }
    const needsBody = ['createSandbox', 'timeout', 'connect'].includes(name)
    if (needsBody && (payload === undefined || payload === null || typeof payload !== 'object' || Array.isArray(payload))) {
      return sendJson(res, 400, err(400, 'request body has an error: value is required but missing'))
    }

    switch (name) {
      case 'createSandbox': {
        if (typeof payload.templateID !== 'string' || payload.templateID === '') {
          return sendJson(res, 400, err(400, 'request body has an error: doesn\'t match schema: property "templateID" is missing'))
        }
        if (payload.timeout !== undefined && !validTimeout(payload.timeout)) {
          return sendJson(res, 400, err(400, 'request body has an error: property "timeout" must be an integer >= 0'))
        }
        if ((payload.timeout ?? 0) > opts.maxTimeout) {
          return sendJson(res, 400, err(400, `Timeout cannot be greater than ${opts.maxTimeout / 3600} hours`))
        }
        if (!isStringMap(payload.metadata) || !isStringMap(payload.envVars)) {
          return sendJson(res, 400, err(400, 'request body has an error: metadata and envVars map strings to strings'))
        }
        sweep()
        const running = [...sandboxes.values()].filter((s) => s.state === 'running').length
        if (running >= opts.maxSandboxes) {
          return sendJson(
            res,
            429,
            err(429, `You have reached the maximum number of concurrent E2B sandboxes (${opts.maxSandboxes}). If you need more, please contact us at 'https://e2b.dev/docs/getting-help'`),
            { 'retry-after': String(opts.rateLimitRetryAfter) },
          )
        }
        return sendJson(res, 201, sandboxBody(create(payload)))
      }
      case 'listSandboxes': {
        sweep()
        const v2 = url.pathname.startsWith('/v2/')
        let states = v2 ? ['running', 'paused'] : ['running']
        if (v2 && url.searchParams.has('state')) {
          states = url.searchParams.getAll('state').flatMap((s) => s.split(',')).filter(Boolean)
          if (states.some((s) => s !== 'running' && s !== 'paused')) {
            return sendJson(res, 400, err(400, 'state must be running or paused'))
          }
        }
        let wanted = []
        if (url.searchParams.has('metadata')) {
          wanted = [...new URLSearchParams(url.searchParams.get('metadata'))]
        }
        let list = [...sandboxes.values()].filter(
          (sb) => states.includes(sb.state) && wanted.every(([k, v]) => sb.metadata[k] === v),
        )
        if (!v2) return sendJson(res, 200, list.map(listedBody))
        let limit = 100
        if (url.searchParams.has('limit')) {
          limit = Number(url.searchParams.get('limit'))
          if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
            return sendJson(res, 400, err(400, 'limit must be an integer between 1 and 100'))
          }
        }
        const token = url.searchParams.get('nextToken')
        if (token) {
          let after
          try {
            after = Buffer.from(token, 'base64url').toString('utf8')
          } catch {
            after = undefined
          }
          const at = list.findIndex((sb) => sb.sandboxID === after)
          if (!after || at === -1) return sendJson(res, 400, err(400, 'Invalid next token'))
          list = list.slice(at + 1)
        }
        const page = list.slice(0, limit)
        const headers = {}
        if (list.length > limit) {
          headers['x-next-token'] = Buffer.from(page[page.length - 1].sandboxID, 'utf8').toString('base64url')
        }
        return sendJson(res, 200, page.map(listedBody), headers)
      }
      case 'getSandbox': {
        const sb = find(ctx.sandboxId)
        if (!sb) return sendJson(res, 404, notFoundBody(ctx.sandboxId))
        return sendJson(res, 200, detailBody(sb))
      }
      case 'deleteSandbox': {
        const sb = find(ctx.sandboxId)
        if (!sb) return sendJson(res, 404, notFoundBody(ctx.sandboxId))
        sandboxes.delete(ctx.sandboxId)
        return empty(res, 204)
      }
      case 'timeout': {
        if (!validTimeout(payload.timeout)) {
          return sendJson(res, 400, err(400, 'request body has an error: property "timeout" is missing or not an integer >= 0'))
        }
        const sb = find(ctx.sandboxId)
        if (!sb) return sendJson(res, 404, notFoundBody(ctx.sandboxId))
        sb.endAt = Date.now() + payload.timeout * 1000
        return empty(res, 204)
      }
      case 'refresh': {
        const sb = find(ctx.sandboxId)
        if (!sb) return sendJson(res, 404, notFoundBody(ctx.sandboxId))
        const duration = payload?.duration ?? opts.defaultTimeout
        sb.endAt = Math.max(sb.endAt, Date.now() + duration * 1000)
        return empty(res, 204)
      }
      case 'pause': {
        const sb = find(ctx.sandboxId)
        if (!sb) return sendJson(res, 404, notFoundBody(ctx.sandboxId))
        if (sb.state === 'paused') return sendJson(res, 409, err(409, `Sandbox ${ctx.sandboxId} is already paused`))
        sb.state = 'paused'
        return empty(res, 204)
      }
      case 'resume': {
        const sb = find(ctx.sandboxId)
        if (!sb) return sendJson(res, 404, notFoundBody(ctx.sandboxId))
        if (sb.state === 'running') return sendJson(res, 409, err(409, `Sandbox ${ctx.sandboxId} is already running`))
        const timeout = payload?.timeout ?? opts.defaultTimeout
        sb.state = 'running'
        sb.endAt = Date.now() + timeout * 1000
        return sendJson(res, 201, sandboxBody(sb))
      }
      case 'connect': {
        if (!validTimeout(payload.timeout)) {
          return sendJson(res, 400, err(400, 'request body has an error: property "timeout" is missing or not an integer >= 0'))
        }
        const sb = find(ctx.sandboxId)
        if (!sb) return sendJson(res, 404, notFoundBody(ctx.sandboxId))
        const until = Date.now() + payload.timeout * 1000
        if (sb.state === 'paused') {
          sb.state = 'running'
          sb.endAt = until
          return sendJson(res, 201, sandboxBody(sb))
        }
        sb.endAt = Math.max(sb.endAt, until) // connect only extends the TTL
        return sendJson(res, 200, sandboxBody(sb))
      }
      default:
        return sendJson(res, 404, err(404, `no route for ${req.method} ${url.pathname}`))
    }
  }

  // ---- code interpreter -----------------------------------------------------------------------

  const sandboxNotFound = (id) => ({ sandboxId: id, message: 'The sandbox was not found', code: 502 })
  const portClosed = (id, port) => ({
    sandboxId: id,
    message: 'The sandbox is running but port is not open',
    port,
    code: 502,
  })

  async function handleInterpreter(call, h) {
    const { req, res, body, route: name, ctx } = call
    const { json: sendJson, text } = h.send
    const { sandboxId, port, path } = ctx.target
    if (sandboxId === undefined) {
      return sendJson(res, 400, err(400, 'no sandbox id: use the /__sandbox/{id} prefix, a {port}-{id}.{domain} Host, or the E2b-Sandbox-Id header'))
    }
    const sb = find(sandboxId)
    if (!sb || sb.state !== 'running') return sendJson(res, 502, sandboxNotFound(sandboxId))
    if (port !== INTERPRETER_PORT || sb.portClosed) return sendJson(res, 502, portClosed(sandboxId, port))

    if (name === 'sandboxHealth' && req.method === 'GET') return sendJson(res, 200, 'OK')
    if (sb.envdAccessToken && req.headers['x-access-token'] !== sb.envdAccessToken) {
      return text(res, 401, 'Unauthorized')
    }

    let payload
    if (req.method === 'POST') {
      try {
        payload = body ? JSON.parse(body) : undefined
      } catch (e) {
        return sendJson(res, 422, { detail: [{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: e.message } }] })
      }
    }

    if (name === 'contexts') {
      if (req.method === 'GET' && path === '/contexts') {
        return sendJson(res, 200, [...sb.contexts.values()].map((c) => ({ id: c.id, language: c.language, cwd: c.cwd })))
      }
      if (req.method === 'POST' && path === '/contexts') {
        const language = String(payload?.language ?? 'python').toLowerCase()
        if (language !== 'python') return text(res, 500, `Failed to create context: language '${language}' is not supported by the E2B test server`)
        const c = newContext(language, payload?.cwd ?? '/home/user')
        sb.contexts.set(c.id, c)
        return sendJson(res, 200, { id: c.id, language: c.language, cwd: c.cwd })
      }
      const del = /^\/contexts\/([^/]+)$/.exec(path)
      if (req.method === 'DELETE' && del) {
        if (!sb.contexts.has(del[1])) return text(res, 404, `Context ${del[1]} not found`)
        sb.contexts.delete(del[1])
        return h.send.empty(res, 200)
      }
      return sendJson(res, 404, { detail: 'Not Found' })
    }
    if (name !== 'execute' || req.method !== 'POST') return sendJson(res, 404, { detail: 'Not Found' })

    // POST /execute
    if (payload === undefined || payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      return sendJson(res, 422, { detail: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: payload ?? null }] })
    }
    if (typeof payload.code !== 'string') {
      const missing = payload.code === undefined
      return sendJson(res, 422, {
        detail: [{ type: missing ? 'missing' : 'string_type', loc: ['body', 'code'], msg: missing ? 'Field required' : 'Input should be a valid string', input: missing ? payload : payload.code }],
      })
    }
    if (payload.env_vars !== undefined && payload.env_vars !== null && !isStringMap(payload.env_vars)) {
      return sendJson(res, 422, { detail: [{ type: 'dict_type', loc: ['body', 'env_vars'], msg: 'Input should be a valid dictionary', input: payload.env_vars }] })
    }
    if (payload.context_id && payload.language) {
      return text(res, 400, 'Only one of context_id or language can be provided')
    }
    let context
    if (payload.language) {
      const language = String(payload.language).toLowerCase()
      if (language !== 'python') return text(res, 500, `Failed to create context: language '${language}' is not supported by the E2B test server`)
      context = sb.contexts.get(sb.defaultContextId)
    } else if (payload.context_id) {
      context = sb.contexts.get(payload.context_id)
      if (!context) return text(res, 404, `Context ${payload.context_id} not found`)
    } else {
      context = sb.contexts.get(sb.defaultContextId)
    }

    return streamExecution(call, h, sb, context, payload)
  }

  async function streamExecution(call, h, sb, context, payload) {
    const { res, fault } = call
    let linesWritten = 0
    let stopped = false
    res.on('close', () => {
      stopped = true
    })
    const limit = fault && (fault.kind === 'drop' || fault.kind === 'hang') ? Math.max(1, fault.afterLines ?? 1) : Infinity

    res.writeHead(200, {}) // the real server sets no content-type on the stream
    res.flushHeaders()

    /** Writes one JSON line after lineDelayMs; false once the stream is over for any reason. */
    const emit = async (obj) => {
      if (stopped || res.destroyed) return false
      if (opts.lineDelayMs > 0 && !(await h.wait(opts.lineDelayMs))) return false
      if (stopped || res.destroyed) return false
      if (linesWritten >= limit) return false
      res.write(`${pyJson(obj)}\n`)
      linesWritten++
      if (linesWritten >= limit) {
        if (fault.kind === 'drop') {
          stopped = true
          await new Promise((resolve) => res.write('', resolve))
          res.socket?.destroy()
        } else {
          stopped = true
          await h.hangUntilClosed(res)
        }
        return false
      }
      return true
    }
    const timestamp = () => new Date().toISOString()
    const halt = () => {
      throw Object.assign(new Error('stream stopped'), { halted: true })
    }

    context.executionCount += 1
    sb.executions += 1
    const count = context.executionCount
    const env = new Map([...Object.entries(sb.envVars), ...context.env, ...Object.entries(payload.env_vars ?? {})])
    const io = {
      env,
      globals: context.globals,
      onEnvSet: (k, v) => context.env.set(k, v),
      stdout: async (t) => (await emit({ type: 'stdout', text: t, timestamp: timestamp() })) || halt(),
      stderr: async (t) => (await emit({ type: 'stderr', text: t, timestamp: timestamp() })) || halt(),
      display: async (value, isMain) =>
        (await emit({ type: 'result', ...mini.resultFields(value), extra: {}, is_main_result: isMain })) || halt(),
      sleep: async (seconds) => {
        let left = seconds * 1000
        while (left > 0) {
          const step = Math.min(left, opts.keepaliveMs)
          if (!(await h.wait(step)) || stopped || res.destroyed) halt()
          left -= step
          if (step === opts.keepaliveMs && !(await emit({ type: 'keepalive' }))) halt()
        }
      },
    }

    try {
      if (!(await emit({ type: 'number_of_executions', execution_count: count }))) return
      const outcome = await mini.run(payload.code, io)
      if (outcome.error) {
        const e = outcome.error
        const ok = await emit({
          type: 'error',
          name: e.pyName,
          value: e.pyValue,
          traceback: mini.traceback(payload.code, e, count, outcome.syntax),
        })
        if (!ok) return
      }
      if (stopped || res.destroyed) return
      if (opts.lineDelayMs > 0 && !(await h.wait(opts.lineDelayMs))) return
      if (stopped || res.destroyed || linesWritten >= limit) return
      res.end('{"type": "end_of_execution"}\n')
    } catch (e) {
      if (e.halted) return
      throw e
    }
  }

  // ---- server ---------------------------------------------------------------------------------

  let h
  const service = {
    streamingRoutes: new Set(['execute']),
    route,
    handle(call) {
      if (call.ctx.target) return handleInterpreter(call, h)
      return handleControl(call, h)
    },
    defaultFaultBody(_route, status, message) {
      return { code: status, message }
    },
    actions: {
      vanish: ({ sandboxId }) => ({ vanished: sandboxes.delete(sandboxId) }),
      expire: ({ sandboxId }) => {
        const sb = sandboxes.get(sandboxId)
        if (sb) sb.endAt = Date.now()
        sweep()
        return { found: Boolean(sb) }
      },
      closePort: ({ sandboxId, closed = true }) => {
        const sb = sandboxes.get(sandboxId)
        if (sb) sb.portClosed = closed
        return { found: Boolean(sb) }
      },
      sandboxes: () => ({ sandboxes: publicSandboxes() }),
      setOptions: (p) => {
        for (const k of ['keepaliveMs', 'lineDelayMs', 'maxSandboxes', 'rateLimitRetryAfter', 'defaultTimeout']) {
          if (p[k] !== undefined) opts[k] = p[k] === null ? Infinity : p[k]
        }
        return { options: { ...opts, apiKey: undefined } }
      },
      reset: () => sandboxes.clear(),
    },
  }

  function publicSandboxes() {
    sweep()
    return [...sandboxes.values()].map((sb) => ({
      ...detailBody(sb),
      envVars: sb.envVars,
      executions: sb.executions,
      portClosed: sb.portClosed,
    }))
  }

  h = await startHarness(service, { host: options.host, port: options.port })

  return {
    url: h.url,
    port: h.port,
    apiKey: opts.apiKey,
    options: opts,
    cliInfo: { apiKey: opts.apiKey },
    /** Every request received, oldest first (control requests excluded). Live array. */
    get requests() {
      return h.requests
    },
    clearRequests: () => {
      h.requests.length = 0
    },
    /** Adds a fault rule; returns its id. See the report for the fields. */
    setFault: (spec) => h.faults.add(spec),
    addFault: (spec) => h.faults.add(spec),
    clearFaults: (route) => h.faults.clear(route),
    get faults() {
      return h.faults.list()
    },
    /** Removes a sandbox at once, as if it had expired (control plane 404, /execute 502). */
    vanish: (sandboxId) => sandboxes.delete(sandboxId),
    /** Runs a sandbox's timeout out now (killed, or paused when created with autoPause). */
    expire: (sandboxId) => service.actions.expire({ sandboxId }).found,
    /** Port 49999 of a running sandbox answers 502 {port: 49999, ...} (closed = false reopens). */
    closePort: (sandboxId, closed = true) => service.actions.closePort({ sandboxId, closed }).found,
    /** Creates a sandbox directly (no request recorded); returns the Sandbox body. */
    createSandbox: (body = {}) => sandboxBody(create({ templateID: 'base', ...body })),
    /** Current sandboxes (expiry applied) as SandboxDetail plus envVars / executions / portClosed. */
    get sandboxes() {
      return publicSandboxes()
    },
    /** The base URL that addresses one sandbox's code interpreter: `${sandboxUrl(id)}/execute`. */
    sandboxUrl: (sandboxId) => `${h.url}/__sandbox/${encodeURIComponent(sandboxId)}`,
    setOptions: (p) => service.actions.setOptions(p),
    reset: () => h.control({ action: 'reset' }),
    close: () => h.close(),
  }
}

module.exports = { startE2BServer }

if (require.main === module) {
  runCli(startE2BServer, (a) => ({
    apiKey: typeof a['api-key'] === 'string' ? a['api-key'] : undefined,
    port: a.port !== undefined ? Number(a.port) : undefined,
    domain: typeof a.domain === 'string' ? a.domain : undefined,
    accessToken: a['no-access-token'] ? false : undefined,
    keepaliveMs: a['keepalive-ms'] !== undefined ? Number(a['keepalive-ms']) : undefined,
    lineDelayMs: a['line-delay-ms'] !== undefined ? Number(a['line-delay-ms']) : undefined,
    maxSandboxes: a['max-sandboxes'] !== undefined ? Number(a['max-sandboxes']) : undefined,
  }))
}
