// lockstep status: members, roles, leader, term, commit/applied indexes, lag.
//
// Asks any node for /v1/cluster, then the leader (its view has every
// member's matchIndex), then each member for its own applied index (stale
// read: what that node has applied, which is the point).

import { Client, type ClusterInfo } from 'lockstep-client';
import type { CliCommand } from '../command.js';
import { clientTls, endpointFlags, makeClient, withClientErrors } from '../endpoints.js';
import type { TlsOptions } from 'lockstep-client';
import { describeFlags, parseFlags, type FlagSpecs } from '../flags.js';
import { renderTable } from '../table.js';

/** Per-member probe: short, a down node must not hold up the table. */
const MEMBER_PROBE_TIMEOUT_MS = 1500;

const flags = {
  json: { type: 'boolean', description: 'print the cluster view as JSON' },
  ...endpointFlags,
} as const satisfies FlagSpecs;

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'members, roles, leader, term, indexes and lag',
  usage: [
    'usage: lockstep status [flags]',
    '',
    'Exit status 1 when no node answers as leader (a majority of voters is not up). A member that',
    'does not answer is shown as down, whatever role another node last saw it in. The first node to',
    'answer need not know the leader (a removed node answers on with its last view): any member that',
    'answers as leader is the leader, and a node that answers but is not a member is named.',
    '',
    'flags:',
    describeFlags(flags),
  ].join('\n'),
  async run(argv) {
    const values = parseFlags(argv, flags);
    const client = makeClient(values.endpoints, values.token, values);
    const first = await withClientErrors(client, () => client.cluster({ consistency: 'stale' }));
    // The other members are asked directly, with the same trust (--ca) and client certificate.
    const tls = clientTls(values);
    const leaderView = await viewOfLeader(first, values.token, tls);
    let view = leaderView ?? first;
    // The nodes that answered already speak for themselves; the others are asked at their API URL.
    const answered = new Map([first, leaderView].filter((v) => v !== null).map((v) => [v.self, v]));
    const ask = (members: ClusterInfo['members']): Promise<Array<ClusterInfo | null>> =>
      Promise.all(members.map(async (m) => answered.get(m.id) ?? probe(m.apiUrl, values.token, tls)));
    let views = await ask(view.members);
    // A leader is shown only when it answers and says so itself: a survivor that has not yet
    // noticed the leader died still names it, and a dead node is no one's leader (issue 15).
    const leads = (v: ClusterInfo, own: Array<ClusterInfo | null>): boolean => {
      const i = v.members.findIndex((m) => m.id === v.leader);
      return i !== -1 && own[i] !== null && ownWord(own[i]).role === 'leader';
    };
    if (!leads(view, views)) {
      // The node asked first may know no leader while the members have one: it was removed (it
      // answers on with its last view), or it is cut off from the majority. A member that answers
      // as leader, at the highest term, is the leader; its view is the one to show.
      const other = views.filter((v): v is ClusterInfo => v !== null && ownWord(v).role === 'leader').sort((a, b) => b.term - a.term)[0];
      if (other !== undefined) {
        for (const v of views) if (v !== null) answered.set(v.self, v);
        view = other;
        views = await ask(view.members);
      }
    }
    const own = views.map((v) => (v === null ? null : ownWord(v)));
    const leader = leads(view, views) ? view.leader : null;
    const up = own.filter((o) => o !== null).length;
    const outsider = view.members.some((m) => m.id === first.self)
      ? null
      : `note: ${first.self} answered from --endpoints but is not a member of this cluster (removed?): stop it, and leave it out of --endpoints`;
    if (values.json) {
      const applied = Object.fromEntries(view.members.map((m, i) => [m.id, own[i]?.appliedIndex ?? null]));
      const health = Object.fromEntries(view.members.map((m, i) => [m.id, own[i] ? 'up' : 'down']));
      console.log(JSON.stringify({ ...view, leader, applied, health }, null, 2));
      if (outsider !== null) console.error(outsider);
      return leader === null ? 1 : 0;
    }
    console.log(`cluster ${view.clusterId}  leader ${leader ?? 'NONE'}  term ${view.term}  commit ${view.commitIndex}`);
    if (outsider !== null) console.log(outsider);
    if (leader === null) {
      const named = view.leader !== null ? ` (${view.self} still names ${view.leader}, which does not answer as leader)` : '';
      console.log(`no leader${named}: ${up} of ${view.members.length} nodes answered; a majority of voters must be up and reach each other`);
    }
    const rows = view.members.map((m, i) => {
      const o = own[i];
      const match = m.matchIndex ?? (m.id === view.self ? view.commitIndex : undefined);
      return [
        m.id,
        // Its own word, or 'down': never the role another node last saw it in.
        o ? o.role : 'down',
        m.voter ? 'voter' : 'learner',
        m.apiUrl,
        m.peerUrl,
        o?.term,
        match,
        o?.appliedIndex,
        match === undefined ? undefined : view.commitIndex - match,
        o ? 'up' : 'DOWN',
      ];
    });
    console.log(renderTable(['ID', 'ROLE', 'KIND', 'API', 'PEER', 'TERM', 'MATCH', 'APPLIED', 'LAG', 'HEALTH'], rows));
    return leader === null ? 1 : 0;
  },
};

async function viewOfLeader(first: ClusterInfo, token: string | undefined, tls: TlsOptions | undefined): Promise<ClusterInfo | null> {
  if (first.leader === null) return null;
  if (first.leader === first.self) return first;
  const url = first.members.find((m) => m.id === first.leader)?.apiUrl;
  if (!url) return null;
  return new Client({ endpoints: [url], totalTimeoutMs: MEMBER_PROBE_TIMEOUT_MS, requestTimeoutMs: MEMBER_PROBE_TIMEOUT_MS, maxAttempts: 1, token: token || undefined, ...(tls ? { tls } : {}) })
    .cluster({ consistency: 'stale' })
    .catch(() => null);
}

interface OwnWord {
  role: string;
  term: number;
  appliedIndex: number;
}

/** What a node says of itself in its own cluster view. */
function ownWord(v: ClusterInfo): OwnWord {
  const self = v.members.find((m) => m.id === v.self);
  return { role: self?.role ?? '?', term: v.term, appliedIndex: v.appliedIndex };
}

/** A member's own view, asked at its API URL; null when it does not answer. */
async function probe(apiUrl: string | null, token: string | undefined, tls: TlsOptions | undefined): Promise<ClusterInfo | null> {
  if (!apiUrl) return null;
  try {
    const c = new Client({ endpoints: [apiUrl], totalTimeoutMs: MEMBER_PROBE_TIMEOUT_MS, requestTimeoutMs: MEMBER_PROBE_TIMEOUT_MS, maxAttempts: 1, token: token || undefined, ...(tls ? { tls } : {}) });
    return await c.cluster({ consistency: 'stale' });
  } catch {
    return null;
  }
}

