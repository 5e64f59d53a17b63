// Physical names against AWS's limits, from every resource every scenario registers under the longest
// stack names branch-stack.ts produces; auto-names count the engine's random suffix.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { AUTO_NAME_SUFFIX, isComponent, NAME_LIMITS } from './fixtures/name-limits.ts';
import type { ScenarioResource } from './fixtures/run-scenario.ts';
import { longestStackNames, SCENARIOS } from './fixtures/scenarios.ts';

const RUNNER = fileURLToPath(new URL('fixtures/run-scenario.ts', import.meta.url));
const stacks = longestStackNames();

t.test('the longest stack names are what the branch mapping produces', async (t) => {
  t.equal(stacks.preview.length, 'preview-'.length + 20, 'slug, dash and hash fill the preview budget');
  t.equal(stacks.longLived, 'prod');
});

t.test('the scenarios are the ones pinned as engine graphs', async (t) => {
  const pinned = readdirSync(new URL('fixtures/engine-graph/', import.meta.url)).map((file) =>
    file.replace(/\.txt$/, ''),
  );
  t.same(Object.keys(SCENARIOS).sort(), pinned.sort());
});

const runs = Object.keys(SCENARIOS).flatMap((scenario) =>
  [stacks.preview, stacks.longLived].map((stack) => ({ scenario, stack })),
);
const results = new Map<string, ScenarioResource[]>();
// Two at a time: each run is its own Node process (Pulumi's runtime state is global).
for (let index = 0; index < runs.length; index += 2) {
  await Promise.all(
    runs.slice(index, index + 2).map(async ({ scenario, stack }) => {
      const { stdout } = await promisify(execFile)(process.execPath, [RUNNER, scenario, stack], {
        maxBuffer: 64 * 1024 * 1024,
      });
      results.set(`${scenario} as ${stack}`, JSON.parse(stdout) as ScenarioResource[]);
    }),
  );
}

for (const [label, resources] of results) {
  t.test(`${label}: every physical name fits AWS's limit`, async (t) => {
    for (const resource of resources) {
      if (isComponent(resource.type)) continue;
      const row = NAME_LIMITS[resource.type];
      if (row === undefined) {
        t.fail(
          `${resource.type} has no name limits row: add one (with its source) to test/fixtures/name-limits.ts`,
        );
        continue;
      }
      for (const rule of row.names) {
        const given = resource.inputs[rule.property];
        const values: string[] =
          rule.fromUrnName !== undefined
            ? [rule.fromUrnName(resource.name)]
            : given === undefined
              ? rule.autoNamed
                ? [`${resource.name}${AUTO_NAME_SUFFIX}`]
                : []
              : (Array.isArray(given) ? given : [given]).map(String);
        for (const value of values) {
          const measured = rule.part === undefined ? value : rule.part(value);
          t.ok(
            measured.length <= rule.limit,
            `${resource.type} ${rule.property} '${measured}' is ${measured.length} characters (limit ${rule.limit}: ${rule.source})`,
          );
        }
      }
    }
  });
}
