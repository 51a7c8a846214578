// The Grafana dashboard (dashboards/lockstep.json) names only metrics a node
// serves: every query's lockstep_* names are checked against a scrape of a
// real `lockstep serve` process, and every metric an operator needs
// (issue 15 item 10) has a panel; the leader of a 3-node cluster reports
// the per-peer series. Renaming a metric without the dashboard,
// or the other way round, fails here.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ELECTION, LocalCluster } from '../../src/harness/local-cluster.js';
import { APPLY_METRICS } from '../../src/server/apply-metrics.js';
import { CLI } from '../node/support/proc-cluster.js';

/** A loaded machine starts a node process slowly: a bound on waiting, not a timing assumption. */
const LEADER_WAIT_MS = 90_000;
const DASHBOARD = new URL('../../dashboards/lockstep.json', import.meta.url);

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

function queries(dashboard: { panels: Panel[]; templating?: { list: Array<{ type?: string; query?: unknown }> } }): string[] {
  const out: string[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push(t.expr);
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  // Variables that query Prometheus (a `datasource` variable only picks the data source).
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    if (q) out.push(q);
  }
  return out;
}

/** Every series name the exposition can carry: counters and gauges by name, histograms with _bucket, _sum and _count. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (!m) continue;
    names.add(m[1]);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1] + s);
    if (m[2] === 'summary') for (const s of ['_sum', '_count']) names.add(m[1] + s);
  }
  return names;
}

let cluster: LocalCluster;
let exported: Set<string>;
/** The leader's exposition: the per-peer series exist only there. */
let leaderText: string;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npx tsc -p tsconfig.build.json first`);
  cluster = new LocalCluster({ size: 3, basePort: 23900, peerPortOffset: 50, cli: 'dist', flags: { ...FAST_ELECTION, logLevel: 'warn' }, output: 'capture' });
  cluster.startAll();
  const leader = await cluster.leader(LEADER_WAIT_MS);
  // One write, so that the leader's commit latency has an observation.
  expect((await fetch(`${leader.url}/v1/sessions`, { method: 'POST' })).status).toBe(201);
  const res = await fetch(`${leader.url}/metrics`);
  expect(res.status).toBe(200);
  leaderText = await res.text();
  exported = exportedNames(leaderText);
}, LEADER_WAIT_MS + 30_000);
afterAll(async () => {
  await cluster?.destroy();
});

describe('per-peer replication metrics', () => {
  it('the leader reports each other member\'s lag and reachability', async () => {
    const leader = await cluster.leader(LEADER_WAIT_MS);
    const others = cluster.nodes.filter((n) => n.id !== leader.id).map((n) => n.id);
    for (const peer of others) {
      expect(leaderText).toMatch(new RegExp(`^lockstep_raft_peer_lag_entries\\{peer="${peer}"\\} \\d+$`, 'm'));
      expect(leaderText).toMatch(new RegExp(`^lockstep_raft_peer_reachable\\{peer="${peer}"\\} [01]$`, 'm'));
    }
    expect(leaderText).not.toMatch(new RegExp(`peer="${leader.id}"`));
    expect(leaderText).toMatch(/^lockstep_raft_leader_changes_total [1-9]\d*$/m);
    expect(leaderText).toMatch(/^lockstep_node_commit_duration_seconds_count [1-9]\d*$/m);
  });
});

describe('dashboards/lockstep.json', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
  const exprs = queries(dashboard);

  it('every query names only metrics a real node exports', () => {
    expect(exprs.length).toBeGreaterThan(10);
    const unknown: string[] = [];
    for (const expr of exprs) {
      const names = expr.match(/\blockstep_[a-zA-Z0-9_]+/g) ?? [];
      expect(names.length, `a query that names no lockstep metric: ${expr}`).toBeGreaterThan(0);
      for (const name of names) if (!exported.has(name)) unknown.push(`${name} (in ${expr})`);
    }
    expect(unknown).toEqual([]);
  });

  it('has a panel for every metric an operator needs', () => {
    const needed = [
      ...Object.values(APPLY_METRICS).map((n) => (n === APPLY_METRICS.applySeconds ? `${n}_bucket` : n)),
      'lockstep_raft_leader_changes_total',
      'lockstep_raft_peer_lag_entries',
      'lockstep_node_commit_duration_seconds_bucket',
      'lockstep_raft_is_leader',
      'lockstep_http_request_duration_seconds_bucket',
    ];
    const used = new Set(exprs.flatMap((e) => e.match(/\blockstep_[a-zA-Z0-9_]+/g) ?? []));
    expect(needed.filter((n) => !used.has(n))).toEqual([]);
    for (const n of needed) expect(exported.has(n), `${n} is not exported`).toBe(true);
  });
});
