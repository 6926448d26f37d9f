#!/usr/bin/env node
// The thought-probe CLI: runs the compiled JavaScript in dist/ (`npm run build`; `npm ci` builds it through
// the prepare script). No TypeScript compiler at run time.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write(`error: ${main} is missing: the CLI is not built.\nfix: run \`npm run build\` in ${join(__dirname, '..')} (npm ci does it through the prepare script).\n`);
  process.exit(2);
}
require(main);
