'use strict'
// One JS object per breaker per thread: `registry.get(name)`, `registry.getOrCreate(name)` and a
// domain breaker's `breaker` getter return the object already made for that breaker in this
// thread, so `expect(registry.get('a')).toBe(cb)` holds and whatever a user attaches to the
// object stays attached.
//
// The native side makes a new wrapper each time; this keeps the first one, weakly, by the
// breaker's key (`__key()`, the address of the shared Rust breaker, unique while any wrapper of
// it lives). A wrapper that was collected leaves a dead entry, removed by a
// FinalizationRegistry or replaced by the next wrapper of the same key. Only these lookups pay
// for it (a Map lookup and one native call); `call()` does not.
//
// Imports: nothing.

const wrappers = new Map()
const finalizer = new FinalizationRegistry((key) => {
  const ref = wrappers.get(key)
  if (ref !== undefined && ref.deref() === undefined) wrappers.delete(key)
})

/** The object already made in this thread for `breaker`'s Rust breaker, else `breaker`. */
function canonical(breaker) {
  if (breaker === null || breaker === undefined) return breaker
  const key = breaker.__key()
  const known = wrappers.get(key)?.deref()
  if (known !== undefined) return known
  wrappers.set(key, new WeakRef(breaker))
  finalizer.register(breaker, key)
  return breaker
}

function wrapMethod(prototype, name) {
  const descriptor = Object.getOwnPropertyDescriptor(prototype, name)
  if (descriptor === undefined || typeof descriptor.value !== 'function') return
  const original = descriptor.value
  descriptor.value = {
    [name](...args) {
      return canonical(Reflect.apply(original, this, args))
    },
  }[name]
  Object.defineProperty(prototype, name, descriptor)
}

function wrapGetter(prototype, name) {
  const descriptor = Object.getOwnPropertyDescriptor(prototype, name)
  if (descriptor === undefined || typeof descriptor.get !== 'function') return
  const original = descriptor.get
  descriptor.get = Object.getOwnPropertyDescriptor(
    {
      get [name]() {
        return canonical(Reflect.apply(original, this, []))
      },
    },
    name,
  ).get
  Object.defineProperty(prototype, name, descriptor)
}

/** Makes the methods and getters of `binding`'s classes that return a breaker return the one
 * object of that breaker in this thread. */
function keepIdentity(binding) {
  const registry = binding.CircuitBreakerRegistry.prototype
  for (const name of ['register', 'get', 'getOrCreate']) wrapMethod(registry, name)
  for (const className of ['ApiCircuitBreaker', 'DatabaseCircuitBreaker', 'E2BSandboxCircuitBreaker', 'NeuralCircuitBreaker']) {
    if (binding[className] !== undefined) wrapGetter(binding[className].prototype, 'breaker')
  }
}

module.exports = { keepIdentity, canonical }
