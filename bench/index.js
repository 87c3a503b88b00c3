'use strict'
// `npm run bench`: our breaker against opossum 10 and cockatiel 4, wrapped fn `async () => 42`.
//
//   1. closed circuit, sequential `await`: ns/op and overhead over a bare `await fn()`
//   2. open circuit: the rejected call plus catching its rejection
//   3. 1000 calls in flight: launch 1000 calls, `await Promise.all`, repeat
//   4. memory per breaker: 100k breakers (created; created and called once), one child process
//      per library and mode (bench/memory.js)
//
// Sections 1-3 run in this process: warm-up and calibration first, then BENCH_REPS repetitions
// in which every strategy of the section takes one sample of ~BENCH_SAMPLE_MS, in an order
// rotated each repetition; figures are medians over the repetitions (overheads are medians of
// the per-repetition differences with the bare baseline of the same repetition).
// Prints the tables and writes them to bench/RESULTS.md.
//
// Environment knobs: BENCH_REPS (15), BENCH_SAMPLE_MS (150), BENCH_WARM_MS (400),
// BENCH_MEM_COUNT (100000), BENCH_MEM_RUNS (3), BENCH_SECTIONS (closed,open,fan,memory),
// BENCH_NO_WRITE=1 (do not write RESULTS.md).

const { spawnSync, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

if (typeof globalThis.gc !== 'function') {
  // Re-spawn with --expose-gc (keeping any other flags, e.g. --cpu-prof).
  const res = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, __filename, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  )
  process.exit(res.status ?? 1)
}

const ROOT = path.resolve(__dirname, '..')
const env = (name, dflt) => (process.env[name] === undefined ? dflt : Number(process.env[name]))
const config = {
  reps: env('BENCH_REPS', 15),
  sampleMs: env('BENCH_SAMPLE_MS', 150),
  warmMs: env('BENCH_WARM_MS', 400),
  memCount: env('BENCH_MEM_COUNT', 100_000),
  memRuns: env('BENCH_MEM_RUNS', 3),
  sections: (process.env.BENCH_SECTIONS ?? 'closed,open,fan,memory').split(','),
}
const log = (msg) => process.stderr.write(`${msg}\n`)

// ---- formatting -----------------------------------------------------------------------------

function table(headers, rows, align) {
  const cells = rows.map((r) => r.map(String))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)))
  const pad = (s, i) => (align[i] === 'r' ? s.padStart(widths[i]) : s.padEnd(widths[i]))
  const line = (r) => `| ${r.map(pad).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`
  return [line(headers), rule, ...cells.map(line)].join('\n')
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a')
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a')
const fx = (x) => (Number.isFinite(x) ? `${x.toFixed(3)}x` : 'n/a')
const fpct = (x) => `${x.toFixed(1)}%`

// ---- machine --------------------------------------------------------------------------------

function git(...args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}

function machine() {
  const cpus = os.cpus()
  const addon = path.join(ROOT, `resilience.${process.platform}-${process.arch}-gnu.node`)
  let addonInfo = 'n/a'
  try {
    const st = fs.statSync(addon)
    addonInfo = `${path.basename(addon)}, ${st.size} bytes, built ${st.mtime.toISOString()}`
  } catch {}
  const dirty = git('status', '--porcelain', '--', 'resilience.js', 'index.js', 'src', 'crates', 'Cargo.toml')
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${process.arch}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    commit: git('rev-parse', '--short', 'HEAD') || 'n/a',
    dirty: dirty ? dirty.split('\n').map((l) => l.trim()).join(', ') : '',
    addon: addonInfo,
    opossum: require('opossum/package.json').version,
    cockatiel: require('cockatiel/package.json').version,
  }
}

// ---- timing sections ------------------------------------------------------------------------

const { sections, runSection } = require('./timing.js')

function byId(section) {
  return Object.fromEntries(section.rows.map((r) => [r.id, r]))
}

function closedTable(sec) {
  const r = byId(sec)
  const peer = { 'ours-nt': 'opossum-nt', 'ours-def': 'opossum-def', cockatiel: 'opossum-nt', 'opossum-nt': 'opossum-nt', 'opossum-def': 'opossum-def' }
  const rows = sec.rows.map((row) => {
    const p = r[peer[row.id]]
    const isBare = row.id === 'bare'
    return [
      row.label,
      f1(row.median),
      fpct(row.iqrPct),
      isBare ? '-' : f1(row.overhead),
      isBare ? '-' : fx(row.overhead / p.overhead),
      isBare ? '-' : fx(row.overhead / r.cockatiel.overhead),
      isBare ? '-' : fx(row.median / p.median),
    ]
  })
  return table(
    ['strategy', 'ns/op', 'IQR', 'overhead ns', 'overhead / opossum*', 'overhead / cockatiel', 'ns/op / opossum*'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  )
}

function openTable(sec) {
  const r = byId(sec)
  const rows = sec.rows.map((row) => [
    row.label,
    f1(row.median),
    fpct(row.iqrPct),
    fx(row.median / r.opossum.median),
    fx(row.median / r.cockatiel.median),
  ])
  return table(['strategy', 'ns/op', 'IQR', '/ opossum', '/ cockatiel'], rows, ['l', 'r', 'r', 'r', 'r'])
}

function fanTable(sec) {
  const r = byId(sec)
  const peer = { 'ours-nt': 'opossum-nt', 'ours-def': 'opossum-def', cockatiel: 'opossum-nt', 'opossum-nt': 'opossum-nt', 'opossum-def': 'opossum-def' }
  const rows = sec.rows.map((row) => {
    const isBare = row.id === 'bare'
    const p = r[peer[row.id]]
    return [
      row.label,
      f0(1e9 / row.median),
      f1(row.median),
      fpct(row.iqrPct),
      isBare ? '-' : f1(row.overhead),
      isBare ? '-' : fx(p.median / row.median),
    ]
  })
  return table(
    ['strategy', 'calls/s', 'ns/call', 'IQR', 'overhead ns/call', 'throughput / opossum*'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r'],
  )
}

// ---- memory ---------------------------------------------------------------------------------

const MEM_CASES = [
  ['ours', 'created'],
  ['opossum', 'created'],
  ['cockatiel', 'created'],
  ['ours', 'called'],
  ['opossum', 'called'],
  ['cockatiel', 'called'],
]

function runMemory() {
  const { median } = require('./timing.js')
  const results = new Map()
  for (let run = 0; run < config.memRuns; run++) {
    for (const [lib, mode] of MEM_CASES) {
      const res = spawnSync(
        process.execPath,
        ['--expose-gc', path.join(__dirname, 'memory.js'), lib, mode, String(config.memCount)],
        { encoding: 'utf8', cwd: ROOT },
      )
      if (res.status !== 0) throw new Error(`memory child ${lib} ${mode} failed:\n${res.stderr}`)
      const out = JSON.parse(res.stdout.trim().split('\n').pop())
      const per = (k) => (out.after[k] - out.before[k]) / out.count
      const m = {
        heap: per('heapUsed'),
        rss: per('rss'),
        native: per('rss') - per('heapPhysical'),
        external: per('external'),
        us: out.fillNs / out.count / 1000,
      }
      const key = `${lib}/${mode}`
      if (!results.has(key)) results.set(key, [])
      results.get(key).push(m)
      log(`  memory run ${run + 1}/${config.memRuns}: ${key} heap ${f0(m.heap)} B, rss ${f0(m.rss)} B`)
    }
  }
  const agg = {}
  for (const [key, ms] of results) {
    agg[key] = Object.fromEntries(Object.keys(ms[0]).map((k) => [k, median(ms.map((m) => m[k]))]))
    agg[key].runs = ms
  }
  return agg
}

const LIB_LABEL = { ours: 'ours (default options)', opossum: 'opossum (default options)', cockatiel: 'cockatiel ConsecutiveBreaker(5)' }

function memoryTable(agg) {
  const rows = MEM_CASES.map(([lib, mode]) => {
    const m = agg[`${lib}/${mode}`]
    const o = agg[`opossum/${mode}`]
    return [
      LIB_LABEL[lib],
      mode === 'created' ? 'created' : 'created + called once',
      f0(m.heap),
      f0(m.native),
      f0(m.rss),
      fx(m.heap / o.heap),
      fx(m.rss / o.rss),
      m.us.toFixed(2),
    ]
  })
  return table(
    ['library', `${config.memCount.toLocaleString('en-US')} breakers`, 'JS heap B', 'native B', 'RSS B', 'heap / opossum', 'RSS / opossum', 'µs/breaker'],
    rows,
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  )
}

// ---- defaults (issue 11) --------------------------------------------------------------------

// Each library with its own defaults: ours with the default config (a 30 s deadline armed on
// every call), opossum with its defaults (10 s timeout), cockatiel with ConsecutiveBreaker(5)
// (no timeout). One row per figure, with the goal of issue 11 and whether this run meets it.
function defaultsRows(res) {
  const rows = []
  const add = (figure, ours, opossum, cockatiel, unit, goal, met) =>
    rows.push({ figure, ours, opossum, cockatiel, unit, goal, met })
  if (res.closed) {
    const r = byId(res.closed)
    const ours = r['ours-def'].overhead
    const op = r['opossum-def'].overhead
    const ck = r.cockatiel.overhead
    add('closed-circuit overhead over a bare `await`', ours, op, ck, 'ns', '<= cockatiel and <= 0.15x opossum', ours <= ck && ours <= 0.15 * op)
    const nt = r['ours-nt'].overhead
    add('closed-circuit overhead, ours `{ timeout: false }`', nt, NaN, NaN, 'ns', '<= 48 ns (issue 11: unchanged)', nt <= 48)
  }
  if (res.fan) {
    const r = byId(res.fan)
    const tp = (id) => 1e9 / r[id].median
    const ours = tp('ours-def')
    add('1000 calls in flight', ours, tp('opossum-def'), tp('cockatiel'), 'calls/s', '>= cockatiel and >= 2.5x opossum', ours >= tp('cockatiel') && ours >= 2.5 * tp('opossum-def'))
  }
  if (res.open) {
    const r = byId(res.open)
    const op = r.opossum.median
    add('open rejection, `stackTrace: false` (no stack)', r['ours-nostack'].median, op, r.cockatiel.median, 'ns', '<= 0.3x opossum', r['ours-nostack'].median <= 0.3 * op)
    add('open rejection, default (stack from the caller)', r.ours.median, op, r.cockatiel.median, 'ns', '<= 0.5x opossum', r.ours.median <= 0.5 * op)
  }
  if (res.memory) {
    for (const mode of ['created', 'called']) {
      const m = (lib) => res.memory[`${lib}/${mode}`]
      const what = mode === 'created' ? 'before any call' : 'after one call each'
      add(`memory per breaker ${what}, RSS`, m('ours').rss, m('opossum').rss, m('cockatiel').rss, 'B', '<= 0.1x opossum', m('ours').rss <= 0.1 * m('opossum').rss)
      add(`memory per breaker ${what}, JS heap`, m('ours').heap, m('opossum').heap, m('cockatiel').heap, 'B', '<= 0.1x opossum', m('ours').heap <= 0.1 * m('opossum').heap)
    }
  }
  return rows
}

function defaultsTable(res) {
  const fmt = (x, unit) => (Number.isFinite(x) ? `${unit === 'ns' ? f1(x) : f0(x)} ${unit}` : '-')
  const rows = defaultsRows(res).map((d) => [
    d.figure,
    fmt(d.ours, d.unit),
    fmt(d.opossum, d.unit),
    fmt(d.cockatiel, d.unit),
    Number.isFinite(d.opossum) ? fx(d.ours / d.opossum) : '-',
    Number.isFinite(d.cockatiel) ? fx(d.ours / d.cockatiel) : '-',
    d.goal,
    d.met ? 'PASS' : 'FAIL',
  ])
  return table(
    ['figure', 'ours, default config', 'opossum 10, default', 'cockatiel 4, ConsecutiveBreaker(5)', 'ours / opossum', 'ours / cockatiel', 'goal (issue 11)', 'result'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
  )
}

// ---- targets --------------------------------------------------------------------------------

function targets(res) {
  const out = []
  // `held`: in how many repetitions the target held, comparing the samples of one repetition.
  const add = (id, what, measured, limit, pass, held = '-') =>
    out.push([id, what, measured, limit, held, pass === null ? 'info' : pass ? 'PASS' : 'FAIL'])
  const heldIn = (n, holds) => {
    let k = 0
    for (let i = 0; i < n; i++) if (holds(i)) k++
    return `${k}/${n}`
  }
  if (res.closed) {
    const r = byId(res.closed)
    const n = r.bare.samples.length
    const ov = (id, i) => r[id].samples[i] - r.bare.samples[i]
    const a = r['ours-nt'].overhead
    add('1a', 'closed overhead: ours {timeout:false} <= cockatiel', `${f1(a)} ns vs ${f1(r.cockatiel.overhead)} ns`, '<= 1x', a <= r.cockatiel.overhead,
      heldIn(n, (i) => ov('ours-nt', i) <= ov('cockatiel', i)))
    const b = a / r['opossum-nt'].overhead
    add('1b', 'closed overhead: ours {timeout:false} / opossum {timeout:false}', fx(b), '<= 0.25x', b <= 0.25,
      heldIn(n, (i) => ov('ours-nt', i) <= 0.25 * ov('opossum-nt', i)))
    const c = r['ours-def'].overhead / r['opossum-def'].overhead
    add('1c', 'closed overhead: ours default / opossum default', fx(c), '<= 0.35x', c <= 0.35,
      heldIn(n, (i) => ov('ours-def', i) <= 0.35 * ov('opossum-def', i)))
  }
  if (res.open) {
    const r = byId(res.open)
    const x = r.ours.median / r.opossum.median
    add('2', 'open-circuit rejection, with a stack (default): ours / opossum (ns per rejected call)', fx(x), '<= 0.5x', x <= 0.5,
      heldIn(r.ours.samples.length, (i) => r.ours.samples[i] <= 0.5 * r.opossum.samples[i]))
    const y = r['ours-nostack'].median / r.opossum.median
    add('2b', 'open-circuit rejection, `stackTrace: false`: ours / opossum', fx(y), '<= 0.3x', y <= 0.3,
      heldIn(r['ours-nostack'].samples.length, (i) => r['ours-nostack'].samples[i] <= 0.3 * r.opossum.samples[i]))
  }
  if (res.fan) {
    const r = byId(res.fan)
    const n = r.bare.samples.length
    const a = r['opossum-nt'].median / r['ours-nt'].median
    add('3a', '1000 in flight, {timeout:false}: ours / opossum throughput', fx(a), '>= 2x', a >= 2,
      heldIn(n, (i) => r['opossum-nt'].samples[i] >= 2 * r['ours-nt'].samples[i]))
    const b = r['opossum-def'].median / r['ours-def'].median
    add('3b', '1000 in flight, default options: ours / opossum throughput', fx(b), '>= 2x', b >= 2,
      heldIn(n, (i) => r['opossum-def'].samples[i] >= 2 * r['ours-def'].samples[i]))
  }
  if (res.memory) {
    // 4a is the target (issue 2); 4b is reported for information: ours allocates its per-breaker
    // call path (shared-memory view, handle, cached handlers) on the first call.
    for (const [id, mode, what, isTarget] of [
      ['4a', 'created', 'memory per breaker, created', true],
      ['4b', 'called', 'memory per breaker, created + called once (information, no target)', false],
    ]) {
      const m = res.memory[`ours/${mode}`]
      const o = res.memory[`opossum/${mode}`]
      const h = m.heap / o.heap
      const s = m.rss / o.rss
      add(id, `${what}: ours / opossum (JS heap; RSS)`, `${fx(h)}; ${fx(s)}`, isTarget ? '<= 0.1x (both)' : '-', isTarget ? h <= 0.1 && s <= 0.1 : null,
        `${m.runs.filter((x, i) => x.heap <= 0.1 * o.runs[i].heap && x.rss <= 0.1 * o.runs[i].rss).length}/${m.runs.length} runs`)
    }
  }
  return table(['#', 'target', 'measured (medians)', 'limit', 'held in', 'result'], out, ['l', 'l', 'r', 'r', 'r', 'l'])
}

// ---- main -----------------------------------------------------------------------------------

async function main() {
  const started = Date.now()
  const mc = machine()
  const header = [
    `Machine: ${mc.cpu}, ${mc.cores} cores, ${mc.memory}, ${mc.os}`,
    `Node ${mc.node} (V8 ${mc.v8}); opossum ${mc.opossum}, cockatiel ${mc.cockatiel}`,
    `Commit ${mc.commit}${mc.dirty ? ` + uncommitted changes (${mc.dirty})` : ''}; addon ${mc.addon}`,
    `Load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')} (1, 5, 15 min)`,
    `Settings: ${config.reps} reps x ~${config.sampleMs} ms per strategy, warm-up ~${config.warmMs} ms per strategy; memory: ${config.memCount.toLocaleString('en-US')} breakers, median of ${config.memRuns} child runs`,
  ]
  console.log(header.join('\n'))
  console.log()

  const res = {}
  const problems = []
  const opts = { reps: config.reps, sampleMs: config.sampleMs, warmMs: config.warmMs, log }
  for (const id of ['closed', 'open', 'fan']) {
    if (!config.sections.includes(id)) continue
    log(`section ${id}: warm-up and calibration`)
    res[id] = await runSection(sections[id], opts)
    problems.push(...res[id].problems)
  }
  if (config.sections.includes('memory')) {
    log('section memory: child processes')
    res.memory = runMemory()
  }

  const parts = []
  if (res.closed) {
    parts.push(
      `### 1. ${res.closed.title}`,
      closedTable(res.closed),
      '`opossum*`: opossum with the same timeout setting (cockatiel, which has no timeout here, is compared with opossum {timeout:false}). Overhead: median over the repetitions of (strategy - bare `await fn()`) in the same repetition.',
    )
  }
  if (res.open) parts.push(`### 2. ${res.open.title}`, openTable(res.open))
  if (res.fan) {
    parts.push(
      `### 3. ${res.fan.title}`,
      fanTable(res.fan),
      '`opossum*`: opossum with the same timeout setting. ns/call = elapsed / calls; overhead per call over bare `fn()` in the same repetition.',
    )
  }
  if (res.memory) {
    parts.push(
      `### 4. Memory per breaker (one child process per library and mode, ${config.memCount.toLocaleString('en-US')} breakers kept referenced)`,
      memoryTable(res.memory),
      'Growth per breaker between a baseline and the moment all breakers are alive, both after forced GCs. JS heap = `heapUsed`; RSS = resident set; native = RSS minus the V8 heap\'s physical size (malloc: for ours, the Rust breaker and the Node-API wrapping). µs/breaker: time to create (and call once) each breaker.',
    )
  }
  parts.push(
    '### Defaults: each library with its own defaults (issue 11)',
    defaultsTable(res),
    'Ours: `new CircuitBreaker(name)` (a 30 s deadline armed on every call); opossum: `new CircuitBreaker(fn)` (10 s timeout); cockatiel: `circuitBreaker(handleAll, { halfOpenAfter, breaker: new ConsecutiveBreaker(5) })` (no timeout). Figures from the sections above (medians of the same run); throughput for 1000 in flight, so higher is better there.',
  )
  parts.push('### Targets', targets(res))
  if (problems.length) parts.push(`Sanity checks failed: ${problems.join('; ')}`)
  const body = parts.join('\n\n')
  console.log(body)
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  const loadEnd = `Load average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')}`
  console.log(`\nTotal time: ${seconds} s. ${loadEnd}`)

  if (!process.env.BENCH_NO_WRITE) {
    const md = [
      '# Benchmark results',
      '',
      `Produced by \`npm run bench\` (\`node bench/index.js\`, which re-runs itself as \`node --expose-gc bench/index.js\`) on ${new Date().toISOString()}, in ${seconds} s. Every run overwrites this file.`,
      '',
      ...header.map((l) => `- ${l}`),
      `- ${loadEnd}`,
      '',
      body,
      '',
      '### Method',
      '',
      '- Wrapped fn: `async () => 42`. Sections 1-3 run in one process. Each strategy has its own loop function, compiled from its own source text, and its own `fn`, so that no call site is shared between strategies.',
      '- Per section: warm-up and calibration of every strategy (~' + config.warmMs + ' ms each, which also sizes its sample to ~' + config.sampleMs + ' ms), one untimed interleaved pass, then ' + config.reps + ' repetitions; in each repetition every strategy takes one sample, in an order rotated by one each repetition, with a forced full GC before each sample. Figures are medians over the repetitions; IQR is the interquartile range of the samples relative to the median.',
      '- Closed circuit: `for (...) await breaker.call(fn)` (opossum: `await breaker.fire()`, cockatiel: `await policy.execute(fn)`). Configurations: ours `{ timeout: false }` and default (30 s timeout armed on every call); opossum `{ timeout: false }` and default (10 s timeout, one `setTimeout` per call); cockatiel `circuitBreaker(handleAll, { halfOpenAfter: 60000, breaker: new ConsecutiveBreaker(5) })`.',
      '- Open circuit: each breaker is opened by failing calls (reset timeout / halfOpenAfter one hour), then measured with `try { await breaker.call(fn) } catch {}`; a check after the section confirms that the circuits stayed open and that `fn` never ran. Ours and opossum use default options otherwise; ours twice: by default (a `CircuitOpenError` with a stack that starts at the caller, as opossum\'s errors have) and with `stackTrace: false`.',
      '- 1000 in flight: `for (...) { for (i < 1000) ps[i] = breaker.call(fn); await Promise.all(ps) }`.',
      '- Memory: `node --expose-gc bench/memory.js <lib> <mode> <count>` per library and mode, median of ' + config.memRuns + ' runs, runs interleaved. Each child warms up with 1000 breakers (dropped), grows the young generation to its maximum with garbage (so that its one-off growth of ~30 MB is not counted per breaker: without this step ours reads ~860 B RSS per created breaker instead of ~680, because its light warm-up leaves that growth inside its delta, while opossum\'s warm-up already triggers it), allocates the holding array, then measures after forced GCs. The target is checked on both the JS heap and the RSS figure. Mode `called` calls every breaker once (in batches of 1000) before the final measurement: ours builds its per-breaker call path on the first call.',
      '',
    ].join('\n')
    fs.writeFileSync(path.join(__dirname, 'RESULTS.md'), md)
    log('wrote bench/RESULTS.md')
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
