/**
 * Prints the functions with the most self time in V8 CPU profiles, e.g. the
 * ones `npm run bench -- --cpu-prof DIR` makes Parley write.
 *
 * Usage: node --import tsx bench/profile-top.ts FILE.cpuprofile... [--top N]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt === -1 ? 15 : Number(args[topAt + 1]);
const files = args.filter((arg, i) => arg !== '--top' && i !== topAt + 1);
if (files.length === 0) {
  process.stderr.write('usage: node --import tsx bench/profile-top.ts FILE.cpuprofile... [--top N]\n');
  process.exit(2);
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const self = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}${where ? `  ${where}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + hits);
  }
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  process.stdout.write(`${basename(file)}: ${total} samples over ${seconds.toFixed(1)} s\n`);
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, hits] of rows) {
    process.stdout.write(`${((hits / total) * 100).toFixed(1).padStart(6)}%  ${key}\n`);
  }
  process.stdout.write('\n');
}
