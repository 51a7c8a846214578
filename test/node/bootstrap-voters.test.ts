// The bootstrap voters' record (src/node/bootstrap-voters.ts): recorded at the
// first start, read back at every later one whatever --peers says; a damaged
// record stops the node rather than letting it guess. The process-level case
// (a node restarted with --peers naming only itself) is process-bootstrap.test.ts.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BOOTSTRAP_VOTERS_FILE, FileBootstrapVoters, MemoryBootstrapVoters, settleBootstrapVoters } from '../../src/node/bootstrap-voters.js';
import { type PersistentState, nodeId } from '../../src/raft/types.js';
import { EMPTY_HARD_STATE } from '../../src/storage/log-shape.js';

const silent = pino({ level: 'silent' });
/** A node's first start: no Raft state yet. */
const FRESH: PersistentState = { hardState: EMPTY_HARD_STATE, snapshot: null, entries: [] };
/** Data from before the record: state (a term), no snapshot. */
const OLD_DATA: PersistentState = { hardState: { ...EMPTY_HARD_STATE, term: 5 } as PersistentState['hardState'], snapshot: null, entries: [] };
const ids = (...names: string[]) => names.map(nodeId);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bootstrap-voters-'));
  dirs.push(d);
  return d;
}

describe('settleBootstrapVoters', () => {
  it('records --peers at the first start and keeps that record at later starts, whatever --peers says then', () => {
    for (const record of [new MemoryBootstrapVoters(), new FileBootstrapVoters(tempDir())]) {
      expect(settleBootstrapVoters(record, ids('n1', 'n2', 'n3'), FRESH, silent)).toEqual(ids('n1', 'n2', 'n3'));
      expect(settleBootstrapVoters(record, ids('n3'), OLD_DATA, silent)).toEqual(ids('n1', 'n2', 'n3'));
      expect(settleBootstrapVoters(record, ids('n3', 'n2', 'n1'), OLD_DATA, silent)).toEqual(ids('n1', 'n2', 'n3'));
    }
  });

  it('data from before the record runs on --peers as it always did, and is not given a record that could keep a wrong --peers for good', () => {
    const record = new MemoryBootstrapVoters();
    expect(settleBootstrapVoters(record, ids('n3'), OLD_DATA, silent)).toEqual(ids('n3'));
    expect(record.read()).toBeNull();
    expect(settleBootstrapVoters(record, ids('n1', 'n2', 'n3'), OLD_DATA, silent)).toEqual(ids('n1', 'n2', 'n3'));
    expect(record.read()).toBeNull();
  });

  it('the file is written whole: no partial file is left, and it reads back', () => {
    const dir = tempDir();
    new FileBootstrapVoters(dir).write(ids('a', 'b', 'c'));
    expect(readdirSync(dir)).toEqual([BOOTSTRAP_VOTERS_FILE]);
    expect(JSON.parse(readFileSync(join(dir, BOOTSTRAP_VOTERS_FILE), 'utf8'))).toEqual({ voters: ['a', 'b', 'c'] });
    expect(new FileBootstrapVoters(dir).read()).toEqual(ids('a', 'b', 'c'));
  });

  it('a damaged record is refused, never replaced by --peers', () => {
    for (const text of ['', '{"voters": []}', '{"voters": ["n1", 7]}', 'not json', '{"other": 1}']) {
      const dir = tempDir();
      writeFileSync(join(dir, BOOTSTRAP_VOTERS_FILE), text);
      expect(() => settleBootstrapVoters(new FileBootstrapVoters(dir), ids('n1'), OLD_DATA, silent)).toThrow(/is damaged/);
      expect(readFileSync(join(dir, BOOTSTRAP_VOTERS_FILE), 'utf8')).toBe(text);
    }
  });
});
