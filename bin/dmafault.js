#!/usr/bin/env node
// Entry point of the dmafault command; the code lives in dist/ (built by `npm ci`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
