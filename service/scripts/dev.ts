// `npm run dev`: the API on http://localhost:8080 with hot reload and pretty logs. Without DATABASE_URL
// it starts an embedded PostgreSQL (data kept in .data/), applies migrations, and stops it on Ctrl-C.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadConfig } from '../src/config.js';
import { createOrm, runMigrations } from '../src/db/orm.js';
import { startDevelopmentDatabase } from './dev-database.js';

const { url, embedded } = await startDevelopmentDatabase();
console.log(
  embedded
    ? `Embedded PostgreSQL on 127.0.0.1:${embedded.port} (data in ${embedded.dataDir})`
    : 'Using DATABASE_URL',
);

const env = { APP_ENV: 'local', LOG_PRETTY: 'true', ...process.env, DATABASE_URL: url };
// Validate before migrating so a bad variable is reported once, by name.
const { database } = loadConfig(env);
const orm = await createOrm({ ...database, url });
const applied = await runMigrations(orm).finally(() => orm.close());
console.log(
  applied.length > 0 ? `Applied migrations: ${applied.join(', ')}` : 'Database schema is up to date',
);

const tsx = createRequire(import.meta.url).resolve('tsx/cli');
const server = spawn(process.execPath, [tsx, 'watch', '--clear-screen=false', 'src/index.ts'], {
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
