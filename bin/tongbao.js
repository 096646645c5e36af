#!/usr/bin/env node
// The published entry point: the compiled CLI (npm install runs the build through `prepare`).
import '../dist/src/cli.js';
