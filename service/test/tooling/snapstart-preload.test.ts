// SnapStart's before-checkpoint hook loads the ORM's code (no connection), so a restored instance's first
// database request reads none of it from disk. Why: docs/performance.md (the first database request).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { freePort } from '../../tools/free-port.ts';
import { SNAPSHOT_BUILD_ARGS, SNAPSHOT_RUN_ARGS } from '../../tools/snapshot-build-args.ts';
import { adminConnection } from '../helpers/app-connections.ts';
import { buildBundle } from '../helpers/bundle.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { spawnCollecting } from '../helpers/spawned.ts';

const BEFORE = '/internal/snapstart/before-checkpoint';
const AFTER = '/internal/snapstart/after-restore';

const db = await startTestDatabase(t);
const bundleDir = await buildBundle(t, 'snapstart-preload-');
await promisify(execFile)(process.execPath, [...SNAPSHOT_BUILD_ARGS], {
  cwd: bundleDir,
  env: { PATH: process.env.PATH },
});

const { appConnections } = await adminConnection(t, db.url);

/** The files snapshot-lazy.cjs loads for `key`: its file and every file it imports statically. */
async function lazyFilesOf(key: string): Promise<string[]> {
  const index = await readFile(path.join(bundleDir, 'snapshot-lazy.cjs'), 'utf8');
  const entry = new RegExp(
    `${JSON.stringify(key).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \\(\\) => require\\('([^']+)'\\)`,
  ).exec(index)?.[1];
  if (entry === undefined) throw new Error(`${key} is not in snapshot-lazy.cjs`);
  const files = new Set<string>();
  const visit = async (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = await readFile(file, 'utf8');
    for (const [, next] of text.matchAll(/(?:import|from)\s*"(\.[^"]+)"/g)) {
      await visit(path.resolve(path.dirname(file), next ?? ''));
    }
  };
  await visit(path.resolve(bundleDir, entry));
  return [...files];
}

t.test(
  'after the before-checkpoint hook the ORM and the entities need no file and no connection',
  async (t) => {
    const port = await freePort();
    const app = spawnCollecting(t, process.execPath, [...SNAPSHOT_RUN_ARGS], {
      cwd: bundleDir,
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        PORT: String(port),
        APP_ENV: 'test',
        DATABASE_URL: db.url,
        AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9',
        AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH: BEFORE,
        AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH: AFTER,
      },
    });
    await app.waitFor(/server started/);
    const base = `http://127.0.0.1:${port}`;
    // As the adapter: readiness over /health (no database), then the hook.
    t.equal((await fetch(`${base}/health`)).status, 200);
    t.equal((await fetch(`${base}${BEFORE}`, { method: 'POST' })).status, 204, 'the hook answers 2xx');
    t.equal(await appConnections(), 0, 'the hook opened no database connection');

    // A restored instance still has what the hook loaded. Their files now throw when evaluated (they must
    // exist: resolving an import checks the file even for a module already loaded).
    const index = await readFile(path.join(bundleDir, 'snapshot-lazy.cjs'), 'utf8');
    const entities = [...index.matchAll(/"(src\/modules\/[^"]+\.entity\.ts)":/g)].map(([, key]) => key ?? '');
    const keys = ['src/db/orm.ts', ...entities];
    const replaced = new Set<string>();
    for (const key of keys) for (const file of await lazyFilesOf(key)) replaced.add(file);
    t.ok(entities.length > 0, `the ORM and the entities: ${keys.join(', ')}`);
    for (const file of replaced) await writeFile(file, 'throw new Error("read after the checkpoint");\n');

    t.equal((await fetch(`${base}${AFTER}`, { method: 'POST' })).status, 204);
    const read = await fetch(`${base}/health/ready`);
    t.equal(read.status, 200, `the first database read after the restore (${replaced.size} files replaced)`);
    if (read.status !== 200) t.comment(app.output().slice(-3000));
    t.equal(await appConnections(), 1, 'on its own new connection');
  },
);
