// The benchmark's arithmetic and report (not its timings): quantiles, Lambda cost, targets, tables.
import t from 'tap';
import { compareRatios, ratioOf } from '../../bench/compare-runs.ts';
import { inGroup, quotaUs } from '../../bench/cpu-share.ts';
import {
  coldStartByCpuTable,
  evaluate,
  formatTable,
  lambdaCost,
  markdownTable,
  memorySizeEstimates,
  memorySizeTable,
  renderMarkdown,
  renderReport,
  type BenchResults,
  type LoadFigures,
} from '../../bench/report.ts';
import { quantile, summarize } from '../../bench/stats.ts';

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

const load = (rps: number, p50Ms: number, cpuUsPerRequest: number[] = [1_000_000 / rps]): LoadFigures => ({
  rps: summarize([rps]),
  cpuUsPerRequest,
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
    'bundled+cache': cold(160, 84),
    snapshot: cold(150, 84),
    unbundled: cold(900, 120),
  },
  coldStartByCpu: {
    '0.29': { bare: cold(400, 60), hapi: cold(600, 65), snapshot: cold(900, 84) },
    '1.00': { bare: cold(110, 60), hapi: cold(150, 65), snapshot: cold(240, 84) },
  },
  throttling: { available: true, note: 'test' },
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

t.test('/health against hapi alone is judged by server CPU per request, not by req/s', async (t) => {
  // Three interleaved rounds. By req/s the service is 0.90× of hapi alone (the load generator on the
  // same 2 cores caps both); by CPU per request hapi alone needs 60 µs where the service needs 100.
  const health = {
    bare: load(28_000, 0.25, [20, 22, 21]),
    hapi: load(11_000, 0.7, [60, 66, 54]),
    service: load(9_900, 0.8, [100, 120, 90]),
  };
  const targets = evaluate({ ...results, health });
  const row = (prefix: string) => targets.find((r) => r.figure.startsWith(prefix));
  const cpu = row('/health CPU per request: service / hapi alone');
  // Per round hapi ÷ service: 0.60, 0.55, 0.60 → median 0.60.
  t.equal(cpu?.value, '0.60×', 'hapi µs ÷ service µs, median of the per-round ratios');
  t.equal(cpu?.target, '≥ 0.80×');
  t.equal(cpu?.met, false, '0.60× < 0.80×');
  t.match(cpu?.spread, /100 µs/, 'the service’s median µs in the detail');
  t.match(cpu?.spread, /60 µs/, 'hapi alone’s median µs in the detail');
  const reqs = row('/health throughput: service / hapi alone');
  t.equal(reqs?.value, '0.90×');
  t.equal(reqs?.target, '', 'no target on the req/s ratio');
  t.equal(reqs?.met, undefined);
  t.match(reqs?.spread, /load generator/, 'says why req/s is not the measure here');

  const close = evaluate({ ...results, health: { ...health, service: load(9_900, 0.8, [70, 78, 66]) } });
  const closeRow = close.find((r) => r.figure.startsWith('/health CPU per request: service / hapi'));
  t.equal(closeRow?.value, '0.85×', '60/70 0.86, 66/78 0.85, 54/66 0.82');
  t.equal(closeRow?.met, true, '≥ 0.80×');

  const unmeasured = evaluate({
    ...results,
    health: { ...health, service: load(9_900, 0.8, [Number.NaN, Number.NaN, Number.NaN]) },
  }).find((r) => r.figure.startsWith('/health CPU per request'));
  t.equal(unmeasured?.met, undefined, 'no /proc: not judged');
  t.equal(unmeasured?.value, 'not measured');

  const compared = compareRatios(
    { targets: evaluate(results) },
    { targets: evaluate({ ...results, health }) },
  ).find((r) => r[0] === '/health CPU per request: service / hapi alone');
  t.same(compared?.slice(1), ['0.63×', '0.60×', '0.95'], 'bench:compare shows the new ratio');
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

t.test('cold starts by CPU share: wall time and ratios to hapi alone, targets judged', async (t) => {
  const targets = evaluate(results);
  const row = (prefix: string) => targets.find((r) => r.figure.startsWith(prefix));
  // CPU to ready unthrottled: 150 × 0.8 = 120 vs 130 × 0.8 = 104 → 1.15×
  t.equal(row('cold start CPU to ready: service')?.value, '1.15×');
  t.equal(row('cold start CPU to ready: service')?.met, true, '1.15× ≤ 1.3×');
  t.equal(row('cold start at 0.29 vCPU: service (')?.met, true, '900 ms ≤ 1 s');
  t.equal(row('cold start at 0.29 vCPU: service / hapi')?.value, '1.50×');
  t.equal(row('cold start at 1.00 vCPU: hapi alone / bare')?.value, '1.36×');
  t.equal(row('cold start at 1.00 vCPU: service (')?.met, undefined, 'the 1 s target is for 0.29 vCPU');
  t.equal(row('/health throughput: service / hapi')?.met, undefined, 'req/s: detail only');

  const slow = evaluate({
    ...results,
    coldStartByCpu: { '0.29': { snapshot: cold(1200, 84) } },
    coldStart: { ...results.coldStart, snapshot: cold(200, 84) },
  });
  const slowRow = (prefix: string) => slow.find((r) => r.figure.startsWith(prefix));
  t.equal(slowRow('cold start at 0.29 vCPU: service (')?.met, false, '1.2 s > 1 s');
  t.equal(slowRow('cold start CPU to ready: service')?.met, false, '160 / 104 = 1.54× > 1.3×');
  t.notOk(slowRow('cold start at 0.29 vCPU: service / hapi'), 'no ratio without hapi at that share');

  const table = coldStartByCpuTable(results);
  t.same(
    table.map((r) => r[0]),
    ['CPU share', '0.29 vCPU', '1.00 vCPU', 'unthrottled'],
  );
  t.same(table[1]?.slice(1), ['400 ms', '600 ms', '900 ms', '1.50×', '1.50×']);
  t.same(table[3]?.slice(1, 4), ['100 ms', '130 ms', '150 ms']);
  const unthrottledOnly = coldStartByCpuTable({ ...results, coldStartByCpu: {} });
  t.same(
    unthrottledOnly.map((r) => r[0]),
    ['CPU share', 'unthrottled'],
    'no cgroup: unthrottled only',
  );
  t.notOk(
    evaluate({ ...results, coldStartByCpu: {} }).some((r) => r.figure.includes('vCPU')),
    'no throttled rows without throttled figures',
  );
});

t.test(
  'memory sizes: init stretches by 1 / (memory / 1769 MB), never below the unthrottled wall',
  async (t) => {
    const [m256, m512, m1024, m1769] = memorySizeEstimates(300, 350);
    t.equal(m1769?.share, 1);
    t.equal(m1769?.initMs, 350, 'one vCPU: the unthrottled wall, not the 300 ms of CPU');
    t.ok(Math.abs((m512?.share ?? 0) - 0.2894) < 1e-4);
    t.ok(Math.abs((m512?.initMs ?? 0) - (300 * 1769) / 512) < 1e-9);
    t.ok(Math.abs((m256?.initMs ?? 0) - (300 * 1769) / 256) < 1e-9);
    t.ok(Math.abs((m1024?.initMs ?? 0) - (300 * 1769) / 1024) < 1e-9);
    // 0.5 GB × ceil(1036.52 ms) = 1.037 s × $0.0000133334 × 1e6
    t.ok(Math.abs((m512?.perMillionColdStarts ?? 0) - 0.5 * 1.037 * 13.3334) < 1e-6);
    t.equal(memorySizeEstimates(300, 350, [4096])[0]?.share, 1, 'more than one vCPU does not help');

    const table = memorySizeTable(results);
    t.same(
      table.map((r) => r[0]),
      ['memorySize', '256 MB', '512 MB', '1024 MB', '1769 MB'],
    );
    t.equal(table[2]?.[3], '900 ms', 'measured at 0.29 vCPU shown beside 512 MB');
    t.equal(table[1]?.[3], '', 'nothing measured at 256 MB’s share');
    t.equal(table[4]?.[3], '240 ms');
    t.same(memorySizeTable({ ...results, coldStart: {} }), [], 'no shipped variant, no table');
  },
);

t.test('the cgroup wrapper: quota per 100 ms period, pid written before node execs', async (t) => {
  t.equal(quotaUs(0.29), 29_000);
  t.equal(quotaUs(1), 100_000);
  t.equal(quotaUs(0.001), 1000, 'the kernel minimum');
  const { file, args } = inGroup('/cg/x/cgroup.procs', ['node', 'main.mjs']);
  t.equal(file, '/bin/sh');
  t.same(args.slice(2), ['/cg/x/cgroup.procs', 'node', 'main.mjs']);
  t.match(args[1], /^echo \$\$ > "\$0" && exec "\$@"$/);
});

t.test('two runs compared: ratios side by side, with after / before', async (t) => {
  t.equal(ratioOf('1.74×'), 1.74);
  t.equal(ratioOf('411 ms'), undefined);
  const target = (figure: string, value: string) => ({
    figure,
    value,
    spread: '',
    target: '',
    met: undefined,
  });
  const rows = compareRatios(
    {
      meta: { date: '2026-12-01T10:00:00.000Z', commit: 'abc' },
      targets: [target('a', '2.00×'), target('gone', '1.00×'), target('t', '5 ms')],
    },
    { targets: [target('a', '1.50×'), target('new', '0.80×')] },
  );
  t.same(rows[0], ['Figure', 'before (2026-12-01T10:00 abc)', 'after (second file)', 'after / before']);
  t.same(rows.slice(1), [
    ['a', '2.00×', '1.50×', '0.75'],
    ['new', '—', '0.80×', ''],
    ['gone', '1.00×', '—', ''],
  ]);
  t.equal(
    markdownTable([
      ['x', 'y|z'],
      ['1', '2'],
    ]),
    '| x | y\\|z |\n| --- | --- |\n| 1 | 2 |',
  );
  t.equal(markdownTable([]), '');
});
