// Runs every *.test.ts under src/, test/, bench/ and scripts/ with node's
// built-in runner, prints the spec report, and ends with one line CI can
// read: "N passed, N failed". Exit status is non-zero when anything failed.
//   node --import tsx scripts/run-tests.ts [path-filter ...]
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);
const fileTimeoutMs = 10 * 60 * 1000;

function collect(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((name) => name !== 'node_modules' && !name.startsWith('.'))
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return collect(path);
      return name.endsWith('.test.ts') ? [path] : [];
    });
}

const files = ['src', 'test', 'bench', 'scripts']
  .flatMap((dir) => collect(join(root, dir)))
  .filter((file) => filters.length === 0 || filters.some((f) => relative(root, file).includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

// Test files are TypeScript: the runner's child processes inherit this
// process's execArgv, so it must itself be started with `--import tsx`.
if (!process.execArgv.some((arg) => arg.includes('tsx'))) {
  console.error('start the test runner with: node --import tsx scripts/run-tests.ts');
  process.exit(2);
}

let passed = 0;
let failed = 0;

/** Run `batch` with `concurrency` files at a time; resolves when its report is written. */
function runBatch(batch: string[], concurrency: number): Promise<void> {
  if (batch.length === 0) return Promise.resolve();
  const stream = run({ files: batch, concurrency, timeout: fileTimeoutMs });
  stream.on('test:pass', (event) => {
    if (event.details.type !== 'suite' && !event.skip && !event.todo) passed += 1;
  });
  stream.on('test:fail', (event) => {
    if (event.details.type !== 'suite') failed += 1;
  });
  const report = stream.compose(new spec());
  report.pipe(process.stdout, { end: false });
  return new Promise((resolve) => report.on('end', resolve));
}

// Files named *.solo.test.ts start many processes (a 16-node ring, a crash
// loop): they run one at a time after the rest, so no test starves another
// of the two CPU cores CI has.
const solo = files.filter((file) => file.endsWith('.solo.test.ts'));
const shared = files.filter((file) => !solo.includes(file));
await runBatch(shared, Math.max(2, availableParallelism()));
for (const file of solo) await runBatch([file], 1);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 ? 1 : 0;
