// HOST and DATABASE_URL are checked without joi's hostname() and uri() rules (their regular expressions
// cost a cold start CPU: docs/performance.md): the same values pass and fail, with joi's messages.
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.ts';

const URL = 'postgres://app:secret@127.0.0.1:5432/app';

t.test('HOST takes IP addresses and host names', async (t) => {
  for (const host of ['0.0.0.0', '127.0.0.1', '::', '::1', 'localhost', 'db.internal', 'api-1.example.com']) {
    t.equal(loadConfig({ DATABASE_URL: URL, HOST: host }).host, host, host);
  }
  for (const host of [
    'bad host',
    'under_score',
    '-leading.example',
    'a'.repeat(64),
    'http://x',
    '1.2.3.4/8',
    'example.com.',
  ]) {
    const error = t.throws(() => loadConfig({ DATABASE_URL: URL, HOST: host }), host) as ConfigError;
    t.match(error.message, /"HOST" must be a valid hostname/, host);
  }
});

t.test('DATABASE_URL must be a URL with a postgres scheme', async (t) => {
  for (const url of [
    URL,
    'postgresql://u@db.internal/app?sslmode=require',
    'postgres://u:p%40ss@[::1]:5432/app',
  ]) {
    t.equal(loadConfig({ DATABASE_URL: url }).database.url, url, url);
  }
  for (const url of ['mysql://x@y/z', 'not a url', 'postgres://exa mple/app']) {
    const error = t.throws(() => loadConfig({ DATABASE_URL: url }), url) as ConfigError;
    t.match(
      error.message,
      /"DATABASE_URL" must be a valid uri with a scheme matching the postgres\|postgresql pattern$/,
      url,
    );
  }
});
