'use strict'
// The package as a user installs it: `npm pack` of the root and of this machine's platform package
// (npm/<platform> with the built addon copied in), installed into a project with no network
// (--offline, an unreachable registry and an empty cache, so the root's optionalDependency can
// only come from the local tarball). Used by package.spec.js and examples.spec.js.

const fs = require('node:fs')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')

const run = promisify(execFile)
const root = path.join(__dirname, '..', '..')
const npmCli = process.env.npm_execpath && process.env.npm_execpath.endsWith('npm-cli.js') ? process.env.npm_execpath : null

/** The platform package whose addon is built here: npm/<dir> whose `main` exists in the root. */
const platformDir = fs
  .readdirSync(path.join(root, 'npm'))
  .find((dir) => fs.existsSync(path.join(root, require(`../../npm/${dir}/package.json`).main)))

function npm(args, cwd, env = {}) {
  const [file, pre] = npmCli ? [process.execPath, [npmCli]] : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []]
  return run(file, [...pre, ...args], { cwd, env: { ...process.env, ...env }, maxBuffer: 64 << 20 })
}

/** npm settings under which no registry can be reached. */
function offline(tmp) {
  return {
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_cache: path.join(tmp, 'cache'),
    npm_config_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  }
}

/** Packs the root and the platform package into `tmp`; returns npm's descriptions of both. */
async function pack(tmp) {
  const env = offline(tmp)
  const [rootPack, platformPack] = await Promise.all([
    npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], root, env),
    (async () => {
      const stage = path.join(tmp, 'platform')
      fs.cpSync(path.join(root, 'npm', platformDir), stage, { recursive: true })
      const main = require(`../../npm/${platformDir}/package.json`).main
      fs.copyFileSync(path.join(root, main), path.join(stage, main))
      return npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], stage, env)
    })(),
  ])
  return { tmp, rootPack: JSON.parse(rootPack.stdout)[0], platformPack: JSON.parse(platformPack.stdout)[0] }
}

/** Installs the tarballs `pack` made into the project in `app`, offline. */
async function install(packed, app) {
  const { tmp, rootPack, platformPack } = packed
  await npm(
    ['install', '--offline', '--no-audit', '--no-fund', path.join(tmp, rootPack.filename), path.join(tmp, platformPack.filename)],
    app,
    offline(tmp),
  )
}

module.exports = { platformDir, pack, install, npm }
