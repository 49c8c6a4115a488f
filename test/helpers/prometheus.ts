/**
 * Reading a server's `/metrics`: a strict parser of the Prometheus text
 * exposition format (version 0.0.4), so a test fails on any line a scraper
 * would reject, and lookups of sample values by name and labels.
 */
import assert from 'node:assert/strict';

export interface Exposition {
  /** `# TYPE` of each metric family. */
  types: Map<string, string>;
  /** `# HELP` of each metric family. */
  help: Map<string, string>;
  /** Every sample, keyed `name{label="value",…}` with labels sorted (just `name` without labels). */
  samples: Map<string, number>;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL_PAIR = new RegExp(LABEL, 'g');
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses exposition text; throws (an assertion error naming the line) on anything malformed. */
export function parseExposition(text: string): Exposition {
  const result: Exposition = { types: new Map(), help: new Map(), samples: new Map() };
  assert.ok(text.endsWith('\n'), 'exposition ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!comment) continue; // other comments are allowed and ignored
      const [, kind, name = '', rest = ''] = comment;
      assert.match(name, new RegExp(`^${NAME}$`), `metric name in: ${line}`);
      if (kind === 'TYPE') {
        assert.ok(TYPES.has(rest), `known type in: ${line}`);
        assert.ok(!result.types.has(name), `one TYPE per family: ${line}`);
        result.types.set(name, rest);
      } else {
        result.help.set(name, rest);
      }
      continue;
    }
    const sample = SAMPLE.exec(line);
    assert.ok(sample, `a sample line: ${line}`);
    const [, name = '', labels = '', value = ''] = sample;
    const number = value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : value === 'NaN' ? NaN : Number(value);
    assert.ok(value === 'NaN' || !Number.isNaN(number), `a numeric value in: ${line}`);
    const key = seriesKey(name, Object.fromEntries((labels.match(LABEL_PAIR) ?? []).map(splitLabel)));
    assert.ok(!result.samples.has(key), `one sample per series: ${line}`);
    result.samples.set(key, number);
  }
  return result;
}

function splitLabel(pair: string): [string, string] {
  const at = pair.indexOf('=');
  return [pair.slice(0, at), JSON.parse(pair.slice(at + 1)) as string];
}

function seriesKey(name: string, labels: Record<string, string>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? name : `${name}{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

/** The value of one series, or undefined when the exposition has no such sample. */
export function sampleOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  return exposition.samples.get(seriesKey(name, labels));
}

/** Fetches and parses `/metrics` of the server at `baseUrl`, checking the status and content type. */
export async function scrape(baseUrl: string): Promise<{ text: string; exposition: Exposition }> {
  const response = await fetch(`${baseUrl}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  return { text, exposition: parseExposition(text) };
}
