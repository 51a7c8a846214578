// The data-directory lock's takeover, driven step by step: every order in which two or three
// `serve`s starting at once can take their steps (up to a number of preemptions), with a stale
// serve.pid, a stale takeover claim, or none, and with one of them killed at any step. At no
// moment may two live processes hold the directory, and when none is killed one of them ends up
// holding it. The race this guards: two takers both judged a stale file gone, the first replaced
// it with its own, and the second, on its old reading, removed the first one's fresh file.
import { describe, expect, it } from 'vitest';
import { DATA_LOCK_FILE, takingDataDir, type LockSteps } from '../../src/cli/data-lock.js';
import { UserError } from '../../src/cli/command.js';

const DIR = '/data';
const LOCK = `${DIR}/${DATA_LOCK_FILE}`;
const DEAD_PID = 99;

interface World {
  files: Map<string, string>;
  alive: Set<number>;
  nonce: number;
  /** Counts the changes: files made or removed, processes killed. */
  changes: number;
}

type Outcome = 'running' | 'holds' | 'in use' | 'busy' | 'killed';

interface Actor {
  pid: number;
  run: Generator<void, void, undefined>;
  outcome: Outcome;
  /** Paused for another's takeover at this count of changes: not scheduled again before the next (unless no one else can go). */
  waiting: number | null;
}

function stepsOf(world: World, pid: number, actor: () => Actor): LockSteps {
  return {
    ticket: () => `${pid} 1 n${world.nonce++}\n`,
    runs: (content) => world.alive.has(Number(content.split(' ')[0])),
    create(path, content) {
      if (world.files.has(path)) return false;
      world.files.set(path, content);
      world.changes++;
      return true;
    },
    read: (path) => world.files.get(path) ?? null,
    remove: (path) => {
      if (world.files.delete(path)) world.changes++;
    },
    atExit: () => {},
    pause: () => {
      actor().waiting = world.changes;
    },
  };
}

/** Steps `actor` once; records how it ended, if it did. */
function step(actor: Actor): void {
  try {
    if (actor.run.next().done) actor.outcome = 'holds';
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    actor.outcome = /in use by a running node/.test(err.message) ? 'in use' : 'busy';
  }
}

interface Scenario {
  /** The files before the takers start. */
  files: Record<string, string>;
  /** Processes running besides the takers (a live holder). */
  others?: number[];
  takers: number;
  /** Schedules may kill one taker at one of its steps. */
  kill: boolean;
  /** Switches away from a taker that could go on. */
  preemptions: number;
  /** Live takers holding the directory once all have ended. */
  holders: number;
}

/**
 * Runs every schedule of the scenario (depth first, each replayed from the start), checking after
 * each step that at most one live taker holds the directory and, at the end of each, that
 * `holders` do; returns how many schedules ran.
 */
function explore(scenario: Scenario): number {
  let schedules = 0;
  // A choice: i < takers steps taker i; takers + i kills taker i.
  const replay = (choices: number[]): { actors: Actor[]; changes: number } => {
    const world: World = { files: new Map(Object.entries(scenario.files)), alive: new Set(scenario.others ?? []), nonce: 0, changes: 0 };
    const actors: Actor[] = [];
    for (let i = 0; i < scenario.takers; i++) {
      const pid = 1000 + i;
      world.alive.add(pid);
      const actor: Actor = { pid, run: takingDataDir(DIR, stepsOf(world, pid, () => actor)), outcome: 'running', waiting: null };
      actors.push(actor);
    }
    for (const choice of choices) {
      const actor = actors[choice % scenario.takers];
      actor.waiting = null;
      if (choice >= scenario.takers) {
        actor.outcome = 'killed';
        world.alive.delete(actor.pid);
        world.changes++;
        continue;
      }
      step(actor);
      const holding = actors.filter((a) => a.outcome === 'holds');
      if (holding.length > 1) throw new Error(`two live holders (${holding.map((a) => a.pid).join(', ')}) after the steps ${JSON.stringify(choices)}; files ${JSON.stringify([...world.files])}`);
    }
    return { actors, changes: world.changes };
  };
  const visit = (choices: number[], last: number, preempted: number, killed: boolean): void => {
    const { actors, changes } = replay(choices);
    const running = actors.flatMap((a, i) => (a.outcome === 'running' ? [i] : []));
    const moving = running.filter((i) => actors[i].waiting !== changes);
    const runnable = moving.length > 0 ? moving : running;
    if (runnable.length === 0) {
      schedules++;
      const holders = actors.filter((a) => a.outcome === 'holds').length;
      // A taker gives up ('another node is taking it at this moment') after waiting long for a claimer.
      const gaveUp = actors.some((a) => a.outcome === 'busy');
      if (holders !== scenario.holders && !(gaveUp && holders < scenario.holders)) throw new Error(`${holders} holders after the steps ${JSON.stringify(choices)}: ${actors.map((a) => a.outcome).join(', ')}`);
      return;
    }
    for (const i of runnable) {
      const preempts = last >= 0 && i !== last && runnable.includes(last) ? 1 : 0;
      if (preempted + preempts <= scenario.preemptions) visit([...choices, i], i, preempted + preempts, killed);
    }
    if (scenario.kill && !killed) for (const i of runnable) visit([...choices, scenario.takers + i], -1, preempted, true);
  };
  visit([], -1, 0, false);
  return schedules;
}

const stale = `${DEAD_PID} 1 stale\n`;

describe('taking a data directory, in every order of steps', () => {
  it('no serve.pid: two takers, in every order: one takes it', () => {
    expect(explore({ files: {}, takers: 2, kill: false, preemptions: 8, holders: 1 })).toBeGreaterThan(1);
  });

  it('a stale serve.pid: two takers, in every order (the race: both judge it stale): one takes it, never both', () => {
    expect(explore({ files: { [LOCK]: stale }, takers: 2, kill: false, preemptions: 6, holders: 1 })).toBeGreaterThan(1000);
  });

  it('a stale serve.pid: three takers, up to 2 preemptions: one takes it', () => {
    expect(explore({ files: { [LOCK]: stale }, takers: 3, kill: false, preemptions: 2, holders: 1 })).toBeGreaterThan(1000);
  });

  it('a stale serve.pid, one taker killed at any step (its claim left behind): another takes it, never two', () => {
    expect(explore({ files: { [LOCK]: stale }, takers: 2, kill: true, preemptions: 4, holders: 1 })).toBeGreaterThan(1000);
    expect(explore({ files: { [LOCK]: stale }, takers: 3, kill: true, preemptions: 1, holders: 1 })).toBeGreaterThan(1000);
  });

  it('a live holder: every taker is refused, in every order', () => {
    expect(explore({ files: { [LOCK]: '7 1 live\n' }, others: [7], takers: 2, kill: false, preemptions: 6, holders: 0 })).toBeGreaterThan(10);
  });
});
