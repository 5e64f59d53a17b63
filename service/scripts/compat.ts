// `npm run test:compat -- <previous-ref>`: the previous release's API tests against the schema this tree's
// migrations build, so a rollback of the code is known to work on the new schema (docs/migrations.md).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedPostgres } from '../tools/embedded-postgres.ts';
import { migrateDatabase } from '../tools/with-orm.ts';

const USAGE = `Usage: npm run test:compat -- <previous-ref> [--always] [--keep] [--jobs N] [--timeout S] [--tests DIR]
  <previous-ref>  the release a rollback returns to (e.g. the deployed commit)
  --always        run even when no migration changed since <previous-ref>
  --keep          keep the temporary copy of the previous release (printed)
  --jobs N        test files run at once (default 2)
  --timeout S     seconds one test file may take (default: the previous release's tap setting)
  --tests PATH    the previous release's tests to run, under service/ (default test/api; repeatable)`;

const ROOT = path.resolve(import.meta.dirname, '../..');
const MIGRATIONS = 'service/src/db/migrations';
/** Checks that the previous release's entities match its own migrations: every expand step fails them. */
const OWN_SCHEMA_TESTS = ['service/test/api/migrations.test.ts', 'service/test/migrations.test.ts'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    always: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    jobs: { type: 'string', default: '2' },
    timeout: { type: 'string' },
    tests: { type: 'string', multiple: true, default: ['test/api'] },
    help: { type: 'boolean', default: false },
  },
});

/** Runs a command; resolves to its exit code, output to `log` (or inherited). */
function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; capture?: boolean },
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code: code ?? 1, output });
    });
  });
}

async function must(command: string, args: readonly string[], cwd: string): Promise<string> {
  const { code, output } = await run(command, args, { cwd, capture: true });
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${code}):\n${output}`);
  return output;
}

/** Migration files by name with their text, for comparing two trees. */
async function migrationFiles(dir: string): Promise<Map<string, string>> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.ts'));
  return new Map(
    await Promise.all(
      files.map(async (file) => [file, await readFile(path.join(dir, file), 'utf8')] as const),
    ),
  );
}

async function main(): Promise<number> {
  const ref = positionals[0];
  const badTimeout = values.timeout !== undefined && !/^[1-9]\d{0,4}$/.test(values.timeout);
  if (
    values.help ||
    ref === undefined ||
    positionals.length > 1 ||
    !/^[1-9]\d?$/.test(values.jobs) ||
    badTimeout
  ) {
    console.error(USAGE);
    return 2;
  }
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(0);
  const sha = (await must('git', ['rev-parse', '--verify', `${ref}^{commit}`], ROOT)).trim();
  const work = await mkdtemp(path.join(tmpdir(), 'compat-'));
  const previous = path.join(work, 'previous');
  try {
    await mkdir(previous);
    const archive = path.join(work, 'previous.tar');
    await must('git', ['archive', '--format=tar', '-o', archive, sha], ROOT);
    await must('tar', ['-xf', archive, '-C', previous], ROOT);
    await rm(archive);

    const oldDir = path.join(previous, MIGRATIONS);
    const newDir = path.join(ROOT, MIGRATIONS);
    const [oldFiles, newFiles] = await Promise.all([migrationFiles(oldDir), migrationFiles(newDir)]);
    const added = [...newFiles.keys()].filter((file) => /^Migration\d/.test(file) && !oldFiles.has(file));
    const changed = [...newFiles.keys()].filter(
      (file) => /^Migration\d/.test(file) && oldFiles.has(file) && oldFiles.get(file) !== newFiles.get(file),
    );
    console.log(`Previous release: ${sha.slice(0, 12)} (${ref})`);
    console.log(`Migrations since: ${added.length > 0 ? added.join(', ') : 'none'}`);
    if (changed.length > 0) console.log(`Migration files edited since: ${changed.join(', ')}`);
    if (added.length === 0 && changed.length === 0 && !values.always) {
      console.log('No migration changed: the previous release already passed its tests on this schema.');
      return 0;
    }

    const missing = values.tests.filter((test) => !existsSync(path.join(previous, 'service', test)));
    if (missing.length > 0) {
      console.error(`The previous release has no ${missing.join(', ')}: name its API tests with --tests.`);
      return 2;
    }
    console.log(`[${seconds()} s] npm ci in the previous release (service and the workspace root)`);
    await must(
      'npm',
      ['ci', '--workspace', 'service', '--include-workspace-root', '--no-audit', '--no-fund'],
      previous,
    );

    // A redeploy of the previous release runs its own migrate step: on the newer schema it must do nothing.
    console.log(`[${seconds()} s] the previous release's migrate command on a database at the new schema`);
    const dbRoot = await mkdtemp(path.join(tmpdir(), 'compat-db-'));
    const db = await startEmbeddedPostgres({
      dataDir: path.join(dbRoot, 'pgdata'),
      persistent: false,
      fast: true,
    });
    try {
      await migrateDatabase({ DATABASE_URL: db.url });
      const migrate = await run('npm', ['run', 'db:migrate', '-w', 'service'], {
        cwd: previous,
        env: { ...process.env, DATABASE_URL: db.url },
        capture: true,
      });
      if (migrate.code !== 0 || !/No pending migrations/.test(migrate.output)) {
        console.error(`The previous release's migrate step failed on the new schema:\n${migrate.output}`);
        return 1;
      }
    } finally {
      await db.stop();
      await rm(dbRoot, { recursive: true, force: true });
    }

    // The previous tests build their databases with the migration list they carry: hand them the new one.
    for (const file of oldFiles.keys()) await rm(path.join(oldDir, file));
    await cp(newDir, oldDir, { recursive: true, filter: (source) => !source.endsWith('.json') });
    const list = [...newFiles.keys()].filter((file) => /^Migration\d/.test(file)).length;
    console.log(
      `[${seconds()} s] the previous release's ${values.tests.join(' ')} on the new schema (${list} migrations)`,
    );
    for (const test of OWN_SCHEMA_TESTS.filter((file) => existsSync(path.join(previous, file)))) {
      await rm(path.join(previous, test));
      console.log(
        `Left out ${test}: it compares the previous entities with the schema, which expand steps change`,
      );
    }
    const log = path.join(work, 'tests.log');
    const tests = await run(
      'npx',
      [
        'tap',
        '--disable-coverage',
        '--reporter=tap',
        `--jobs=${values.jobs}`,
        ...(values.timeout === undefined ? [] : [`--timeout=${values.timeout}`]),
        ...values.tests,
      ],
      { cwd: path.join(previous, 'service'), capture: true },
    );
    await writeFile(log, tests.output);
    const files = [...tests.output.matchAll(/^(not ok|ok) \d+ - (\S+\.test\.ts)/gm)];
    const failed = files.filter((match) => match[1] === 'not ok').map((match) => match[2]);
    const asserts = /^# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/m.exec(tests.output);
    console.log(
      `[${seconds()} s] ${files.length} test file(s), ${failed.length} failed; ` +
        (asserts
          ? `${asserts[1]} assertions, ${asserts[2]} passed, ${asserts[3] ?? 0} failed`
          : 'no summary'),
    );
    for (const file of failed) console.log(`  failed: ${file}`);
    if (files.length === 0) {
      console.error(`No test ran:\n${tests.output.slice(0, 2000)}`);
      return 2;
    }
    if (tests.code !== 0) {
      console.error(
        `The previous release fails on the new schema: rolling back past these migrations is not safe.` +
          ` Split them into expand and contract steps (docs/migrations.md). Log: ${values.keep ? log : '(use --keep)'}`,
      );
      return 1;
    }
    console.log('The previous release passes its tests on the new schema: a rollback is safe.');
    return 0;
  } finally {
    if (values.keep) console.log(`Kept: ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  return 2;
});
