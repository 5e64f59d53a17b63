#!/usr/bin/env node
// Smoke test of a running API: health, readiness, a books round trip; no dependencies.
// SMOKE_* settings: docs/delivery.md. Exit code 0 when every check passed, else 1.

import { CheckError as SmokeError, envNumber, reportFailure, runAsCommand, sleep } from './cli-support.mjs';

const USAGE = 'usage: node .github/scripts/smoke.mjs <baseUrl>   (e.g. http://127.0.0.1:8080)';

function parseBaseUrl(raw) {
  if (raw === undefined || raw.trim() === '') throw new SmokeError(`missing base URL\n${USAGE}`);
  let url;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new SmokeError(`"${raw}" is not a URL\n${USAGE}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SmokeError(`"${raw}" must be an http:// or https:// URL`);
  }
  // Keeps a stage prefix such as https://host/prod.
  return url.href.replace(/\/+$/, '');
}

// Repeated runs must never collide on the unique ISBN.
export function randomIsbn13() {
  const digits = [9, 7, 8];
  while (digits.length < 12) digits.push(Math.floor(Math.random() * 10));
  const sum = digits.reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 1 : 3), 0);
  digits.push((10 - (sum % 10)) % 10);
  return digits.join('');
}

function describe(response) {
  const trace = response.json?.traceId ? ` traceId=${response.json.traceId}` : '';
  const body = response.text.length > 500 ? `${response.text.slice(0, 500)}…` : response.text;
  return `HTTP ${response.status}${trace}\n  body: ${body || '(empty)'}`;
}

function createClient(baseUrl, { apiKey, timeoutMs }) {
  return async function request(method, path, payload) {
    const headers = { accept: 'application/json' };
    if (apiKey) headers['x-api-key'] = apiKey;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const started = Date.now();
    let res;
    try {
      res = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
    } catch (error) {
      const cause = error?.cause?.code ?? error?.cause?.message ?? error?.name ?? 'error';
      throw new SmokeError(`${method} ${path}: request failed (${cause}): ${error?.message ?? error}`);
    }
    const text = await res.text();
    let json;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { method, path, status: res.status, text, json, ms: Date.now() - started };
  };
}

function expectStatus(response, allowed) {
  const list = Array.isArray(allowed) ? allowed : [allowed];
  if (!list.includes(response.status)) {
    throw new SmokeError(
      `${response.method} ${response.path}: expected ${list.join(' or ')}, got ${describe(response)}`,
    );
  }
}

function expectEnvelope(response, success = true) {
  const body = response.json;
  if (typeof body !== 'object' || body === null || body.success !== success || !('data' in body)) {
    throw new SmokeError(
      `${response.method} ${response.path}: expected an envelope with success=${success}, got ${describe(response)}`,
    );
  }
  return body;
}

function listItems(data) {
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object') {
    for (const key of ['items', 'books', 'results']) if (Array.isArray(data[key])) return data[key];
  }
  return undefined;
}

async function waitForHealth(request, waitMs, log) {
  const deadline = Date.now() + waitMs;
  let last;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const res = await request('GET', '/health');
      if (res.status === 200) {
        expectEnvelope(res);
        log(`✓ GET /health → 200 (${res.ms} ms, attempt ${attempt})`);
        return;
      }
      last = new SmokeError(`GET /health: expected 200, got ${describe(res)}`);
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) throw last;
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
}

// A cold start's first readiness loads the ORM and connects (Aurora may be resuming): retry a 503.
const READY_ATTEMPTS = 3;
async function waitForReady(request, log) {
  for (let attempt = 1; ; attempt += 1) {
    const ready = await request('GET', '/health/ready');
    try {
      expectStatus(ready, 200);
      expectEnvelope(ready);
      log(`✓ GET /health/ready → 200 (${ready.ms} ms, attempt ${attempt})`);
      return;
    } catch (error) {
      if (attempt >= READY_ATTEMPTS) throw error;
      log(`… GET /health/ready → ${ready.status} (attempt ${attempt} of ${READY_ATTEMPTS}), trying again`);
      await sleep(1000);
    }
  }
}

export async function runSmoke(baseUrlArg, env = process.env, log = console.log) {
  const baseUrl = parseBaseUrl(baseUrlArg);
  const readOnly = env.SMOKE_READ_ONLY === '1' || env.SMOKE_READ_ONLY === 'true';
  const waitMs = envNumber(env, 'SMOKE_WAIT_SECONDS', 30) * 1000;
  const timeoutMs = envNumber(env, 'SMOKE_TIMEOUT_MS', 10_000);
  const request = createClient(baseUrl, { apiKey: env.SMOKE_API_KEY, timeoutMs });
  log(`smoke: ${baseUrl}${readOnly ? ' (read-only)' : ''}`);

  await waitForHealth(request, waitMs, log);

  await waitForReady(request, log);

  if (!env.SMOKE_API_KEY) {
    // Deployed stacks require API keys: without one, check the refusal's envelope.
    const refused = await request('GET', '/v1/books?limit=1');
    if (refused.status === 401) {
      expectEnvelope(refused, false);
      log(`✓ GET /v1/books without a key → 401 (${refused.ms} ms); set SMOKE_API_KEY for the round trip`);
      return;
    }
  }

  if (readOnly) {
    const list = await request('GET', '/v1/books?limit=1');
    expectStatus(list, 200);
    if (listItems(expectEnvelope(list).data) === undefined) {
      throw new SmokeError(`GET /v1/books: expected a list in data, got ${describe(list)}`);
    }
    log(`✓ GET /v1/books?limit=1 → 200 (${list.ms} ms)`);
    return;
  }

  const marker = `smoke-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const book = {
    title: `Smoke test ${marker}`,
    author: `Smoke ${marker}`,
    isbn: randomIsbn13(),
    publishedYear: 2024,
  };
  const created = await request('POST', '/v1/books', book);
  expectStatus(created, 201);
  const id = expectEnvelope(created).data?.id;
  if (id === undefined || id === null || id === '') {
    throw new SmokeError(`POST /v1/books: response has no data.id, got ${describe(created)}`);
  }
  log(`✓ POST /v1/books → 201 id=${id} (${created.ms} ms)`);

  let deleted = false;
  const path = `/v1/books/${encodeURIComponent(String(id))}`;
  try {
    const read = await request('GET', path);
    expectStatus(read, 200);
    const readBook = expectEnvelope(read).data;
    if (readBook?.title !== book.title || readBook?.isbn !== book.isbn) {
      throw new SmokeError(`GET ${path}: returned a different book, got ${describe(read)}`);
    }
    log(`✓ GET ${path} → 200 (${read.ms} ms)`);

    const listPath = `/v1/books?limit=10&author=${encodeURIComponent(book.author)}`;
    const list = await request('GET', listPath);
    expectStatus(list, 200);
    const items = listItems(expectEnvelope(list).data);
    if (!items?.some((item) => String(item?.id) === String(id))) {
      throw new SmokeError(`GET ${listPath}: the new book is not listed, got ${describe(list)}`);
    }
    log(`✓ GET ${listPath} → 200, ${items.length} item(s) (${list.ms} ms)`);

    const del = await request('DELETE', path);
    expectStatus(del, [200, 204]);
    deleted = true;
    log(`✓ DELETE ${path} → ${del.status} (${del.ms} ms)`);

    const gone = await request('GET', path);
    expectStatus(gone, 404);
    expectEnvelope(gone, false);
    log(`✓ GET ${path} → 404 after delete (${gone.ms} ms)`);
  } finally {
    // Leave no smoke data behind when a check in the middle failed.
    if (!deleted) await request('DELETE', path).catch(() => undefined);
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  try {
    await runSmoke(args[0]);
    console.log('smoke: all checks passed');
    return 0;
  } catch (error) {
    return reportFailure('smoke', error);
  }
}

await runAsCommand(import.meta.url, main);
