// The code under test: a price feed behind a breaker from the global registry.
import { CircuitBreakerRegistry } from '@neural-trader/resilience'

export function quoteService(fetchQuote) {
  const breaker = CircuitBreakerRegistry.global().getOrCreate('quotes', {
    failureThreshold: 3,
    successThreshold: 2,
    resetTimeout: 60_000,
    timeout: 5_000,
  })
  return { breaker, quote: (symbol) => breaker.call(() => fetchQuote(symbol)) }
}
