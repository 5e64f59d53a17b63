// The adapter settings the function repeats come from the Dockerfile's runtime stage, literally.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { readAdapterSettings } from '../adapter-settings.ts';
import { repositoryRoot } from './fixtures/program.ts';

function dockerfile(t: Test, content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapter-settings-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const file = path.join(dir, 'Dockerfile');
  writeFileSync(file, content);
  return file;
}

t.test('the repository Dockerfile: PORT and the AWS_LWA_* settings of the runtime stage', async (t) => {
  const settings = readAdapterSettings(path.join(repositoryRoot, 'docker', 'Dockerfile'));
  t.equal(settings.PORT, '8080');
  t.equal(settings.AWS_LWA_READINESS_CHECK_PATH, '/health');
  t.notOk('NODE_ENV' in settings, 'only adapter variables');
});

t.test('only the last stage counts; other variables are ignored', async (t) => {
  const file = dockerfile(
    t,
    [
      'FROM node AS build',
      'ENV AWS_LWA_PASS_THROUGH_PATH=/build-only PORT=1',
      'FROM node',
      'ENV NODE_ENV=production \\',
      '    PORT=8080 \\',
      '    AWS_LWA_PASS_THROUGH_PATH=/internal/events',
      'ENV AWS_LWA_ERROR_STATUS_CODES=599',
    ].join('\n'),
  );
  t.same(readAdapterSettings(file), {
    PORT: '8080',
    AWS_LWA_PASS_THROUGH_PATH: '/internal/events',
    AWS_LWA_ERROR_STATUS_CODES: '599',
  });
});

t.test('a value the function could not repeat literally is refused', async (t) => {
  const file = dockerfile(t, 'FROM node\nARG P=8080\nENV PORT=${P}\n');
  t.throws(() => readAdapterSettings(file), /ENV PORT must be a literal/);
  t.throws(() => readAdapterSettings(dockerfile(t, 'FROM node\nENV PORT\n')), /ENV PORT must be a literal/);
});

t.test('AWS_LWA_PORT is refused: PORT alone names the port', async (t) => {
  const file = dockerfile(t, 'FROM node\nENV PORT=8080 AWS_LWA_PORT=8080\n');
  t.throws(() => readAdapterSettings(file), /set PORT only/);
});
