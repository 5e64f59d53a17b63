// A pull request's plan shows only what it changes: every resource gets the same inputs from `pulumi
// preview` as from `pulumi up` (docker-build's Diff compares cacheTo and buildOnPreview).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import type { ScenarioResource } from './fixtures/run-scenario.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const RUNNER = fileURLToPath(new URL('fixtures/run-scenario.ts', import.meta.url));

async function run(scenario: string, mode: 'up' | 'preview'): Promise<Map<string, ScenarioResource>> {
  const { stdout } = await promisify(execFile)(process.execPath, [RUNNER, scenario, '', mode], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return new Map((JSON.parse(stdout) as ScenarioResource[]).map((resource) => [resource.urn, resource]));
}

const isUnknown = (value: unknown) =>
  typeof value === 'object' && value !== null && (value as Record<string, unknown>).__pulumiUnknown === true;

/**
 * `up`'s value, with the parts the mocked preview leaves unknown made unknown too: a mock cannot fill every
 * output during a preview, while a real preview of an existing stack reads them from state.
 */
function asPreviewSees(up: unknown, preview: unknown): unknown {
  if (isUnknown(preview)) return preview;
  if (Array.isArray(up) && Array.isArray(preview)) {
    return up.map((item, index) => asPreviewSees(item, preview[index]));
  }
  if (typeof up === 'object' && up !== null && typeof preview === 'object' && preview !== null) {
    const [mine, other] = [up as Record<string, unknown>, preview as Record<string, unknown>];
    const keys = new Set([...Object.keys(mine), ...Object.keys(other)]);
    return Object.fromEntries(
      [...keys]
        .map((key) => [key, asPreviewSees(mine[key], other[key])])
        .filter(([, value]) => value !== undefined),
    );
  }
  return up;
}

for (const scenario of Object.keys(SCENARIOS)) {
  t.test(`${scenario}: preview and up give every resource the same inputs`, async (t) => {
    const [up, preview] = await Promise.all([run(scenario, 'up'), run(scenario, 'preview')]);
    t.same([...preview.keys()].sort(), [...up.keys()].sort(), 'the same resources');
    for (const [urn, resource] of up) {
      const previewed = preview.get(urn)?.inputs;
      t.same(previewed, asPreviewSees(resource.inputs, previewed), urn.slice(urn.lastIndexOf('::') + 2));
    }
  });
}
