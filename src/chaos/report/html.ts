// The HTML report, the place to read a run: the verdict and how to replay
// it, an inline SVG timeline (faults as bands, each node's role as it
// reported it, operation latencies), the checks, the operations by outcome
// and the list of faults. No scripts, no external assets: the file opens
// anywhere. It fits the window: the timeline scales to the page width
// (viewBox), tables wrap their long cells.
import { writeFileSync } from 'node:fs';
import type { RunRecords } from '../checker/index.js';
import { type CheckResult, runVerdict, verdictOf } from '../checker/result.js';
import type { FaultRecord, LeaderObservation } from '../history.js';
import type { ChaosOptions } from '../options.js';
import { OUTCOMES, opTable, outcomesOf, type OpOutcome } from './outcomes.js';
import { replayCommand } from './summary.js';

/** The timeline's drawing width; the SVG scales down to the page (viewBox). */
const WIDTH_PX = 1200;
const LEFT_PX = 90;
const FAULT_LANE_PX = 18;
const NODE_LANE_PX = 18;
const LATENCY_LANE_PX = 220;
/** Latencies are drawn on a log scale up to this. */
const LATENCY_MS_MAX = 20_000;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const FAULT_COLORS: Record<string, string> = { partition: '#e8a33d', kill: '#d9534f', pause: '#8e6cc0', clock: '#3d8fe8', membership: '#4cae4c', transfer: '#4cae4c' };
const OUTCOME_COLORS: Record<OpOutcome, string> = { ok: '#2e8b57', expected: '#8a8a8a', fail: '#e69500', unknown: '#d62728' };
const TERM_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
/** How each role a node reported is drawn in its lane (leader: the term's colour). */
const ROLE_STYLE: Record<string, { fill: string; height: number; label: string }> = {
  follower: { fill: '#cfd8dc', height: 6, label: 'follower' },
  learner: { fill: '#b2dfdb', height: 6, label: 'learner' },
  candidate: { fill: '#ffe082', height: 10, label: 'candidate' },
  'pre-candidate': { fill: '#fff3c4', height: 10, label: 'pre-candidate' },
  none: { fill: '#f8d7da', height: 6, label: 'no answer' },
};

/** One stretch of time in which a node reported the same role (and term, as leader). */
interface RoleSpan {
  node: string;
  role: string;
  term: number | null;
  startMs: number;
  endMs: number;
}

/**
 * The observer polls every node's GET /v1/cluster: between two polls of a
 * node, what it said at the first holds. Consecutive polls with the same
 * role (and, as leader, the same term) make one span.
 */
export function roleSpans(leaders: readonly LeaderObservation[], runEndMs: number): RoleSpan[] {
  const spans: RoleSpan[] = [];
  const byNode = new Map<string, LeaderObservation[]>();
  for (const o of leaders) byNode.set(o.node, [...(byNode.get(o.node) ?? []), o]);
  for (const [node, obs] of byNode) {
    obs.sort((a, b) => a.atMs - b.atMs);
    let open: RoleSpan | null = null;
    for (const [i, o] of obs.entries()) {
      const role = o.role ?? 'none';
      const term = role === 'leader' ? o.term : null;
      const endMs = i + 1 < obs.length ? obs[i + 1].atMs : Math.max(o.atMs, runEndMs);
      if (open !== null && open.role === role && open.term === term) {
        open.endMs = endMs;
      } else {
        open = { node, role, term, startMs: o.atMs, endMs };
        spans.push(open);
      }
    }
  }
  return spans;
}

export function timelineSvg(r: RunRecords): string {
  const endMs = Math.max(r.runEndMs, 1);
  const x = (ms: number) => LEFT_PX + (Math.min(Math.max(ms, 0), endMs) / endMs) * (WIDTH_PX - LEFT_PX - 10);
  const kinds = [...new Set(r.faults.map((f) => f.kind))];
  const nodes = [...new Set(r.leaders.map((o) => o.node))].sort();
  const spans = roleSpans(r.leaders, r.runEndMs);
  let y = 24;
  const parts: string[] = [];
  // Time axis.
  for (let s = 0; s <= endMs / 1000; s += Math.max(1, Math.ceil(endMs / 1000 / 20))) {
    parts.push(`<line x1="${x(s * 1000)}" x2="${x(s * 1000)}" y1="14" y2="100%" stroke="#eee"/><text x="${x(s * 1000)}" y="12" font-size="10" text-anchor="middle">${s}s</text>`);
  }
  for (const kind of kinds) {
    parts.push(`<text x="4" y="${y + 12}" font-size="12">${esc(kind)}</text>`);
    for (const f of r.faults.filter((g) => g.kind === kind)) {
      const end = Number.isFinite(f.endMs) && f.endMs > f.startMs ? f.endMs : f.startMs + 200;
      parts.push(`<rect x="${x(f.startMs)}" y="${y}" width="${Math.max(2, x(end) - x(f.startMs))}" height="${FAULT_LANE_PX - 4}" fill="${FAULT_COLORS[kind] ?? '#999'}" opacity="0.8"><title>${esc(faultText(f))}</title></rect>`);
      parts.push(`<text x="${x(f.startMs) + 2}" y="${y + 11}" font-size="10" fill="#000">${esc(`${f.shape} ${f.targets.join(',')}`)}</text>`);
    }
    y += FAULT_LANE_PX;
  }
  y += 8;
  for (const node of nodes) {
    parts.push(`<text x="4" y="${y + 12}" font-size="12">${esc(node)}</text>`);
    for (const span of spans.filter((s) => s.node === node)) {
      const width = Math.max(1, x(span.endMs) - x(span.startMs));
      const title = esc(`${node}: ${span.role === 'leader' ? `leader in term ${span.term}` : (ROLE_STYLE[span.role]?.label ?? span.role)} from ${(span.startMs / 1000).toFixed(1)}s to ${(span.endMs / 1000).toFixed(1)}s`);
      if (span.role === 'leader') {
        const color = TERM_COLORS[(span.term ?? 0) % TERM_COLORS.length];
        parts.push(`<rect x="${x(span.startMs)}" y="${y}" width="${width}" height="${NODE_LANE_PX - 4}" fill="${color}"><title>${title}</title></rect>`);
        if (width > 40) parts.push(`<text x="${x(span.startMs) + 3}" y="${y + 11}" font-size="10" fill="#fff">leader t${span.term}</text>`);
      } else {
        const style = ROLE_STYLE[span.role] ?? { fill: '#ddd', height: 6, label: span.role };
        const top = y + (NODE_LANE_PX - 4 - style.height) / 2;
        parts.push(`<rect x="${x(span.startMs)}" y="${top}" width="${width}" height="${style.height}" fill="${style.fill}"><title>${title}</title></rect>`);
      }
    }
    y += NODE_LANE_PX;
  }
  y += 12;
  parts.push(`<text x="4" y="${y + 4}" font-size="12">latency (log)</text>`);
  y += 14;
  // Latencies on a log scale; unknowns at the top.
  const top = y;
  const ly = (ms: number) => top + LATENCY_LANE_PX - (Math.log10(Math.max(1, Math.min(ms, LATENCY_MS_MAX))) / Math.log10(LATENCY_MS_MAX)) * LATENCY_LANE_PX;
  for (const ms of [10, 100, 1000, 10000]) parts.push(`<line x1="${LEFT_PX}" x2="${WIDTH_PX - 10}" y1="${ly(ms)}" y2="${ly(ms)}" stroke="#ddd"/><text x="${LEFT_PX - 4}" y="${ly(ms) + 3}" font-size="10" text-anchor="end">${ms}ms</text>`);
  const outcomes = outcomesOf(r.history);
  r.history.forEach((op, i) => {
    if (op.op === 'register.write') return;
    const lat = Number.isFinite(op.completeMs) ? op.completeMs - op.invokeMs : LATENCY_MS_MAX;
    parts.push(`<circle cx="${x(op.invokeMs).toFixed(1)}" cy="${ly(lat).toFixed(1)}" r="1.8" fill="${OUTCOME_COLORS[outcomes[i]]}"><title>${esc(`${op.process} ${op.op} ${op.lock} ${outcomes[i]} ${lat.toFixed(0)}ms ${op.error ?? ''}`)}</title></circle>`);
  });
  y = top + LATENCY_LANE_PX + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH_PX} ${y}" width="100%" style="max-width:${WIDTH_PX}px;height:auto" font-family="sans-serif">${parts.join('')}</svg>`;
}

function faultText(f: FaultRecord): string {
  const end = Number.isFinite(f.endMs) ? `${(f.endMs / 1000).toFixed(1)}s` : 'never healed';
  return `${f.kind} ${f.shape} on ${f.targets.join(',')} ${(f.startMs / 1000).toFixed(1)}s..${end} ${JSON.stringify(f.detail ?? {})}`;
}

function operationsTable(r: RunRecords): string {
  const head = `<tr><th>operation</th>${OUTCOMES.map((o) => `<th class="num" style="color:${OUTCOME_COLORS[o]}">${o}</th>`).join('')}</tr>`;
  const rows = opTable(r.history)
    .map((row) => `<tr><td>${esc(row.op)}</td>${OUTCOMES.map((o) => `<td class="num${o === 'fail' || o === 'unknown' ? (row.counts[o] > 0 ? ' warn' : '') : ''}">${row.counts[o]}</td>`).join('')}</tr>`)
    .join('');
  return `<table>${head}${rows}</table>`;
}

function faultsTable(r: RunRecords): string {
  if (r.faults.length === 0) return '<p>No faults were injected.</p>';
  const rows = [...r.faults]
    .sort((a, b) => a.startMs - b.startMs)
    .map((f) => {
      const healed = Number.isFinite(f.endMs) ? `${(f.endMs / 1000).toFixed(1)}s` : 'never';
      const lasted = Number.isFinite(f.endMs) ? `${((f.endMs - f.startMs) / 1000).toFixed(1)}s` : '';
      return `<tr><td class="nowrap"><span class="swatch" style="background:${FAULT_COLORS[f.kind] ?? '#999'}"></span>${esc(f.kind)}</td><td class="nowrap">${esc(f.shape)}</td><td>${esc(f.targets.join(', '))}</td>`
        + `<td class="num">${(f.startMs / 1000).toFixed(1)}s</td><td class="num">${healed}</td><td class="num">${lasted}</td><td class="detail">${esc(f.detail ? JSON.stringify(f.detail) : '')}</td></tr>`;
    })
    .join('');
  return `<table><tr><th>kind</th><th>shape</th><th>nodes</th><th class="num">from</th><th class="num">healed</th><th class="num">lasted</th><th>detail</th></tr>${rows}</table>`;
}

export function writeHtmlReport(file: string, o: ChaosOptions, r: RunRecords, checks: readonly CheckResult[]): void {
  writeFileSync(file, htmlReport(o, r, checks));
}

export function htmlReport(o: ChaosOptions, r: RunRecords, checks: readonly CheckResult[]): string {
  const verdict = runVerdict(checks);
  const headline = verdict === 'PASS' ? 'no violation found' : verdict === 'INCONCLUSIVE' ? 'INCONCLUSIVE (a check could not decide)' : 'VIOLATION';
  const rows = checks
    .map(
      (c) =>
        `<tr><td class="${verdictOf(c) === 'PASS' ? 'pass' : 'fail'}">${verdictOf(c)}</td><td class="nowrap">${esc(c.name)}</td><td class="wrap">${esc(c.checked)}` +
        `${c.violations.map((v) => `<div class="v">${esc(v)}</div>`).join('')}${c.undecided.map((u) => `<div class="v">${esc(u)}</div>`).join('')}` +
        `${c.notes.map((n) => `<div class="n">${esc(n)}</div>`).join('')}</td></tr>`,
    )
    .join('');
  const outcomeLegend = OUTCOMES.map((k) => `<span style="color:${OUTCOME_COLORS[k]}">● ${k}</span>`).join(' ');
  const roleLegend = [
    `<span class="swatch" style="background:${TERM_COLORS[1]}"></span>leader (colour = term)`,
    ...Object.values(ROLE_STYLE).map((s) => `<span class="swatch" style="background:${s.fill}"></span>${s.label}`),
  ].join(' ');
  const late = r.history.filter((h) => h.resolvedLate).length;
  const grants = r.history.filter((h) => h.acquired && h.result === 'ok').length;
  const refused = r.register.filter((w) => !w.accepted).length;
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>lockstep chaos seed ${o.seed}: ${esc(headline)}</title>
<style>
body{font-family:sans-serif;margin:20px;max-width:1200px}
table{border-collapse:collapse;margin-bottom:8px}
th{text-align:left;border-bottom:1px solid #ccc;padding:4px 8px}
td{padding:4px 8px;vertical-align:top}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.nowrap{white-space:nowrap}
.wrap{overflow-wrap:anywhere}
.warn{color:#d62728;font-weight:bold}
.pass{color:#2e8b57}.fail{color:#d62728;font-weight:bold}.v{color:#d62728}.n{color:#777}
.detail{font-family:monospace;font-size:12px;color:#555;overflow-wrap:anywhere}
.swatch{display:inline-block;width:10px;height:10px;margin:0 4px 0 0;vertical-align:baseline}
p .swatch{margin-left:8px}
code{background:#f4f4f4;padding:2px 4px;overflow-wrap:anywhere}
</style></head>
<body><h1>lockstep chaos — ${esc(headline)}</h1>
<p>seed ${o.seed}, ${o.nodes} nodes, ${(o.durationMs / 1000).toFixed(0)}s of faults (${esc(o.faults.join(',') || 'none')}), run took ${(r.runEndMs / 1000).toFixed(0)}s; ${r.history.length} operations, ${r.faults.length} faults. Replay: <code>${esc(replayCommand(o))}</code></p>
<h2>Timeline</h2>
<p>Fault bands per kind. One lane per node: the role it reported when polled (${roleLegend}). Operation latencies by invocation time: ${outcomeLegend}. Hover for details.</p>
${timelineSvg(r)}
<h2>Checks</h2><table>${rows}</table>
<h2>Operations</h2>
${operationsTable(r)}
<p>expected: a session looked up after its client deleted it answered 404 session_not_found, as it must (a 200 would be a lost acknowledged delete, which the lost-ack check reports). fail: the server refused (surely not applied). unknown: no answer in time (may or may not have applied).${late ? ` ${late} outcomes were learned after the run by asking again with the same Idempotency-Key.` : ''} ${grants} holds granted; the fenced register accepted ${r.register.length - refused} writes and refused ${refused} stale ones.</p>
<h2>Faults</h2>
${faultsTable(r)}
</body></html>`;
}
