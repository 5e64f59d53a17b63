// snapStart: true in a stack: with the Dockerfile's adapter too old to call the hooks, the program (so
// `pulumi preview`) stops with a message saying why; with a recent one the function gets SnapStart and hooks.
import path from 'node:path';
import t from 'tap';
import {
  compareVersions,
  readAdapterVersion,
  SNAPSTART_HOOKS,
  SNAPSTART_MIN_ADAPTER,
} from '../config/snapstart.ts';
import { repositoryRoot, runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const { stack, config, secretKeys } = SCENARIOS.dev;
const adapter = readAdapterVersion(path.join(repositoryRoot, 'docker', 'Dockerfile'));
const run = runProgram(stack, { ...config, 'hapi-lambda:snapStart': 'true' }, [...secretKeys]);

if (compareVersions(adapter, SNAPSTART_MIN_ADAPTER) < 0) {
  t.test(`adapter ${adapter} in docker/Dockerfile: refused, saying why`, async (t) => {
    await t.rejects(run, {
      message:
        /snapStart.*Web Adapter 1\.1\.0 or later in docker\/Dockerfile .*never calls the service's SnapStart hooks/,
    });
  });
} else {
  t.test(`adapter ${adapter}: SnapStart on published versions, with the hook paths`, async (t) => {
    const fn = (await run).one('aws:lambda/function:Function');
    t.same(fn.inputs.snapStart, { applyOn: 'PublishedVersions' });
    t.match((fn.inputs.environment as { variables: Record<string, string> }).variables, SNAPSTART_HOOKS);
  });
}
