// The repository's own reference stays true (issue 15 item 8): docs/http-api.md
// has a section for every operation of the OpenAPI document (/docs/json) and
// none the server lacks; docs/cli.md has one for every command naming each of
// its flags (as its --help lists them); nothing in the repository points to
// files a user of it does not have (a shared folder of the build machine); and
// docs/contract-notes.md runs 1, 2, 3 … with every note cited in it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { endpointFlags } from '../../src/cli/endpoints.js';
import { type Harness, makeHarness } from '../server/harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string): string => readFileSync(ROOT + file, 'utf8');

/** The text under each `### ` heading, up to the next heading. */
function sections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = markdown.split(/^(?=#{2,3} )/m);
  for (const part of parts) {
    const m = /^### (.+)\n/.exec(part);
    if (m) out.set(m[1].trim(), part.slice(m[0].length));
  }
  return out;
}

/** The repository's files (tracked, or new and not ignored) whose path matches `pattern`, with their text. */
function repositoryFiles(pattern: RegExp): Array<{ f: string; text: string }> {
  const out: Array<{ f: string; text: string }> = [];
  for (const f of execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\n')) {
    if (!pattern.test(f)) continue;
    try {
      out.push({ f, text: read(f) });
    } catch {
      // listed but deleted in the work tree
    }
  }
  return out;
}

/** The flags a --help text lists: lines like `  --ttl-ms <n>  …` or `  -h, --help`. */
function flagsOf(usage: string): string[] {
  return [...usage.matchAll(/^\s+(?:-\w, )?--([a-z][a-z0-9-]*)/gm)].map((m) => m[1]);
}

describe('docs/http-api.md', () => {
  let h: Harness;
  let operations: string[];
  let doc: { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>> };
  beforeAll(async () => {
    h = await makeHarness();
    doc = (await h.call('GET', '/docs/json')).body;
    operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
  });
  afterAll(async () => {
    await h.close();
  });

  it('has a section for every operation of /docs/json, and none the server lacks', () => {
    const documented = [...sections(read('docs/http-api.md')).keys()].filter((k) => /^(GET|POST|PUT|PATCH|DELETE) \//.test(k));
    expect(operations.length).toBeGreaterThan(20);
    expect(operations.filter((op) => !documented.includes(op)), 'operations with no "### METHOD /path" section in docs/http-api.md').toEqual([]);
    expect(documented.filter((op) => !operations.includes(op)), 'sections of docs/http-api.md the server does not serve').toEqual([]);
  });

  it('names in each request body only fields the route takes (an unknown field is 400)', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const [heading, text] of sections(read('docs/http-api.md'))) {
      const m = /^(POST|PUT|PATCH|DELETE) (\/\S+)$/.exec(heading);
      // The first `{…}` of a write's section is its request body.
      const body = /`(\{[^`]*\})`/.exec(text);
      if (!m || !body) continue;
      checked++;
      const properties = doc.paths[m[2]]?.[m[1].toLowerCase()]?.requestBody?.content['application/json']?.schema.properties ?? {};
      for (const field of topLevelFields(body[1])) if (!(field in properties)) wrong.push(`${heading}: ${field}`);
    }
    expect(checked).toBeGreaterThan(10);
    expect(wrong, 'fields docs/http-api.md puts in a request body that the route refuses').toEqual([]);
  });
});

/** `{a | b, c?: 1..2 = 1, d: [{e}] (note)}` → a, b, c, d: the fields at the top level of a body sketch. */
function topLevelFields(sketch: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of sketch.slice(1, -1)) {
    if ('[{('.includes(ch)) depth++;
    if (')}]'.includes(ch)) depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.flatMap((part) => part.split(':')[0].split('|')).map((name) => name.trim().replace(/\?$/, '')).filter((name) => /^[A-Za-z]+$/.test(name));
}

describe('docs/cli.md', () => {
  const doc = read('docs/cli.md');
  const bySection = sections(doc);
  const common = Object.keys(endpointFlags);

  it('has a section for every command, naming each of its own flags, and none for a command that does not exist', () => {
    const names = commands.map((c) => `lockstep ${c.name}`);
    expect([...bySection.keys()].filter((k) => !names.includes(k)), 'sections of docs/cli.md for no command').toEqual([]);
    const missing: string[] = [];
    for (const c of commands) {
      const text = bySection.get(`lockstep ${c.name}`);
      if (text === undefined) {
        missing.push(`lockstep ${c.name}: no "### lockstep ${c.name}" section`);
        continue;
      }
      for (const flag of flagsOf(c.usage)) {
        if (common.includes(flag) || flag === 'help') continue;
        if (!new RegExp(`--${flag}\\b`).test(text)) missing.push(`lockstep ${c.name}: --${flag}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('describes the client flags every cluster command shares once', () => {
    const clientSection = doc.split(/^## /m).find((s) => s.startsWith('Client flags')) ?? '';
    for (const flag of common) expect(clientSection, `--${flag} in "## Client flags"`).toMatch(new RegExp(`--${flag}\\b`));
  });
});

describe('references', () => {
  it('nothing in the repository points to a shared folder or a path of the build machine', () => {
    const files = repositoryFiles(/\.(md|ts|mts|js|mjs|cjs|json|ya?ml|sh|txt|html|css)$|(^|\/)Dockerfile$/).filter(({ f }) => f !== 'package-lock.json');
    // Spelled in pieces so that this file does not match itself.
    const forbidden = new RegExp(['\\.\\./' + 'shared\\b', '/' + 'work/', '/' + 'home/[a-z]', '/' + 'Users/[A-Za-z]'].join('|'));
    const found: string[] = [];
    for (const { f, text } of files) {
      text.split('\n').forEach((line, i) => {
        if (forbidden.test(line)) found.push(`${f}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
    }
    expect(files.length).toBeGreaterThan(100);
    expect(found).toEqual([]);
  });

  it('every docs/*.md a comment or document cites is in the repository, and every safety item it cites exists', () => {
    const safetyItems = new Set([...read('docs/safety.md').matchAll(/^(\d+)\. \*\*/gm)].map((m) => Number(m[1])));
    expect(safetyItems.size).toBe(22);
    const broken: string[] = [];
    let safetyCitations = 0;
    for (const { f, text } of repositoryFiles(/\.(md|ts|mjs)$/)) {
      for (const m of text.matchAll(/\bdocs\/([a-z-]+\.md)/g)) {
        try {
          read(`docs/${m[1]}`);
        } catch {
          broken.push(`${f}: docs/${m[1]}`);
        }
      }
      // "docs/safety.md #4", "#9/#13", "#4, #5" and "#9 and #13": every number must be an item.
      for (const m of text.matchAll(/docs\/safety\.md\s*(?:\/\/\s*)?((?:#\d+(?:\s*(?:,|\/|and)\s*)?)+)/g)) {
        for (const n of m[1].matchAll(/#(\d+)/g)) {
          safetyCitations++;
          if (!safetyItems.has(Number(n[1]))) broken.push(`${f}: docs/safety.md #${n[1]}`);
        }
      }
      // Guides of the build machine that the repository does not carry.
      if (/\b(?:correctness|style)\.md\b/.test(text) && f !== 'test/docs/reference.test.ts') broken.push(`${f}: cites a guide that is not in the repository`);
    }
    expect(safetyCitations).toBeGreaterThan(40);
    expect(broken).toEqual([]);
  });

  it('docs/contract-notes.md numbers its notes in order, and every note cited ("contract note 37", "note 45" in the notes) exists', () => {
    const numbers = [...read('docs/contract-notes.md').matchAll(/^(\d+)\. \*\*/gm)].map((m) => Number(m[1]));
    // Notes merged from branches once kept their branch's numbers (… 28, 34, 29, 31, 32, 33, 30, 35 …).
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    const broken: string[] = [];
    let citations = 0;
    for (const { f, text } of repositoryFiles(/\.(md|ts|mjs|js)$/)) {
      // Inside the notes a bare "note 45" or "notes 29–33"; elsewhere "contract note 37".
      const cite = f === 'docs/contract-notes.md' ? /\bnotes? (\d+)(?:\s*[–-]\s*(\d+))?/gi : /\bcontract notes? (\d+)(?:\s*[–-]\s*(\d+))?/gi;
      for (const m of text.matchAll(cite)) {
        for (const n of [m[1], m[2]].filter((x) => x !== undefined)) {
          citations++;
          if (!numbers.includes(Number(n))) broken.push(`${f}: note ${n}`);
        }
      }
    }
    expect(citations).toBeGreaterThan(5);
    expect(broken).toEqual([]);
  });
});
