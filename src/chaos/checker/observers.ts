// Checks on the election observers' event streams (workload/observe-stream.ts):
// within one stream the leader's term never goes back (a node's applied
// state only moves forward), and every leader shown won a campaign.
import type { OpRecord } from '../history.js';
import type { ObserveEvent } from '../workload/observe-stream.js';
import { electionKey } from '../workload/elections.js';
import { result, VIOLATIONS_LISTED_MAX, type CheckResult } from './result.js';

export function checkObservers(events: readonly ObserveEvent[], history: readonly OpRecord[]): CheckResult {
  const violations: string[] = [];
  const won = new Set<string>();
  const unknownCampaign = new Set<string>();
  for (const op of history) {
    if (op.op !== 'campaign') continue;
    if (op.result === 'ok' && op.acquired) won.add(`${op.lock}#${op.fencingToken}`);
    if (op.result === 'unknown') unknownCampaign.add(op.lock);
  }
  const lastTerm = new Map<number, ObserveEvent>();
  let streams = 0;
  for (const e of events) {
    const prev = lastTerm.get(e.stream);
    if (prev === undefined) streams += 1;
    if (e.term !== null) {
      if (prev && prev.term !== null && e.term < prev.term) {
        violations.push(`${e.election} stream ${e.stream} on ${e.node}: leader term went back from ${prev.term} to ${e.term} at ${e.atMs.toFixed(0)}ms`);
      }
      const key = `${electionKey(e.election)}#${e.term}`;
      if (!won.has(key) && !unknownCampaign.has(electionKey(e.election))) violations.push(`${e.election}: ${e.node} showed leader term ${e.term}, which no campaign won`);
      lastTerm.set(e.stream, e);
    } else if (!prev) {
      lastTerm.set(e.stream, e);
    }
  }
  return result('observers', `${events.length} leader events on ${streams} streams`, violations.slice(0, VIOLATIONS_LISTED_MAX), [], { exercised: events.length > 0 });
}
