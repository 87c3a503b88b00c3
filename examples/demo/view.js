'use strict'
// The demo's terminal view: a table of breakers redrawn in place on a TTY, one plain line per
// refresh otherwise (logs, CI).

const COLORS = { CLOSED: '\x1b[32m', OPEN: '\x1b[31m', HALF_OPEN: '\x1b[33m' }
const RESET = '\x1b[0m'

function pad(text, width, right = false) {
  const s = String(text)
  return right ? s.padStart(width) : s.padEnd(width)
}

class View {
  constructor(stream = process.stdout) {
    this.stream = stream
    this.tty = Boolean(stream.isTTY)
    this.lines = 0
  }

  /** `rows`: [{ name, state, metrics | null, note }]; `status`: lines under the table. */
  render(elapsedMs, durationMs, rows, status) {
    if (!this.tty) {
      const states = rows
        .map((r) => `${r.name}=${r.state}${r.metrics ? `(${r.metrics.totalCalls}/${r.metrics.failedCalls}/${r.metrics.rejectedCalls})` : ''}`)
        .join(' ')
      this.stream.write(`[${(elapsedMs / 1000).toFixed(1)}s] ${states} | ${status.join(' | ')}\n`)
      return
    }
    const out = []
    const progress = Math.min(1, elapsedMs / durationMs)
    const bar = '#'.repeat(Math.round(progress * 30)).padEnd(30, '.')
    out.push(`neural-trader resilience demo  [${bar}] ${(elapsedMs / 1000).toFixed(1)}s / ${(durationMs / 1000).toFixed(0)}s`)
    out.push('')
    out.push(
      `${pad('breaker', 22)}${pad('state', 11)}${pad('calls', 8, true)}${pad('ok', 8, true)}${pad('failed', 8, true)}${pad('rejected', 10, true)}${pad('ignored', 9, true)}${pad('open ms', 9, true)}`,
    )
    for (const r of rows) {
      const color = this.tty ? COLORS[r.state] ?? '' : ''
      const m = r.metrics
      const cells = m
        ? `${pad(m.totalCalls, 8, true)}${pad(m.successfulCalls, 8, true)}${pad(m.failedCalls, 8, true)}${pad(m.rejectedCalls, 10, true)}${pad(m.ignoredCalls, 9, true)}${pad(m.totalOpenTimeMs, 9, true)}`
        : `  ${r.note ?? ''}`
      out.push(`${pad(r.name, 22)}${color}${pad(r.state, 11)}${RESET}${cells}`)
    }
    out.push('')
    out.push(...status)
    // Move up over the previous frame and clear each line as it is rewritten.
    const up = this.lines > 0 ? `\x1b[${this.lines}F` : ''
    this.stream.write(up + out.map((l) => `\x1b[2K${l}`).join('\n') + '\n')
    this.lines = out.length
  }
}

module.exports = { View }
