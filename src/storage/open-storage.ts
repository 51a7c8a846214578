// Which storage engine a data directory holds, and opening it. A directory
// keeps the engine it was made with (LevelDB's CURRENT file, or the log's
// wal-*.log segments say which); `--storage` chooses for a new, empty one.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RaftStorage } from './api.js';
import { FileStorage, SEGMENT_NAME } from './file-storage.js';
import { LevelStorage } from './level-storage.js';

export const STORAGE_ENGINES = ['file', 'level'] as const;
export type StorageEngine = (typeof STORAGE_ENGINES)[number];

/** The engine whose files `dir` holds, or null when it holds neither (new or missing). */
export function engineInDirectory(dir: string): StorageEngine | null {
  if (!existsSync(dir)) return null;
  if (existsSync(join(dir, 'CURRENT'))) return 'level';
  if (readdirSync(dir).some((n) => SEGMENT_NAME.test(n))) return 'file';
  return null;
}

export async function openStorage(dir: string, wanted: StorageEngine, logger: Logger): Promise<{ storage: RaftStorage; engine: StorageEngine }> {
  const found = engineInDirectory(dir);
  const engine = found ?? wanted;
  if (found !== null && found !== wanted) logger.info({ dir, engine: found, asked: wanted }, `the data directory holds a ${found} log: using it (--storage chooses for a new directory only)`);
  const storage = engine === 'file' ? await FileStorage.open(dir, logger) : await LevelStorage.open(dir, logger);
  return { storage, engine };
}
