// The API reference (GET /docs/, GET /docs/json): every route has an
// operationId, a description, an example request and answer and an example for
// every error code it gives — and every example fits the route's own schemas,
// so the reference cannot drift from what the server validates and answers.
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_ERRORS, type ServerErrorCode } from '../../packages/client/src/error-codes.js';
import { API_REFERENCE, referenceKey } from '../../src/server/api-reference.js';
import { type Harness, makeHarness } from './harness.js';

const ROOT = 'root-secret-for-docs';
let h: Harness;
let doc: any;
beforeAll(async () => {
  h = await makeHarness({ authToken: ROOT });
  doc = (await h.call('GET', '/docs/json')).body;
});
afterAll(async () => {
  await h.close();
});

// OpenAPI 3.0 schemas: `nullable` and `example` are part of the dialect.
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addKeyword('example');

function operations(): Array<{ key: string; path: string; method: string; op: any }> {
  const found = [];
  for (const [path, methods] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(methods)) found.push({ key: referenceKey(method, path), path, method, op });
  }
  return found;
}

function valid(schema: unknown, value: unknown): string {
  const check = ajv.compile(schema as object);
  return check(value) ? '' : ajv.errorsText(check.errors);
}

describe('the API reference', () => {
  it('documents every route, and nothing that is not a route', () => {
    const keys = operations().map((o) => o.key);
    expect(keys.length).toBeGreaterThanOrEqual(30);
    for (const key of keys) expect(API_REFERENCE[key], `${key}: add its entry to src/server/api-reference.ts`).toBeDefined();
    expect(Object.keys(API_REFERENCE).filter((key) => !keys.includes(key)), 'entries for routes that do not exist').toEqual([]);
  });

  it('gives every route a unique operationId and a description with its example request', () => {
    const ids = new Set<string>();
    for (const { key, op, method } of operations()) {
      expect(op.operationId, key).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId), `${key}: operationId ${op.operationId} twice`).toBe(false);
      ids.add(op.operationId);
      expect(op.description, key).toContain(`Example: \`${method.toUpperCase()} ${API_REFERENCE[key].request.path}\``);
    }
  });

  it('gives every route an example request that matches its path and body schema', () => {
    for (const { key, path, op } of operations()) {
      const example = API_REFERENCE[key].request;
      const template = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?.*)?$`);
      expect(example.path, key).toMatch(template);
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      if (example.body !== undefined) {
        expect(bodySchema, `${key}: an example body for a route without one`).toBeDefined();
        expect(valid(bodySchema, example.body), key).toBe('');
        expect(op.requestBody.content['application/json'].example, key).toEqual(example.body);
      }
    }
  });

  it('gives every route an example answer that fits its answer schema', () => {
    for (const { key, op } of operations()) {
      const answer = API_REFERENCE[key].answer;
      const content = op.responses[String(answer.status)]?.content;
      expect(content, key).toBeDefined();
      if (typeof answer.body === 'string') {
        expect(content['text/event-stream'] ?? content['text/plain'], key).toEqual(expect.objectContaining({ example: answer.body }));
        continue;
      }
      expect(content['application/json'].example, key).toEqual(answer.body);
      expect(valid(content['application/json'].schema, answer.body), key).toBe('');
    }
  });

  // Swagger UI's "Try it out" calls an answer "Undocumented" unless its exact status (or "default")
  // is a key of the operation's responses: a range such as "4XX" does not count.
  it('gives an example for every error code a route answers with, under its exact status, fitting the error schema', () => {
    for (const { key, op } of operations()) {
      expect(Object.keys(op.responses).filter((status) => !/^[1-5][0-9][0-9]$/.test(status)), `${key}: responses under a range or default`).toEqual([]);
      for (const code of [...API_REFERENCE[key].errors, 'internal' as ServerErrorCode]) {
        const status = SERVER_ERRORS[code].status;
        const response = op.responses[String(status)];
        expect(response?.description, `${key} ${code}`).toContain(`\`${code}\``);
        const json = response?.content?.['application/json'];
        const example = json?.examples?.[code]?.value;
        expect(example?.error?.code, `${key} ${code}`).toBe(code);
        expect(valid(json.schema, example), `${key} ${code}`).toBe('');
      }
    }
  });

  it('shows a token secret of the form the server makes (lst_ and 43 characters), not another', async () => {
    const made = await h.call('POST', '/v1/auth/tokens', { name: 'docs-example', role: 'reader' }, { authorization: `Bearer ${ROOT}` });
    expect(made.status).toBe(201);
    const shown = (API_REFERENCE['POST /v1/auth/tokens'].answer.body as { secret: string }).secret;
    const form = (secret: string) => ({ prefix: secret.slice(0, 4), length: secret.length, alphabet: /^[A-Za-z0-9_-]+$/.test(secret.slice(4)) });
    expect(form(shown)).toEqual(form(made.body.secret));
  });

  it('lists the auth refusals and the bearer token for every route that needs a token, and neither for the open probes', () => {
    expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    for (const { key, op } of operations()) {
      const open = key === 'GET /healthz' || key === 'GET /readyz';
      expect(API_REFERENCE[key].errors.includes('unauthorized'), key).toBe(!open);
      expect(op.security, key).toEqual(open ? [] : [{ bearer: [] }]);
    }
  });

  it('says the truth about tokens: every example request without one is 401 exactly where the route lists unauthorized', async () => {
    for (const { key, method, op } of operations()) {
      const { path, body } = API_REFERENCE[key].request;
      const res = await h.call(method.toUpperCase(), path, body);
      expect(res.status === 401, `${key} answered ${res.status}`).toBe(API_REFERENCE[key].errors.includes('unauthorized'));
      expect(op.responses[String(res.status)], `${key}: its ${res.status} is documented`).toBeDefined();
    }
  });

  it('serves the readable reference at /docs/ without a token, every asset from the node itself', async () => {
    const page = await h.call('GET', '/docs/');
    expect(page.status).toBe(200);
    expect(String(page.headers['content-type'])).toMatch(/text\/html/);
    // A Content-Security-Policy that keeps everything on this node, and works over plain HTTP too.
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(csp).not.toContain("'unsafe-inline'");
    const html = String(page.body);
    // No CDN: nothing in the page is loaded from another host.
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    const assets = [...html.matchAll(/(?:src|href)=["']?\.?\/?([^"' >]+)/g)].map((m) => m[1]).filter((a) => !a.startsWith('#'));
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const res = await h.call('GET', `/docs/${asset}`);
      expect(res.status, asset).toBe(200);
    }
    const init = await h.call('GET', '/docs/static/swagger-initializer.js');
    expect(init.status).toBe(200);
    expect(String(init.body)).toContain('json');
    // The rest of the API still needs the token.
    expect((await h.call('GET', '/v1/cluster')).status).toBe(401);
  });
});
