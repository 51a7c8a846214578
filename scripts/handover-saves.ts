// How a hot lock's handovers batch into log saves: the contended-N workload of
// scripts/bench-locks.ts (N clients on one lock, each waiting in line, a holder
// releasing at once and queueing again), counted rather than timed. It reads
// each node's lockstep_node_entries_per_save (count and sum) from /metrics
// before and after, and in the client, for each handover, whether the next
// holder's grant came before the releaser's own answer. docs/performance.md
// ("What the design cannot reach") gives what it showed. Against a running
// cluster without auth (`lockstep cluster up`):
//
//   npx tsx scripts/handover-saves.ts [--endpoints URL,URL,URL] [--clients 32] [--seconds 5] [--target leader|all]
//
// Prints a table and a BENCH {json} line.
import { get } from 'node:http';
import { parseArgs } from 'node:util';
import { BenchHttp } from './bench/http.js';

const { values } = parseArgs({
  options: {
    endpoints: { type: 'string', default: 'http://127.0.0.1:7001,http://127.0.0.1:7002,http://127.0.0.1:7003' },
    clients: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '5' },
    target: { type: 'string', default: 'leader' },
  },
});
const endpoints = values.endpoints.split(',').map((u) => u.replace(/\/$/, ''));
const clients = Number(values.clients);
const seconds = Number(values.seconds);
if (!(clients >= 2) || !(seconds > 0) || !['leader', 'all'].includes(values.target)) {
  console.error('usage: npx tsx scripts/handover-saves.ts [--endpoints URL,...] [--clients N>=2] [--seconds S] [--target leader|all]');
  process.exit(2);
}
const REQUEST_TIMEOUT_MS = 10_000;
const WAIT_MS = 5_000;
const http = new BenchHttp();

function metricsText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`${url}/metrics`, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
}

/** Saves that wrote entries, and the entries they wrote, per node. */
async function saves(): Promise<Array<{ saves: number; entries: number }>> {
  return Promise.all(
    endpoints.map(async (url) => {
      const text = await metricsText(url);
      const read = (name: string) => Number(new RegExp(`^lockstep_node_entries_per_save_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return { saves: read('count'), entries: read('sum') };
    }),
  );
}

const cluster = (await http.send('GET', `${endpoints[0]}/v1/cluster`, undefined, REQUEST_TIMEOUT_MS)).json as { leader: string | null; members: Array<{ id: string; apiUrl: string }> };
const leaderUrl = cluster.members.find((m) => m.id === cluster.leader)?.apiUrl?.replace(/\/$/, '');
if (leaderUrl === undefined) throw new Error('no leader known; is the cluster up?');
let turn = 0;
const next = (): string => (values.target === 'leader' ? leaderUrl : endpoints[turn++ % endpoints.length]);

const sessions: string[] = [];
for (let i = 0; i < clients; i++) {
  sessions.push(String((await http.post(`${next()}/v1/sessions`, { ttlMs: 30_000 }, REQUEST_TIMEOUT_MS)).json.sessionId));
}
const lock = `handover-saves-${Date.now()}`;
/** Per fencing token: when its grant reached this client, and when its holder's release was answered. */
const grantAtMs = new Map<number, number>();
const releasedAtMs = new Map<number, number>();
const before = await saves();
const endAtMs = performance.now() + seconds * 1000;
await Promise.all(
  sessions.map(async (sessionId) => {
    while (performance.now() < endAtMs) {
      const acquired = await http.post(`${next()}/v1/locks/${lock}/acquire`, { sessionId, waitMs: WAIT_MS }, WAIT_MS + REQUEST_TIMEOUT_MS);
      if (acquired.json.acquired !== true) continue;
      const token = Number(acquired.json.fencingToken);
      grantAtMs.set(token, performance.now());
      await http.post(`${next()}/v1/locks/${lock}/release`, { fencingToken: token }, REQUEST_TIMEOUT_MS);
      releasedAtMs.set(token, performance.now());
    }
  }),
);
const after = await saves();
await Promise.allSettled(sessions.map((id) => http.send('DELETE', `${next()}/v1/sessions/${id}`, undefined, REQUEST_TIMEOUT_MS)));

// Handover k → k+1: the grant of the next token against the release answer of this one.
const tokens = [...grantAtMs.keys()].sort((a, b) => a - b);
let grantFirst = 0;
const leadMs: number[] = [];
for (let i = 0; i + 1 < tokens.length; i++) {
  const released = releasedAtMs.get(tokens[i]);
  const granted = grantAtMs.get(tokens[i + 1]);
  if (released === undefined || granted === undefined) continue;
  leadMs.push(released - granted);
  if (granted < released) grantFirst++;
}
leadMs.sort((a, b) => a - b);
const handovers = leadMs.length;
const nodes = after.map((a, i) => {
  const savesMade = a.saves - before[i].saves;
  const entries = a.entries - before[i].entries;
  return { node: endpoints[i], saves: savesMade, entries, entriesPerSave: +(entries / savesMade).toFixed(2), savesPerHandover: +(savesMade / handovers).toFixed(2) };
});
const result = {
  bench: 'handover-saves',
  clients,
  seconds,
  target: values.target,
  handovers,
  perSecond: Math.round(handovers / seconds),
  grantBeforeReleaseAnswer: grantFirst,
  grantLeadMsP50: handovers > 0 ? +leadMs[handovers >> 1].toFixed(3) : null,
  nodes,
};
console.log(`${handovers} handovers in ${seconds} s (${result.perSecond}/s), ${clients} clients, target ${values.target}`);
console.log(`next grant before the releaser's answer: ${grantFirst} of ${handovers}, by ${result.grantLeadMsP50} ms (median)`);
console.log('| node | saves with entries | entries | entries per save | saves per handover |\n|---|---|---|---|---|');
for (const n of nodes) console.log(`| ${n.node} | ${n.saves} | ${n.entries} | ${n.entriesPerSave} | ${n.savesPerHandover} |`);
console.log(`BENCH ${JSON.stringify(result)}`);
process.exit(0);
