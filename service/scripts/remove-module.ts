// `npm run remove:module -- <name>`: deletes a domain module, its list entry, its error-table rows and the
// files that import it (its tests, bench, seed), then generates the migration that drops its tables.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import { pathToFileURL } from 'node:url';

const SERVICE_DIR = path.resolve(import.meta.dirname, '..');
const ROOT = path.resolve(SERVICE_DIR, '..');
const MODULES_DIR = path.join(SERVICE_DIR, 'src/modules');
const USAGE =
  'usage: npm run remove:module -- <name> [--release <ref>]   (name: a folder of service/src/modules)';

/** Prints the linter's findings on one migration (argv: file, class name) as JSON. */
const LINT_ONE = `
  const [file, name] = process.argv.slice(1);
  const { createOrm } = await import(${JSON.stringify(pathToFileURL(path.join(SERVICE_DIR, 'src/db/orm.ts')).href)});
  const { lintMigrations } = await import(${JSON.stringify(pathToFileURL(path.join(SERVICE_DIR, 'tools/migration-lint.ts')).href)});
  const orm = await createOrm({ url: 'postgres://lint@127.0.0.1:9/lint', ssl: false, poolMax: 1, connectTimeoutMs: 1000, queryTimeoutMs: 1000 });
  const { problems } = await lintMigrations(orm, [{ name, class: (await import(file))[name] }]);
  await orm.close();
  process.stdout.write(JSON.stringify(problems));
`;

function fail(message: string): never {
  console.error(`remove:module: ${message}\n${USAGE}`);
  process.exit(1);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { release: { type: 'string' } },
});
// The contract mark's release: the one whose code no longer uses the tables (the N-1 job runs its tests).
const release =
  values.release ??
  execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
const name = positionals[0] ?? fail('which module?');
const moduleDir = path.join(MODULES_DIR, name);
if (!/^[a-z][a-z0-9-]*$/.test(name) || !existsSync(path.join(moduleDir, 'index.ts')))
  fail(`no module folder src/modules/${name}`);

const rel = (file: string) => path.relative(ROOT, file);
const format = async (source: string, filepath: string) =>
  prettier.format(source, { ...(await prettier.resolveConfig(filepath)), filepath });

// The manifest's export, read from the list's import line.
const listPath = path.join(MODULES_DIR, 'index.ts');
const list = readFileSync(listPath, 'utf8');
const importLine = new RegExp(`^import \\{ (\\w+) \\} from '\\./${name}/index\\.ts';\\n`, 'm');
const exportName =
  importLine.exec(list)?.[1] ?? fail(`src/modules/index.ts does not import ./${name}/index.ts`);

// Files outside src that import the module, or import or run such a file (helpers, scripts), transitively.
const removed = new Set<string>([moduleDir]);
const candidates = ['test', 'bench', 'scripts']
  .flatMap((folder) =>
    (readdirSync(path.join(SERVICE_DIR, folder), { recursive: true }) as string[]).map((file) =>
      path.join(SERVICE_DIR, folder, file),
    ),
  )
  .filter((file) => /\.(?:ts|mjs|cjs)$/.test(file) && file !== import.meta.filename);
const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((match) =>
    path.resolve(path.dirname(file), match[1] ?? ''),
  );
/** A test that runs a removed script by its path (`node scripts/seed.ts`). */
const runsRemoved = (file: string) => {
  const source = readFileSync(file, 'utf8');
  return [...removed].some(
    (gone) => /\.(?:ts|mjs)$/.test(gone) && source.includes(`'${path.relative(SERVICE_DIR, gone)}'`),
  );
};
const isRemoved = (target: string) =>
  [...removed].some((gone) => target === gone || target.startsWith(`${gone}${path.sep}`));
for (let grew = true; grew;) {
  grew = false;
  for (const file of candidates) {
    if (!removed.has(file) && (importsOf(file).some(isRemoved) || runsRemoved(file))) {
      removed.add(file);
      grew = true;
    }
  }
}
const testFolder = path.join(SERVICE_DIR, 'test/api', name);
if (existsSync(testFolder)) removed.add(testFolder);
// Test helpers that only removed files imported (a test file is its own entry point).
const isEntry = (file: string) =>
  !file.startsWith(path.join(SERVICE_DIR, 'test/')) || file.endsWith('.test.ts');
for (let grew = true; grew;) {
  grew = false;
  const kept = candidates.filter((file) => !isRemoved(file));
  const importedByKept = new Set(kept.flatMap(importsOf));
  for (const file of kept) {
    if (isEntry(file) || importedByKept.has(file)) continue;
    if (candidates.some((other) => isRemoved(other) && importsOf(other).includes(file))) {
      removed.add(file);
      grew = true;
    }
  }
}

for (const file of removed) {
  rmSync(file, { recursive: true, force: true });
  console.log(`removed ${rel(file)}`);
}

writeFileSync(
  listPath,
  list.replace(importLine, '').replace(new RegExp(`\\b${exportName}, |, ${exportName}\\b`), ''),
);
console.log(`edited ${rel(listPath)}`);

// The error table of docs/api.md is generated from the registry, which no longer has the module's codes.
const table = spawnSync(process.execPath, [path.join(SERVICE_DIR, 'scripts/error-table.ts')], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (table.status !== 0) fail('docs/api.md: the error table could not be regenerated');

// npm scripts that run a removed file.
const manifestPath = path.join(SERVICE_DIR, 'package.json');
const pkg = JSON.parse(readFileSync(manifestPath, 'utf8')) as { scripts: Record<string, string> };
const goneScripts = Object.keys(pkg.scripts).filter((script) =>
  [...removed].some((file) => pkg.scripts[script]?.includes(path.relative(SERVICE_DIR, file))),
);
pkg.scripts = Object.fromEntries(
  Object.entries(pkg.scripts).filter(([script]) => !goneScripts.includes(script)),
);
writeFileSync(manifestPath, `${JSON.stringify(pkg, null, 2)}\n`);
const rootManifestPath = path.join(ROOT, 'package.json');
const rootPkg = JSON.parse(readFileSync(rootManifestPath, 'utf8')) as { scripts: Record<string, string> };
rootPkg.scripts = Object.fromEntries(
  Object.entries(rootPkg.scripts).filter(
    ([script, command]) =>
      !(goneScripts.includes(script) && command.includes(`npm run ${script} -w service`)),
  ),
);
writeFileSync(rootManifestPath, `${JSON.stringify(rootPkg, null, 2)}\n`);
if (goneScripts.length > 0) console.log(`removed npm scripts: ${goneScripts.join(', ')}`);

// Deployed databases ran the module's migrations: a new one drops its tables (never delete the old ones).
const migrationsDir = path.join(SERVICE_DIR, 'src/db/migrations');
const before = new Set(readdirSync(migrationsDir));
const create = spawnSync(
  process.execPath,
  [path.join(SERVICE_DIR, 'scripts/create-migration.ts'), '--name', `drop_${name.replaceAll('-', '_')}`],
  { cwd: SERVICE_DIR, stdio: 'inherit' },
);
if (create.status !== 0) fail('the drop migration could not be generated');
for (const file of readdirSync(migrationsDir).filter(
  (file) => /^Migration\d+.*\.ts$/.test(file) && !before.has(file),
)) {
  const migration = path.join(migrationsDir, file);
  const className = file.replace(/\.ts$/, '');
  // The drops are a contract step (docs/migrations.md): the linter names the objects the mark must list.
  // In a fresh process: this one has loaded the removed module.
  const linted = spawnSync(
    process.execPath,
    ['--input-type=module', '--eval', LINT_ONE, migration, className],
    {
      cwd: SERVICE_DIR,
      encoding: 'utf8',
    },
  );
  if (linted.status !== 0) fail(`could not lint ${file}: ${linted.stderr}`);
  const problems = JSON.parse(linted.stdout) as { object: string }[];
  const objects = [...new Set(problems.map((problem) => problem.object))];
  const mark = `
  static readonly contract: ContractStep = {
    release: '${release}',
    objects: ${JSON.stringify(objects).replaceAll('"', "'")},
    reason: 'the ${name} module was removed: no release from ${release} on reads or writes its tables',
  };
`;
  const source = readFileSync(migration, 'utf8')
    // The generator escapes `$` in down()'s SQL, which ESLint's no-useless-escape refuses.
    .replaceAll('\\$', '$')
    .replace(/^(import .*\n)/m, `$1import type { ContractStep } from './contract.ts';\n`)
    .replace(/^(\s+override name = .*\n)/m, objects.length > 0 ? `$1${mark}` : '$1');
  writeFileSync(migration, await format(source, migration));
}

// Tests of other features that went through the module (a round trip via its routes) go with it, on purpose:
// listed so that the user gives their own module such a test.
const collateral = [...removed]
  .filter((file) => file.endsWith('.test.ts') && !file.startsWith(`${testFolder}${path.sep}`))
  .map(rel);
if (collateral.length > 0) {
  console.log(
    `\nThese tests reached other features through ${name} and went with it; give your module such a test:\n` +
      collateral.map((file) => `  ${file}\n`).join(''),
  );
}

const left = spawnSync('git', ['grep', '-n', '-i', '-w', name, '--', 'service', 'docs', '.github'], {
  cwd: ROOT,
  encoding: 'utf8',
}).stdout;
console.log(
  `\nDone. Still naming "${name}" (prose, examples: review by hand):\n${left === '' ? '  nothing\n' : left}`,
);
execFileSync('git', ['status', '--short'], { cwd: ROOT, stdio: 'inherit' });
