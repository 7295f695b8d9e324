/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per area
 * (our src/ directories, each node_modules package, node internals, GC), as shares of the busy
 * (non-idle) samples.
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileSummary {
  file: string;
  totalSamples: number;
  /** Share of samples the process was idle; the percentages below are of the busy samples. */
  idlePct: number;
  functions: { fn: string; where: string; selfPct: number }[];
  areas: { area: string; selfPct: number }[];
}

function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return '(gc)';
  if (fn === '(idle)') return '(idle)';
  if (fn === '(program)') return '(program)';
  if (!url) return '(native)';
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (mod) return mod[1];
  const src = /\/dist\/(src\/[^/]+(?:\/[^/]+)?)\//.exec(url) ?? /\/dist\/(src|migrations)\//.exec(url);
  if (src) return src[1];
  if (url.startsWith('node:internal/deps/')) return `node:${url.slice('node:internal/deps/'.length).split('/')[0]}`;
  if (url.startsWith('node:internal/')) return `node:internal/${url.slice('node:internal/'.length).split('/')[0]}`;
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  return url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/');
}

export function summarizeProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let idle = 0;
  for (const id of idleIds) idle += hits.get(id) ?? 0;
  const total = profile.samples.length - idle || 1;
  const byFn = new Map<string, { fn: string; where: string; n: number }>();
  const byArea = new Map<string, number>();
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? 0;
    if (!n || idleIds.has(node.id)) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const entry = byFn.get(key) ?? { fn, where, n: 0 };
    entry.n += n;
    byFn.set(key, entry);
    const area = areaOf(url, fn);
    byArea.set(area, (byArea.get(area) ?? 0) + n);
  }
  const pct = (n: number) => Math.round((n / total) * 1000) / 10;
  return {
    file,
    totalSamples: profile.samples.length,
    idlePct: Math.round((idle / (profile.samples.length || 1)) * 1000) / 10,
    functions: [...byFn.values()]
      .sort((a, b) => b.n - a.n)
      .slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, selfPct: pct(e.n) })),
    areas: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, n]) => ({ area, selfPct: pct(n) })),
  };
}
