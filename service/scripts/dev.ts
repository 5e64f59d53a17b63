// `npm run dev`: hot reload, pretty logs; without DATABASE_URL an embedded PostgreSQL in .data/.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config.ts';
import { isAddressInUse, portInUseError } from '../src/lib/port-in-use.ts';
import type { EmbeddedDatabase } from '../tools/embedded-postgres.ts';
import { startDevelopmentDatabase } from '../tools/dev-database.ts';
import { migrateDatabase } from '../tools/with-orm.ts';

// The real environment wins over .env.
const dotEnv = path.resolve(import.meta.dirname, '../../.env');
if (existsSync(dotEnv)) process.loadEnvFile(dotEnv);

async function prepare(): Promise<{ env: NodeJS.ProcessEnv; embedded?: EmbeddedDatabase }> {
  const { url, embedded } = await startDevelopmentDatabase();
  try {
    console.log(
      embedded
        ? `Embedded PostgreSQL on 127.0.0.1:${embedded.port} (data in ${embedded.dataDir})`
        : 'Using DATABASE_URL',
    );
    const env = { APP_ENV: 'local', LOG_PRETTY: 'true', ...process.env, DATABASE_URL: url };
    // Validate before migrating so a bad variable is reported once, by name.
    const { host, port } = loadConfig(env);
    // node --watch would wait for file changes after the server failed to listen: find out first.
    await ensurePortFree(host, port);
    const applied = await migrateDatabase(env);
    console.log(
      applied.length > 0 ? `Applied migrations: ${applied.join(', ')}` : 'Database schema is up to date',
    );
    return { env, embedded };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

async function ensurePortFree(host: string, port: number): Promise<void> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, host, resolve);
    });
  } catch (error) {
    if (isAddressInUse(error))
      throw portInUseError({ server: 'The API', host, port, variable: 'PORT' }, error);
    throw error;
  }
  await new Promise((resolve) => probe.close(resolve));
}

const { env, embedded } = await prepare().catch((error: unknown) => {
  // Errors for humans (a taken port, a bad variable) are one line; anything else keeps its stack.
  const message =
    error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
  process.stderr.write(`${message ?? String(error)}\n`);
  process.exit(1);
});

// `npm run dev -- --inspect[=port]`: docs/development.md#debugging
const inspect = process.argv.slice(2).filter((flag) => flag.startsWith('--inspect'));
const server = spawn(process.execPath, [...inspect, '--watch', 'src/index.ts'], {
  env,
  stdio: 'inherit',
});

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.kill(signal);
  await new Promise((resolve) => server.once('exit', resolve));
  await embedded?.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
server.on('exit', (code) => {
  if (!stopping) void embedded?.stop().then(() => process.exit(code ?? 1));
});
