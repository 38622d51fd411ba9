/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and sums self time per function, grouped by
 * where the code lives: the gateway's own code (src/), a package, Node's internals, or V8 (GC, idle).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Frame {
  name: string;
  where: string;
  group: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Busy time: total minus `(idle)`. */
  busyMs: number;
  groups: { group: string; selfMs: number; share: number }[];
  top: Frame[];
  topSrc: Frame[];
}

function locate(url: string, buildRoot: string): { where: string; group: string } {
  const path = url.replace(/^file:\/\//, '');
  if (path.startsWith(`${buildRoot}/src/`)) return { where: `src/${path.slice(buildRoot.length + 5).replace(/\.js$/, '.ts')}`, group: 'gateway src/' };
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
  if (pkg !== null) return { where: `${pkg[1] ?? ''}/${pkg[2] ?? ''}`, group: pkg[1] ?? 'node_modules' };
  if (path.startsWith('node:')) return { where: path, group: 'node internals' };
  return { where: path || '(native)', group: path ? 'other' : 'V8 / native' };
}

/** `buildRoot`: the compiled tree (bench/results/build), to map frames back to src/*.ts files. */
export function summarize(file: string, buildRoot: string, topN = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const frames = new Map<string, Frame>();
  const groups = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byNode.get(id);
    if (node === undefined) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const { where, group } = locate(url, buildRoot);
    const name = functionName || '(anonymous)';
    const key = `${name}@${where}:${lineNumber + 1}`;
    const f = frames.get(key) ?? { name, where: url ? `${where}:${lineNumber + 1}` : where, group, selfMs: 0, share: 0 };
    f.selfMs += us / 1000;
    frames.set(key, f);
    groups.set(group, (groups.get(group) ?? 0) + us / 1000);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  const all = [...frames.values()].map((f) => ({ ...f, share: f.selfMs / busyMs })).sort((a, b) => b.selfMs - a.selfMs);
  return {
    totalMs: totalUs / 1000,
    busyMs,
    groups: [...groups.entries()].map(([group, selfMs]) => ({ group, selfMs, share: selfMs / busyMs })).sort((a, b) => b.selfMs - a.selfMs),
    top: all.slice(0, topN),
    topSrc: all.filter((f) => f.group === 'gateway src/').slice(0, topN),
  };
}

export function renderProfile(s: ProfileSummary): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const rows = (fs: Frame[]) => fs.map((f) => `| ${f.name} | ${f.where} | ${f.selfMs.toFixed(0)} | ${pct(f.share)} |`).join('\n');
  return [
    `busy ${s.busyMs.toFixed(0)} ms of ${s.totalMs.toFixed(0)} ms profiled`,
    '| group | self ms | share of busy |\n| --- | --- | --- |\n' + s.groups.slice(0, 15).map((g) => `| ${g.group} | ${g.selfMs.toFixed(0)} | ${pct(g.share)} |`).join('\n'),
    '| top self-time frames | where | self ms | share |\n| --- | --- | --- | --- |\n' + rows(s.top),
    '| top frames in src/ | where | self ms | share |\n| --- | --- | --- | --- |\n' + rows(s.topSrc),
  ].join('\n\n');
}
