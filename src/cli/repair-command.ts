import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { describeSchema, resolveConfig, text, type Schema } from '../core/config-schema.ts';
import { ConfigError, describeError, isWeftError } from '../core/errors.ts';
import { openDataDir } from '../node/data-dir.ts';
import { Wal } from '../storage/wal.ts';
import { WAL_DIR_NAME } from '../storage/wal-files.ts';
import { repairWal } from '../storage/wal-repair.ts';
import { parseFlags } from './args.ts';

export interface RepairConfig {
  readonly dataDir: string;
}

export const repairSchema: Schema<RepairConfig> = {
  dataDir: {
    doc: 'Data directory of the stopped node whose WAL to repair (required: repair never guesses)',
    placeholder: '<dir>',
    parse: text(),
    default: '',
    defaultDoc: 'none',
  },
};

export const repairHelp = [
  'weft repair: truncate a damaged WAL after its last good record, and say how many entries that drops.',
  'A node never does this by itself: it refuses to start on a damaged WAL and names this command.',
  '',
  'Flags:',
  ...describeSchema(repairSchema),
].join('\n');

/** `weft repair --data-dir <dir>`: exit 0 when the WAL is intact or was repaired and now opens, 1 otherwise. */
export async function runRepair(argv: readonly string[], env: Record<string, string>): Promise<number> {
  const args = parseFlags(argv, repairSchema);
  if (args.help) {
    console.log(repairHelp);
    return 0;
  }
  const { config } = resolveConfig(repairSchema, { flags: args.flags, env, file: {} });
  if (config.dataDir === '') throw new ConfigError('data-dir', 'is required: name the data directory to repair');
  await access(join(config.dataDir, WAL_DIR_NAME)).catch(() => {
    throw new ConfigError('data-dir', `${config.dataDir} has no ${WAL_DIR_NAME}/ directory; check the path`);
  });
  // Taking the node's lock makes sure no node is running on this directory.
  const lock = await openDataDir(config.dataDir);
  try {
    const report = await repairWal(config.dataDir);
    if (report.damage === undefined) {
      console.log(`weft repair: the WAL in ${config.dataDir} has no damage; nothing changed`);
      return 0;
    }
    const { segment, offset, reason } = report.damage;
    const range =
      report.droppedIndexes === undefined
        ? ''
        : ` (indexes ${report.droppedIndexes.first}..${report.droppedIndexes.last})`;
    console.log(`weft repair: damage at ${segment.path} byte ${offset}: ${reason}`);
    console.log(`weft repair: truncated the WAL there and removed ${report.removedFiles.length} later segment file(s)`);
    console.log(`weft repair: dropped ${report.droppedEntries} entries${range}`);
    return await checkOpens(config.dataDir);
  } finally {
    await lock.release();
  }
}

async function checkOpens(dataDir: string): Promise<number> {
  try {
    const wal = await Wal.open({ dataDir });
    const state = wal.readAll();
    await wal.close();
    const last = state.entries.at(-1)?.index ?? state.snapshot?.index ?? 0;
    console.log(`weft repair: the WAL now opens: last index ${last}, commit ${state.hardState.commit}`);
    return 0;
  } catch (error) {
    if (!isWeftError(error)) throw error;
    console.error(`weft repair: the WAL still does not open: ${describeError(error)}`);
    return 1;
  }
}
