'use strict'
// `node bench/receiver.js`: what the receiver guard of lib/receiver.js costs. The generated
// methods are kept before resilience.js wraps them, then the bare and the guarded method (and
// getter) of one CircuitBreaker run in interleaved repetitions; figures are medians of ns per
// call. `call` is not wrapped (lib/call.js checks its receiver itself) and is shown for scale.
//
// Environment knobs: BENCH_REPS (15), BENCH_CALLS (200000).

const { performance } = require('node:perf_hooks')

const binding = require('../index.js')
const proto = binding.CircuitBreaker.prototype
const bare = {
  getState: Object.getOwnPropertyDescriptor(proto, 'getState').value,
  state: Object.getOwnPropertyDescriptor(proto, 'state').get,
}
const { CircuitBreaker } = require('../resilience.js')
const guarded = {
  getState: Object.getOwnPropertyDescriptor(proto, 'getState').value,
  state: Object.getOwnPropertyDescriptor(proto, 'state').get,
}
if (bare.getState === guarded.getState) throw new Error('resilience.js did not wrap getState')

const REPS = Number(process.env.BENCH_REPS ?? 15)
const CALLS = Number(process.env.BENCH_CALLS ?? 200_000)
const cb = new CircuitBreaker('bench-receiver', { timeout: false })
const fn = async () => 42

let sink
const loops = {
  'getState() bare': () => {
    for (let i = 0; i < CALLS; i++) sink = bare.getState.call(cb)
  },
  'getState() guarded': () => {
    for (let i = 0; i < CALLS; i++) sink = guarded.getState.call(cb)
  },
  'state getter bare': () => {
    for (let i = 0; i < CALLS; i++) sink = bare.state.call(cb)
  },
  'state getter guarded': () => {
    for (let i = 0; i < CALLS; i++) sink = guarded.state.call(cb)
  },
  'call(fn), not wrapped': async () => {
    for (let i = 0; i < CALLS; i++) sink = await cb.call(fn)
  },
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main() {
  const names = Object.keys(loops)
  const samples = Object.fromEntries(names.map((n) => [n, []]))
  for (const name of names) await loops[name]() // warm-up
  for (let rep = 0; rep < REPS; rep++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + rep) % names.length]
      const start = performance.now()
      await loops[name]()
      samples[name].push(((performance.now() - start) * 1e6) / CALLS)
    }
  }
  console.log(`| method | ns/call (median of ${REPS}) |\n|---|---|`)
  for (const name of names) console.log(`| ${name} | ${median(samples[name]).toFixed(1)} |`)
  if (sink === undefined) console.log('')
}

main()
