// `node bench/compare.ts <before.json> <after.json>`: the ratios of two `npm run bench` runs (their
// .bench/results-*.json) side by side.
import { readFile } from 'node:fs/promises';
import { compareRatios, type RunFile } from './compare-runs.ts';
import { formatTable } from './report.ts';

const [beforeFile, afterFile] = process.argv.slice(2);
if (beforeFile === undefined || afterFile === undefined) {
  process.stderr.write('usage: node bench/compare.ts <before.json> <after.json>\n');
  process.exit(2);
}
const read = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as RunFile;
const [before, after] = await Promise.all([read(beforeFile), read(afterFile)]);
process.stdout.write(`${formatTable(compareRatios(before, after))}\n`);
for (const [name, run] of [
  ['before', before],
  ['after', after],
] as const) {
  const load = run.meta?.loadAverage?.map((l) => l.toFixed(2)).join(' ') ?? 'unknown';
  process.stdout.write(`${name}: load average at end ${load}\n`);
}
