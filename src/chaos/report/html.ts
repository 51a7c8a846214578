// The HTML report: an inline SVG timeline (faults as bands, leader terms,
// operation latencies) and the table of checks. No scripts, no external
// assets: the file opens anywhere.
import { writeFileSync } from 'node:fs';
import type { RunRecords } from '../checker/index.js';
import { type CheckResult, runVerdict, verdictOf } from '../checker/result.js';
import type { ChaosOptions } from '../options.js';
import { replayCommand } from './summary.js';

const WIDTH_PX = 1400;
const LEFT_PX = 110;
const FAULT_LANE_PX = 18;
const LEADER_LANE_PX = 18;
const LATENCY_LANE_PX = 220;
/** Latencies are drawn on a log scale up to this. */
const LATENCY_MS_MAX = 20_000;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const FAULT_COLORS: Record<string, string> = { partition: '#e8a33d', kill: '#d9534f', pause: '#8e6cc0', clock: '#3d8fe8', membership: '#4cae4c', transfer: '#4cae4c' };
const RESULT_COLORS: Record<string, string> = { ok: '#2e8b57', fail: '#e69500', unknown: '#d62728' };
const TERM_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function timelineSvg(r: RunRecords): string {
  const endMs = Math.max(r.runEndMs, 1);
  const x = (ms: number) => LEFT_PX + (Math.min(Math.max(ms, 0), endMs) / endMs) * (WIDTH_PX - LEFT_PX - 10);
  const kinds = [...new Set(r.faults.map((f) => f.kind))];
  const nodes = [...new Set(r.leaders.map((o) => o.node))].sort();
  let y = 20;
  const parts: string[] = [];
  // Time axis.
  for (let s = 0; s <= endMs / 1000; s += Math.max(1, Math.ceil(endMs / 1000 / 20))) {
    parts.push(`<line x1="${x(s * 1000)}" x2="${x(s * 1000)}" y1="10" y2="100%" stroke="#eee"/><text x="${x(s * 1000)}" y="10" font-size="9" text-anchor="middle">${s}s</text>`);
  }
  for (const kind of kinds) {
    parts.push(`<text x="4" y="${y + 12}" font-size="11">${esc(kind)}</text>`);
    for (const f of r.faults.filter((g) => g.kind === kind)) {
      const end = Number.isFinite(f.endMs) && f.endMs > f.startMs ? f.endMs : f.startMs + 200;
      const title = `${f.kind} ${f.shape} on ${f.targets.join(',')} ${f.startMs.toFixed(0)}..${end.toFixed(0)}ms ${JSON.stringify(f.detail ?? {})}`;
      parts.push(`<rect x="${x(f.startMs)}" y="${y}" width="${Math.max(2, x(end) - x(f.startMs))}" height="${FAULT_LANE_PX - 4}" fill="${FAULT_COLORS[kind] ?? '#999'}" opacity="0.8"><title>${esc(title)}</title></rect>`);
      parts.push(`<text x="${x(f.startMs) + 2}" y="${y + 11}" font-size="9" fill="#000">${esc(f.shape)}</text>`);
    }
    y += FAULT_LANE_PX;
  }
  y += 6;
  for (const node of nodes) {
    parts.push(`<text x="4" y="${y + 12}" font-size="11">leader? ${esc(node)}</text>`);
    for (const o of r.leaders.filter((l) => l.node === node && l.role === 'leader')) {
      const color = TERM_COLORS[(o.term ?? 0) % TERM_COLORS.length];
      parts.push(`<rect x="${x(o.atMs)}" y="${y}" width="3" height="${LEADER_LANE_PX - 4}" fill="${color}"><title>${esc(`${node} leader in term ${o.term} at ${o.atMs.toFixed(0)}ms`)}</title></rect>`);
    }
    y += LEADER_LANE_PX;
  }
  y += 10;
  // Latencies on a log scale; unknowns at the top.
  const top = y;
  const ly = (ms: number) => top + LATENCY_LANE_PX - (Math.log10(Math.max(1, Math.min(ms, LATENCY_MS_MAX))) / Math.log10(LATENCY_MS_MAX)) * LATENCY_LANE_PX;
  parts.push(`<text x="4" y="${top + 12}" font-size="11">latency (log)</text>`);
  for (const ms of [10, 100, 1000, 10000]) parts.push(`<line x1="${LEFT_PX}" x2="${WIDTH_PX - 10}" y1="${ly(ms)}" y2="${ly(ms)}" stroke="#ddd"/><text x="${LEFT_PX - 4}" y="${ly(ms) + 3}" font-size="9" text-anchor="end">${ms}ms</text>`);
  for (const op of r.history) {
    if (op.op === 'register.write') continue;
    const lat = Number.isFinite(op.completeMs) ? op.completeMs - op.invokeMs : LATENCY_MS_MAX;
    parts.push(`<circle cx="${x(op.invokeMs).toFixed(1)}" cy="${ly(lat).toFixed(1)}" r="1.6" fill="${RESULT_COLORS[op.result]}"><title>${esc(`${op.process} ${op.op} ${op.lock} ${op.result} ${lat.toFixed(0)}ms ${op.error ?? ''}`)}</title></circle>`);
  }
  y = top + LATENCY_LANE_PX + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH_PX}" height="${y}" font-family="sans-serif">${parts.join('')}</svg>`;
}

export function writeHtmlReport(file: string, o: ChaosOptions, r: RunRecords, checks: readonly CheckResult[]): void {
  const ok = runVerdict(checks) === 'PASS';
  const rows = checks
    .map(
      (c) =>
        `<tr><td class="${verdictOf(c) === 'PASS' ? 'pass' : 'fail'}">${verdictOf(c)}</td><td>${esc(c.name)}</td><td>${esc(c.checked)}` +
        `${c.violations.map((v) => `<div class="v">${esc(v)}</div>`).join('')}${c.undecided.map((u) => `<div class="v">${esc(u)}</div>`).join('')}` +
        `${c.notes.map((n) => `<div class="n">${esc(n)}</div>`).join('')}</td></tr>`,
    )
    .join('');
  const legend = Object.entries(RESULT_COLORS).map(([k, c]) => `<span style="color:${c}">● ${k}</span>`).join(' ');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>lockstep chaos seed ${o.seed}</title>
<style>body{font-family:sans-serif;margin:20px}td{padding:4px 8px;vertical-align:top}.pass{color:#2e8b57}.fail{color:#d62728;font-weight:bold}.v{color:#d62728}.n{color:#777}code{background:#f4f4f4;padding:2px 4px}</style></head>
<body><h1>lockstep chaos — ${ok ? 'no violation found' : 'VIOLATION'}</h1>
<p>seed ${o.seed}, ${o.nodes} nodes, ${(o.durationMs / 1000).toFixed(0)}s of faults (${esc(o.faults.join(','))}); ${r.history.length} operations, ${r.faults.length} faults. Replay: <code>${esc(replayCommand(o))}</code></p>
<h2>Timeline</h2><p>Fault bands per kind; leader lanes (colour = term) as each node reported itself; operation latencies by invocation time: ${legend}.</p>
${timelineSvg(r)}
<h2>Checks</h2><table>${rows}</table></body></html>`;
  writeFileSync(file, html);
}
