import { describe, expect, it } from 'vitest';
import { describeFlags, envName, parseCommandLine, parseFlags } from '../../src/cli/flags.js';
import { FlagValueError, UsageError } from '../../src/cli/command.js';

const spec = {
  id: { type: 'string', required: true },
  'heartbeat-ms': { type: 'number', default: 100, min: 1 },
  'log-level': { type: 'string', default: 'info', choices: ['debug', 'info', 'warn'] },
  verbose: { type: 'boolean' },
  data: { type: 'string' },
} as const;

describe('parseFlags', () => {
  it('reads flags and applies defaults', () => {
    const v = parseFlags(['--id', 'n1', '--heartbeat-ms=50'], spec, { env: {} });
    expect(v.id).toBe('n1');
    expect(v['heartbeat-ms']).toBe(50);
    expect(v['log-level']).toBe('info');
    expect(v.verbose).toBe(false);
    expect(v.data).toBeUndefined();
  });

  it('falls back to LOCKSTEP_<FLAG> and lets the flag win', () => {
    const env = { LOCKSTEP_ID: 'from-env', LOCKSTEP_HEARTBEAT_MS: '70', LOCKSTEP_VERBOSE: 'true' };
    expect(envName('heartbeat-ms')).toBe('LOCKSTEP_HEARTBEAT_MS');
    const a = parseFlags([], spec, { env });
    expect(a.id).toBe('from-env');
    expect(a['heartbeat-ms']).toBe(70);
    expect(a.verbose).toBe(true);
    const b = parseFlags(['--id', 'n2', '--heartbeat-ms', '5', '--no-verbose'], spec, { env });
    expect(b.id).toBe('n2');
    expect(b['heartbeat-ms']).toBe(5);
    expect(b.verbose).toBe(false);
  });

  it('throws UsageError (exit 2) on unknown, missing and stray words, FlagValueError (exit 1) on malformed and out-of-range values', () => {
    expect(() => parseFlags(['--id', 'x', '--bogus', '1'], spec, { env: {} })).toThrow(UsageError);
    expect(() => parseFlags([], spec, { env: {} })).toThrow(UsageError);
    expect(() => parseFlags([], spec, { env: {} })).toThrow(/missing required flag --id/);
    expect(() => parseFlags(['--id', 'x', '--heartbeat-ms', 'fast'], spec, { env: {} })).toThrow(FlagValueError);
    expect(() => parseFlags(['--id', 'x', '--heartbeat-ms', 'fast'], spec, { env: {} })).not.toThrow(UsageError);
    expect(() => parseFlags(['--id', 'x', '--heartbeat-ms', '1.5'], spec, { env: {} })).toThrow(/integer/);
    expect(() => parseFlags(['--id', 'x', '--heartbeat-ms', '0'], spec, { env: {} })).toThrow(/at least 1/);
    // A negative number is a value out of range (1), not parseArgs' "ambiguous" usage error (2).
    expect(() => parseFlags(['--id', 'x', '--heartbeat-ms', '-5'], spec, { env: {} })).toThrow(FlagValueError);
    expect(() => parseFlags(['--id', 'x', '--heartbeat-ms', '-5'], spec, { env: {} })).toThrow(/^--heartbeat-ms must be at least 1, got -5$/);
    expect(() => parseFlags(['--id', 'x', '--log-level', 'loud'], spec, { env: {} })).toThrow(/one of/);
    expect(() => parseFlags(['--id', 'x', 'stray'], spec, { env: {} })).toThrow(/unexpected argument/);
    expect(() => parseFlags(['--id', 'x', '--id', 'y'], spec, { env: {} })).not.toThrow();
    expect(() => parseFlags([], spec, { env: { LOCKSTEP_ID: 'x', LOCKSTEP_VERBOSE: 'maybe' } })).toThrow(FlagValueError);
    expect(() => parseFlags(['--id', 'x', 'stray'], spec, { env: {} })).toThrow(UsageError);
  });

  it('says in its own words that a switch takes no value and a flag needs one (usage errors, exit 2)', () => {
    for (const word of ['--verbose=true', '--verbose=false']) {
      expect(() => parseFlags(['--id', 'x', word], spec, { env: {} })).toThrow(UsageError);
      expect(() => parseFlags(['--id', 'x', word], spec, { env: {} })).toThrow(`--verbose is a switch and takes no value (got ${word}): give --verbose to turn it on, --no-verbose or nothing to leave it off (see --help)`);
    }
    expect(() => parseFlags(['--id'], spec, { env: {} })).toThrow(UsageError);
    expect(() => parseFlags(['--id'], spec, { env: {} })).toThrow(/^--id needs a value \(see --help\)$/);
  });

  it('a bad value from the environment names the variable, so that a user who typed no such flag knows where it came from', () => {
    const env = { LOCKSTEP_ID: 'x', LOCKSTEP_HEARTBEAT_MS: '0', LOCKSTEP_LOG_LEVEL: 'loud' };
    expect(() => parseFlags(['--log-level', 'info'], spec, { env })).toThrow(/^\$LOCKSTEP_HEARTBEAT_MS for --heartbeat-ms must be at least 1, got 0$/);
    expect(() => parseFlags(['--heartbeat-ms', '5'], spec, { env })).toThrow(/^\$LOCKSTEP_LOG_LEVEL for --log-level must be one of debug, info, warn, got 'loud'$/);
    // Given as a flag, the message names the flag alone, as before.
    expect(() => parseFlags(['--heartbeat-ms', '0'], spec, { env: { LOCKSTEP_ID: 'x' } })).toThrow(/^--heartbeat-ms must be at least 1, got 0$/);
  });

  it('splits positionals and the words after --', () => {
    const p = parseCommandLine(['--id', 'a', 'NAME', '--', 'sleep', '--id', '3'], spec, { env: {}, allowPositionals: true });
    expect(p.positionals).toEqual(['NAME']);
    expect(p.rest).toEqual(['sleep', '--id', '3']);
    expect(p.values.id).toBe('a');
  });

  it('describes flags with their env variables', () => {
    const text = describeFlags(spec);
    expect(text).toContain('--heartbeat-ms <n>');
    expect(text).toContain('LOCKSTEP_HEARTBEAT_MS');
    expect(text).toContain('default 100');
  });
});
