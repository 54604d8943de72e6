// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time per
// function, and per area (the tool's own source files, each package, Node internals, GC).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time per area, largest first. */
  areas: Array<{ area: string; ms: number }>;
  /** Self time per function, largest first. */
  functions: Array<{ function: string; ms: number }>;
}

const root = fileURLToPath(new URL('..', import.meta.url));

function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1]!;
  if (path.startsWith('node:')) return 'node internals';
  if (path.startsWith(root)) return path.slice(root.length).split('/').slice(0, 2).join('/');
  return path;
}

function shortPath(url: string): string {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith(root) ? path.slice(root.length) : path;
}

export async function summarizeProfile(file: string, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const frame = nodes.get(id)?.callFrame;
    if (!frame) continue;
    const where = area(frame.url, frame.functionName);
    const name = `${frame.functionName || '(anonymous)'} ${shortPath(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byArea.set(where, (byArea.get(where) ?? 0) + ms);
    byFunction.set(name.trim(), (byFunction.get(name.trim()) ?? 0) + ms);
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    areas: sorted(byArea).map(([name, ms]) => ({ area: name, ms })),
    functions: sorted(byFunction).map(([name, ms]) => ({ function: name, ms })),
  };
}
