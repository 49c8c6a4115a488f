/** Number formatting shared by the Markdown report and the chart. */
import type { ProcessUsage } from './types.js';

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–';
export const kb = (bytes: number) => `${fmt(bytes / 1024, 1)} KB`;
export const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 1)} MB`;
export const pct = (utilization: number) => `${fmt(utilization * 100)}%`;
export const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
export const ratioText = (r: number | undefined) => (r === undefined ? '–' : `${fmt(r, 2)}×`);
/** The spread of a metric over rounds, e.g. "98,000–121,000". */
export const spread = (rounds: number[] | undefined) =>
  rounds && rounds.length > 1 ? `${fmt(Math.min(...rounds))}–${fmt(Math.max(...rounds))}` : '–';
/** CPU seconds, the share of a core, and the share spent in the kernel. */
export const cpuText = (usage: ProcessUsage) =>
  `${fmt(usage.cpuSeconds, 2)} s (${pct(usage.utilization)} of a core, ${usage.cpuSeconds > 0 ? pct(usage.systemSeconds / usage.cpuSeconds) : '–'} kernel)`;
