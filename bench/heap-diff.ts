/**
 * What grew between two V8 heap snapshots of one process (e.g. `npm run soak -- --snapshots 3,8`):
 *
 *   node --max-old-space-size=4096 --import tsx bench/heap-diff.ts early.heapsnapshot late.heapsnapshot
 *
 * Prints (1) self size and count per constructor, late minus early, and (2) the objects present in
 * both snapshots (V8 keeps object ids stable within a process) whose retained size grew most, each
 * named by its retainer (`Holder.property`), so a growing Map shows as e.g. `OwnerDirectory.cache`.
 * Retained sizes come from the dominator tree (Cooper, Harvey & Kennedy's iterative algorithm);
 * weak edges do not retain.
 */
import { readFileSync } from 'node:fs';

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

interface Heap {
  count: number;
  type: Uint8Array;
  name: Uint32Array;
  id: Uint32Array;
  selfSize: Float64Array;
  retained: Float64Array;
  /** Non-weak first retainer (node index, -1 for none) and the edge name used to reach it. */
  holder: Int32Array;
  holderEdge: string[];
  types: string[];
  strings: string[];
}

function load(path: string): Heap {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as RawSnapshot;
  const nf = raw.snapshot.meta.node_fields;
  const ef = raw.snapshot.meta.edge_fields;
  const edgeTypes = raw.snapshot.meta.edge_types[0];
  const N = nf.length;
  const E = ef.length;
  const count = raw.nodes.length / N;
  const [fType, fName, fId, fSize, fEdges] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => nf.indexOf(f));
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f));
  const at = (arr: number[], i: number): number => arr[i] ?? 0;
  const heap: Heap = {
    count,
    type: new Uint8Array(count),
    name: new Uint32Array(count),
    id: new Uint32Array(count),
    selfSize: new Float64Array(count),
    retained: new Float64Array(count),
    holder: new Int32Array(count).fill(-1),
    holderEdge: new Array<string>(count).fill(''),
    types: raw.snapshot.meta.node_types[0],
    strings: raw.strings,
  };
  // Forward edges in CSR form, weak edges dropped.
  const firstEdge = new Uint32Array(count + 1);
  const succ: number[] = [];
  const succName: string[] = [];
  let e = 0;
  for (let n = 0; n < count; n++) {
    const b = n * N;
    heap.type[n] = at(raw.nodes, b + (fType ?? 0));
    heap.name[n] = at(raw.nodes, b + (fName ?? 0));
    heap.id[n] = at(raw.nodes, b + (fId ?? 0));
    heap.selfSize[n] = at(raw.nodes, b + (fSize ?? 0));
    firstEdge[n] = succ.length;
    const edges = at(raw.nodes, b + (fEdges ?? 0));
    for (let k = 0; k < edges; k++, e++) {
      const eb = e * E;
      const t = edgeTypes[at(raw.edges, eb + (eType ?? 0))];
      if (t === 'weak') continue;
      const to = at(raw.edges, eb + (eTo ?? 0)) / N;
      const nameOrIndex = at(raw.edges, eb + (eName ?? 0));
      succ.push(to);
      succName.push(t === 'element' || t === 'hidden' ? `[${nameOrIndex}]` : (raw.strings[nameOrIndex] ?? '?'));
    }
  }
  firstEdge[count] = succ.length;
  dominate(heap, firstEdge, succ, succName);
  return heap;
}

/** Dominator tree from root 0, then retained size = self size summed up the tree. */
function dominate(heap: Heap, firstEdge: Uint32Array, succ: number[], succName: string[]): void {
  const { count } = heap;
  const order = new Int32Array(count).fill(-1); // post-order number
  const byOrder: number[] = [];
  const stack: number[] = [0];
  const cursor = new Uint32Array(count);
  const seen = new Uint8Array(count);
  seen[0] = 1;
  cursor[0] = firstEdge[0] ?? 0;
  while (stack.length > 0) {
    const n = stack[stack.length - 1] ?? 0;
    const c = cursor[n] ?? 0;
    if (c < (firstEdge[n + 1] ?? 0)) {
      cursor[n] = c + 1;
      const to = succ[c] ?? 0;
      if (seen[to] === 0) {
        seen[to] = 1;
        heap.holder[to] = n;
        heap.holderEdge[to] = succName[c] ?? '';
        cursor[to] = firstEdge[to] ?? 0;
        stack.push(to);
      }
    } else {
      stack.pop();
      order[n] = byOrder.length;
      byOrder.push(n);
    }
  }
  const preds: number[][] = Array.from({ length: count }, () => []);
  for (let n = 0; n < count; n++) {
    if (seen[n] === 0) continue;
    for (let k = firstEdge[n] ?? 0; k < (firstEdge[n + 1] ?? 0); k++) preds[succ[k] ?? 0]?.push(n);
  }
  const idom = new Int32Array(count).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while ((order[a] ?? 0) < (order[b] ?? 0)) a = idom[a] ?? 0;
      while ((order[b] ?? 0) < (order[a] ?? 0)) b = idom[b] ?? 0;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = byOrder.length - 2; i >= 0; i--) {
      const n = byOrder[i] ?? 0;
      let d = -1;
      for (const p of preds[n] ?? []) if ((idom[p] ?? -1) !== -1) d = d === -1 ? p : intersect(p, d);
      if (d !== -1 && idom[n] !== d) {
        idom[n] = d;
        changed = true;
      }
    }
  }
  for (let n = 0; n < count; n++) heap.retained[n] = seen[n] === 1 ? (heap.selfSize[n] ?? 0) : 0;
  for (const n of byOrder) if (n !== 0) heap.retained[idom[n] ?? 0] = (heap.retained[idom[n] ?? 0] ?? 0) + (heap.retained[n] ?? 0);
}

const kindOf = (h: Heap, n: number): string => {
  const type = h.types[h.type[n] ?? 0] ?? '?';
  return type === 'object' || type === 'native' ? (h.strings[h.name[n] ?? 0] ?? '?') : `(${type})`;
};

/** `Holder.edge` up to two levels, skipping V8 internals, so `Map` shows as `OwnerDirectory.cache`. */
function label(h: Heap, n: number): string {
  const parts: string[] = [kindOf(h, n)];
  let cur = n;
  for (let depth = 0; depth < 3; depth++) {
    const up = h.holder[cur] ?? -1;
    if (up <= 0) break;
    parts.push(`${kindOf(h, up)}.${h.holderEdge[cur] ?? ''}`);
    cur = up;
  }
  return parts.join(' ← ');
}

const mb = (b: number): string => (b / 1048576).toFixed(2);

function main(): void {
  const [a, b] = process.argv.slice(2);
  if (a === undefined || b === undefined) throw new Error('usage: heap-diff.ts early.heapsnapshot late.heapsnapshot');
  const early = load(a);
  const late = load(b);
  const total = (h: Heap) => h.retained[0] ?? 0;
  process.stdout.write(`reachable heap: ${mb(total(early))} MB → ${mb(total(late))} MB\n\n`);

  const byKind = (h: Heap) => {
    const m = new Map<string, { n: number; size: number }>();
    for (let i = 0; i < h.count; i++) {
      if ((h.retained[i] ?? 0) === 0) continue;
      const k = kindOf(h, i);
      const e = m.get(k) ?? { n: 0, size: 0 };
      e.n++;
      e.size += h.selfSize[i] ?? 0;
      m.set(k, e);
    }
    return m;
  };
  const ke = byKind(early);
  const kl = byKind(late);
  const rows = [...kl].map(([k, v]) => ({ k, dn: v.n - (ke.get(k)?.n ?? 0), ds: v.size - (ke.get(k)?.size ?? 0), n: v.n }));
  rows.sort((x, y) => y.ds - x.ds);
  process.stdout.write('| constructor | Δ count | Δ self MB | count (late) |\n|---|---:|---:|---:|\n');
  for (const r of rows.slice(0, 20)) process.stdout.write(`| ${r.k.slice(0, 60)} | ${r.dn} | ${mb(r.ds)} | ${r.n} |\n`);

  const earlyById = new Map<number, number>();
  for (let i = 0; i < early.count; i++) earlyById.set(early.id[i] ?? 0, i);
  const grown: { n: number; d: number }[] = [];
  for (let i = 1; i < late.count; i++) {
    const j = earlyById.get(late.id[i] ?? 0);
    if (j === undefined) continue;
    const d = (late.retained[i] ?? 0) - (early.retained[j] ?? 0);
    if (d > 64 * 1024) grown.push({ n: i, d });
  }
  grown.sort((x, y) => y.d - x.d);
  process.stdout.write('\n| object (← retainer) | retained early MB | retained late MB | Δ MB |\n|---|---:|---:|---:|\n');
  // Skip an object whose growth is all inside a child already listed (the path down to it).
  for (const g of grown.slice(0, 40)) {
    const j = earlyById.get(late.id[g.n] ?? 0) ?? 0;
    process.stdout.write(`| ${label(late, g.n).slice(0, 120)} | ${mb(early.retained[j] ?? 0)} | ${mb(late.retained[g.n] ?? 0)} | ${mb(g.d)} |\n`);
  }
}

main();
