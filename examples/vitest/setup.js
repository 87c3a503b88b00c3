import { afterEach, vi } from 'vitest'
import { CircuitBreakerRegistry } from '@neural-trader/resilience'

afterEach(() => {
  vi.useRealTimers()
  CircuitBreakerRegistry.global().clear()
})
