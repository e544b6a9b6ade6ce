// weft's TypeScript sources bundled into one ES module by esbuild, so that a
// process runs plain JavaScript. Through tsx's loader, every weft process
// starts a second V8 isolate for the module hooks (about 35 MB) and compiles
// its sources each time it starts (half a second): a SIGKILLed member's peers
// see its sockets close later the more memory it held, and a restarted member
// serves later. The bundle is keyed by a hash of the sources, so an edited
// tree gets a new one on its first run; no build step to forget.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const srcDir = join(root, 'src');
const entry = join(srcDir, 'cli', 'main.ts');
const cacheDir = join(root, 'node_modules', '.cache', 'weft');
const staleAfterMs = 60 * 60 * 1000;

/** The bundle of the current sources, built if missing. Throws when it cannot be built. */
export async function weftBundle() {
  const file = join(cacheDir, `main-${sourceHash(srcDir)}.mjs`);
  if (!existsSync(file)) await build(file);
  return file;
}

/**
 * Hash of every source under dir the bundle may contain, of where they are
 * (the bundle refers to their files) and of how it is built.
 */
export function sourceHash(dir) {
  const hash = createHash('sha256');
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  hash.update(dir);
  for (const name of readdirSync(dir, { recursive: true }).sort()) {
    if (!/\.(ts|js|json)$/.test(name) || name.endsWith('.test.ts')) continue;
    hash.update(`\0${name}\0`);
    hash.update(readFileSync(join(dir, name)));
  }
  return hash.digest('hex').slice(0, 16);
}

async function build(file) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Dependencies are loaded from node_modules as they are: some have native addons or worker files.
    packages: 'external',
    keepNames: true,
    sourcemap: 'linked',
    outfile: file,
    write: false,
    logLevel: 'silent',
    plugins: [sourceLocations],
  });
  // esbuild answers from a child process; a long-running node need not keep it.
  await esbuild.stop();
  mkdirSync(cacheDir, { recursive: true });
  // Written under temporary names and renamed, so that a process starting alongside never reads half a file.
  // The module last: its presence says the bundle is complete.
  const outputs = [...result.outputFiles].sort((a, b) => Number(a.path === file) - Number(b.path === file));
  for (const output of outputs) {
    const temporary = `${output.path}.${process.pid}.tmp`;
    writeFileSync(temporary, output.contents);
    renameSync(temporary, output.path);
  }
  removeStale(file);
}

/**
 * A module finds its files (.proto definitions, worker scripts, bin/weft.js)
 * relative to its own URL. In the bundle every module would share the
 * bundle's URL, so each keeps its source file's.
 */
const sourceLocations = {
  name: 'source-locations',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
      if (!args.path.startsWith(srcDir)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      const contents = text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href));
      return { contents, loader: args.path.endsWith('.js') ? 'js' : 'ts', resolveDir: dirname(args.path) };
    });
  },
};

/** Bundles of other source trees, older than an hour: a process that started from one has long read it. */
function removeStale(current) {
  const now = Date.now();
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (path.startsWith(current)) continue;
    try {
      if (now - statSync(path).mtimeMs > staleAfterMs) rmSync(path, { force: true });
    } catch {
      // Another process removed it first.
    }
  }
}
