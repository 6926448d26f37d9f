// Reads V8 CPU profiles (node --cpu-prof; one file per thread) and says where the busy time went, by part of the
// program: our code by folder, each dependency, GC. Time in Node's own code (its JS internals, native functions) is
// charged to the nearest caller that is not Node's, shown as "<caller> (in node)": a socket write the undici agent
// makes counts for undici. A frame of a dependency called from our code counts for the dependency.
//
//   npx tsx bench/profile.ts DIR_OR_FILES…          a table per profile file, largest part first
//   npx tsx bench/profile.ts --per-call 4608 DIR    also milliseconds per call (divides by the calls of the run)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The part of the program a frame belongs to. */
export function partOf(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'V8 (program)';
  if (fn === '(root)') return 'root';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = /\/(src|bench|dist)\/([^/]+)\//.exec(url);
  if (src) return `ours: ${src[1] === 'dist' ? 'src' : src[1]}/${src[2]}`;
  if (url.startsWith('node:') || url === '') return url.startsWith('node:') ? `node: ${url.slice(5).split('/')[0]}` : 'node (native)';
  if (url.includes('workflow-bundle') || url.includes('webpack')) return 'workflow bundle';
  return url.split('/').slice(-2).join('/');
}

/** Busy milliseconds per part of one profile, and the profile's wall time. */
export function breakdown(p: Profile): { wallMs: number; busyMs: number; parts: Map<string, number> } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isNode = (part: string) => part.startsWith('node') || part === 'V8 (program)';
  const owners = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const known = owners.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id)!;
    const own = partOf(n.callFrame.functionName, n.callFrame.url);
    let out = own;
    if (isNode(own)) {
      const up = parent.get(id);
      const caller = up === undefined ? 'root' : ownerOf(up);
      out = caller === 'root' ? own : caller.endsWith(' (in node)') ? caller : `${caller} (in node)`;
    }
    owners.set(id, out);
    return out;
  };
  const parts = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!);
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    if (!n) continue;
    const part = ownerOf(n.id);
    if (part === 'idle') continue;
    busy += dt;
    parts.set(part, (parts.get(part) ?? 0) + dt);
  }
  return { wallMs: (p.endTime - p.startTime) / 1000, busyMs: busy, parts };
}

function files(args: string[]): string[] {
  return args.flatMap((a) => (statSync(a).isDirectory() ? readdirSync(a).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(a, f)) : [a]));
}

function main() {
  const args = process.argv.slice(2);
  const k = args.indexOf('--per-call');
  const calls = k >= 0 ? Number(args.splice(k, 2)[1]) : 0;
  for (const f of files(args)) {
    const b = breakdown(JSON.parse(readFileSync(f, 'utf8')) as Profile);
    const rows = [...b.parts.entries()].sort((x, y) => y[1] - x[1]);
    process.stdout.write(`\n${f}: wall ${(b.wallMs / 1000).toFixed(1)} s, busy ${(b.busyMs / 1000).toFixed(2)} s\n`);
    process.stdout.write(`| part | busy s | share${calls ? ' | ms per call' : ''} |\n| --- | ---: | ---: |${calls ? ' ---: |' : ''}\n`);
    for (const [part, ms] of rows.slice(0, 25)) {
      process.stdout.write(`| ${part} | ${(ms / 1000).toFixed(2)} | ${((100 * ms) / b.busyMs).toFixed(1)}% |${calls ? ` ${(ms / calls).toFixed(3)} |` : ''}\n`);
    }
  }
}

if (require.main === module) main();
