// `lockstep status` when the node it asks first is not the one to believe:
// after `lockstep members remove` of a node (the leader, say), that node goes
// on answering with its last view (no leader, its old term, a member list
// without itself); a follower cut off from the majority knows no leader
// either. cli.md: status "exit 1 when no node reports a leader". Another
// member answering as leader is a leader: status shows that leader's view
// and exits 0, and says the node it asked first is not a member. Scripted
// nodes (node:http), as a removed node's answers are the point.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

type View = Record<string, unknown>;

/** A node answering GET /v1/cluster with what `view(urls)` says, given every fake node's URL by id. */
async function fakeNodes(views: Record<string, (urls: Record<string, string>) => View>): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const id of Object.keys(views)) {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/v1/cluster') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'not_found', message: 'no route' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-lockstep-node': id });
      res.end(JSON.stringify(views[id](urls)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    urls[id] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return urls;
}

function member(id: string, urls: Record<string, string>, role: string): View {
  return { id, apiUrl: urls[id], peerUrl: `127.0.0.1:1${id.slice(1)}`, role, voter: true };
}

describe('lockstep status: the first node asked is removed or cut off', () => {
  it('a removed former leader asked first: shows the leader the members answer to, exit 0', async () => {
    const urls = await fakeNodes({
      // Removed: no leader, its last term, a member list without itself.
      n1: (u) => ({ clusterId: 'c', self: 'n1', leader: null, term: 2, commitIndex: 25, appliedIndex: 25, members: [member('n2', u, 'follower'), member('n3', u, 'follower')] }),
      n2: (u) => ({ clusterId: 'c', self: 'n2', leader: 'n2', term: 3, commitIndex: 26, appliedIndex: 26, members: [{ ...member('n2', u, 'leader'), matchIndex: 26 }, { ...member('n3', u, 'follower'), matchIndex: 26 }] }),
      n3: (u) => ({ clusterId: 'c', self: 'n3', leader: 'n2', term: 3, commitIndex: 26, appliedIndex: 26, members: [member('n2', u, 'leader'), member('n3', u, 'follower')] }),
    });
    const r = await runCli(['status', '--endpoints', [urls.n1, urls.n2, urls.n3].join(',')]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/leader n2 {2}term 3 {2}commit 26/);
    expect(r.stdout).not.toMatch(/no leader/);
    expect(r.stdout).toMatch(/n1 .*is not a member/);
    const rows = r.stdout.split('\n').filter((l) => /^n\d\s/.test(l));
    expect(rows.map((l) => l.split(/\s+/).slice(0, 2))).toEqual([['n2', 'leader'], ['n3', 'follower']]);

    const json = await runCli(['status', '--json', '--endpoints', [urls.n1, urls.n2].join(',')]);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ self: 'n2', leader: 'n2', term: 3 });
  });

  it('a follower that knows no leader asked first, while another member leads: exit 0 with that leader', async () => {
    const urls = await fakeNodes({
      n1: (u) => ({ clusterId: 'c', self: 'n1', leader: null, term: 5, commitIndex: 40, appliedIndex: 40, members: [member('n1', u, 'follower'), member('n2', u, 'follower'), member('n3', u, 'follower')] }),
      n2: (u) => ({ clusterId: 'c', self: 'n2', leader: 'n2', term: 5, commitIndex: 41, appliedIndex: 41, members: [{ ...member('n1', u, 'follower'), matchIndex: 40 }, { ...member('n2', u, 'leader'), matchIndex: 41 }, { ...member('n3', u, 'follower'), matchIndex: 41 }] }),
      n3: (u) => ({ clusterId: 'c', self: 'n3', leader: 'n2', term: 5, commitIndex: 41, appliedIndex: 41, members: [member('n1', u, 'follower'), member('n2', u, 'leader'), member('n3', u, 'follower')] }),
    });
    const r = await runCli(['status', '--endpoints', urls.n1]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/leader n2 {2}term 5 {2}commit 41/);
    expect(r.stdout).not.toMatch(/is not a member/);
  });

  it('nobody answers as leader: still exit 1, no leader', async () => {
    const urls = await fakeNodes({
      n1: (u) => ({ clusterId: 'c', self: 'n1', leader: null, term: 5, commitIndex: 40, appliedIndex: 40, members: [member('n1', u, 'follower'), member('n2', u, 'follower')] }),
      n2: (u) => ({ clusterId: 'c', self: 'n2', leader: null, term: 5, commitIndex: 40, appliedIndex: 40, members: [member('n1', u, 'follower'), member('n2', u, 'candidate')] }),
    });
    const r = await runCli(['status', '--endpoints', urls.n1]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/leader NONE/);
  });
});
