/** The chart of a run: horizontal SVG bars, drawn by hand. */
import { fmt } from './format.js';
import { resultOf as get, type BenchReport } from './report.js';
import { SERVERS } from './servers.js';
import type { FanoutResult, ServerId, StepsResult } from './types.js';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Horizontal bars: (a) deliveries per server CPU-second, (b) highest sustained rate. Undefined when neither ran. */
export function renderChart(report: BenchReport): string | undefined {
  const servers = report.servers.filter((server) => !server.skipped).map((server) => server.id);
  const groups: { title: string; unit: string; bars: { id: ServerId; value: number; note?: string }[] }[] = [];
  const a = servers.flatMap((id) => {
    const r = get<FanoutResult>(report, 'a', id);
    return r ? [{ id, value: r.deliveriesPerCpuSecond }] : [];
  });
  if (a.length) groups.push({ title: '(a) deliveries per server CPU-second — more is better', unit: '', bars: a });
  const b = servers.flatMap((id) => {
    const r = get<StepsResult>(report, 'b', id);
    return r ? [{ id, value: r.maxSustainedRate, ...(r.ladderTopReached ? { note: ' (or more)' } : {}) }] : [];
  });
  if (b.length) groups.push({ title: '(b) highest sustained rate, p99 ≤ 100 ms and no loss — more is better', unit: ' msg/s', bars: b });
  if (groups.length === 0) return undefined;

  const width = 760;
  const labelWidth = 170;
  const barMax = width - labelWidth - 150;
  const barHeight = 22;
  const gap = 8;
  const parts: string[] = [];
  let y = 20;
  for (const group of groups) {
    parts.push(`<text x="10" y="${y + 14}" font-size="14" font-weight="bold">${escapeXml(group.title)}</text>`);
    y += 28;
    const max = Math.max(1, ...group.bars.map((bar) => bar.value));
    for (const bar of group.bars) {
      const length = Math.max(1, Math.round((bar.value / max) * barMax));
      const parley = bar.id.startsWith('parley');
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 15}" font-size="12" text-anchor="end">${escapeXml(SERVERS[bar.id].title)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${length}" height="${barHeight}" fill="${parley ? '#3a7bd5' : '#9aa5b1'}" rx="2"/>`,
        `<text x="${labelWidth + length + 6}" y="${y + 15}" font-size="12">${escapeXml(fmt(bar.value) + group.unit + (bar.note ?? ''))}</text>`,
      );
      y += barHeight + gap;
    }
    y += 16;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${y}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
