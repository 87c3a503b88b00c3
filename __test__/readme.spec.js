'use strict'
// Every ```js, ```mjs and ```ts block of README.md runs as written, in a fresh project where
// `@neural-trader/resilience` resolves to this repository (a symlink in node_modules, as `npm link`
// makes): `mjs` blocks and `js` blocks with `import` statements as ES modules, other `js` blocks
// as CommonJS, `ts` blocks compiled by `tsc --strict` under `module: nodenext` in a
// `"type": "module"` project and then run. A block right after `<!-- skip-run -->` needs a server
// and is only parsed (`node --check`); a block right after `<!-- jest -->` is a jest test file,
// run by jest (this repository's devDependency). Needs the built addon, as every spec.
const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')

const run = promisify(execFile)
const root = path.join(__dirname, '..')
const tsc = require.resolve('typescript/bin/tsc')

function blocks(markdown) {
  const found = []
  const re = /^```(js|mjs|ts)\n([\s\S]*?)^```$/gm
  let m
  while ((m = re.exec(markdown)) !== null) {
    const before = markdown.slice(0, m.index).trimEnd()
    const line = markdown.slice(0, m.index).split('\n').length
    found.push({
      lang: m[1],
      code: m[2],
      line,
      skip: before.endsWith('<!-- skip-run -->'),
      jest: before.endsWith('<!-- jest -->'),
    })
  }
  return found
}

const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
const all = blocks(readme)

let project
test.before(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'resilience-readme-'))
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'readme', private: true, type: 'module' }))
  fs.mkdirSync(path.join(project, 'node_modules', '@neural-trader'), { recursive: true })
  fs.symlinkSync(root, path.join(project, 'node_modules', '@neural-trader', 'resilience'), 'junction')
})
test.after.always(() => {
  if (project) fs.rmSync(project, { recursive: true, force: true })
})

test('README has runnable blocks, and few that are skipped', (t) => {
  t.true(all.filter((b) => !b.skip).length >= 5)
  const skipped = all.filter((b) => b.skip)
  t.log(`skipped (need a server): lines ${skipped.map((b) => b.line).join(', ')}`)
  t.true(skipped.length <= 4, 'keep the skip-run list small')
})

for (const block of all) {
  const isModule = block.lang === 'mjs' || /^import /m.test(block.code)
  const title = `README line ${block.line} (${block.jest ? 'jest' : block.lang}${block.lang === 'js' && !block.jest ? (isModule ? ', ESM' : ', CommonJS') : ''}) ${block.skip ? 'parses' : 'runs as written'}`
  test(title, async (t) => {
    const base = `block-${block.line}`
    if (block.jest) {
      fs.writeFileSync(path.join(project, `${base}.test.cjs`), block.code)
      const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js')
      const args = [jest, '--rootDir', project, '--testMatch', `**/${base}.test.cjs`, '--ci', '--runInBand']
      const r = await run(process.execPath, args, { cwd: project, timeout: 60000 }).catch((e) => e)
      t.is(r.code ?? 0, 0, `${r.stdout}${r.stderr}`)
      return
    }
    if (block.lang === 'ts') {
      fs.writeFileSync(path.join(project, `${base}.ts`), block.code)
      const config = {
        compilerOptions: { strict: true, target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', types: [], skipLibCheck: false, outDir: `out-${base}` },
        files: [`${base}.ts`],
      }
      fs.writeFileSync(path.join(project, `tsconfig.${base}.json`), JSON.stringify(config))
      const r = await run(process.execPath, [tsc, '-p', `tsconfig.${base}.json`], { cwd: project }).catch((e) => e)
      t.is(r.code ?? 0, 0, `${r.stdout}${r.stderr}`)
      if (block.skip) return
      const { stdout } = await run(process.execPath, [path.join(`out-${base}`, `${base}.js`)], { cwd: project, timeout: 30000 })
      t.log(stdout.trim())
      return
    }
    const file = `${base}.${isModule ? 'mjs' : 'cjs'}`
    fs.writeFileSync(path.join(project, file), block.code)
    const args = block.skip ? ['--check', file] : [file]
    const r = await run(process.execPath, args, { cwd: project, timeout: 30000 }).catch((e) => e)
    t.is(r.code ?? 0, 0, `${r.stdout}${r.stderr}`)
    if (r.stdout) t.log(r.stdout.trim())
  })
}
