// The first database request after a snapshot start reads only the ORM stack's files: the AWS SDK, the
// docs (hapi-swagger), node:tls and migrations stay unread. Why: docs/performance.md (the first database request).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { buildBundle } from '../helpers/bundle.ts';

const dir = process.env.LAZY_SPLIT_DIST ?? (await buildBundle(t, 'bundle-lazy-split-'));

// What snapshot-lazy.cjs loads for one dynamic import: its file and every file that file imports statically.
async function filesOf(key: string): Promise<Map<string, string>> {
  const index = await readFile(path.join(dir, 'snapshot-lazy.cjs'), 'utf8');
  const entry = new RegExp(
    `${JSON.stringify(key).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \\(\\) => require\\('([^']+)'\\)`,
  ).exec(index);
  const files = new Map<string, string>();
  const visit = async (file: string) => {
    if (files.has(file)) return;
    const text = await readFile(file, 'utf8');
    files.set(file, text);
    for (const [, next] of text.matchAll(/(?:import|from)\s*"(\.[^"]+)"/g)) {
      await visit(path.resolve(path.dirname(file), next ?? ''));
    }
  };
  await visit(entry?.[1] === undefined ? path.join(dir, 'snapshot-lazy.cjs') : path.resolve(dir, entry[1]));
  return files;
}

// What the first database request reads: the ORM and the modules' lazy services and repositories.
async function firstRequestFiles(t: Test): Promise<string> {
  const index = await readFile(path.join(dir, 'snapshot-lazy.cjs'), 'utf8');
  const moduleKeys = [...index.matchAll(/"(src\/modules\/[^"]+\.(?:service|repository)\.ts)":/g)].map(
    ([, key]) => key ?? '',
  );
  t.ok(moduleKeys.length > 0, `the modules' lazy services: ${moduleKeys.join(', ')}`);
  const read = new Map<string, string>();
  for (const key of ['src/db/orm.ts', ...moduleKeys]) {
    for (const [file, text] of await filesOf(key)) read.set(file, text);
  }
  return [...read.values()].join('\n');
}

t.test("the ORM and the modules' services load without the AWS SDK, the docs and node:tls", async (t) => {
  const all = await firstRequestFiles(t);
  t.ok(all.includes('MikroORM'), 'the ORM is among them');
  t.notOk(all.includes('SecretsManager'), 'no AWS SDK');
  t.notOk(/swagger/i.test(all), 'no hapi-swagger');
  t.notOk(/from\s*"node:tls"|from\s*"tls"/.test(all), 'no static import of node:tls');
});

t.test(
  'the first database request reads no migration code: the Migrator loads where migrations run',
  async (t) => {
    const all = await firstRequestFiles(t);
    // keepNames names every class: `__name(this, "Migrator")` (core only mentions the extension by name).
    for (const name of ['Migrator', 'MigrationRunner', 'MigrationStorage', 'Migration']) {
      t.notOk(new RegExp(`[\\w$]+\\s*,\\s*"${name}"\\s*\\)`).test(all), `no class ${name}`);
    }
    const committed = (await readdir(path.resolve(import.meta.dirname, '../../src/db/migrations')))
      .filter((file) => /^Migration\d+_\w+\.ts$/.test(file))
      .map((file) => file.replace(/\.ts$/, ''));
    t.ok(committed.length > 0, 'the committed migrations');
    for (const name of committed) t.notOk(all.includes(name), `no ${name}`);
  },
);
