/**
 * Process and machine facts from /proc: CPU time and resident memory of one
 * process (threads included), open-file limits, the CPU model.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import type { ProcessUsage } from './types.js';

let clockTicks: number | undefined;

/** Clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User and system CPU seconds a process has used so far (all its threads); NaN when it is gone. */
export function cpuTimes(pid: number | 'self'): { user: number; system: number } {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return { user: Number.NaN, system: Number.NaN };
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the file (utime, stime) are the 12th and 13th after the name.
  return { user: Number(fields[11]) / ticksPerSecond(), system: Number(fields[12]) / ticksPerSecond() };
}

/** Resident set size in bytes (VmRSS), or NaN when the process is gone. */
export function rssBytes(pid: number | 'self'): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return Number.NaN;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** Soft and hard limits on open files of a process. */
export function openFileLimits(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  try {
    const text = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
    if (match) {
      const parse = (value: string | undefined) => (value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value));
      return { soft: parse(match[1]), hard: parse(match[2]) };
    }
  } catch {
    // Not Linux: fall through.
  }
  return { soft: 1024, hard: 1024 };
}

/** Measures CPU use of a process from now until {@link CpuWindow.stop}. */
export class CpuWindow {
  private readonly start: { user: number; system: number };
  private readonly startWall = performance.now();

  constructor(private readonly pid: number | 'self') {
    this.start = cpuTimes(pid);
  }

  stop(): ProcessUsage {
    const end = cpuTimes(this.pid);
    const user = end.user - this.start.user;
    const system = end.system - this.start.system;
    const cpu = user + system;
    const wall = (performance.now() - this.startWall) / 1000;
    return {
      cpuSeconds: round(cpu, 3),
      userSeconds: round(user, 3),
      systemSeconds: round(system, 3),
      wallSeconds: round(wall, 3),
      utilization: wall > 0 ? round(cpu / wall, 3) : 0,
    };
  }
}

/** Samples a process's RSS every `intervalMs` and keeps the peak. */
export class RssSampler {
  private peakBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 250,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const rss = rssBytes(this.pid);
    if (rss > this.peakBytes) this.peakBytes = rss;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peakBytes;
  }
}

export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs this process may run on. */
  cores: number;
  node: string;
  kernel: string;
  memoryBytes: number;
  openFilesHardLimit: number;
  date: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model?.trim() ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) cpuModel = match[1].trim();
  } catch {
    // Keep os.cpus()'s answer.
  }
  let kernel = 'unknown';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // Not Linux.
  }
  let memoryBytes = 0;
  try {
    const match = /^MemTotal:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match) memoryBytes = Number(match[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return {
    cpuModel,
    cores: availableCores(),
    node: process.version,
    kernel,
    memoryBytes,
    openFilesHardLimit: openFileLimits().hard,
    date: new Date().toISOString(),
  };
}

/** Logical CPUs this process may run on (its affinity mask): call before pinning the benchmark itself. */
export function availableCores(): number {
  return availableParallelism();
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
