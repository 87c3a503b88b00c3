'use strict'
// Timing sections of the benchmark, all run in the parent process (see index.js).
//
// Every strategy gets its own loop function compiled from its own source text (a unique
// comment), so V8 keeps one feedback vector per strategy: the loop of one library never
// turns polymorphic because another library ran through the same code. Likewise every
// strategy gets its own `async () => 42`.

const { performance } = require('node:perf_hooks')
const { CircuitBreaker } = require('..')
const Opossum = require('opossum')
const { circuitBreaker, handleAll, ConsecutiveBreaker, CircuitState } = require('cockatiel')

const LONG_RESET_MS = 3_600_000 // one hour: the circuit stays open for the whole run
const FAN_OUT = 1000

let compiled = 0
function compile(tag, params, body) {
  // eslint-disable-next-line no-new-func
  return new Function(...params, `/* bench strategy: ${tag} #${compiled++} */\n'use strict';\n${body}`)
}

/** A fresh `async () => 42` with its own SharedFunctionInfo. */
function makeFn(tag) {
  return compile(`${tag} fn`, [], 'return async () => 42')()
}

/** `async () => { if (ctl.fail) throw err; return 42 }`: fails until the circuit is open. */
function makeSwitchFn(tag, ctl) {
  return compile(`${tag} fn`, ['ctl', 'err'], 'return async () => { ctl.calls++; if (ctl.fail) throw err; return 42 }')(
    ctl,
    new Error('bench: failing until the circuit opens'),
  )
}

function seqLoop(tag, stmt, target, fn) {
  return compile(
    tag,
    ['target', 'fn'],
    `return async function run(n) { for (let i = 0; i < n; i++) { ${stmt} } }`,
  )(target, fn)
}

function fanLoop(tag, expr, target, fn) {
  return compile(
    tag,
    ['target', 'fn', 'W'],
    `return async function run(n) {
      const ps = new Array(W)
      for (let r = 0; r < n; r++) {
        for (let i = 0; i < W; i++) ps[i] = ${expr}
        await Promise.all(ps)
      }
    }`,
  )(target, fn, FAN_OUT)
}

const noop = () => {}

function cockatielBreaker(halfOpenAfter) {
  return circuitBreaker(handleAll, { halfOpenAfter, breaker: new ConsecutiveBreaker(5) })
}

// ---- sections -------------------------------------------------------------------------------

// 1. Closed circuit, sequential `await`.
const closed = {
  id: 'closed',
  title: 'Closed circuit: sequential `await`, wrapped fn `async () => 42`',
  opsPerRun: 1,
  strategies: [
    {
      id: 'bare',
      label: 'bare `await fn()`',
      make() {
        const fn = makeFn('closed bare')
        return { run: seqLoop('closed bare', 'await fn()', null, fn) }
      },
    },
    {
      id: 'ours-nt',
      label: 'ours {timeout:false}',
      make() {
        const cb = new CircuitBreaker('bench-closed-nt', { timeout: false })
        const fn = makeFn('closed ours-nt')
        return {
          run: seqLoop('closed ours-nt', 'await target.call(fn)', cb, fn),
          check: () => cb.state === 'CLOSED' && cb.getMetrics().failedCalls === 0,
        }
      },
    },
    {
      id: 'ours-def',
      label: 'ours default (30 s timeout)',
      make() {
        const cb = new CircuitBreaker('bench-closed-def')
        const fn = makeFn('closed ours-def')
        return {
          run: seqLoop('closed ours-def', 'await target.call(fn)', cb, fn),
          check: () => cb.state === 'CLOSED' && cb.getMetrics().failedCalls === 0,
        }
      },
    },
    {
      id: 'opossum-nt',
      label: 'opossum {timeout:false}',
      make() {
        const fn = makeFn('closed opossum-nt')
        const cb = new Opossum(fn, { timeout: false })
        return {
          run: seqLoop('closed opossum-nt', 'await target.fire()', cb, fn),
          check: () => cb.closed && cb.stats.failures === 0,
          dispose: () => cb.shutdown(),
        }
      },
    },
    {
      id: 'opossum-def',
      label: 'opossum default (10 s timeout)',
      make() {
        const fn = makeFn('closed opossum-def')
        const cb = new Opossum(fn)
        return {
          run: seqLoop('closed opossum-def', 'await target.fire()', cb, fn),
          check: () => cb.closed && cb.stats.failures === 0,
          dispose: () => cb.shutdown(),
        }
      },
    },
    {
      id: 'cockatiel',
      label: 'cockatiel ConsecutiveBreaker(5)',
      make() {
        const fn = makeFn('closed cockatiel')
        const cb = cockatielBreaker(60_000)
        return {
          run: seqLoop('closed cockatiel', 'await target.execute(fn)', cb, fn),
          check: () => cb.state === CircuitState.Closed,
        }
      },
    },
  ],
}

// 2. Open circuit: the rejected call plus catching its rejection.
const open = {
  id: 'open',
  title: 'Open circuit: rejected call + caught rejection, sequential `await`',
  opsPerRun: 1,
  strategies: [
    {
      id: 'floor',
      label: 'reference: caught `await Promise.reject(err)`',
      make() {
        const err = new Error('preallocated')
        return { run: seqLoop('open floor', 'try { await Promise.reject(target) } catch (e) {}', err, null) }
      },
    },
    {
      id: 'ours',
      label: 'ours, default: with a stack (forced open)',
      async make() {
        const ctl = { fail: true, calls: 0 }
        const fn = makeSwitchFn('open ours', ctl)
        const cb = new CircuitBreaker('bench-open', { resetTimeout: LONG_RESET_MS })
        for (let i = 0; i < 50 && cb.state !== 'OPEN'; i++) await cb.call(fn).catch(noop)
        if (cb.state !== 'OPEN') throw new Error('ours did not open')
        ctl.fail = false
        const calls = ctl.calls
        return {
          run: seqLoop('open ours', 'try { await target.call(fn) } catch (e) {}', cb, fn),
          check: () => cb.state === 'OPEN' && ctl.calls === calls,
        }
      },
    },
    {
      id: 'ours-nostack',
      label: 'ours, `stackTrace: false` (forced open)',
      async make() {
        const ctl = { fail: true, calls: 0 }
        const fn = makeSwitchFn('open ours-nostack', ctl)
        const cb = new CircuitBreaker('bench-open-nostack', { resetTimeout: LONG_RESET_MS, stackTrace: false })
        for (let i = 0; i < 50 && cb.state !== 'OPEN'; i++) await cb.call(fn).catch(noop)
        if (cb.state !== 'OPEN') throw new Error('ours did not open')
        ctl.fail = false
        const calls = ctl.calls
        return {
          run: seqLoop('open ours-nostack', 'try { await target.call(fn) } catch (e) {}', cb, fn),
          check: () => cb.state === 'OPEN' && ctl.calls === calls,
        }
      },
    },
    {
      id: 'opossum',
      label: 'opossum (forced open)',
      async make() {
        const ctl = { fail: true, calls: 0 }
        const fn = makeSwitchFn('open opossum', ctl)
        const cb = new Opossum(fn, { resetTimeout: LONG_RESET_MS })
        for (let i = 0; i < 50 && !cb.opened; i++) await cb.fire().catch(noop)
        if (!cb.opened) throw new Error('opossum did not open')
        ctl.fail = false
        const calls = ctl.calls
        return {
          run: seqLoop('open opossum', 'try { await target.fire() } catch (e) {}', cb, fn),
          check: () => cb.opened && ctl.calls === calls,
          dispose: () => cb.shutdown(),
        }
      },
    },
    {
      id: 'cockatiel',
      label: 'cockatiel (forced open)',
      async make() {
        const ctl = { fail: true, calls: 0 }
        const fn = makeSwitchFn('open cockatiel', ctl)
        const cb = cockatielBreaker(LONG_RESET_MS)
        for (let i = 0; i < 50 && cb.state !== CircuitState.Open; i++) await cb.execute(fn).catch(noop)
        if (cb.state !== CircuitState.Open) throw new Error('cockatiel did not open')
        ctl.fail = false
        const calls = ctl.calls
        return {
          run: seqLoop('open cockatiel', 'try { await target.execute(fn) } catch (e) {}', cb, fn),
          check: () => cb.state === CircuitState.Open && ctl.calls === calls,
        }
      },
    },
  ],
}

// 3. 1000 calls in flight: launch 1000 calls, await Promise.all, repeat.
const fan = {
  id: 'fan',
  title: `${FAN_OUT} calls in flight: launch ${FAN_OUT} calls, \`await Promise.all\`, repeat`,
  opsPerRun: FAN_OUT,
  strategies: [
    {
      id: 'bare',
      label: 'bare `fn()`',
      make() {
        const fn = makeFn('fan bare')
        return { run: fanLoop('fan bare', 'fn()', null, fn) }
      },
    },
    {
      id: 'ours-nt',
      label: 'ours {timeout:false}',
      make() {
        const cb = new CircuitBreaker('bench-fan-nt', { timeout: false })
        const fn = makeFn('fan ours-nt')
        return {
          run: fanLoop('fan ours-nt', 'target.call(fn)', cb, fn),
          check: () => cb.state === 'CLOSED' && cb.getMetrics().failedCalls === 0,
        }
      },
    },
    {
      id: 'ours-def',
      label: 'ours default (30 s timeout)',
      make() {
        const cb = new CircuitBreaker('bench-fan-def')
        const fn = makeFn('fan ours-def')
        return {
          run: fanLoop('fan ours-def', 'target.call(fn)', cb, fn),
          check: () => cb.state === 'CLOSED' && cb.getMetrics().failedCalls === 0,
        }
      },
    },
    {
      id: 'opossum-nt',
      label: 'opossum {timeout:false}',
      make() {
        const fn = makeFn('fan opossum-nt')
        const cb = new Opossum(fn, { timeout: false })
        return {
          run: fanLoop('fan opossum-nt', 'target.fire()', cb, fn),
          check: () => cb.closed && cb.stats.failures === 0,
          dispose: () => cb.shutdown(),
        }
      },
    },
    {
      id: 'opossum-def',
      label: 'opossum default (10 s timeout)',
      make() {
        const fn = makeFn('fan opossum-def')
        const cb = new Opossum(fn)
        return {
          run: fanLoop('fan opossum-def', 'target.fire()', cb, fn),
          check: () => cb.closed && cb.stats.failures === 0,
          dispose: () => cb.shutdown(),
        }
      },
    },
    {
      id: 'cockatiel',
      label: 'cockatiel ConsecutiveBreaker(5)',
      make() {
        const fn = makeFn('fan cockatiel')
        const cb = cockatielBreaker(60_000)
        return {
          run: fanLoop('fan cockatiel', 'target.execute(fn)', cb, fn),
          check: () => cb.state === CircuitState.Closed,
        }
      },
    },
  ],
}

// ---- runner ---------------------------------------------------------------------------------

async function timeRun(s, n) {
  const t0 = process.hrtime.bigint()
  await s.run(n)
  return Number(process.hrtime.bigint() - t0)
}

/** Warms a strategy up for about `warmMs` and sizes its sample to about `sampleMs`. */
async function calibrate(s, sampleMs, warmMs) {
  const start = performance.now()
  let n = 4
  let ns
  for (;;) {
    ns = await timeRun(s, n)
    if (ns >= 20e6) break
    n *= ns < 2e6 ? 8 : 2
  }
  while (performance.now() - start < warmMs) ns = await timeRun(s, n)
  const perRun = ns / n
  s.n = Math.max(1, Math.round((sampleMs * 1e6) / perRun))
}

function median(xs) {
  const a = [...xs].sort((x, y) => x - y)
  const m = a.length >> 1
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2
}

function quantile(xs, q) {
  const a = [...xs].sort((x, y) => x - y)
  const pos = (a.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return a[lo] + (a[hi] - a[lo]) * (pos - lo)
}

/**
 * Runs one section: warm-up and calibration, then `reps` repetitions in which every strategy
 * takes one sample of about `sampleMs`, in an order rotated each repetition. A full GC precedes
 * every sample so that no strategy pays for the garbage of the one before.
 */
async function runSection(section, { reps, sampleMs, warmMs, log }) {
  const strategies = []
  for (const def of section.strategies) strategies.push({ ...def, ...(await def.make()) })
  for (const s of strategies) await calibrate(s, sampleMs, warmMs)
  for (const s of strategies) await s.run(s.n) // one untimed interleaved pass
  const samples = strategies.map(() => [])
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < strategies.length; k++) {
      const idx = (k + r) % strategies.length
      const s = strategies[idx]
      globalThis.gc()
      const ns = await timeRun(s, s.n)
      samples[idx].push(ns / (s.n * section.opsPerRun))
    }
    log(`  ${section.id}: rep ${r + 1}/${reps}`)
  }
  const problems = []
  for (const s of strategies) {
    if (s.check && !s.check()) problems.push(`${section.id}/${s.id}: sanity check failed`)
    if (s.dispose) s.dispose()
  }
  const bareIdx = strategies.findIndex((s) => s.id === 'bare')
  const rows = strategies.map((s, i) => {
    const xs = samples[i]
    const row = {
      id: s.id,
      label: s.label,
      n: s.n,
      samples: xs,
      median: median(xs),
      iqrPct: ((quantile(xs, 0.75) - quantile(xs, 0.25)) / median(xs)) * 100,
    }
    if (bareIdx >= 0) {
      // Paired: the overhead of each repetition against the bare sample of the same repetition.
      row.overhead = median(xs.map((x, r) => x - samples[bareIdx][r]))
    }
    return row
  })
  return { id: section.id, title: section.title, rows, problems }
}

module.exports = { sections: { closed, open, fan }, runSection, median, FAN_OUT }
