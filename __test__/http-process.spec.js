'use strict'
// ApiCircuitBreaker across threads and processes: terminating worker threads with requests in
// flight crashes nothing (their responses arrive after the worker is gone), and reqwest's
// HTTP(S)_PROXY support applies by default and is off with proxyFromEnv: false. Each check
// runs in a child process, so that a crash shows as an exit status instead of killing ava.
const test = require('ava')
const http = require('node:http')
const path = require('node:path')
const { execFile } = require('node:child_process')

const root = path.join(__dirname, '..')
const entry = JSON.stringify(path.join(root, 'resilience.js'))
const serverModule = JSON.stringify(path.join(__dirname, '_http-server.js'))
const workerFile = JSON.stringify(path.join(__dirname, 'fixtures', 'http-worker.js'))

function run(source, env = process.env) {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', source], { env, encoding: 'utf8', timeout: 60000 }, (error, stdout, stderr) => {
      resolve({ status: error ? (error.code ?? 1) : 0, signal: error?.signal ?? null, stdout, stderr })
    })
  })
}

test('terminating workers with HTTP requests in flight crashes nothing', async (t) => {
  const r = await run(`
    const { Worker } = require('node:worker_threads')
    const { startServer } = require(${serverModule})
    const { ApiCircuitBreaker } = require(${entry})
    ;(async () => {
      const server = await startServer()
      const workerData = { hangUrl: server.url('/hang'), slowUrl: server.url('/delay/150'), jsonUrl: server.url('/json'), count: 40 }
      for (let round = 0; round < 6; round++) {
        const workers = [0, 1, 2].map((id) => new Worker(${workerFile}, { workerData: { ...workerData, id } }))
        await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject) })))
        const codes = await Promise.all(workers.map((w) => w.terminate()))
        if (codes.some((c) => c !== 1)) throw new Error('exit codes ' + codes)
      }
      // The slow responses of the last round arrive after their workers are gone.
      await new Promise((resolve) => setTimeout(resolve, 300))
      const api = new ApiCircuitBreaker('main-after-workers', { proxyFromEnv: false })
      console.log(JSON.stringify(await api.get(server.url('/json'))))
      // Closing the server fails the hanging requests of terminated workers.
      await server.close()
      await new Promise((resolve) => setTimeout(resolve, 200))
      console.log('done')
    })().catch((e) => { console.error(e); process.exit(2) })
  `)
  t.is(r.signal, null, r.stderr)
  t.is(r.status, 0, r.stderr)
  t.deepEqual(r.stdout.trim().split('\n'), ['{"symbol":"AAPL","price":101.5}', 'done'])
})

test('HTTP_PROXY applies by default; proxyFromEnv: false goes direct', async (t) => {
  const listen = (handler) =>
    new Promise((resolve) => {
      const s = http.createServer(handler)
      s.listen(0, '127.0.0.1', () => resolve(s))
    })
  const proxy = await listen((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ via: 'proxy', target: req.url }))
  })
  const origin = await listen((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ via: 'direct' }))
  })
  try {
    const proxyUrl = `http://127.0.0.1:${proxy.address().port}`
    const target = `http://127.0.0.1:${origin.address().port}/quote`
    const env = { ...process.env, HTTP_PROXY: proxyUrl, http_proxy: proxyUrl }
    for (const key of ['NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy', 'REQUEST_METHOD']) delete env[key]
    const r = await run(
      `
      const { ApiCircuitBreaker } = require(${entry})
      ;(async () => {
        const viaEnv = await new ApiCircuitBreaker('proxy-default').get(${JSON.stringify(target)})
        const direct = await new ApiCircuitBreaker('proxy-off', { proxyFromEnv: false }).get(${JSON.stringify(target)})
        console.log(JSON.stringify([viaEnv, direct]))
      })().catch((e) => { console.error(e); process.exit(2) })
    `,
      env,
    )
    t.is(r.status, 0, r.stderr)
    t.deepEqual(JSON.parse(r.stdout), [{ via: 'proxy', target }, { via: 'direct' }])
  } finally {
    proxy.closeAllConnections()
    origin.closeAllConnections()
    proxy.close()
    origin.close()
  }
})
