#!/usr/bin/env node
// Invokes a function (e.g. through the Runtime Interface Emulator) with an HTTP API v2 event
// and checks statusCode and envelope (INVOKE_* below). Exit code 0 or 1.
import { readFile } from 'node:fs/promises';
import { CheckError as InvokeError, envNumber, reportFailure, runAsCommand, sleep } from './cli-support.mjs';

const USAGE =
  'usage: node .github/scripts/lambda-invoke.mjs <invokeUrl> <eventFile>\n' +
  '  e.g. http://127.0.0.1:9000/2015-03-31/functions/function/invocations .github/events/http-api-v2.json';

async function invoke(url, event, waitMs, timeoutMs) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: res.status, text: await res.text() };
    } catch (error) {
      // Only "nobody is listening yet" is worth retrying; a timeout means the function itself hung.
      const code = error?.cause?.code;
      const retriable = code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET';
      if (!retriable || Date.now() >= deadline) {
        throw new InvokeError(
          `POST ${url} failed (${code ?? error?.name ?? 'error'}): ${error?.message ?? error}`,
        );
      }
      await sleep(500);
    }
  }
}

export function check(response, expectStatus) {
  const shown = response.text.length > 1000 ? `${response.text.slice(0, 1000)}…` : response.text;
  if (response.status !== 200) {
    throw new InvokeError(`the invoke endpoint answered HTTP ${response.status}: ${shown}`);
  }
  let result;
  try {
    result = JSON.parse(response.text);
  } catch {
    throw new InvokeError(`the invocation result is not JSON: ${shown}`);
  }
  if (typeof result !== 'object' || result === null) throw new InvokeError(`unexpected result: ${shown}`);
  if (typeof result.errorMessage === 'string' || typeof result.errorType === 'string') {
    throw new InvokeError(`the function failed: ${shown}`);
  }
  if (result.statusCode !== expectStatus) {
    throw new InvokeError(`expected statusCode ${expectStatus}, got ${String(result.statusCode)}: ${shown}`);
  }
  const rawBody = result.isBase64Encoded
    ? Buffer.from(result.body ?? '', 'base64').toString('utf8')
    : result.body;
  let body;
  try {
    body = typeof rawBody === 'string' ? JSON.parse(rawBody) : rawBody;
  } catch {
    throw new InvokeError(`the response body is not JSON: ${shown}`);
  }
  const expectSuccess = expectStatus < 400;
  if (typeof body !== 'object' || body === null || body.success !== expectSuccess || !('traceId' in body)) {
    throw new InvokeError(`expected an envelope with success=${expectSuccess} and a traceId, got: ${shown}`);
  }
  return { result, body };
}

async function main() {
  const [url, eventFile] = process.argv.slice(2);
  if (url === '--help' || url === '-h') {
    console.log(USAGE);
    return 0;
  }
  try {
    if (!url || !eventFile) throw new InvokeError(`missing arguments\n${USAGE}`);
    let event;
    try {
      event = JSON.parse(await readFile(eventFile, 'utf8'));
    } catch (error) {
      throw new InvokeError(`cannot read event ${eventFile}: ${error?.message ?? error}`);
    }
    const expectStatus = envNumber(process.env, 'INVOKE_EXPECT_STATUS', 200);
    const response = await invoke(
      url,
      event,
      envNumber(process.env, 'INVOKE_WAIT_SECONDS', 60) * 1000,
      envNumber(process.env, 'INVOKE_TIMEOUT_MS', 60_000),
    );
    const { result, body } = check(response, expectStatus);
    const method = event?.requestContext?.http?.method ?? '?';
    console.log(
      `invoke: ${method} ${event?.rawPath ?? '?'} → statusCode ${result.statusCode}, traceId ${body.traceId}`,
    );
    console.log(JSON.stringify(body));
    return 0;
  } catch (error) {
    return reportFailure('invoke', error);
  }
}

await runAsCommand(import.meta.url, main);
