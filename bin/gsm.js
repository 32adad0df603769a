#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm run build` (run by `npm ci` through `prepare`).
import '../dist/local/polyfills.js';
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
