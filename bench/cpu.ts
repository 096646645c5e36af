/**
 * Where the machine's CPU went during the measured window: the Tongbao process (server, job worker and
 * sandbox bank share it), the load generator (reported by itself), the PostgreSQL server processes, and the
 * whole machine, from /proc. Linux only; elsewhere the figures are null.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

interface MachineTicks {
  total: number;
  idle: number;
  /** Time the hypervisor gave this VM's CPUs to someone else. */
  steal: number;
}

/** The main thread's scheduler counters: nanoseconds on a CPU, and nanoseconds runnable but waiting for one. */
interface ThreadSchedule {
  onCpuNs: number;
  waitingNs: number;
}

export interface CpuSnapshot {
  readonly atMs: number;
  readonly mainThread: ThreadSchedule | null;
  readonly process: NodeJS.CpuUsage;
  readonly machine: MachineTicks | null;
  readonly postgres: Map<number, number> | null;
}

export interface CpuReport {
  readonly cores: number;
  /** Busy cores on average over the window (0..cores), every process on the machine, steal excluded. */
  readonly machineBusyCores: number | null;
  /** Cores' worth of time the hypervisor took away (steal). */
  readonly stealCores: number | null;
  readonly tongbaoProcessCores: number;
  readonly postgresCores: number | null;
  /** Share of the window Tongbao's main thread ran on a CPU, and the share it was ready to run but had none (0..1). */
  readonly mainThreadOnCpu: number | null;
  readonly mainThreadWaitingForCpu: number | null;
}

function machineTicks(): MachineTicks | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
    return { total, idle: (fields[3] ?? 0) + (fields[4] ?? 0), steal: fields[7] ?? 0 };
  } catch {
    return null;
  }
}

function mainThreadSchedule(): ThreadSchedule | null {
  try {
    const [onCpu, waiting] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return onCpu === undefined || waiting === undefined ? null : { onCpuNs: onCpu, waitingNs: waiting };
  } catch {
    return null;
  }
}

/**
 * utime + stime in clock ticks of the given PostgreSQL server processes, by pid; null when none of them is
 * visible here (a server on another machine or in another container).
 */
function postgresTicks(pids: ReadonlySet<number>): Map<number, number> | null {
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const rest = stat.slice(close + 2).split(' ');
      // Fields 14 and 15 of /proc/<pid>/stat (utime, stime) are the 12th and 13th after the name.
      ticks.set(pid, Number(rest[11]) + Number(rest[12]));
    } catch {
      // Not visible from here, or the process ended while we looked.
    }
  }
  return ticks.size > 0 ? ticks : null;
}

/** `postgresPids`: the server processes working for the benchmark (its backends and the shared background ones). */
export function cpuSnapshot(postgresPids: ReadonlySet<number>): CpuSnapshot {
  return { atMs: performance.now(), mainThread: mainThreadSchedule(), process: process.cpuUsage(), machine: machineTicks(), postgres: postgresTicks(postgresPids) };
}

export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): CpuReport {
  const cores = availableParallelism();
  const wallSeconds = (end.atMs - start.atMs) / 1000;
  const processMs = (end.process.user - start.process.user + end.process.system - start.process.system) / 1000;
  const round = (value: number) => Math.round(value * 100) / 100;
  let machineBusyCores: number | null = null;
  let stealCores: number | null = null;
  let postgresCores: number | null = null;
  if (start.machine && end.machine && wallSeconds > 0) {
    const totalTicks = end.machine.total - start.machine.total;
    const idleTicks = end.machine.idle - start.machine.idle;
    const stealTicks = end.machine.steal - start.machine.steal;
    machineBusyCores = totalTicks > 0 ? round(((totalTicks - idleTicks - stealTicks) / totalTicks) * cores) : null;
    stealCores = totalTicks > 0 ? round((stealTicks / totalTicks) * cores) : null;
    // Clock ticks per second, measured rather than assumed: all cores together tick `cores` times as fast.
    const ticksPerSecond = totalTicks / wallSeconds / cores;
    if (start.postgres && end.postgres && ticksPerSecond > 0) {
      let ticks = 0;
      for (const [pid, after] of end.postgres) ticks += after - (start.postgres.get(pid) ?? 0);
      postgresCores = round(ticks / ticksPerSecond / wallSeconds);
    }
  }
  const share = (ns: number) => (wallSeconds > 0 ? Math.round((ns / 1e9 / wallSeconds) * 1000) / 1000 : null);
  const mainThreadOnCpu = start.mainThread && end.mainThread ? share(end.mainThread.onCpuNs - start.mainThread.onCpuNs) : null;
  const mainThreadWaitingForCpu = start.mainThread && end.mainThread ? share(end.mainThread.waitingNs - start.mainThread.waitingNs) : null;
  return { cores, machineBusyCores, stealCores, mainThreadOnCpu, mainThreadWaitingForCpu, tongbaoProcessCores: round(processMs / 1000 / wallSeconds), postgresCores };
}
