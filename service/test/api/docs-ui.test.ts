// Swagger UI (served outside the bundle): it shows only this service's document, and a Content Security
// Policy confines the page, which asks for API keys, to this origin.
import t from 'tap';
import { DOCS_PATH, OPENAPI_PATH } from '../../src/plugins/docs.ts';
import { buildServer } from '../helpers/server.ts';

const app = await buildServer(t, { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/unused' });

/** The directives of a Content-Security-Policy header, by name. */
function directives(header: unknown): Map<string, string[]> {
  return new Map(
    (typeof header === 'string' ? header : '')
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name !== undefined && name !== '')
      .map(([name = '', ...values]) => [name, values]),
  );
}

t.test('the page loads no foreign document, whatever its query string says', async (t) => {
  const page = await app.inject(DOCS_PATH);
  t.equal(page.statusCode, 200);
  for (const url of [
    `${DOCS_PATH}?url=https://elsewhere.example/spec.json`,
    `${DOCS_PATH}?configUrl=https://elsewhere.example/config.json`,
  ]) {
    const response = await app.inject(url);
    t.not(response.statusCode, 200, `${url} is refused`);
    t.notMatch(response.payload, /elsewhere/, 'and nothing of it is echoed');
  }
  const scripts = [...page.payload.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  t.ok(scripts.length > 0);
  let sawSpecUrl = false;
  for (const [, attributes = '', inline = ''] of scripts) {
    t.equal(inline.trim(), '', 'no inline script: the policy can forbid them');
    const src = /src="([^"]+)"/.exec(attributes)?.[1] ?? '';
    t.match(src, /^\/[^/]/, `${src} is served by this origin`);
    const script = await app.inject(src);
    t.equal(script.statusCode, 200, src);
    t.equal(script.headers['content-security-policy'], page.headers['content-security-policy']);
    if (script.payload.includes(`'${OPENAPI_PATH}'`) || script.payload.includes(`"${OPENAPI_PATH}"`)) {
      sawSpecUrl = true;
      t.notMatch(script.payload, /location|url=/, 'the page script reads no query string');
      t.match(script.payload, /queryConfigEnabled:\s*false/, "Swagger UI's own ?url= support is off");
    }
  }
  t.ok(sawSpecUrl, `a script names ${OPENAPI_PATH} as the one document`);
});

t.test('a Content Security Policy confines the page to this origin', async (t) => {
  const page = await app.inject(DOCS_PATH);
  const csp = directives(page.headers['content-security-policy']);
  t.same(csp.get('default-src'), ["'none'"]);
  t.same(csp.get('script-src'), ["'self'"], 'no inline or foreign scripts');
  t.same(csp.get('connect-src'), ["'self'"], 'documents and "Try it out" calls go to this origin only');
  t.same(csp.get('frame-ancestors'), ["'none'"]);
  t.same(csp.get('form-action'), ["'none'"]);
  t.same(csp.get('base-uri'), ["'none'"]);
});

t.test("Swagger UI's other files, and refusals there, carry the policy too", async (t) => {
  const page = await app.inject(DOCS_PATH);
  for (const url of [
    '/swaggerui/index.html',
    '/swaggerui/swagger-ui.css',
    '/swaggerui/nope',
    `${DOCS_PATH}?x=1`,
  ]) {
    const response = await app.inject(url);
    t.equal(response.headers['content-security-policy'], page.headers['content-security-policy'], url);
  }
});
