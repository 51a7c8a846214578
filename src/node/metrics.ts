// Prometheus metrics of the node loop (prefix lockstep_raft_ / lockstep_node_),
// registered on the process registry that GET /metrics serves. Gauges are read
// from the node at scrape time; histograms are observed by the loop.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { NodeStatus } from './api.js';
import type { Role } from '../raft/types.js';

export interface NodeMetrics {
  saveSeconds: Histogram;
  entriesPerSave: Histogram;
  proposals: Counter<'outcome'>;
  snapshots: Counter<'kind'>;
  /** Terms in which this node saw a leader (etcd's leader_changes_seen). */
  leaderChanges: Counter;
  /** Leader: a proposal's time from propose to applied here. */
  commitSeconds: Histogram;
  /** Leader: commit notices not sent because a later Append carried the commit (append-hold.ts). */
  commitNoticesSuperseded: Counter;
}

export function createNodeMetrics(registry: Registry, status: () => NodeStatus): NodeMetrics {
  new Gauge({
    name: 'lockstep_raft_term',
    help: 'Current Raft term of this node.',
    registers: [registry],
    collect() {
      this.set(status().term);
    },
  });
  new Gauge({
    name: 'lockstep_raft_commit_index',
    help: 'Highest log index known committed.',
    registers: [registry],
    collect() {
      this.set(status().commitIndex);
    },
  });
  new Gauge({
    name: 'lockstep_raft_applied_index',
    help: 'Highest log index applied to the state machine.',
    registers: [registry],
    collect() {
      this.set(status().appliedIndex);
    },
  });
  new Gauge({
    name: 'lockstep_raft_is_leader',
    help: '1 while this node is the leader.',
    registers: [registry],
    collect() {
      this.set(status().role === 'leader' ? 1 : 0);
    },
  });
  const roles: Role[] = ['follower', 'pre-candidate', 'candidate', 'leader', 'learner'];
  new Gauge({
    name: 'lockstep_raft_role',
    help: 'This node\'s Raft role: 1 for the role it is in, 0 for the others.',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      const current = status().role;
      for (const role of roles) this.set({ role }, role === current ? 1 : 0);
    },
  });
  // Leader only (progress is the leader's): how far each follower's log is behind the commit index.
  // Series are dropped when this node stops leading, so a follower never shows a stale lag.
  new Gauge({
    name: 'lockstep_raft_peer_lag_entries',
    help: 'Leader only: committed entries each member has not yet acknowledged (commitIndex - matchIndex).',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      const st = status();
      for (const [peer, p] of Object.entries(st.progress ?? {})) {
        if (peer !== st.id) this.set({ peer }, Math.max(0, (st.commitIndex as number) - (p.matchIndex as number)));
      }
    },
  });
  new Gauge({
    name: 'lockstep_raft_peer_reachable',
    help: 'Leader only: 1 if the member answered within the last election timeout, else 0.',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      const st = status();
      for (const [peer, p] of Object.entries(st.progress ?? {})) if (peer !== st.id) this.set({ peer }, p.reachable ? 1 : 0);
    },
  });
  return {
    leaderChanges: new Counter({
      name: 'lockstep_raft_leader_changes_total',
      help: 'Leaders this node has seen elected (one per term with a leader, itself included).',
      registers: [registry],
    }),
    commitNoticesSuperseded: new Counter({
      name: 'lockstep_raft_commit_notices_superseded_total',
      help: 'Leader: entry-less Appends (commit notices) not sent because a later Append to the same follower carried the commit.',
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'lockstep_node_commit_duration_seconds',
      help: 'Leader: time from proposing a command to having it applied here (log write, a quorum\'s acknowledgement, apply). Applied proposals only.',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    saveSeconds: new Histogram({
      name: 'lockstep_node_save_duration_seconds',
      help: 'Duration of one synced storage write (one Ready).',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    entriesPerSave: new Histogram({
      name: 'lockstep_node_entries_per_save',
      help: 'Log entries persisted per synced write (group commit size).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
      registers: [registry],
    }),
    proposals: new Counter({
      name: 'lockstep_node_proposals_total',
      help: 'Proposals by outcome: applied, not_leader, outcome_unknown.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    snapshots: new Counter({
      name: 'lockstep_node_snapshots_total',
      help: 'State machine snapshots taken here or restored from the leader.',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}
