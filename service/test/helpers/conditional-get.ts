// If-None-Match on a binary download that exists: *, its own ETag, or a list holding it is a bare 304.
import type { Test } from 'tap';
import type { TestServer } from './server.ts';

/** `etag` is the one `url` answers now; `what` names the representation another ETag gets. */
export async function checkNotModified(t: Test, app: TestServer, url: string, etag: string, what: string) {
  for (const value of ['*', etag, `"nope", ${etag}`]) {
    const response = await app.inject({ url, headers: { 'if-none-match': value } });
    t.equal(response.statusCode, 304, `If-None-Match: ${value}`);
    t.equal(response.payload, '');
    t.equal(response.headers['x-content-type-options'], 'nosniff');
  }
  const head = await app.inject({ method: 'HEAD', url, headers: { 'if-none-match': '*' } });
  t.equal(head.statusCode, 304, 'HEAD too');
  const other = await app.inject({ url, headers: { 'if-none-match': '"nope"' } });
  t.equal(other.statusCode, 200, `another ETag: ${what}`);
}
