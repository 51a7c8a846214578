import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultFileClock, ManualClock, clockFromEnv, systemClock } from '../../src/node/clock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-clock-'));
  dirs.push(dir);
  return join(dir, 'clock.json');
}

// Each write must look like a change to stat: bump mtime explicitly so that two
// writes within the same mtime granularity are still seen.
let touch = 1_000_000;
function writeFault(path: string, body: string): void {
  writeFileSync(path, body);
  touch += 10;
  utimesSync(path, touch, touch);
}

describe('FaultFileClock', () => {
  it('runs with real time while the file is missing', () => {
    const real = new ManualClock(500, 10_000);
    const clock = new FaultFileClock(tempFile(), real, 0);
    real.advance(100);
    expect(clock.monotonicMs()).toBe(600);
    expect(clock.wallMs()).toBe(10_100);
  });

  it('applies a jump and a rate from the moment the file changes', () => {
    const path = tempFile();
    const real = new ManualClock(1000, 50_000);
    const clock = new FaultFileClock(path, real, 0);
    real.advance(200); // 1200 / 50_200
    writeFault(path, JSON.stringify({ offsetMs: 5000, rate: 2 }));
    clock.poll();
    expect(clock.monotonicMs()).toBe(6200);
    real.advance(100);
    expect(clock.monotonicMs()).toBe(6400);
    expect(clock.wallMs()).toBe(50_200 + 5000 + 200);
  });

  it('jumps backwards and freezes, and a removed file ends the fault', () => {
    const path = tempFile();
    const real = new ManualClock(10_000, 0);
    const clock = new FaultFileClock(path, real, 0);
    writeFault(path, JSON.stringify({ offsetMs: -3000, rate: 0 }));
    clock.poll();
    real.advance(1000);
    expect(clock.monotonicMs()).toBe(7000);
    rmSync(path);
    clock.poll();
    real.advance(10);
    expect(clock.monotonicMs()).toBe(11_010);
  });

  it('treats a malformed file as no fault and reports why', () => {
    const path = tempFile();
    const seen: (string | null)[] = [];
    const real = new ManualClock(0, 0);
    writeFault(path, '{"offsetMs": "soon"}');
    const clock = new FaultFileClock(path, real, 0, (_f, err) => seen.push(err));
    expect(clock.current()).toEqual({ offsetMs: 0, rate: 1 });
    expect(seen.at(-1)).toMatch(/offsetMs/);
    writeFault(path, '{"rate": -1}');
    clock.poll();
    expect(clock.lastError).toMatch(/rate/);
  });

  it('is picked from the environment', () => {
    const path = tempFile();
    const c = clockFromEnv({ LOCKSTEP_FAULT_CLOCK_FILE: path });
    expect(c).toBeInstanceOf(FaultFileClock);
    c.close();
    const plain = clockFromEnv({});
    expect(plain.monotonicMs()).toBeLessThanOrEqual(systemClock.monotonicMs());
    plain.close();
  });
});

describe('ManualClock timers', () => {
  it('fire when advance() passes their time, in time order, each seeing its own time; cancelled ones never', () => {
    const clock = new ManualClock(100, 0);
    const seen: string[] = [];
    clock.setTimer(() => seen.push(`b@${clock.monotonicMs()}`), 20);
    clock.setTimer(() => seen.push(`a@${clock.monotonicMs()}`), 10);
    const every = clock.setRepeating(() => seen.push(`r@${clock.monotonicMs()}`), 15);
    clock.setTimer(() => seen.push('never'), 5).cancel();
    clock.advance(9);
    expect(seen).toEqual([]);
    clock.advance(21);
    expect(seen).toEqual(['a@110', 'r@115', 'b@120', 'r@130']);
    expect(clock.monotonicMs()).toBe(130);
    expect(clock.wallMs()).toBe(30);
    every.cancel();
    clock.advance(100);
    expect(seen).toHaveLength(4);
    expect(clock.pendingTimers).toBe(0);
  });

  it('FaultFileClock runs timers on the real clock: a fault skews the time, not a timeout', () => {
    const real = new ManualClock(0, 0);
    const clock = new FaultFileClock(tempFile(), real, 0);
    let fired = false;
    clock.setTimer(() => (fired = true), 50);
    real.advance(50);
    expect(fired).toBe(true);
    clock.close();
  });
});
