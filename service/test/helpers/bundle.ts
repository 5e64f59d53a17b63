// The built bundle in a temporary folder of its own (other tests may be building dist/ at the same time),
// and started from it on a free loopback port, with its JSON log lines readable.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../tools/free-port.ts';
import { spawnCollecting, type Spawned } from './spawned.ts';
import type { Teardown } from './teardown.ts';

const serviceDir = path.resolve(import.meta.dirname, '../..');

export interface Bundle extends Spawned {
  readonly base: string;
  readonly port: number;
  /** The JSON log lines so far. */
  lines(): Record<string, unknown>[];
}

export async function buildBundle(t: Teardown, prefix: string): Promise<string> {
  const bundleDir = await mkdtemp(path.join(tmpdir(), prefix));
  t.teardown(() => rm(bundleDir, { recursive: true, force: true }));
  await promisify(execFile)(process.execPath, ['scripts/build.ts'], {
    cwd: serviceDir,
    env: { ...process.env, BUILD_OUT_DIR: bundleDir },
  });
  return bundleDir;
}

/** `main.mjs` of that folder as a test process (APP_ENV test, on 127.0.0.1), once it says it started. */
export async function startBundle(
  t: Teardown,
  bundleDir: string,
  env: Record<string, string>,
): Promise<Bundle> {
  return startProcess(t, [path.join(bundleDir, 'main.mjs')], bundleDir, env);
}

/** The service from source with the test-only notes module (fixture-module.ts) as such a process. */
export async function startFixtureService(t: Teardown, env: Record<string, string>): Promise<Bundle> {
  return startProcess(t, [path.join(serviceDir, 'test/fixtures/fixture-service.ts')], serviceDir, env);
}

async function startProcess(
  t: Teardown,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<Bundle> {
  const port = await freePort();
  const spawned = spawnCollecting(t, process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', APP_ENV: 'test', ...env },
  });
  await spawned.waitFor(/server started/);
  const lines = () =>
    spawned
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ...spawned, base: `http://127.0.0.1:${port}`, port, lines };
}
