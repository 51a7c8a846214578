// The one table of the API's error codes (SERVER_ERRORS in the client
// package): pinned to the contract's Errors table, and the OpenAPI document
// the server serves names exactly its codes wherever it documents an error.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SERVER_ERRORS, type ServerErrorCode } from '../../packages/client/src/error-codes.js';
import { type Harness, makeHarness } from './harness.js';

/** http-api.md "Errors", status and code, in the contract's order. */
const CONTRACT: Array<[number, ServerErrorCode]> = [
  [400, 'invalid_argument'],
  [401, 'unauthorized'],
  [403, 'forbidden'],
  [404, 'session_not_found'],
  [404, 'not_found'],
  [409, 'not_holder'],
  [409, 'deadlock'],
  [409, 'limit_mismatch'],
  [409, 'idempotency_conflict'],
  [413, 'payload_too_large'],
  [429, 'limit_exceeded'],
  [429, 'too_many_requests'],
  [503, 'no_leader'],
  [503, 'unavailable'],
  [500, 'internal'],
];

/** Every `enum` of an error body's `code` anywhere in the document, with where it was. */
function errorCodeEnums(doc: unknown, where = '#'): Array<{ where: string; codes: string[] }> {
  if (typeof doc !== 'object' || doc === null) return [];
  const found: Array<{ where: string; codes: string[] }> = [];
  const o = doc as Record<string, any>;
  const code = o.properties?.error?.properties?.code;
  if (code !== undefined) found.push({ where, codes: code.enum ?? [] });
  for (const [key, value] of Object.entries(o)) found.push(...errorCodeEnums(value, `${where}/${key}`));
  return found;
}

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

describe('the one error table', () => {
  it('is the contract\'s Errors table: the same codes with the same statuses', () => {
    expect(Object.entries(SERVER_ERRORS).map(([code, e]) => [e.status, code]).sort()).toEqual([...CONTRACT].sort());
  });

  it('the OpenAPI document names exactly the table\'s codes for every error answer it documents', async () => {
    const res = await h.call('GET', '/docs/json');
    expect(res.status).toBe(200);
    const enums = errorCodeEnums(res.body);
    // Every route documents its errors: a document with none would pass the loop below vacuously.
    expect(enums.length).toBeGreaterThanOrEqual(Object.keys(res.body.paths).length);
    for (const { where, codes } of enums) expect([...codes].sort(), where).toEqual(Object.keys(SERVER_ERRORS).sort());
  });

  it('answers use the table\'s status for their code, from the server and from the lock machine', async () => {
    const answers = [
      await h.call('GET', '/v1/nope'), // the server: not_found
      await h.call('POST', '/v1/sessions', '{"ttlMs": '), // fastify's parse error: invalid_argument
      await h.call('POST', '/v1/locks/x/release', { fencingToken: 12345 }), // the lock machine: not_holder
      await h.call('POST', '/v1/sessions/nope-session/keepalive', {}), // session_not_found
    ];
    expect(answers.map((a) => a.body.error.code)).toEqual(['not_found', 'invalid_argument', 'not_holder', 'session_not_found']);
    for (const a of answers) expect(a.status, a.body.error.code).toBe(SERVER_ERRORS[a.body.error.code as ServerErrorCode].status);
  });
});
