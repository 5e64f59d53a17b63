// `npm run dev` reads the root .env; a variable set in the real environment wins over the file.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { freePort } from '../../tools/free-port.ts';
import { occupiedPort } from '../helpers/occupied-port.ts';
import { copyProject } from '../helpers/project-copy.ts';
import { spawnCollecting } from '../helpers/spawned.ts';

// Hang detection, not a speed assertion.
const EXIT_DEADLINE_MS = 60_000;

async function devWith(t: Test, dotEnv: string, overrides: Record<string, string>): Promise<string> {
  const project = await copyProject(t, { closed: false });
  await writeFile(path.join(project.root, '.env'), dotEnv);
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', LOG_PRETTY: 'false', ...overrides };
  delete env.DATABASE_URL;
  delete env.PORT;
  Object.assign(env, overrides);
  const dev = spawnCollecting(t, process.execPath, ['scripts/dev.ts'], { cwd: project.serviceDir, env });
  const exit = await Promise.race([dev.exited, sleep(EXIT_DEADLINE_MS, 'still running' as const)]);
  t.not(exit, 'still running', `exits:\n${dev.output()}`);
  return dev.output();
}

t.test('PORT from .env is the port `npm run dev` listens on', async (t) => {
  const taken = await occupiedPort(t);
  const output = await devWith(t, `# local settings\nPORT=${taken}\n`, {
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
  });
  t.match(output, `The API cannot listen on 127.0.0.1:${taken}`);
});

t.test('a variable in the real environment wins over .env', async (t) => {
  const taken = await occupiedPort(t);
  const output = await devWith(t, `PORT=${await freePort()}\n`, {
    PORT: String(taken),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
  });
  t.match(output, `The API cannot listen on 127.0.0.1:${taken}`);
});

t.test('.env.example lists every variable the service and `npm run dev` read, none set', async (t) => {
  const { environmentSchema } = await import('../../src/config.ts');
  const example = await readFile(path.resolve(import.meta.dirname, '../../../.env.example'), 'utf8');
  const listed = new Set([...example.matchAll(/^# ([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]));
  const keys = environmentSchema.describe().keys as Record<string, unknown>;
  const read = [...Object.keys(keys), 'EMBEDDED_POSTGRES_PORT'];
  t.same(
    read.filter((name) => !listed.has(name)),
    [],
    'all listed',
  );
  t.same(
    example.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')),
    [],
    'every line commented: copying it changes nothing',
  );
});
