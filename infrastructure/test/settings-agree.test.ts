// A setting that crosses a boundary has one owner; these tests read every other copy (Pulumi.yaml, stack
// files, the deploy guide, the Dockerfile's platform, CI) and prove it agrees.
import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { DockerfileParser } from 'dockerfile-ast';
import t from 'tap';
import { parse } from 'yaml';
import {
  APP_ENVS as SERVICE_APP_ENVS,
  LOG_LEVELS as SERVICE_LOG_LEVELS,
  loadConfig as loadServiceConfig,
} from '../../service/src/config.ts';
import { INTEGRATION_TIMEOUT_MS } from '../components/http-api.ts';
import { readStackConfig, type ConfigContext } from '../config.ts';
import { APP_ENVS, LOG_LEVELS } from '../config/function.ts';
import { PLATFORMS, type Architecture } from '../platforms.ts';
import { engineConfig } from './fixtures/program.ts';

const root = new URL('../../', import.meta.url);
const text = (file: string) => readFileSync(new URL(file, root), 'utf8');
const project = parse(text('Pulumi.yaml')) as {
  name: string;
  config: Record<string, { type?: string; default?: unknown }>;
};
/** Keys of the project namespace that Pulumi.yaml declares, with their defaults. */
const declared = Object.fromEntries(
  Object.entries(project.config)
    .filter(([key]) => !key.includes(':'))
    .map(([key, spec]) => [key, spec.default]),
);

const context: ConfigContext = {
  project: project.name,
  stack: 'dev',
  region: 'us-east-1',
  env: {},
  gitHead: () => undefined,
  now: () => new Date(0),
};

/** A stack file's values as the program reads them (Pulumi hands every value over as a string). */
function stackValues(stack: string): Record<string, string> {
  const doc = parse(text(`Pulumi.${stack}.yaml`)) as { config: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(doc.config)
      .filter(([key]) => key.startsWith(`${project.name}:`))
      .map(([key, value]) => [
        key.slice(project.name.length + 1),
        typeof value === 'string' ? value : JSON.stringify(value),
      ]),
  );
}

/** Pulumi.yaml's defaults of the project's keys, as the engine hands them over. */
const defaults = Object.fromEntries(
  Object.entries(engineConfig({}))
    .filter(([key]) => key.startsWith(`${project.name}:`))
    .map(([key, value]) => [key.slice(project.name.length + 1), value]),
);

/** Every key the readers ask for, plain or secret, across both database modes. */
function keysRead(): { plain: Set<string>; secret: Set<string> } {
  const plain = new Set<string>();
  const secret = new Set<string>();
  const source = (values: Record<string, string>) => ({
    get: (key: string) => (plain.add(key), values[key]),
    getSecret: (key: string) => (
      secret.add(key),
      values[key] === undefined ? undefined : pulumi.secret(values[key])
    ),
  });
  readStackConfig(source({ ...defaults, databaseUrl: 'postgres://u:p@h/db' }), context);
  readStackConfig(source({ ...defaults, databaseMode: 'managed' }), context);
  return { plain, secret };
}
const read = keysRead();

t.test(
  'Pulumi.yaml declares exactly the plain keys the program reads; secret ones have no default',
  async (t) => {
    t.same([...read.plain].sort(), Object.keys(declared).sort());
    t.same([...read.secret], ['databaseUrl']);
    t.notOk('databaseUrl' in declared, 'a declared key without a default would be required in every mode');
  },
);

t.test('stack files set only keys the program reads, each to a value other than its default', async (t) => {
  for (const stack of ['dev', 'prod']) {
    const doc = parse(text(`Pulumi.${stack}.yaml`)) as { config: Record<string, unknown> };
    for (const [fullKey, value] of Object.entries(doc.config)) {
      const [namespace, key = ''] = fullKey.split(':');
      if (namespace === 'aws') continue;
      t.equal(namespace, project.name, `${stack}: ${fullKey} is in the project namespace`);
      t.ok(read.plain.has(key) || read.secret.has(key), `${stack}: ${key} is read by the program`);
      // A default restated in a stack file silently stops following the default when it changes.
      t.not(
        JSON.stringify(value),
        JSON.stringify(declared[key]),
        `${stack}: ${key} differs from its default`,
      );
    }
  }
});

t.test("the deploy guide's table lists every key with Pulumi.yaml's default", async (t) => {
  const guide = text('docs/deploy.md');
  const section = guide.slice(guide.indexOf('## Stack configuration'));
  const rows = [...section.slice(0, section.indexOf('\n## ')).matchAll(/^\| `([\w:]+)` +\| ([^|]+?) +\|/gm)];
  const documented = Object.fromEntries(rows.map(([, key = '', cell = '']) => [key, cell]));
  t.same(Object.keys(documented).sort(), ['aws:region', ...read.plain, ...read.secret].sort());
  const shown = (value: unknown) =>
    value === '' || value === undefined
      ? '—'
      : `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
  for (const [key, value] of Object.entries(declared)) {
    t.equal(documented[key], shown(value), `${key}: the documented default is Pulumi.yaml's`);
  }
  t.equal(documented['aws:region'], shown((project.config['aws:region'] as { value?: unknown }).value));
});

t.test("the default architecture's platform is the Dockerfile's and CI's", async (t) => {
  const platform = PLATFORMS[declared.architecture as Architecture];
  t.ok(platform, 'Pulumi.yaml defaults to a known architecture');
  const dockerfile = DockerfileParser.parse(text('docker/Dockerfile'));
  const arg = dockerfile
    .getARGs()
    .flatMap((instruction) => instruction.getProperties())
    .find((property) => property.getName() === 'PLATFORM');
  t.equal(arg?.getValue(), platform, "the Dockerfile's ARG PLATFORM default");
  const ci = parse(text('.github/workflows/ci.yml')) as { env: Record<string, string> };
  t.equal(ci.env.IMAGE_PLATFORM, platform, 'ci.yml builds and runs the image for it');
});

t.test('the APP_ENV and LOG_LEVEL values a stack may set are ones the service accepts', async (t) => {
  t.same(LOG_LEVELS, SERVICE_LOG_LEVELS, 'every level, in the same order');
  for (const appEnv of APP_ENVS) t.ok(SERVICE_APP_ENVS.includes(appEnv), `APP_ENV ${appEnv}`);
});

t.test("each stack's function outlives the service's request timeout, within the API's", async (t) => {
  // The service answers a slow request with its 503 envelope after REQUEST_TIMEOUT_MS, which the
  // function does not set; a function timeout below it would end the request with Lambda's error instead.
  const { requestTimeoutMs } = loadServiceConfig({ DATABASE_URL: 'postgres://app@localhost/app' });
  for (const stack of ['dev', 'prod']) {
    const values: Record<string, string> = {
      ...defaults,
      databaseUrl: 'postgres://u:p@h/db',
      ...stackValues(stack),
    };
    const { timeout } = readStackConfig(
      { get: (key) => values[key], getSecret: (key) => pulumi.secret(values[key] ?? '') },
      { ...context, stack },
    ).function;
    t.ok(timeout * 1000 > requestTimeoutMs, `${stack}: ${timeout} s > ${requestTimeoutMs} ms`);
    t.ok(
      timeout * 1000 <= INTEGRATION_TIMEOUT_MS,
      `${stack}: ${timeout} s ≤ the integration's ${INTEGRATION_TIMEOUT_MS} ms`,
    );
  }
});
