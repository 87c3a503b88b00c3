'use strict'
// `npm run bench:http`: ApiCircuitBreaker.get of a small JSON document from a loopback server
// (bench/http-server.js, a child process), 64 requests in flight, against Node's global
// `fetch` + `res.json()` wrapped in opossum 10 (default options: 10 s timeout), and, for
// reference, bare `fetch` + `res.json()`. Both breakers check the status (fetch does not reject
// a 5xx by itself, ApiCircuitBreaker does).
//
// Method: each strategy warms up (BENCH_HTTP_WARM_MS), then BENCH_HTTP_REPS repetitions in
// which every strategy takes one sample of ~BENCH_HTTP_SAMPLE_MS, in an order rotated each
// repetition. A sample runs BENCH_HTTP_INFLIGHT loops that each await one request at a time
// until the sample's time is up; throughput = responses / elapsed. Also recorded per sample:
// the CPU time of this process (JS thread + Tokio threads) and of the server, per request.
// Figures are medians over the repetitions; the ratio is the median of per-repetition ratios.
// Prints the table and writes bench/HTTP_RESULTS.md (BENCH_NO_WRITE=1: do not).

const { fork, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const CircuitBreaker = require('opossum')
const { ApiCircuitBreaker } = require('../resilience.js')

const ROOT = path.resolve(__dirname, '..')
const env = (name, dflt) => (process.env[name] === undefined ? dflt : Number(process.env[name]))
const config = {
  reps: env('BENCH_HTTP_REPS', 9),
  sampleMs: env('BENCH_HTTP_SAMPLE_MS', 1500),
  warmMs: env('BENCH_HTTP_WARM_MS', 2000),
  inflight: env('BENCH_HTTP_INFLIGHT', 64),
}
const log = (msg) => process.stderr.write(`${msg}\n`)

function startServer() {
  const child = fork(path.join(__dirname, 'http-server.js'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('message', ({ port, bytes }) => resolve({ child, port, bytes }))
  })
}

function serverCpu(child) {
  return new Promise((resolve) => {
    child.once('message', ({ cpu }) => resolve(cpu.user + cpu.system))
    child.send('cpu')
  })
}

function strategies(url) {
  const api = new ApiCircuitBreaker('bench-http', { proxyFromEnv: false })
  const fetchJson = async (target) => {
    const res = await fetch(target)
    if (!res.ok) throw new Error(`status ${res.status}`)
    return res.json()
  }
  const opossum = new CircuitBreaker(fetchJson) // defaults: timeout 10000, errorThresholdPercentage 50
  return [
    { id: 'ours', label: 'ApiCircuitBreaker.get (reqwest, JSON.parse)', run: () => api.get(url) },
    { id: 'opossum', label: 'opossum 10 + fetch + res.json()', run: () => opossum.fire(url) },
    { id: 'fetch', label: 'bare fetch + res.json() (no breaker)', run: () => fetchJson(url) },
  ]
}

async function sample(strategy, ms, inflight, server) {
  const deadline = performance.now() + ms
  let done = 0
  let bad = 0
  const loop = async () => {
    while (performance.now() < deadline) {
      const doc = await strategy.run()
      if (doc.symbol === 'AAPL') done++
      else bad++
    }
  }
  const serverBefore = await serverCpu(server.child)
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  await Promise.all(Array.from({ length: inflight }, loop))
  const elapsed = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  const serverUs = (await serverCpu(server.child)) - serverBefore
  if (bad > 0) throw new Error(`${strategy.id}: ${bad} unexpected bodies`)
  return {
    perSec: (done / elapsed) * 1000,
    clientUs: (cpu.user + cpu.system) / done,
    serverUs: serverUs / done,
    requests: done,
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function iqrPct(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))]
  return ((q(0.75) - q(0.25)) / median(xs)) * 100
}

function table(headers, rows, align) {
  const cells = rows.map((r) => r.map(String))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)))
  const pad = (s, i) => (align[i] === 'r' ? s.padStart(widths[i]) : s.padEnd(widths[i]))
  const line = (r) => `| ${r.map(pad).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`
  return [line(headers), rule, ...cells.map(line)].join('\n')
}

function git(...args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}

async function main() {
  const server = await startServer()
  const url = `http://127.0.0.1:${server.port}/quote`
  const list = strategies(url)
  const loadStart = os.loadavg()
  const started = Date.now()
  log(`bench:http: ${list.length} strategies, ${config.inflight} in flight, ${config.reps} reps x ${config.sampleMs} ms`)
  for (const s of list) await sample(s, config.warmMs, config.inflight, server)
  const results = Object.fromEntries(list.map((s) => [s.id, []]))
  for (let rep = 0; rep < config.reps; rep++) {
    const order = list.map((_, i) => list[(i + rep) % list.length])
    for (const s of order) results[s.id].push(await sample(s, config.sampleMs, config.inflight, server))
    log(`  rep ${rep + 1}/${config.reps}: ${list.map((s) => `${s.id} ${Math.round(results[s.id][rep].perSec)}/s`).join(', ')}`)
  }
  server.child.send('exit')
  const ratios = results.ours.map((r, i) => r.perSec / results.opossum[i].perSec)
  const rows = list.map((s) => {
    const rs = results[s.id]
    const perSec = median(rs.map((r) => r.perSec))
    return [
      s.label,
      Math.round(perSec).toLocaleString('en-US'),
      `${iqrPct(rs.map((r) => r.perSec)).toFixed(1)}%`,
      median(rs.map((r) => r.clientUs)).toFixed(1),
      median(rs.map((r) => r.serverUs)).toFixed(1),
      `${(perSec / median(results.opossum.map((r) => r.perSec))).toFixed(3)}x`,
    ]
  })
  const summary = table(
    ['strategy', 'requests/s', 'IQR', 'client CPU µs/req', 'server CPU µs/req', 'throughput / opossum'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r'],
  )
  const ratio = median(ratios)
  const verdict = `ours / (opossum + fetch): median of per-repetition ratios ${ratio.toFixed(3)}x (min ${Math.min(...ratios).toFixed(3)}x, max ${Math.max(...ratios).toFixed(3)}x); target >= 1.0x: ${ratio >= 1 ? 'met' : 'NOT met'}`
  console.log(`${summary}\n\n${verdict}`)

  if (process.env.BENCH_NO_WRITE === '1') return
  const cpus = os.cpus()
  const dirty = git('status', '--porcelain', '--', 'resilience.js', 'index.js', 'src', 'crates', 'Cargo.toml', 'bench/http.js', 'bench/http-server.js')
  const md = `# HTTP benchmark results

Produced by \`npm run bench:http\` (\`node bench/http.js\`) on ${new Date().toISOString()}, in ${Math.round((Date.now() - started) / 1000)} s. Every run overwrites this file.

- Machine: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()} ${process.arch}
- Node ${process.version}; opossum ${require('opossum/package.json').version}; commit ${git('rev-parse', '--short', 'HEAD') || 'n/a'}${dirty ? ` + uncommitted changes (${dirty.split('\n').map((l) => l.trim()).join(', ')})` : ''}
- Load average at start: ${loadStart.map((x) => x.toFixed(2)).join(', ')}; at end: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')}
- Settings: ${config.inflight} requests in flight, ${config.reps} repetitions x ~${config.sampleMs} ms per strategy (order rotated each repetition), warm-up ~${config.warmMs} ms per strategy
- Server: \`bench/http-server.js\` in a child process, GET \`/quote\` answers a ${server.bytes}-byte JSON document (keep-alive, content-length)

| | |
|---|---|
| workload | \`GET http://127.0.0.1:<port>/quote\`, parse the JSON body, check it |
| ours | \`new ApiCircuitBreaker('bench-http', { proxyFromEnv: false })\` (defaults: 10 s timeout, reqwest pool), \`api.get(url)\` |
| opossum | \`new CircuitBreaker(fetchJson)\` (defaults: 10 s timeout), \`breaker.fire(url)\`; \`fetchJson\` = \`fetch\`, reject unless \`res.ok\`, \`res.json()\` |
| fetch | \`fetchJson(url)\` alone, for reference |

${summary}

${verdict}

Client CPU is this process's user + system time (the JS thread and, for ours, the Tokio worker threads) per response; server CPU is the server process's. Both processes share the ${cpus.length} cores.
`
  fs.writeFileSync(path.join(__dirname, 'HTTP_RESULTS.md'), md)
  log('wrote bench/HTTP_RESULTS.md')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
