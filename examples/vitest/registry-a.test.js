import { expect, test } from 'vitest'
import { quoteService } from './quotes.js'

test('file A leaves the shared breaker OPEN at the end of its test', async () => {
  const { breaker, quote } = quoteService(async () => {
    throw new Error('down')
  })
  for (let i = 0; i < 3; i++) await quote('A').catch(() => {})
  expect(breaker.state).toBe('OPEN')
})
