#!/usr/bin/env node
// The `herald` command: wires config, store, app and worker together and picks the role.
import { runCli } from './cli/run-cli.js';

process.exitCode = await runCli(process.argv.slice(2));
