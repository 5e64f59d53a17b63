// The snapStart setting: off by default, refused where Lambda refuses it (provisioned concurrency, /tmp over
// 512 MB) and while the image's Web Adapter never calls the service's hooks.
import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import t from 'tap';
import { parse } from 'yaml';
import { readStackConfig, type ConfigContext } from '../config.ts';
import {
  compareVersions,
  readAdapterVersion,
  readSnapStart,
  SNAPSTART_HOOKS,
  SNAPSTART_MIN_ADAPTER,
  snapStartHooks,
} from '../config/snapstart.ts';
import { ConfigError, readSettings } from '../config/settings.ts';
import { engineConfig, repositoryRoot } from './fixtures/program.ts';

const PROJECT = 'hapi-lambda';
const context: ConfigContext = {
  project: PROJECT,
  stack: 'dev',
  region: 'us-east-1',
  env: {},
  gitHead: () => ({ sha: 'a'.repeat(40), dirty: false }),
  now: () => new Date('2026-11-22T10:11:12.345Z'),
};
const read = (values: Record<string, string>) => {
  const config = engineConfig(
    Object.fromEntries(
      Object.entries({ databaseUrl: 'postgres://u:p@h/db', ...values }).map(([key, value]) => [
        `${PROJECT}:${key}`,
        value,
      ]),
    ),
  );
  const get = (key: string) => config[`${PROJECT}:${key}`];
  const getSecret = (key: string) => {
    const value = get(key);
    return value === undefined ? undefined : pulumi.secret(value);
  };
  return readStackConfig({ get, getSecret }, context);
};

t.test('Pulumi.yaml: off unless a stack turns it on', async (t) => {
  const project = parse(readFileSync(`${repositoryRoot}/Pulumi.yaml`, 'utf8')) as {
    config: Record<string, { default?: unknown }>;
  };
  t.equal(project.config.snapStart?.default, false);
  t.equal(read({}).snapStart, false);
  t.equal(read({ snapStart: 'true' }).snapStart, true);
});

t.test('refused together with provisioned concurrency, at preview, naming both', async (t) => {
  t.throws(() => read({ snapStart: 'true', provisionedConcurrency: '2' }), {
    name: 'ConfigError',
    message: /"hapi-lambda:snapStart".*provisioned concurrency \(provisionedConcurrency is 2\)/,
  });
  t.equal(read({ snapStart: 'false', provisionedConcurrency: '2' }).deployment.provisionedConcurrency, 2);
  t.throws(() => read({ snapStart: 'yes' }), { name: 'ConfigError', message: /not true or false/ });
});

t.test('refused with more than 512 MB of /tmp', async (t) => {
  const settings = readSettings(
    { get: (key) => (key === 'snapStart' ? 'true' : undefined), getSecret: () => undefined },
    PROJECT,
  );
  t.throws(
    () => readSnapStart(settings, { provisionedConcurrency: 0, ephemeralStorageMb: 513 }),
    ConfigError,
  );
  t.equal(readSnapStart(settings, { provisionedConcurrency: 0, ephemeralStorageMb: 512 }), true);
});

t.test('the hook paths go on the function only with SnapStart and an adapter that calls them', async (t) => {
  t.same(snapStartHooks(false, '1.0.1'), {}, 'off: nothing changes');
  t.same(snapStartHooks(true, SNAPSTART_MIN_ADAPTER), SNAPSTART_HOOKS);
  t.same(snapStartHooks(true, '1.2.0'), SNAPSTART_HOOKS);
  for (const old of ['1.0.1', '1.1.0-rc1', '0.9.1']) {
    t.throws(() => snapStartHooks(true, old), {
      message: new RegExp(`Web Adapter 1\\.1\\.0 or later .*it has ${old.replace(/\./g, '\\.')}`),
    });
  }
  t.equal(compareVersions('1.10.0', '1.9.0'), 1);
  t.equal(compareVersions('1.1.0', '1.1.0'), 0);
  t.equal(compareVersions('1.1.0-rc1', '1.1.0-rc2'), -1);
  t.equal(compareVersions('1.1.0-rc2', '1.1.0-rc1'), 1);
  t.equal(compareVersions('1.1.0-rc1', '1.1.0'), -1);
  t.equal(compareVersions('1.1.0', '1.1.0-rc1'), 1);
  t.equal(compareVersions('1.1', '1.1.0'), 0);
  t.equal(compareVersions('1.1.0', '1.1'), 0);
});

t.test("the adapter version is the Dockerfile's", async (t) => {
  const dockerfile = `${repositoryRoot}/docker/Dockerfile`;
  const version = readAdapterVersion(dockerfile);
  t.ok(readFileSync(dockerfile, 'utf8').includes(`aws-lambda-adapter:${version} `));
  t.throws(() => readAdapterVersion(`${repositoryRoot}/Pulumi.yaml`), /no aws-lambda-adapter/);
});

t.test('the service serves exactly these paths', async (t) => {
  const plugin = readFileSync(`${repositoryRoot}/service/src/plugins/snapstart.ts`, 'utf8');
  const restoreTest = readFileSync(
    `${repositoryRoot}/service/test/tooling/snapstart-restore.test.ts`,
    'utf8',
  );
  t.match(plugin, /snapStartHooks\.beforeCheckpointPath/);
  for (const path of Object.values(SNAPSTART_HOOKS)) t.ok(restoreTest.includes(`'${path}'`), path);
});
