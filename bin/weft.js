#!/usr/bin/env node
// The weft command. Its sources are TypeScript: it runs them from the bundle
// that bin/bundle.js builds from them, or through tsx if that cannot be built.
import { pathToFileURL } from 'node:url';
import { weftBundle } from './bundle.js';

let main;
try {
  ({ main } = await import(pathToFileURL(await weftBundle()).href));
} catch (error) {
  process.stderr.write(`weft: running the sources through tsx, slower to start (no bundle: ${error.message})\n`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
// Every server is closed by now; do not wait for stray timers or sockets.
process.exit();
