// Majority arithmetic over the voters of one configuration (Raft §5.2, §5.3).

/** Votes needed to win among `voterCount` voters. */
export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The largest value that a majority of voters have reached: with values
 * sorted descending, the one at position majority-1. Used for the commit
 * index (match indexes) and for quorum contact (last-heard ticks).
 */
export function quorumValue(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => b - a);
  return sorted[majority(values.length) - 1];
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Tally granted/rejected votes of the given voters. */
export function voteResult(voters: Iterable<string>, votes: ReadonlyMap<string, boolean>): VoteResult {
  let total = 0;
  let granted = 0;
  let rejected = 0;
  for (const v of voters) {
    total++;
    const vote = votes.get(v);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const need = majority(total);
  if (granted >= need) return 'won';
  if (rejected > total - need) return 'lost';
  return 'pending';
}
