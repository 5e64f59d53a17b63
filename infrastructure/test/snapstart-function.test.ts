// ServiceFunction with snapStart on and off: SnapStart applies to published versions, and off nothing changes.
import * as pulumi from '@pulumi/pulumi';
import t from 'tap';
import { SNAPSTART_HOOKS } from '../config/snapstart.ts';

const created: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
await pulumi.runtime.setMocks(
  {
    newResource(args) {
      const inputs = args.inputs as Record<string, unknown>;
      created.push({ type: args.type, name: args.name, inputs });
      return { id: `${args.name}-id`, state: { ...inputs, arn: `arn:aws:mock:${args.name}`, version: '1' } };
    },
    call() {
      return { accountId: '123456789012' };
    },
  },
  'hapi-lambda',
  'dev',
  false,
);
const { ServiceFunction } = await import('../components/service-function.ts');

const functionArgs = (snapStart: boolean, adapterSettings: Record<string, string>) => ({
  architecture: 'arm64' as const,
  memorySize: 1024,
  timeout: 30,
  reservedConcurrency: undefined,
  logRetentionDays: 30,
  environment: { APP_ENV: 'dev' },
  imageUri: 'repo@sha256:ab',
  imageDigest: 'sha256:ab',
  adapterSettings,
  databaseSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db',
  readableSecretArns: [],
  createAfter: [],
  invokeAfter: [],
  shiftsTraffic: false,
  provisionedConcurrency: 0,
  snapStart,
});

const inputsOf = async (name: string) => {
  await new Promise((resolve) => setTimeout(resolve, 50));
  const fn = created.find((r) => r.type === 'aws:lambda/function:Function' && r.name === `${name}-function`);
  if (fn === undefined) throw new Error(`no function ${name}`);
  return fn.inputs;
};

t.test('on: SnapStart for published versions, the hook paths in the environment', async (t) => {
  new ServiceFunction('on', functionArgs(true, { PORT: '8080', ...SNAPSTART_HOOKS }));
  const inputs = await inputsOf('on');
  t.equal(inputs.publish, true, 'SnapStart applies only to published versions');
  t.same(inputs.snapStart, { applyOn: 'PublishedVersions' });
  t.match((inputs.environment as { variables: Record<string, string> }).variables, SNAPSTART_HOOKS);
  t.equal(inputs.ephemeralStorage, undefined, "/tmp stays at Lambda's 512 MB default, SnapStart's limit");
});

t.test('off: no SnapStart, no hook path', async (t) => {
  new ServiceFunction('off', functionArgs(false, { PORT: '8080' }));
  const inputs = await inputsOf('off');
  t.equal(inputs.snapStart, undefined);
  const variables = (inputs.environment as { variables: Record<string, string> }).variables;
  for (const name of Object.keys(SNAPSTART_HOOKS)) t.notOk(name in variables, name);
});
