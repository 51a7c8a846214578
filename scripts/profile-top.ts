// The top of a V8 CPU profile (node --cpu-prof): self time per function and
// per source file, as a share of the samples, for the performance notes.
//
//   npx tsx scripts/profile-top.ts FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const TOP = Number(values.top);
for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<number, number>();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  // Shares are of the busy samples: idle time says nothing about where CPU goes.
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const idle = profile.samples.filter((s) => idleIds.has(s)).length;
  for (const id of idleIds) counts.delete(id);
  const total = profile.samples.length - idle;
  const fnSelf = new Map<string, number>();
  const fileSelf = new Map<string, number>();
  for (const [id, n] of counts) {
    const f = byId.get(id)!.callFrame;
    const url = f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'nm:').replace(/^.*\/(dist|src)\//, '$1/');
    const fn = `${f.functionName || '(anonymous)'} ${url}${url ? `:${f.lineNumber + 1}` : ''}`;
    fnSelf.set(fn, (fnSelf.get(fn) ?? 0) + n);
    const mod = url.startsWith('nm:') ? url.split('/').slice(0, url.startsWith('nm:@') ? 2 : 1).join('/') : url || f.functionName;
    fileSelf.set(mod, (fileSelf.get(mod) ?? 0) + n);
  }
  const pct = (n: number): string => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
  console.log(`== ${file}: ${total} busy samples (${idle} idle)`);
  console.log('-- self time by function');
  for (const [fn, n] of [...fnSelf].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${pct(n)}  ${fn}`);
  console.log('-- self time by module/file');
  for (const [m, n] of [...fileSelf].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${pct(n)}  ${m}`);
}
