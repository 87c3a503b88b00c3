'use strict'
// A protocol-faithful local stand-in for model inference servers: Open Inference Protocol v2
// (Triton, KServe, MLServer: /v2/...) and TensorFlow Serving REST (/v1/models/...), serving
// deterministic linear models on 127.0.0.1. Test support only, never product code.
//
//   const { startInferenceServer } = require('./support/inference-server.js')
//   const s = await startInferenceServer({ weights: [1, 2, 3], bias: 0.5 })   // model 'linear'
//   s.url; s.setFault({ route: 'infer', status: 503, times: 2 }); s.requests; await s.close()
//
// Child process: node __test__/support/inference-server.js [--model NAME] [--weights 1,2,3]
//   [--bias 0.5] [--datatype FP64] [--config '{"models": {...}}'] [--port N] [--exit-on-stdin-close]
// prints `{"url":"http://127.0.0.1:PORT","models":[...]}` and serves until killed.
//
// A model computes, per instance x (a vector of D numbers): y = W·x + b.
//   weights: number[] (D)      -> one output per instance: a scalar prediction (TF Serving),
//                                 shape [N, 1] (v2)
//   weights: number[][] (K x D) -> K outputs per instance: a K-vector prediction, shape [N, K]
//   bias: number (or number[K]), default 0

const { startHarness, runCli, jsonWithNonFinite } = require('./harness.js')

const NUMERIC = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64'])
const DATATYPES = new Set([...NUMERIC, 'BOOL', 'BYTES'])

function normalizeModel(name, cfg) {
  const weights = cfg.weights ?? [1]
  const matrix = Array.isArray(weights[0])
  const rows = matrix ? weights : [weights]
  const dim = rows[0].length
  if (!rows.every((r) => Array.isArray(r) && r.length === dim && r.every(Number.isFinite)) || dim === 0) {
    throw new TypeError(`model ${name}: weights must be a non-empty number[] or number[][] of equal rows`)
  }
  const bias = Array.isArray(cfg.bias) ? cfg.bias : rows.map(() => cfg.bias ?? 0)
  if (bias.length !== rows.length || !bias.every(Number.isFinite)) {
    throw new TypeError(`model ${name}: bias must be a number or one number per output`)
  }
  const versions = (cfg.versions ?? ['1']).map(String)
  return {
    name,
    rows,
    bias,
    matrix,
    dim,
    outputs: rows.length,
    versions,
    inputName: cfg.inputName ?? 'input',
    outputName: cfg.outputName ?? 'output',
    datatype: cfg.datatype ?? 'FP64',
    platform: cfg.platform ?? 'linear_test',
    ready: cfg.ready ?? true,
  }
}

/**
 * Options:
 *   models        { [name]: { weights, bias, versions: ['1'], inputName: 'input',
 *                   outputName: 'output', datatype: 'FP64' (v2 output datatype; 'FP32' rounds
 *                   outputs with Math.fround), ready: true } }
 *   model, weights, bias, versions, inputName, outputName, datatype
 *                 shorthand for a single model (name `model`, default 'linear'); the default is
 *                 { linear: { weights: [1, 2, 3], bias: 0.5 } }
 *   host, port, serverName ('test-inference-server')
 */
async function startInferenceServer(options = {}) {
  const configs = options.models ?? {
    [options.model ?? 'linear']: {
      weights: options.weights ?? [1, 2, 3],
      bias: options.bias ?? 0.5,
      versions: options.versions,
      inputName: options.inputName,
      outputName: options.outputName,
      datatype: options.datatype,
    },
  }
  const models = new Map(Object.entries(configs).map(([n, c]) => [n, normalizeModel(n, c)]))
  const server = { name: options.serverName ?? 'test-inference-server', live: true, ready: true }

  const predict = (m, x) => m.rows.map((row, k) => row.reduce((acc, w, i) => acc + w * x[i], m.bias[k]))

  // ---- routing --------------------------------------------------------------------------------

  const ROUTES = [
    ['GET', /^\/v2\/health\/live$/, 'serverLive'],
    ['GET', /^\/v2\/health\/ready$/, 'serverReady'],
    ['GET', /^\/v2\/?$/, 'serverMetadata'],
    ['GET', /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/ready$/, 'modelReady'],
    ['GET', /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?$/, 'modelMetadata'],
    ['POST', /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/infer$/, 'infer'],
    ['POST', /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+))?:predict$/, 'predict'],
    ['GET', /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+))?$/, 'modelStatus'],
  ]

  function route(req, url) {
    for (const [method, re, name] of ROUTES) {
      const m = re.exec(url.pathname)
      if (m && method === req.method) {
        const ctx = {}
        if (m[1] !== undefined) ctx.model = decodeURIComponent(m[1])
        if (m[2] !== undefined) ctx.version = decodeURIComponent(m[2])
        return { route: name, ctx }
      }
    }
    return { route: 'unknown', ctx: {} }
  }

  // ---- helpers --------------------------------------------------------------------------------

  class HttpError extends Error {
    constructor(status, message) {
      super(message)
      this.status = status
    }
  }

  /** The model (and version) a request names, or an HttpError as Triton / TF Serving word it. */
  function resolve(ctx, tf) {
    const m = models.get(ctx.model)
    const spec = tf
      ? ctx.version === undefined ? `Latest(${ctx.model})` : `Specific(${ctx.model}, ${ctx.version})`
      : undefined
    if (!m) {
      throw new HttpError(404, tf ? `Servable not found for request: ${spec}` : `Request for unknown model: '${ctx.model}' is not found`)
    }
    const version = ctx.version ?? m.versions[m.versions.length - 1]
    if (!m.versions.includes(version)) {
      throw new HttpError(404, tf ? `Servable not found for request: ${spec}` : `Request for unknown model: '${ctx.model}' version ${ctx.version} is not found`)
    }
    return { m, version }
  }

  function flatten(data, out = []) {
    if (Array.isArray(data)) {
      for (const d of data) flatten(d, out)
    } else {
      out.push(data)
    }
    return out
  }

  const isRow = (m, r) => Array.isArray(r) && r.length === m.dim && r.every((v) => typeof v === 'number')

  /** Applies a `nan` or `shape` fault to rows of outputs (number[][], one per instance). */
  function corrupt(fault, rowsOut) {
    if (!fault) return { rows: rowsOut }
    if (fault.kind === 'nan') {
      const token = { NaN, Infinity, '-Infinity': -Infinity }[fault.value ?? 'NaN']
      if (token === undefined) throw new TypeError('nan fault: value is NaN, Infinity or -Infinity')
      const flat = rowsOut.flat()
      const indexes = fault.index === 'all' ? flat.map((_, i) => i) : [fault.index ?? 0]
      for (const i of indexes) if (i < flat.length) flat[i] = token
      const k = rowsOut[0]?.length ?? 0
      return { rows: rowsOut.map((_, r) => flat.slice(r * k, r * k + k)) }
    }
    if (fault.kind === 'shape') {
      if ((fault.mode ?? 'rows') === 'rows') return { rows: rowsOut.slice(0, -1) }
      return { rows: rowsOut, mismatch: true }
    }
    return { rows: rowsOut }
  }

  // ---- v2 -------------------------------------------------------------------------------------

  function infer(call, h) {
    const { res, body, ctx, fault } = call
    const { m, version } = resolve(ctx, false)
    if (!m.ready) throw new HttpError(503, `Request for unknown model: '${m.name}' has no available versions`)
    let req
    try {
      req = JSON.parse(body)
    } catch (e) {
      throw new HttpError(400, `failed to parse the request JSON buffer: ${e.message}`)
    }
    if (!req || typeof req !== 'object' || Array.isArray(req)) throw new HttpError(400, 'inference request must be a JSON object')
    if (!Array.isArray(req.inputs) || req.inputs.length === 0) throw new HttpError(400, "inference request must have a non-empty 'inputs' array")
    for (const input of req.inputs) {
      if (!input || input.name !== m.inputName) {
        throw new HttpError(400, `unexpected inference input '${input?.name}' for model '${m.name}'`)
      }
    }
    if (req.inputs.length > 1) throw new HttpError(400, `input '${m.inputName}' was given more than once`)
    const input = req.inputs[0]
    if (!DATATYPES.has(input.datatype)) throw new HttpError(400, `invalid datatype '${input.datatype}' for input '${input.name}'`)
    if (!NUMERIC.has(input.datatype)) {
      throw new HttpError(400, `inference input '${input.name}' data-type is '${input.datatype}', but model '${m.name}' expects a numeric type`)
    }
    const shape = input.shape
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new HttpError(400, `input '${input.name}' must have a shape of non-negative integers`)
    }
    if (shape.length !== 2 || shape[1] !== m.dim) {
      throw new HttpError(400, `unexpected shape for input '${input.name}' for model '${m.name}'. Expected [-1,${m.dim}], got [${shape.join(',')}]`)
    }
    const data = flatten(input.data)
    const n = shape[0]
    if (data.length !== n * m.dim) {
      throw new HttpError(400, `unexpected number of elements for input '${input.name}': shape [${shape.join(',')}] needs ${n * m.dim}, got ${data.length}`)
    }
    if (!data.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new HttpError(400, `input '${input.name}' data must be numbers`)
    }
    if (req.outputs !== undefined) {
      if (!Array.isArray(req.outputs)) throw new HttpError(400, "'outputs' must be an array")
      for (const o of req.outputs) {
        if (!o || o.name !== m.outputName) throw new HttpError(400, `unexpected inference output '${o?.name}' for model '${m.name}'`)
      }
    }
    const fround = m.datatype === 'FP32' ? Math.fround : (v) => v
    const rowsOut = []
    for (let r = 0; r < n; r++) rowsOut.push(predict(m, data.slice(r * m.dim, r * m.dim + m.dim)).map(fround))
    const { rows, mismatch } = corrupt(fault, rowsOut)
    const flat = rows.flat()
    if (mismatch) flat.push(flat[flat.length - 1] ?? 0)
    const out = {
      model_name: m.name,
      model_version: version,
      ...(req.id !== undefined ? { id: req.id } : {}),
      outputs: [{ name: m.outputName, datatype: m.datatype, shape: [rows.length, m.outputs], data: flat }],
    }
    return h.send.raw(res, 200, jsonWithNonFinite(out), { 'content-type': 'application/json' })
  }

  function modelMetadata(m) {
    return {
      name: m.name,
      versions: m.versions,
      platform: m.platform,
      inputs: [{ name: m.inputName, datatype: 'FP64', shape: [-1, m.dim] }],
      outputs: [{ name: m.outputName, datatype: m.datatype, shape: [-1, m.outputs] }],
    }
  }

  // ---- TensorFlow Serving ---------------------------------------------------------------------

  function tfPredict(call, h) {
    const { res, body, ctx, fault } = call
    const { m } = resolve(ctx, true)
    if (!m.ready) throw new HttpError(503, `Servable not available for request: Latest(${m.name})`)
    let req
    try {
      req = JSON.parse(body)
    } catch (e) {
      throw new HttpError(400, `JSON Parse error: ${e.message}`)
    }
    if (!req || typeof req !== 'object' || Array.isArray(req)) throw new HttpError(400, 'JSON Value: is not an object')
    if (req.signature_name !== undefined && req.signature_name !== 'serving_default') {
      throw new HttpError(400, `Serving signature name: "${req.signature_name}" not found in signature def`)
    }
    const hasInstances = 'instances' in req
    const hasInputs = 'inputs' in req
    if (hasInstances && hasInputs) throw new HttpError(400, "Not both 'instances' and 'inputs' may be specified")
    if (!hasInstances && !hasInputs) throw new HttpError(400, "Missing 'instances' or 'inputs' key")
    let rowsIn
    if (hasInstances) {
      if (!Array.isArray(req.instances)) throw new HttpError(400, "Expecting 'instances' to be an list/array")
      rowsIn = req.instances.map((inst) =>
        inst && typeof inst === 'object' && !Array.isArray(inst) ? namedInput(m, inst) : inst,
      )
    } else {
      const cols = req.inputs
      rowsIn = cols && typeof cols === 'object' && !Array.isArray(cols) ? namedInput(m, cols) : cols
      if (!Array.isArray(rowsIn)) throw new HttpError(400, "Expecting 'inputs' to be an list/array")
    }
    rowsIn.forEach((r, i) => {
      if (!isRow(m, r)) {
        throw new HttpError(400, `Failed to process element: ${i} of '${hasInstances ? 'instances' : 'inputs'}' list. Expected a list of ${m.dim} numbers`)
      }
    })
    const { rows, mismatch } = corrupt(fault, rowsIn.map((x) => predict(m, x)))
    let predictions = rows.map((y) => (m.matrix ? y : y[0]))
    if (mismatch && predictions.length) {
      const first = predictions[0]
      predictions = [Array.isArray(first) ? [...first, first[first.length - 1]] : [first, first], ...predictions.slice(1)]
    }
    const out = hasInstances ? { predictions } : { outputs: predictions }
    return h.send.raw(res, 200, jsonWithNonFinite(out), { 'content-type': 'application/json' })
  }

  function namedInput(m, obj) {
    const keys = Object.keys(obj)
    if (keys.length !== 1 || keys[0] !== m.inputName) {
      throw new HttpError(400, `Missing input '${m.inputName}' (got ${keys.map((k) => `'${k}'`).join(', ') || 'none'})`)
    }
    return obj[m.inputName]
  }

  function tfStatus(m, version) {
    const versions = version === undefined ? [...m.versions].reverse() : [version]
    return {
      model_version_status: versions.map((v) => ({
        version: v,
        state: m.ready ? 'AVAILABLE' : 'LOADING',
        status: { error_code: 'OK', error_message: '' },
      })),
    }
  }

  // ---- server ---------------------------------------------------------------------------------

  let h
  const service = {
    route,
    handle(call) {
      const { res, route: name, ctx } = call
      const { json: sendJson, empty } = h.send
      try {
        switch (name) {
          case 'serverLive':
            return server.live ? empty(res, 200) : sendJson(res, 503, { error: 'server is not live' })
          case 'serverReady':
            return server.ready ? empty(res, 200) : sendJson(res, 503, { error: 'server is not ready' })
          case 'serverMetadata':
            return sendJson(res, 200, { name: server.name, version: '0.0.0', extensions: [] })
          case 'modelReady': {
            const { m } = resolve(ctx, false)
            return m.ready ? empty(res, 200) : sendJson(res, 503, { error: `model '${m.name}' is not ready` })
          }
          case 'modelMetadata':
            return sendJson(res, 200, modelMetadata(resolve(ctx, false).m))
          case 'infer':
            return infer(call, h)
          case 'predict':
            return tfPredict(call, h)
          case 'modelStatus': {
            const { m } = resolve(ctx, true)
            return sendJson(res, 200, tfStatus(m, ctx.version))
          }
          default:
            return sendJson(res, 404, { error: `Not Found: ${call.req.method} ${call.url.pathname}` })
        }
      } catch (e) {
        if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message })
        throw e
      }
    },
    defaultFaultBody(_route, _status, message) {
      return { error: message }
    },
    actions: {
      setReady: ({ model, ready = true, live }) => {
        if (model === undefined) {
          server.ready = ready
          if (live !== undefined) server.live = live
          return {}
        }
        const m = models.get(model)
        if (!m) throw Object.assign(new Error(`unknown model ${model}`), { status: 400 })
        m.ready = ready
        return {}
      },
      models: () => ({ models: [...models.values()].map(modelMetadata) }),
      reset: () => {
        server.live = true
        server.ready = true
        for (const m of models.values()) m.ready = true
      },
    },
  }

  h = await startHarness(service, { host: options.host, port: options.port, extraFaultKinds: ['nan', 'shape'] })

  return {
    url: h.url,
    port: h.port,
    cliInfo: { models: [...models.keys()] },
    get requests() {
      return h.requests
    },
    clearRequests: () => {
      h.requests.length = 0
    },
    setFault: (spec) => h.faults.add(spec),
    addFault: (spec) => h.faults.add(spec),
    clearFaults: (route) => h.faults.clear(route),
    get faults() {
      return h.faults.list()
    },
    /** Server readiness (/v2/health/ready 503 when false; liveness likewise with setLive). */
    setReady: (ready = true) => service.actions.setReady({ ready }),
    setLive: (live = true) => service.actions.setReady({ ready: server.ready, live }),
    /** A model's readiness: false -> model ready 503, infer / predict 503, TF status LOADING. */
    setModelReady: (model, ready = true) => service.actions.setReady({ model, ready }),
    /** What a model answers for one instance (no fault applied): number[] (one per output). */
    expected: (model, x) => predict(models.get(model), x),
    reset: () => h.control({ action: 'reset' }),
    close: () => h.close(),
  }
}

module.exports = { startInferenceServer }

if (require.main === module) {
  runCli(startInferenceServer, (a) => {
    if (typeof a.config === 'string') return { port: a.port !== undefined ? Number(a.port) : undefined, ...JSON.parse(a.config) }
    return {
      port: a.port !== undefined ? Number(a.port) : undefined,
      model: typeof a.model === 'string' ? a.model : undefined,
      weights: typeof a.weights === 'string' ? a.weights.split(',').map(Number) : undefined,
      bias: a.bias !== undefined ? Number(a.bias) : undefined,
      datatype: typeof a.datatype === 'string' ? a.datatype : undefined,
    }
  })
}
