// The benchmark's arithmetic and report (not its timings): quantiles, Lambda cost, targets, tables.
import t from 'tap';
import {
  evaluate,
  formatTable,
  lambdaCost,
  renderMarkdown,
  renderReport,
  type BenchResults,
  type LoadFigures,
} from '../bench/report.ts';
import { quantile, summarize } from '../bench/stats.ts';

t.test('quantiles interpolate between ranks; empty samples give NaN', async (t) => {
  t.equal(quantile([3, 1, 2], 0.5), 2);
  t.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  t.equal(quantile([10, 20], 1.5), 20, 'q is clamped');
  t.ok(Number.isNaN(quantile([], 0.5)));
  t.match(summarize([5, 1, 3]), { n: 3, median: 3, min: 1, max: 5 });
  t.ok(Number.isNaN(summarize([]).min));
});

t.test('Lambda cost rounds each invocation up to the next millisecond', async (t) => {
  const cost = lambdaCost(1.2, 256);
  t.equal(cost.billedMs, 2);
  // 0.25 GB × 0.002 s × $0.0000133334 × 1e6
  t.ok(Math.abs(cost.computePerMillion - 0.0066667) < 1e-6);
  t.ok(Math.abs(cost.totalPerMillion - (cost.computePerMillion + 1.2)) < 1e-9);
  t.equal(lambdaCost(0.1).billedMs, 1, 'never less than one step');
});

const load = (rps: number, p50Ms: number): LoadFigures => ({
  rps: summarize([rps]),
  p50Ms,
  p99Ms: p50Ms * 3,
  errors: 0,
  non2xx: 0,
});
const cold = (wall: number, rss: number) => ({
  wallMs: summarize([wall]),
  cpuMs: summarize([wall * 0.8]),
  rssMb: summarize([rss]),
});
const results: BenchResults = {
  coldStart: {
    bare: cold(100, 60),
    hapi: cold(130, 65),
    bundled: cold(190, 85),
    'bundled+cache': cold(150, 84),
    unbundled: cold(900, 120),
  },
  health: { bare: load(10_000, 0.8), hapi: load(8_000, 1), service: load(5_000, 2) },
  booksLatency: { bare: load(2_000, 0.4), service: load(900, 1.6) },
  booksThroughput: { bare: load(3_000, 3), service: load(1_200, 8) },
  memory: {
    bare: { readyMb: 60, afterLoadMb: 90, peakMb: 95 },
    service: { readyMb: 85, afterLoadMb: 200, peakMb: 210 },
  },
  bundleBytes: 3 * 1024 * 1024,
};

t.test('each target is judged from the figures', async (t) => {
  const targets = evaluate(results);
  const met = (prefix: string) => targets.find((row) => row.figure.startsWith(prefix))?.met;
  t.equal(met('cold start ratio bundled /'), true, '1.9× ≤ 2×');
  t.equal(met('cold start ratio unbundled'), undefined, 'no target for the unbundled run');
  t.equal(met('cold start ratio hapi'), undefined, 'hapi alone is a reference, not a target');
  t.equal(met('/health throughput: service / bare'), false, '0.5× < 0.6×');
  const value = (prefix: string) => targets.find((row) => row.figure.startsWith(prefix))?.value;
  t.equal(value('/health throughput: hapi alone / bare'), '0.80×');
  t.equal(value('/health throughput: service / hapi alone'), '0.63×');
  t.equal(met('GET /v1/books/:id p50'), false, '+1.2 ms > 1 ms');
  t.equal(met('RSS at ready'), true);
  t.equal(met('bundle size'), true);
  t.match(targets.find((row) => row.figure.startsWith('$ per 1M books'))?.value, /^\$1\.2\d{3}$/);
});

t.test('a run without the optional variants still reports', async (t) => {
  const { bare, bundled } = results.coldStart;
  t.ok(bare && bundled);
  const partial = evaluate({ ...results, coldStart: { bundled: bundled! } });
  t.notOk(
    partial.some((row) => row.figure.includes('ratio')),
    'no ratio without the bare floor',
  );
  t.ok(
    partial.some((row) => row.figure.startsWith('$ per 1M cold starts')),
    'cold-start cost from bundled',
  );
  t.notOk(evaluate({ ...results, coldStart: {} }).some((row) => row.figure.startsWith('RSS at ready')));
});

t.test('tables align columns; Markdown escapes pipes', async (t) => {
  t.equal(formatTable([]), '');
  t.equal(
    formatTable([
      ['a', 'bb'],
      ['ccc', 'd'],
    ]),
    'a   │ bb\n────┼───\nccc │ d',
  );
  const text = renderReport(evaluate(results));
  t.match(text, /NOT MET/);
  t.match(text, /│ met/);
  const markdown = renderMarkdown([{ figure: 'a|b', value: '1', spread: '', target: '', met: undefined }]);
  t.match(markdown, 'a\\|b');
});
