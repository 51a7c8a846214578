// The top of a V8 CPU profile (node --cpu-prof), as shares of the busy
// (non-idle) samples, for the performance notes:
//   - self time per function and per source file (the default);
//   - --callers NAME: the call chains under which NAME's own samples fell
//     (which socket write is the expensive one, say);
//   - --inclusive NAME[,NAME...]: the share of samples with NAME anywhere on
//     the stack (a function's total cost, callees included).
// NAME matches a frame's "function@file:line" label by substring.
//
//   npx tsx scripts/profile-top.ts FILE.cpuprofile [--top 25] [--callers writeBuffer [--depth 8]] [--inclusive flushAnswers,startForward]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    callers: { type: 'string' },
    depth: { type: 'string', default: '8' },
    inclusive: { type: 'string' },
  },
});
const TOP = Number(values.top);
// `| head` closes the pipe early: that ends the report, it is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

function shortUrl(url: string): string {
  return url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'nm:').replace(/^.*\/(dist|src)\//, '$1/');
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const url = shortUrl(f.url);
  return `${f.functionName || '(anonymous)'}${url ? `@${url}:${f.lineNumber + 1}` : ''}`;
}

const pct = (n: number, total: number): string => `${((100 * n) / total).toFixed(1).padStart(5)}%`;

function printSorted(counts: Map<string, number>, total: number, limit: number): void {
  for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, limit)) console.log(`${pct(n, total)}  ${key}`);
}

function add(counts: Map<string, number>, key: string, n: number): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const counts = new Map<number, number>();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  // Shares are of the busy samples: idle time says nothing about where CPU goes.
  // (A blocking system call such as fdatasync is busy here: the thread waits in it.)
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let idle = 0;
  for (const id of idleIds) {
    idle += counts.get(id) ?? 0;
    counts.delete(id);
  }
  const total = profile.samples.length - idle;
  const stackOf = (id: number): ProfileNode[] => {
    const stack: ProfileNode[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur)) stack.push(byId.get(cur)!);
    return stack;
  };
  console.log(`== ${file}: ${total} busy samples (${idle} idle)`);

  if (values.callers !== undefined) {
    const name = values.callers;
    const depth = Number(values.depth);
    const chains = new Map<string, number>();
    for (const [id, n] of counts) {
      const [self, ...callers] = stackOf(id);
      if (!label(self).includes(name)) continue;
      add(chains, callers.slice(0, depth).map(label).join(' < ') || '(root)', n);
    }
    console.log(`-- call chains under which ${name} ran (its self time, ${values.depth} callers deep)`);
    printSorted(chains, total, TOP);
    continue;
  }

  if (values.inclusive !== undefined) {
    const names = values.inclusive.split(',').filter((s) => s.length > 0);
    const under = new Map<string, number>(names.map((nm) => [nm, 0]));
    for (const [id, n] of counts) {
      const labels = stackOf(id).map(label);
      for (const nm of names) if (labels.some((l) => l.includes(nm))) add(under, nm, n);
    }
    console.log('-- samples with the function anywhere on the stack (callees included)');
    for (const nm of names) console.log(`${pct(under.get(nm)!, total)}  ${nm}`);
    continue;
  }

  const fnSelf = new Map<string, number>();
  const fileSelf = new Map<string, number>();
  for (const [id, n] of counts) {
    const node = byId.get(id)!;
    const url = shortUrl(node.callFrame.url);
    add(fnSelf, label(node), n);
    const mod = url.startsWith('nm:') ? url.split('/').slice(0, url.startsWith('nm:@') ? 2 : 1).join('/') : url || node.callFrame.functionName;
    add(fileSelf, mod, n);
  }
  console.log('-- self time by function');
  printSorted(fnSelf, total, TOP);
  console.log('-- self time by module/file');
  printSorted(fileSelf, total, TOP);
}
