/**
 * Optional (--profile): V8's sampling profiler on the Tongbao process's main thread during the measured
 * window, summarised as self time by area (each src/ domain, each npm package, Node internals, GC, idle)
 * and inclusive time by src/ function. The raw profile is kept for Chrome DevTools.
 */
import type { Profiler, Runtime } from 'node:inspector';
import { Session } from 'node:inspector/promises';

const samplingIntervalMicroseconds = 500;
const maxListed = 15;

export interface ProfileFigure {
  readonly name: string;
  readonly ms: number;
  /** Share of the profiled wall time (0..1). */
  readonly share: number;
}

export interface ProfileSummary {
  readonly wallMs: number;
  readonly selfByArea: readonly ProfileFigure[];
  readonly selfByFunction: readonly ProfileFigure[];
  readonly inclusiveBySrcFunction: readonly ProfileFigure[];
}

export interface CpuProfiler {
  stop(): Promise<{ profile: Profiler.Profile; summary: ProfileSummary }>;
}

export async function startCpuProfiler(): Promise<CpuProfiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalMicroseconds });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      await session.post('Profiler.disable');
      session.disconnect();
      return { profile, summary: summarizeProfile(profile) };
    },
  };
}

/** Which part of the system a frame belongs to, from its script URL. */
export function areaOf(frame: Runtime.CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native code)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const source = /\/dist\/(src|bench)\/(.*)$/.exec(url);
  if (source) {
    const segments = source[2]!.split('/');
    return segments.length > 1 ? `${source[1]}/${segments[0]}` : `${source[1]}/${segments[0]!.replace(/\.js$/, '')}`;
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url;
}

function functionLabel(frame: Runtime.CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  const file = frame.url.replace(/^.*\/(dist|node_modules)\//, '').replace(/^file:\/\//, '');
  return `${name} ${file}:${frame.lineNumber + 1}`;
}

export function summarizeProfile(profile: Profiler.Profile): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

  // Each sample's time is the gap to the next one; the last sample gets the sampling interval.
  const selfMs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, index) => {
    const gapMicroseconds = deltas[index + 1] ?? samplingIntervalMicroseconds;
    selfMs.set(id, (selfMs.get(id) ?? 0) + gapMicroseconds / 1000);
  });
  const wallMs = (profile.endTime - profile.startTime) / 1000;

  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const node = nodes.get(id);
    if (!node) continue;
    const area = areaOf(node.callFrame);
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    const label = functionLabel(node.callFrame);
    byFunction.set(label, (byFunction.get(label) ?? 0) + ms);
    // Inclusive time: every distinct src/ function on the sample's stack gets the sample once.
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
      const frame = nodes.get(current)?.callFrame;
      if (!frame || !/\/dist\/src\//.test(frame.url)) continue;
      const key = functionLabel(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
    }
  }
  const top = (figures: Map<string, number>): ProfileFigure[] => [...figures]
    .sort((a, b) => b[1] - a[1])
    .slice(0, maxListed)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), share: wallMs === 0 ? 0 : Math.round((ms / wallMs) * 1000) / 1000 }));
  return { wallMs: Math.round(wallMs), selfByArea: top(byArea), selfByFunction: top(byFunction), inclusiveBySrcFunction: top(inclusive) };
}
