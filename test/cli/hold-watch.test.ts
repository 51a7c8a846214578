// How `lockstep lock` tells that a hold ended while its session lives on
// (src/cli/hold-watch.ts): the session, read back, no longer lists it.
import { describe, expect, it } from 'vitest';
import { lostHolds } from '../../src/cli/hold-watch.js';

const holds = [
  { kind: 'lock' as const, name: 'a', fencingToken: 40 },
  { kind: 'lock' as const, name: 'b', fencingToken: 41 },
];

describe('lostHolds', () => {
  it('is null while the session lists every hold (and whatever else it holds)', () => {
    expect(lostHolds(holds, [{ kind: 'lock', name: 'b', fencingToken: 41 }, { kind: 'lock', name: 'a', fencingToken: 40 }, { kind: 'lock', name: 'c', fencingToken: 7 }])).toBeNull();
  });

  it('names each hold the session no longer lists, or lists under another token or as an election', () => {
    expect(lostHolds(holds, [{ kind: 'lock', name: 'a', fencingToken: 40 }])).toBe(
      "the hold on 'b' (token 41) was released by someone else (whoever has a fencing token may release its hold)",
    );
    expect(lostHolds(holds, [{ kind: 'lock', name: 'a', fencingToken: 52 }, { kind: 'election', name: 'b', fencingToken: 41 }])).toMatch(/^the hold on 'a' \(token 40\), 'b' \(token 41\) was released/);
  });

  it('a leadership is lost when the session no longer leads that election at that term', () => {
    const leads = [{ kind: 'election' as const, name: 'cron', fencingToken: 555 }];
    expect(lostHolds(leads, [{ kind: 'election', name: 'cron', fencingToken: 555 }])).toBeNull();
    expect(lostHolds(leads, [])).toBe("leadership of 'cron' (term 555) was resigned by someone else (whoever has the term may resign it)");
    expect(lostHolds(leads, [{ kind: 'lock', name: 'cron', fencingToken: 555 }])).toMatch(/^leadership of 'cron'/);
  });
});
