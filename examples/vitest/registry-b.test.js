import { expect, test } from 'vitest'
import { quoteService } from './quotes.js'

test('file B starts from a fresh breaker', async () => {
  const { breaker, quote } = quoteService(async (symbol) => ({ symbol }))
  expect(breaker.state).toBe('CLOSED')
  await expect(quote('B')).resolves.toEqual({ symbol: 'B' })
})
