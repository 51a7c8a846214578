// The CLI's words for the API's 400s (issue 15): a body field is named by the
// flag that sets it, and the name rule is a hint only when a name was refused.
import { describe, expect, it } from 'vitest';
import { LockstepError } from '../../packages/client/src/errors.js';
import { explain } from '../../src/cli/endpoints.js';
import { unknownFlagMessage } from '../../src/cli/flags.js';

const said = (err: LockstepError): string => (explain(err, ['http://127.0.0.1:7001']) as Error).message;

describe('explain invalid_argument', () => {
  it('names the flag for a body field and leaves out the name rule', () => {
    const m = said(new LockstepError('invalid_argument', 'body.limit applies to exclusive locks only (shared locks take any number of holders)', 400, { field: 'limit' }));
    expect(m).toBe('invalid_argument: --limit applies to exclusive locks only (shared locks take any number of holders); see `--help` for --limit');
    expect(said(new LockstepError('invalid_argument', 'body.locks.1.limit applies to exclusive locks only', 400, { field: 'locks.1.limit' }))).toMatch(/^invalid_argument: --limit applies/);
    expect(said(new LockstepError('invalid_argument', 'body.ttlMs must be >= 1000', 400, { field: 'ttlMs' }))).toMatch(/--ttl-ms must be >= 1000; see `--help` for --ttl-ms$/);
  });

  it('gives the name rule when a name was refused', () => {
    const m = said(new LockstepError('invalid_argument', 'params.name must match pattern "^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$"', 400, { field: 'name' }));
    // NAME, as the command's usage line calls it: not the API's params.name.
    expect(m).toMatch(/^invalid_argument: NAME must match pattern .*; names are 1-256 of/);
    const inSet = said(new LockstepError('invalid_argument', 'body.locks.1.name must match pattern "^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$"', 400, { field: 'locks.1.name' }));
    expect(inSet).toMatch(/^invalid_argument: NAME must match pattern .*; names are 1-256 of/);
  });
});

describe('explain invalid_argument of members add and token create', () => {
  it('names --api, --peer and --prefix for the body fields they set', () => {
    const peer = said(new LockstepError('invalid_argument', 'body.peerUrl must match pattern "^((https?|tcp)://)?[A-Za-z0-9._\\[\\]:-]+:[0-9]{1,5}/?$"', 400, { field: 'peerUrl' }));
    expect(peer).toMatch(/^invalid_argument: --peer must match pattern .*; see `--help` for --peer$/);
    const admin = said(new LockstepError('invalid_argument', 'body.prefixes: an admin token may do everything, so it takes no prefixes', 400, { field: 'prefixes' }));
    expect(admin).toBe('invalid_argument: --prefix: an admin token may do everything, so it takes no prefixes; see `--help` for --prefix');
  });

  it('gives the name rule for a --prefix that breaks it, and not for a token NAME (1-128 characters of any kind)', () => {
    const prefix = said(new LockstepError('invalid_argument', 'body.prefixes.0 must match pattern "^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$"', 400, { field: 'prefixes.0' }));
    expect(prefix).toMatch(/^invalid_argument: --prefix must match pattern .*; names are 1-256 of/);
    const tokenName = said(new LockstepError('invalid_argument', 'body.name must NOT have more than 128 characters', 400, { field: 'name' }));
    expect(tokenName).toBe('invalid_argument: NAME must NOT have more than 128 characters; see --help');
  });
});

describe('explain invalid_argument of members and leader transfer', () => {
  it('names ID and --to for the id and to fields, in the body or the path', () => {
    // The README's rule "a removed id is never added again", met by `members add n6` after `members remove n6`.
    const removed = said(new LockstepError('invalid_argument', 'body.id n6 was removed from this cluster, and a node id is never reused: add the node under a new id', 400, { field: 'id' }));
    expect(removed).toBe('invalid_argument: ID n6 was removed from this cluster, and a node id is never reused: add the node under a new id; see --help');
    const last = said(new LockstepError('invalid_argument', 'params.id n1 is the last voter, and a cluster without voters can never elect a leader: add another voter first', 400, { field: 'id' }));
    expect(last).toMatch(/^invalid_argument: ID n1 is the last voter/);
    const learner = said(new LockstepError('invalid_argument', 'body.to n4 is not a voter (a learner cannot lead): promote it first', 400, { field: 'to' }));
    expect(learner).toBe('invalid_argument: --to n4 is not a voter (a learner cannot lead): promote it first; see `--help` for --to');
  });
});

describe('explain unauthorized', () => {
  it('says where cluster up keeps the root token', () => {
    // `cluster up` with LOCKSTEP_AUTH_TOKEN hands the nodes <data>/auth-token: a newcomer has no --auth-token-file to look in.
    expect(said(new LockstepError('unauthorized', 'the bearer token is missing', 401))).toMatch(/<data>\/auth-token under `cluster up`/);
  });
});

describe('explain forbidden', () => {
  it('sends a refused token to an admin and to whoami, not to the admin-only token list', () => {
    const m = said(new LockstepError('forbidden', 'this token may not touch team-b:deploy: its prefixes are team-a:', 403, { names: ['team-b:deploy'] }));
    expect(m).toBe('forbidden: this token may not touch team-b:deploy: its prefixes are team-a:; ask an admin for a token that may (GET /v1/auth/whoami says what this one may do)');
  });
});

describe('unknown flags', () => {
  it('suggests the nearest flag when one is near, and none otherwise', () => {
    const known = ['endpoints', 'token', 'ttl-ms', 'wait-ms', 'mode', 'limit'];
    expect(unknownFlagMessage('--endpoint', known)).toBe('unknown flag --endpoint; did you mean --endpoints? (see --help)');
    expect(unknownFlagMessage('--wiat-ms=5', known)).toBe('unknown flag --wiat-ms; did you mean --wait-ms? (see --help)');
    expect(unknownFlagMessage('--colour', known)).toBe('unknown flag --colour (see --help)');
  });
});
