// The stack reader applies the connection budget: managed mode derives reserved concurrency (a preview
// stack reserves little), refuses what cannot fit, and leaves it alone with the proxy or an external URL.
import * as pulumi from '@pulumi/pulumi';
import t from 'tap';
import { readStackConfig } from '../config.ts';
import { PREVIEW_RESERVED_CONCURRENCY } from '../config/database.ts';
import { engineConfig } from './fixtures/program.ts';

const read = (stack: string, values: Record<string, string>) => {
  const config = engineConfig(
    Object.fromEntries(Object.entries(values).map(([key, value]) => [`hapi-lambda:${key}`, value])),
  );
  const get = (key: string) => config[`hapi-lambda:${key}`];
  return readStackConfig(
    { get, getSecret: (key) => (get(key) === undefined ? undefined : pulumi.secret(get(key) ?? '')) },
    {
      project: 'hapi-lambda',
      stack,
      region: 'us-east-1',
      env: {},
      gitHead: () => ({ sha: 'a'.repeat(40), dirty: false }),
      now: () => new Date('2026-12-07T10:00:00Z'),
    },
  );
};
const managed = { databaseMode: 'managed', databaseMaxCapacity: '4', databasePoolMax: '1' };

t.test('managed mode derives reserved concurrency from the budget', async (t) => {
  t.equal(read('prod', managed).function.reservedConcurrency, 368, '737 usable / (1 × 2 versions)');
  t.equal(read('prod', { ...managed, databasePoolMax: '2' }).function.reservedConcurrency, 184);
  t.equal(read('prod', { ...managed, reservedConcurrency: '100' }).function.reservedConcurrency, 100);
});

t.test(
  "a preview stack's derived reservation is small: every preview takes it from the account",
  async (t) => {
    t.equal(PREVIEW_RESERVED_CONCURRENCY, 10);
    t.equal(read('preview-feature-login', managed).function.reservedConcurrency, 10);
    t.equal(
      read('preview-feature-login', { ...managed, reservedConcurrency: '50' }).function.reservedConcurrency,
      50,
      'a set value stays as set (within the budget)',
    );
  },
);

t.test('over budget: refused naming the key, the numbers and the fixes', async (t) => {
  t.throws(() => read('prod', { ...managed, reservedConcurrency: '369' }), {
    name: 'ConfigError',
    message:
      /^Invalid stack configuration "hapi-lambda:reservedConcurrency": exceeds the database connection budget: 369 concurrent instances × 1 connection \(databasePoolMax\) × 2 versions .* = 738 connections, but Aurora PostgreSQL allows 823 at 0\.5–4 ACU, of which 737 are the service's .*To fix: set reservedConcurrency to at most 368/,
  });
  // The smallest range and the largest pool still fit a few instances: 167 usable / (20 × 2).
  t.equal(
    read('prod', { ...managed, databaseMaxCapacity: '1', databasePoolMax: '20' }).function
      .reservedConcurrency,
    4,
  );
});

t.test('the proxy bounds the connections itself; external mode has no budget to check', async (t) => {
  const proxied = read('prod', { ...managed, databaseProxy: 'true' });
  t.equal(proxied.function.reservedConcurrency, undefined, '-1 stays unreserved');
  t.match(proxied.database, { mode: 'managed', maxConnections: 823, proxy: { maxConnectionsPercent: 89 } });
  const external = read('dev', { databaseUrl: 'postgres://u:p@h/db', reservedConcurrency: '5000' });
  t.equal(external.function.reservedConcurrency, 5000);
  t.throws(() => read('dev', { databaseUrl: 'postgres://u:p@h/db', databaseProxy: 'true' }), {
    message:
      'Invalid stack configuration "hapi-lambda:databaseProxy": needs databaseMode managed (an RDS Proxy fronts the Aurora cluster)',
  });
});
