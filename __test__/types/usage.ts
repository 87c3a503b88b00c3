// Compiled with `tsc -p __test__/types` by types.spec.js: the generated index.d.ts must type the
// documented usage, and reject misuse (each @ts-expect-error must be an error).
import {
  CircuitBreaker,
  CircuitBreakerRegistry,
  CircuitOpenError,
  CircuitTimeoutError,
  type CircuitBreakerMetrics,
  type CircuitBreakerOptions,
  type CircuitBreakerView,
} from '../..'

async function main(): Promise<void> {
  const options: CircuitBreakerOptions = {
    failureThreshold: 5,
    successThreshold: 2,
    timeout: 30000,
    resetTimeout: 60000,
    halfOpenMaxCalls: 2,
  }
  const cb = new CircuitBreaker('my_service', options)
  const n: number = await cb.call(async () => 42)
  const s: string = await cb.call(() => 'plain value')
  const noTimeout = new CircuitBreaker('no_timeout', { timeout: false })
  const state: 'CLOSED' | 'OPEN' | 'HALF_OPEN' = cb.state
  const same: typeof state = cb.getState()
  const metrics: CircuitBreakerMetrics = cb.getMetrics()
  const total: number = metrics.totalCalls + metrics.totalOpenTimeMs + metrics.timesHalfOpened
  const rate: number = cb.getSuccessRate()
  cb.resetMetrics()

  const reg = new CircuitBreakerRegistry()
  const a: CircuitBreaker = reg.register('a', { failureThreshold: 3 })
  const maybe: CircuitBreaker | null = reg.get('a')
  const b: CircuitBreaker = reg.getOrCreate('b')
  const names: string[] = reg.listNames()
  const all: Record<string, CircuitBreakerMetrics> = reg.getAllMetrics()
  const removed: boolean = reg.remove('a')
  const global: CircuitBreakerRegistry = CircuitBreakerRegistry.global()
  const cleared: number = global.clear()
  const view: CircuitBreakerView = cb.toJSON()
  const viewState: 'CLOSED' | 'OPEN' | 'HALF_OPEN' = view.state
  const registryView: Record<string, 'CLOSED' | 'OPEN' | 'HALF_OPEN'> = global.toJSON().breakers
  const quiet = new CircuitBreaker('quiet', { stackTrace: false })
  // @ts-expect-error stackTrace is a boolean
  new CircuitBreaker('x', { stackTrace: 'no' })
  void cleared, viewState, registryView, quiet

  try {
    await cb.call(async () => 1)
  } catch (e) {
    if (e instanceof CircuitOpenError) {
      const code: 'ERR_CIRCUIT_OPEN' = e.code
      const name: string = e.breaker
      void code, name
    }
    if (e instanceof CircuitTimeoutError) {
      const ms: number = e.timeout
      void ms
    }
  }

  // @ts-expect-error the call result is typed from fn
  const wrong: string = await cb.call(async () => 42)
  // @ts-expect-error unknown options are refused
  new CircuitBreaker('x', { failureTreshold: 3 })
  // @ts-expect-error timeout is a number or false
  new CircuitBreaker('x', { timeout: true })
  // @ts-expect-error the state is read-only
  cb.state = 'OPEN'

  void [n, s, noTimeout, same, total, rate, a, maybe, b, names, all, removed, global, wrong]
}

void main
