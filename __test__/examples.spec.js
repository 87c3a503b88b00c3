'use strict'
// The user-style suites of examples/jest and examples/vitest, run as a user runs them: the
// package is packed and installed (offline, from the tarballs, support/install.js) into a copy of
// each example, then its test runner runs it (jest in one process with --runInBand, so that test files share the global registry;
// vitest with its default pool and with vmThreads, where each file has a realm of its own).
// The runners come from this repository's devDependencies: no network.

const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { platformDir, pack, install } = require('./support/install.js')

const root = path.join(__dirname, '..')
// Inside the repository, so that the copies find the test runners in its node_modules.
const base = path.join(root, 'target', 'examples')
let packed

test.before(async () => {
  if (!platformDir) return
  fs.mkdirSync(base, { recursive: true })
  packed = await pack(fs.mkdtempSync(path.join(base, 'pack-')))
})

test.after.always(() => {
  if (packed) fs.rmSync(packed.tmp, { recursive: true, force: true })
})

/** A copy of examples/`name` with the packed package installed (its runner comes from here). */
async function project(name) {
  const dir = fs.mkdtempSync(path.join(base, `${name}-`))
  fs.cpSync(path.join(root, 'examples', name), dir, { recursive: true })
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  delete manifest.devDependencies
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2))
  await install(packed, dir)
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

function maybe(title, fn) {
  test(title, async (t) => {
    if (!platformDir) {
      t.log('skipped: no addon built for this platform (run npm run build)')
      t.pass()
      return
    }
    await fn(t)
  })
}

maybe('examples/jest passes: fake timers before and after load, two files sharing the global registry, toThrow(RangeError), ESM and CommonJS', async (t) => {
  const dir = await project('jest')
  const output = run(t, dir, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--runInBand', '--ci'], {
    NODE_OPTIONS: '--experimental-vm-modules --no-warnings',
  })
  t.regex(output, /Tests:\s+\d+ passed, \d+ total/)
  t.notRegex(output, /did not exit|open handle/i)
  fs.rmSync(dir, { recursive: true, force: true })
})

for (const pool of ['forks', 'vmThreads']) {
  maybe(`examples/vitest passes with pool ${pool}`, async (t) => {
    const dir = await project('vitest')
    const output = run(t, dir, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--pool', pool])
    t.regex(output, /Tests\s+\d+ passed/)
    fs.rmSync(dir, { recursive: true, force: true })
  })
}
