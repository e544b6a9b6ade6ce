import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';

/**
 * The node's data directory: created when missing, proven writable, and
 * locked with a pid file so two nodes never share one directory. A lock left
 * by a process that no longer exists (SIGKILL) is taken over.
 */
export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

const lockName = 'LOCK';

export async function openDataDir(dir: string): Promise<DataDirLock> {
  const path = resolve(dir);
  try {
    await mkdir(path, { recursive: true });
    const probe = join(path, `.probe-${process.pid}`);
    await writeFile(probe, 'ok');
    await rm(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(
      'data-dir',
      `${path} is not a writable directory (${code}); choose another with --data-dir or fix its permissions`,
    );
  }
  await takeLock(path);
  return {
    path,
    release: async () => {
      await rm(join(path, lockName), { force: true });
    },
  };
}

async function takeLock(path: string): Promise<void> {
  const lockPath = join(path, lockName);
  const holder = await readFile(lockPath, 'utf8').then(
    (text) => Number.parseInt(text, 10),
    () => undefined,
  );
  if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
    throw new ConfigError(
      'data-dir',
      `${path} is in use by process ${holder}; stop that node or choose another --data-dir`,
    );
  }
  await writeFile(lockPath, `${process.pid}\n`);
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
