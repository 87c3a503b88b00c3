'use strict'
// The user-style suites of examples/jest and examples/vitest, run as a user runs them: each
// example is copied into a fresh project that has the package installed, then its test runner
// runs it (jest in one process with --runInBand, so that test files share the global registry;
// vitest with its default pool and with vmThreads, where each file has a realm of its own).
// The runners come from this repository's devDependencies: no network.

const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { installPackage } = require('./support/install.js')

const root = path.join(__dirname, '..')

function project(name) {
  const base = path.join(root, 'target', 'examples')
  fs.mkdirSync(base, { recursive: true })
  const dir = fs.mkdtempSync(path.join(base, `${name}-`))
  fs.cpSync(path.join(root, 'examples', name), dir, { recursive: true })
  installPackage(dir)
  return dir
}

function run(t, dir, args, env = {}) {
  const result = spawnSync(process.execPath, args, {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env, CI: '1', NO_COLOR: '1' },
  })
  // eslint-disable-next-line no-control-regex
  const output = `${result.stdout}\n${result.stderr}`.replace(/\u001b\[[0-9;]*m/g, '')
  t.is(result.status, 0, output)
  return output
}

test('examples/jest passes: fake timers before and after load, two files sharing the global registry, toThrow(RangeError), ESM and CommonJS', (t) => {
  const dir = project('jest')
  const output = run(t, dir, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--runInBand', '--ci'], {
    NODE_OPTIONS: '--experimental-vm-modules --no-warnings',
  })
  t.regex(output, /Tests:\s+\d+ passed, \d+ total/)
  t.notRegex(output, /did not exit|open handle/i)
  fs.rmSync(dir, { recursive: true, force: true })
})

for (const pool of ['forks', 'vmThreads']) {
  test(`examples/vitest passes with pool ${pool}`, (t) => {
    const dir = project('vitest')
    const output = run(t, dir, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--pool', pool])
    t.regex(output, /Tests\s+\d+ passed/)
    fs.rmSync(dir, { recursive: true, force: true })
  })
}
