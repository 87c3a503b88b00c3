'use strict'
// Puts this repository's package into `dir`/node_modules as `@neural-trader/resilience`.

const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..', '..')

/** Links the working tree as the installed package of the project in `dir`. */
function installPackage(dir) {
  const scope = path.join(dir, 'node_modules', '@neural-trader')
  fs.mkdirSync(scope, { recursive: true })
  fs.symlinkSync(root, path.join(scope, 'resilience'), 'dir')
}

module.exports = { installPackage }
