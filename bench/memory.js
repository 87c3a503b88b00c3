'use strict'
// Memory per breaker, in a fresh process: `node --expose-gc bench/memory.js <lib> <mode> <count>`
// lib: ours | opossum | cockatiel; mode: created | called (each breaker called once).
// Prints one JSON line with `process.memoryUsage()` and the V8 heap's physical size at a
// baseline and once `count` breakers are alive (kept in an array allocated before the
// baseline), both after forced GCs; index.js turns them into bytes per breaker.

const [lib, mode, countArg] = process.argv.slice(2)
const COUNT = Number(countArg ?? 100_000)
const WARM = 1000

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc')

const fn = async () => 42

function factory() {
  switch (lib) {
    case 'ours': {
      const { CircuitBreaker } = require('..')
      return {
        make: (i) => new CircuitBreaker(`breaker-${i}`),
        call: (b) => b.call(fn),
      }
    }
    case 'opossum': {
      const Opossum = require('opossum')
      return {
        make: () => new Opossum(fn),
        call: (b) => b.fire(),
        dispose: (b) => b.shutdown(), // stops its two intervals, so that it can be collected
      }
    }
    case 'cockatiel': {
      const { circuitBreaker, handleAll, ConsecutiveBreaker } = require('cockatiel')
      return {
        make: () => circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) }),
        call: (b) => b.execute(fn),
      }
    }
    default:
      throw new Error(`unknown lib ${lib}`)
  }
}

const v8 = require('node:v8')
function physical() {
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s]))
  return { heapPhysical: v8.getHeapStatistics().total_physical_size, newSpace: spaces.new_space.space_size }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function settle() {
  await sleep(50) // let pending timers of finished calls run out
  for (let i = 0; i < 4; i++) {
    globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

async function fill(f, into, count, offset) {
  for (let i = 0; i < count; i++) into[i] = f.make(offset + i)
  if (mode === 'called') {
    for (let i = 0; i < count; i += 1000) {
      const ps = []
      for (let j = i; j < Math.min(count, i + 1000); j++) ps.push(f.call(into[j]))
      await Promise.all(ps)
    }
  }
}

async function main() {
  const f = factory()
  // Warm-up: load lazily created code and module state, then drop it.
  const warm = new Array(WARM)
  await fill(f, warm, WARM, COUNT)
  if (f.dispose) warm.forEach(f.dispose)
  warm.length = 0

  // Grow the young generation to its maximum size (and make it resident) before the baseline,
  // whatever the library: its growth (tens of MB) is a one-off cost of any allocating
  // process, not a cost per breaker, and a library with a light warm-up would otherwise pay it
  // inside the delta. The garbage is a list whose new nodes point to older ones, so that it
  // needs no remembered set: it leaves no freed malloc memory behind for the breakers to reuse.
  let junk = null
  for (let i = 0; i < 3e6; i++) junk = { i, next: junk }
  junk = null

  const keep = new Array(COUNT).fill(null) // allocated before the baseline
  await settle()
  const before = { ...process.memoryUsage(), ...physical() }
  const t0 = process.hrtime.bigint()
  await fill(f, keep, COUNT, 0)
  const fillNs = Number(process.hrtime.bigint() - t0)
  await settle()
  const after = { ...process.memoryUsage(), ...physical() }
  if (keep.some((b) => b === null)) throw new Error('lost a breaker')
  process.stdout.write(`${JSON.stringify({ lib, mode, count: COUNT, before, after, fillNs })}\n`)
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
