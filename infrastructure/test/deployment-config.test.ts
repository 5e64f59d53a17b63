// config/deployment.ts: which CodeDeploy configuration a shift setting names, and the values it refuses.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { readDeploymentSettings } from '../config/deployment.ts';
import { readSettings } from '../config/settings.ts';
import { engineConfig } from './fixtures/program.ts';

/** Pulumi.yaml's defaults under `values`, as the engine hands them to the program. */
const settings = (values: Record<string, string>) => {
  const config = engineConfig(
    Object.fromEntries(Object.entries(values).map(([key, value]) => [`hapi-lambda:${key}`, value])),
  );
  return readSettings(
    { get: (key) => config[`hapi-lambda:${key}`], getSecret: () => undefined },
    'hapi-lambda',
  );
};
const read = (values: Record<string, string>, reserved?: number) =>
  readDeploymentSettings(settings(values), reserved);

t.test('defaults: all at once, nothing provisioned, five versions kept', async (t) => {
  t.same(read({}), {
    trafficShift: 'all-at-once',
    shift: undefined,
    provisionedConcurrency: 0,
    retainedVersions: 5,
  });
});

t.test("CodeDeploy's own Lambda configurations, by name", async (t) => {
  const named = (type: string, percent: number, minutes: number) =>
    read({
      trafficShift: type,
      trafficShiftPercent: String(percent),
      trafficShiftMinutes: String(minutes),
    }).shift?.predefinedConfigName;
  t.equal(named('canary', 10, 5), 'CodeDeployDefault.LambdaCanary10Percent5Minutes');
  t.equal(named('canary', 10, 30), 'CodeDeployDefault.LambdaCanary10Percent30Minutes');
  t.equal(named('linear', 10, 1), 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute');
  t.equal(named('linear', 10, 10), 'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes');
  t.equal(named('canary', 10, 7), undefined, 'no such configuration: the program creates one');
  t.equal(named('linear', 20, 1), undefined);
  t.match(read({ trafficShift: 'linear', trafficShiftPercent: '20', trafficShiftMinutes: '1' }).shift, {
    type: 'linear',
    percentage: 20,
    intervalMinutes: 1,
  });
});

t.test('a shift longer than the deploy job watches is refused at preview, not after pulumi up', async (t) => {
  // rollout.mjs refuses a shift of more than ROLLOUT_MAX_MINUTES less ROLLOUT_MARGIN_MINUTES (deploy.yml).
  const workflow = readFileSync(new URL('../../.github/workflows/deploy.yml', import.meta.url), 'utf8');
  const minutes = (name: string) => Number(new RegExp(`${name}: '(\\d+)'`).exec(workflow)?.[1]);
  const limit = minutes('ROLLOUT_MAX_MINUTES') - minutes('ROLLOUT_MARGIN_MINUTES');
  t.ok(limit > 0, `the job watches a shift for up to ${limit} min`);
  const linear = (percent: number, every: number) =>
    read({
      trafficShift: 'linear',
      trafficShiftPercent: String(percent),
      trafficShiftMinutes: String(every),
    });
  t.throws(
    () => linear(1, 60),
    new RegExp(`trafficShiftMinutes.*up to 6000 min.*at most ${limit}`),
    'linear 1 % every hour: 100 steps',
  );
  t.ok(linear(10, 10).shift, 'CodeDeploy’s longest linear configuration (100 min) fits');
  t.ok(read({ trafficShift: 'canary', trafficShiftMinutes: '60' }).shift);
});

t.test('refused values name the key', async (t) => {
  t.throws(() => read({ trafficShift: 'blue-green' }), /hapi-lambda:trafficShift.*not one of/);
  t.throws(
    () => read({ trafficShift: 'canary', trafficShiftPercent: '100' }),
    /trafficShiftPercent.*1\.\.99/,
  );
  t.throws(() => read({ trafficShiftMinutes: '0' }), /trafficShiftMinutes/, 'checked even when unused');
  t.throws(() => read({ retainedVersions: '1' }), /retainedVersions.*2\.\.100/);
  t.throws(() => read({ provisionedConcurrency: '-1' }), /provisionedConcurrency/);
  t.throws(
    () => read({ provisionedConcurrency: '11' }, 10),
    /provisionedConcurrency.*more than reservedConcurrency \(10\)/,
  );
  t.equal(read({ provisionedConcurrency: '10' }, 10).provisionedConcurrency, 10);
});
