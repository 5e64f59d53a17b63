// A port already taken on the first `npm run dev` gets one line naming the port and the variable that
// moves it, and a non-zero exit instead of a stack and a wait forever.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { freePort } from '../../tools/free-port.ts';
import { occupiedPort } from '../helpers/occupied-port.ts';
import { copyProject } from '../helpers/project-copy.ts';
import { spawnCollecting, type Spawned } from '../helpers/spawned.ts';

const serviceDir = path.resolve(import.meta.dirname, '../..');
// Hang detection, not a speed assertion: the old `node --watch` waited for file changes forever.
const EXIT_DEADLINE_MS = 60_000;

async function exitOf(process: Spawned): Promise<{ code: number | null } | 'still running'> {
  return Promise.race([process.exited, sleep(EXIT_DEADLINE_MS, 'still running' as const)]);
}

function devEnvironment(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', LOG_PRETTY: 'false', ...overrides };
  delete env.DATABASE_URL;
  return env;
}

const noStack = /^\s+at /m;

t.test('the server on a taken PORT prints one line naming it and PORT, and exits 1', async (t) => {
  const port = await occupiedPort(t);
  const server = spawnCollecting(t, process.execPath, ['src/index.ts'], {
    cwd: serviceDir,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      // Never contacted: the server connects on first use, and listening fails first.
      DATABASE_URL: `postgres://u:p@127.0.0.1:${await freePort()}/app`,
    },
  });
  t.match(await exitOf(server), { code: 1 });
  t.match(server.output(), `cannot listen on 127.0.0.1:${port}`);
  t.match(server.output(), `set PORT to a free port (e.g. PORT=${port + 1})`);
  t.notMatch(server.output(), noStack, 'no stack');
});

t.test('`npm run dev` with PORT taken says so and exits non-zero', async (t) => {
  const project = await copyProject(t, { closed: false });
  const port = await occupiedPort(t);
  const dev = spawnCollecting(t, process.execPath, ['scripts/dev.ts'], {
    cwd: project.serviceDir,
    env: devEnvironment({ PORT: String(port), EMBEDDED_POSTGRES_PORT: String(await freePort()) }),
  });
  const exit = await exitOf(dev);
  t.not(exit, 'still running', `exits:\n${dev.output()}`);
  t.not((exit as { code: number | null }).code, 0, 'non-zero');
  t.match(dev.output(), `The API cannot listen on 127.0.0.1:${port}`);
  t.match(dev.output(), 'set PORT to a free port');
  t.notMatch(dev.output(), /Waiting for file changes/);
  t.notMatch(dev.output(), noStack, 'no stack');
});

t.test('`npm run dev` with the embedded database port taken names EMBEDDED_POSTGRES_PORT', async (t) => {
  const project = await copyProject(t, { closed: false });
  const port = await occupiedPort(t);
  const dev = spawnCollecting(t, process.execPath, ['scripts/dev.ts'], {
    cwd: project.serviceDir,
    env: devEnvironment({ PORT: String(await freePort()), EMBEDDED_POSTGRES_PORT: String(port) }),
  });
  const exit = await exitOf(dev);
  t.not(exit, 'still running', `exits:\n${dev.output()}`);
  t.not((exit as { code: number | null }).code, 0, 'non-zero');
  t.match(dev.output(), `The embedded PostgreSQL cannot listen on 127.0.0.1:${port}`);
  t.match(
    dev.output(),
    `set EMBEDDED_POSTGRES_PORT to a free port (e.g. EMBEDDED_POSTGRES_PORT=${port + 1})`,
  );
  t.notMatch(dev.output(), noStack, 'no stack');
});
