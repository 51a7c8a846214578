// SIGTERM or SIGINT stops a `lockstep serve` with status 0 (cli.md), also
// while its modules still load: main.ts holds the signal from its first
// moment (src/cli/hangup.ts) and the node stops as soon as it can. Before, a
// node stopped in that window (a service manager stopping a node that had
// just started) died of the signal, status 143 or 130. A real process: the
// source under tsx (its modules take a second or more to load), or under npm
// test the build (a few hundred ms: the signal goes the moment it is caught).
// Ports 19491 (API), 19496 (peer).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { START_WAIT_MS } from '../../src/harness/local-cluster.js';
import { ServeProcess } from '../../src/harness/serve-process.js';
import { TEST_CLI } from '../node/support/proc-cluster.js';
import { catchesHangup } from './catches-hangup.js';

const API = '127.0.0.1:19491';
const PEER = '127.0.0.1:19496';
const dir = mkdtempSync(path.join(tmpdir(), 'lockstep-stop-early-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('serve stopped while its modules load', () => {
  for (const name of ['SIGTERM', 'SIGINT'] as const) {
    it(`${name}: exits 0`, async () => {
      const node = new ServeProcess({
        flags: { id: 'n1', api: API, peer: PEER, peers: `n1=${PEER}`, data: path.join(dir, name), heartbeatMs: 50, electionMs: 500, logLevel: 'info' },
        cli: TEST_CLI,
        output: 'capture',
      });
      node.start();
      const pid = node.pid!;
      const exited = new Promise<void>((r) => {
        const poll = (): void => void (node.running ? setTimeout(poll, 10) : r());
        poll();
      });
      try {
        // The moment main.ts holds the signals, before the node wrote its first line (its modules are loaded).
        const deadline = Date.now() + START_WAIT_MS;
        while (catchesHangup(pid) === false && node.output.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        expect(catchesHangup(pid), `signals not held before the node's first line:\n${node.output.join('')}`).toBe(true);
        process.kill(pid, name);
        await exited;
        expect(node.exits, node.output.join('')).toEqual([{ code: 0, signal: null, expected: false }]);
      } finally {
        await node.close();
      }
    }, START_WAIT_MS + 20_000);
  }
});
