#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, so `npx thought-probe` works right after `npm ci`.
require('tsx/cjs');
require('../src/cli/main.ts');
