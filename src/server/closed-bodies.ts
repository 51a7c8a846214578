// http-api.md "Conventions": a body field the route does not know is
// `400 invalid_argument` naming it — a typo such as `ttl` for `ttlMs` must not
// fall back to a default. One rule for every route, applied when the route is
// registered (fastify's onRoute hook), so a route added later cannot forget
// it: every object schema in a body that declares its properties is closed
// (additionalProperties: false), and a write route without a body schema
// takes no fields at all.

import type { FastifySchema, RouteOptions } from 'fastify';

type JsonSchema = Record<string, unknown>;

const isObject = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy of `schema` with every object that lists `properties` closed, nested objects and array items too. */
export function closeSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeSchema);
  if (!isObject(schema)) return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, closeSchema(sub)]));
    } else if (key === 'items' || key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      out[key] = closeSchema(value);
    } else {
      out[key] = value;
    }
  }
  if (isObject(out.properties) && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** A route without a body schema (keepalive, DELETE) knows no body field. */
const NO_FIELDS = { type: 'object', properties: {}, additionalProperties: false, description: 'No fields.' } as const;

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function hasBody(method: RouteOptions['method']): boolean {
  const methods = Array.isArray(method) ? method : [method];
  return methods.some((m) => !BODYLESS_METHODS.has(m.toUpperCase()));
}

/** The onRoute hook: closes the body schema of every route that may carry a body. */
export function closeBodySchema(route: RouteOptions): void {
  if (!hasBody(route.method)) return;
  const schema: FastifySchema = route.schema ?? {};
  route.schema = { ...schema, body: schema.body === undefined ? NO_FIELDS : closeSchema(schema.body) };
}
