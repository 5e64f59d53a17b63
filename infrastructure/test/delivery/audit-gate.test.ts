// CI's dependency audit (better-npm-audit over `npm audit`), run against a stub registry on 127.0.0.1 that
// serves the bulk-advisory endpoint: the level, --omit=dev, the allow-list with expiry, and npm's failure.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import t, { type Test } from 'tap';
import { runScript } from '../fixtures/run-script.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const PROJECT = resolve(import.meta.dirname, 'fixtures/audit-project');
const BETTER_NPM_AUDIT = createRequire(import.meta.url).resolve('better-npm-audit/index.js');

const advisory = (id: number, ghsa: string, severity: string, range: string, title: string) => ({
  id,
  url: `https://github.com/advisories/${ghsa}`,
  title,
  severity,
  vulnerable_versions: range,
  cwe: [],
  cvss: { score: 0, vectorString: null },
});
// Real advisories of the fixture's locked versions: high in a production dependency, moderate in
// another, low in a dev dependency.
const ADVISORIES: Record<string, unknown[]> = {
  'semver-regex': [
    advisory(1091725, 'GHSA-44c6-4v22-4mhx', 'high', '<3.1.4', 'Regular expression denial of service'),
  ],
  ms: [advisory(1094419, 'GHSA-w9mr-4mfr-499f', 'moderate', '<2.0.0 || =2.0.0', 'Inefficient regex')],
  debug: [advisory(1094219, 'GHSA-gxpj-cx7g-858c', 'low', '>=4.0.0 <4.3.1', 'Regular Expression DoS')],
};
const VERSIONS: Record<string, string[]> = {
  'semver-regex': ['3.1.3', '3.1.4'],
  ms: ['2.0.0', '2.1.3'],
  debug: ['4.3.0', '4.3.1'],
};

type Mode = 'advisories' | 'none' | '405';
let registryMode: Mode = 'advisories';
const registry = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method === 'GET') {
      // npm audit reads packuments to say which version fixes an advisory.
      const name = decodeURIComponent((req.url ?? '/').slice(1));
      const versions = VERSIONS[name] ?? [];
      const entries = versions.map(
        (v) => [v, { name, version: v, dist: { tarball: `http://x/${v}.tgz` } }] as const,
      );
      res.writeHead(versions.length > 0 ? 200 : 404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          name,
          'dist-tags': { latest: versions.at(-1) },
          versions: Object.fromEntries(entries),
        }),
      );
      return;
    }
    // The registry this machine reaches answers the audit endpoint like this.
    if (registryMode === '405') {
      res.writeHead(405, { allow: 'GET,HEAD' });
      res.end();
      return;
    }
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const asked = Object.keys(JSON.parse(body.toString() || '{}') as Record<string, unknown>);
    const found = registryMode === 'none' ? [] : asked.filter((name) => ADVISORIES[name] !== undefined);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(Object.fromEntries(found.map((name) => [name, ADVISORIES[name]]))));
  });
});
await new Promise<void>((done) => registry.listen(0, '127.0.0.1', done));
t.teardown(() => registry.close());
const REGISTRY = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`;

interface Accepted {
  id: string;
  reason: string;
  expires: string;
}

/** A copy of the fixture project with its allow-list; npm's cache kept out of $HOME. */
function project(t: Test, accepted: Accepted[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  cpSync(PROJECT, dir, { recursive: true });
  const nsprc = Object.fromEntries(accepted.map((a) => [a.id, { notes: a.reason, expiry: a.expires }]));
  writeFileSync(join(dir, '.nsprc'), JSON.stringify(nsprc));
  return dir;
}

const npmEnv = (dir: string) => ({
  HOME: dir,
  npm_config_cache: join(dir, '.npm'),
  npm_config_update_notifier: 'false',
});

/** What CI runs now: better-npm-audit at level high over production dependencies. */
async function gate(dir: string) {
  return runScript(
    BETTER_NPM_AUDIT,
    ['audit', '--production', '--level', 'high', '--registry', REGISTRY],
    npmEnv(dir),
    dir,
  );
}

const ACCEPTED = { id: 'GHSA-44c6-4v22-4mhx', reason: 'only reached by a build tool', expires: '2999-01-01' };

const CASES: { name: string; mode: Mode; accepted: Accepted[]; code: number }[] = [
  { name: 'no advisory', mode: 'none', accepted: [], code: 0 },
  { name: 'a high advisory in a production dependency', mode: 'advisories', accepted: [], code: 1 },
  { name: 'the high advisory allow-listed', mode: 'advisories', accepted: [ACCEPTED], code: 0 },
  {
    name: 'its allow-list entry expired',
    mode: 'advisories',
    accepted: [{ ...ACCEPTED, expires: '2020-01-01' }],
    code: 1,
  },
  { name: 'the audit endpoint answers 405', mode: '405', accepted: [], code: 1 },
  { name: 'an allow-listed advisory no longer reported', mode: 'none', accepted: [ACCEPTED], code: 0 },
];

for (const { name, mode, accepted, code } of CASES) {
  void t.test(`audit: ${name} — exit ${code}, as the hand-written gate it replaced decided`, async (t) => {
    registryMode = mode;
    const dir = project(t, accepted);
    const now = await gate(dir);
    const output = now.stdout + now.stderr;
    t.equal(now.code, code, output);
    if (mode === 'advisories' && code === 1) {
      // Only the high one blocks: the moderate is below the level, the dev dependency's is not audited.
      t.match(output, /1 vulnerabilities found\. Node security advisories: 1091725/);
      t.match(output, /GHSA-44c6-4v22-4mhx/);
      t.notMatch(output, /GHSA-gxpj-cx7g-858c/, 'devDependencies are not audited');
    }
    if (accepted.length > 0 && mode === 'none')
      t.match(output, /did not match any of the found vulnerabilities: GHSA-44c6-4v22-4mhx/);
  });
}

// better-npm-audit accepts an entry without an expiry, or with one it cannot read, forever: the schema
// makes every entry name a GHSA advisory, say why, and expire (npm test gates the deploy as the audit does).
const ALLOW_LIST_SCHEMA = {
  type: 'object',
  propertyNames: { pattern: '^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$' },
  additionalProperties: {
    type: 'object',
    required: ['notes', 'expiry'],
    additionalProperties: false,
    properties: {
      notes: { type: 'string', pattern: '\\S' },
      expiry: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$' },
      active: { type: 'boolean' },
    },
  },
};
const validAllowList = new Ajv({ allErrors: true }).compile(ALLOW_LIST_SCHEMA);

void t.test('audit: the repository allow-list (.nsprc) is valid and accepts nothing by default', (t) => {
  const allowList = JSON.parse(readFileSync(resolve(ROOT, '.nsprc'), 'utf8')) as unknown;
  t.ok(validAllowList(allowList), JSON.stringify(validAllowList.errors));
  t.same(allowList, {});
  t.end();
});

void t.test('audit: malformed allow-list entries fail the schema, never a silent pass', async (t) => {
  const entry = { notes: 'only reached by a build tool', expiry: '2999-01-01' };
  t.ok(validAllowList({ 'GHSA-44c6-4v22-4mhx': entry }), 'a well-formed entry');
  const bad: [string, Record<string, unknown>][] = [
    ['CVE-2024-1', entry],
    ['GHSA-44c6-4v22-4mhx', { ...entry, notes: ' ' }],
    ['GHSA-44c6-4v22-4mhx', { notes: entry.notes }],
    ['GHSA-44c6-4v22-4mhx', { ...entry, expiry: 'soon' }],
    ['GHSA-44c6-4v22-4mhx', { ...entry, reason: 'x' }],
  ];
  for (const [id, details] of bad)
    t.notOk(validAllowList({ [id]: details }), `${id} ${JSON.stringify(details)}`);
  // Why the schema is needed: the tool itself lets an unreadable expiry through.
  registryMode = 'advisories';
  const dir = project(t, []);
  writeFileSync(join(dir, '.nsprc'), JSON.stringify({ 'GHSA-44c6-4v22-4mhx': { ...entry, expiry: 'soon' } }));
  t.equal((await gate(dir)).code, 0, 'better-npm-audit accepts expiry "soon"');
});
