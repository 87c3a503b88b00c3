'use strict'
// Readable objects: what `console.log`, `util.inspect`, a test runner's diff and `JSON.stringify`
// show of a breaker, a registry or a domain breaker. The native classes hold their state in Rust,
// so without this they print as `CircuitBreaker {}` and serialize as `{}`.
//
// A breaker shows its name, state, options and metrics; a domain breaker the same plus its own
// public getters (driver, backend, ...) — never its URL, key or password, which no getter
// exposes; a registry its size and the state of each breaker by name. `toJSON` returns the same
// view as plain data. Printing never throws: on an object the getters refuse (the prototype
// itself, `Object.create(CircuitBreaker.prototype)`), the default rendering is used.
//
// Imports: lib/errors.js (util's `inspect` arrives as the custom inspector's third argument).

const { invalidThis } = require('./errors.js')

const kInspect = Symbol.for('nodejs.util.inspect.custom')

// The getters of a domain class that describe it (the rest are breakers or clients).
const SKIP = new Set(['breaker', 'registry', 'name', 'state', 'marketDataApi', 'orderExecutionApi', 'e2bSandbox', 'neuralPredictor', 'database'])

function breakerView(breaker) {
  return { name: breaker.name, state: breaker.state, options: breaker.options, metrics: breaker.getMetrics() }
}

function domainView(domain, getters) {
  const view = { name: domain.name, state: domain.state }
  for (const name of getters) view[name] = domain[name]
  view.options = domain.breaker.options
  view.metrics = domain.getMetrics()
  return view
}

function registryView(registry) {
  const breakers = {}
  for (const name of registry.listNames()) {
    const breaker = registry.get(name)
    if (breaker !== null) Object.defineProperty(breakers, name, { value: breaker.state, enumerable: true })
  }
  return { size: registry.size, breakers }
}

function tradingView(trading) {
  const breakers = {}
  for (const [name, state] of trading.healthStatus()) {
    Object.defineProperty(breakers, name, { value: state, enumerable: true })
  }
  return { breakers }
}

/** Installs `toJSON` and the `util.inspect` view on `Class`, named `className`. */
function makeReadable(Class, className) {
  const prototype = Class.prototype
  let view
  if (className === 'CircuitBreaker') view = breakerView
  else if (className === 'CircuitBreakerRegistry') view = registryView
  else if (className === 'TradingSystemCircuitBreakers') view = tradingView
  else {
    const getters = Object.getOwnPropertyNames(prototype).filter((name) => {
      const descriptor = Object.getOwnPropertyDescriptor(prototype, name)
      return typeof descriptor.get === 'function' && !SKIP.has(name) && !name.startsWith('__')
    })
    view = (domain) => domainView(domain, getters)
  }
  const define = (key, value) =>
    Object.defineProperty(prototype, key, { value, writable: true, configurable: true, enumerable: false })
  define('toJSON', function toJSON() {
    const wrongThis = () => invalidThis(`${className}.prototype.toJSON`, className)
    if (!(this instanceof Class)) throw wrongThis()
    try {
      return view(this)
    } catch (error) {
      throw error?.code === 'ERR_INVALID_THIS' ? wrongThis() : error
    }
  })
  define(kInspect, function inspectBreaker(depth, options, inspect) {
    let data
    try {
      data = view(this)
    } catch {
      return `${className} {}`
    }
    if (depth < 0) return options.stylize(`[${className}${data.name === undefined ? '' : `: ${data.name}`}]`, 'special')
    const inner = { ...options, depth: options.depth === null ? null : options.depth - 1 }
    return `${className} ${inspect(data, inner)}`
  })
}

module.exports = { makeReadable }
