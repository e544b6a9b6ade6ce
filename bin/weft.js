#!/usr/bin/env node
// The weft command. The sources are TypeScript, run through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
// Every server is closed by now; do not wait for stray timers or sockets.
process.exit();
