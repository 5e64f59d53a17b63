// `npm run test:image`: builds docker/Dockerfile and runs it as docs/container.md says, as a web server and
// under the real emulator and adapter; builds twice and compares /app. IMAGE_TEST_PLATFORMS adds platforms.
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startTestDatabase } from '../../helpers/database.ts';
import { uniqueIsbn } from '../../helpers/isbn.ts';
import { detectEngine, type Engine } from './engine.ts';
import { httpEvent, invoke, type ProxyResult } from '../../../tools/lambda-invoke.ts';
import { prepareBaseImages } from './parts.ts';
import { bodyBytes, envelope } from './proxy-body.ts';
import { mustRun, runCommand } from '../../../tools/run-command.ts';
import {
  HOST_ARCH,
  prepareEmulator,
  readPins,
  repoRoot,
  type Arch,
  type Provenance,
} from '../../../tools/lambda-toolchain.ts';

// Fresh machines build stand-ins and compile the adapter first: far beyond tap's 30 s default.
t.setTimeout(3_600_000);

// Progress goes to stderr at once (tap holds a parent's comments back while a subtest runs).
const log = (line: string) => {
  process.stderr.write(`# ${line}\n`);
};
const figures: string[] = [];
const provenance: Provenance[] = [];
const QEMU_NAME: Record<Arch, string> = { amd64: 'x86_64', arm64: 'aarch64' };
const ms = (value: number) => `${(value / 1000).toFixed(2)} s`;

async function run(engine: Engine): Promise<void> {
  const pins = await readPins();
  const platforms = (process.env.IMAGE_TEST_PLATFORMS ?? `linux/${HOST_ARCH}`)
    .split(',')
    .map((platform) => platform.trim())
    .filter((platform) => platform !== '');
  const work = await mkdtemp(path.join(tmpdir(), 'image-test-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const context = await snapshotContext(work);
  const db = await startTestDatabase(t, { migrate: false });
  const dbPort = new URL(db.url).port;
  const databaseUrl = (host: string) => {
    const url = new URL(db.url);
    url.hostname = host;
    return url.toString();
  };
  t.comment(`engine: ${engine.name}; platforms: ${platforms.join(', ')}; PostgreSQL on 127.0.0.1:${dbPort}`);

  let first = true;
  for (const platform of platforms) {
    const arch = platform.replace('linux/', '') as Arch;
    const image = `localhost/hapi-lambda-image-test:${arch}`;
    await t.test(`${platform}: build`, async (t) => {
      if (arch !== HOST_ARCH)
        await mustRun('test', ['-e', `/proc/sys/fs/binfmt_misc/qemu-${QEMU_NAME[arch]}`]).catch(() => {
          throw new Error(
            `linux/${arch} needs qemu-user-static and binfmt_misc (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-${QEMU_NAME[arch]})`,
          );
        });
      provenance.push(...(await prepareBaseImages(engine, pins, arch, log)));
      const built = await build(engine, context, platform, image, work);
      figures.push(`${platform}: build ${ms(built.ms)}, image ${(built.bytes / 1e6).toFixed(0)} MB`);
      t.equal(built.arch, arch, 'the image is for the platform asked for');
    });
    await t.test(`${platform}: as a web server (docs/container.md)`, (t) =>
      webServer(t, engine, image, databaseUrl(engine.hostLoopback.host), platform),
    );
    await t.test(`${platform}: as a Lambda function (emulator + adapter)`, async (t) => {
      const emulator = await prepareEmulator(pins, arch, log);
      provenance.push(emulator.provenance);
      await lambdaFunction(t, engine, image, emulator.dir, databaseUrl(engine.hostLoopback.host), platform);
    });
    // Natively only: under emulation a second build costs minutes and proves nothing more.
    if (first && arch === HOST_ARCH) {
      first = false;
      await t.test(`${platform}: two builds of one source give the same /app`, (t) =>
        reproducible(t, engine, context, platform, image, work),
      );
    }
  }
  // A subtest, so that tap prints it before its summary.
  await t.test('what was real, what was a stand-in; figures', async (t) => {
    for (const part of uniqueBy(provenance)) {
      t.comment(`${part.real ? 'REAL    ' : 'STAND-IN'} ${part.part}: ${part.detail}`);
    }
    t.comment(`REAL     PostgreSQL: the embedded server (tools/embedded-postgres.ts) on the host's loopback`);
    t.comment(
      `REAL     ${engine.name === 'docker' ? 'Docker with BuildKit' : 'buildah (build) and podman with runc (run)'}`,
    );
    for (const line of figures) t.comment(line);
    t.ok(provenance.length > 0, 'parts recorded');
  });
}

function uniqueBy(parts: Provenance[]): Provenance[] {
  return [...new Map(parts.map((part) => [`${part.part} ${part.detail}`, part])).values()];
}

/** The files a clone has (tracked and new, not ignored), copied once: every build reads the same source. */
async function snapshotContext(work: string): Promise<string> {
  const context = path.join(work, 'context');
  const listed = await mustRun('git', [
    '-C',
    repoRoot,
    'ls-files',
    '-z',
    '--cached',
    '--others',
    '--exclude-standard',
  ]);
  for (const file of new Set(listed.split('\0').filter((name) => name !== ''))) {
    await mkdir(path.dirname(path.join(context, file)), { recursive: true });
    await cp(path.join(repoRoot, file), path.join(context, file)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // deleted in the work tree, not yet committed
    });
  }
  return context;
}

async function build(
  engine: Engine,
  context: string,
  platform: string,
  image: string,
  work: string,
): Promise<{ ms: number; bytes: number; arch: string }> {
  const started = performance.now();
  await mustRun(
    engine.buildCommand[0] ?? '',
    [
      ...engine.buildCommand.slice(1),
      '--platform',
      platform,
      '--build-arg',
      `PLATFORM=${platform}`,
      ...(await trustForBuild(engine, work)),
      '-f',
      path.join(context, 'docker/Dockerfile'),
      '-t',
      image,
      context,
    ],
    {
      timeoutMs: 2_400_000,
      // The steps only: the whole output is in the error if the build fails.
      log: (line) => {
        if (/STEP \d|^Built |COMMIT/.test(line)) log(`  build: ${line}`);
      },
    },
  );
  const elapsed = performance.now() - started;
  const [arch = '', size = '0'] = (
    await mustRun(engine.cli, ['image', 'inspect', '--format', '{{.Architecture}} {{.Size}}', image])
  )
    .trim()
    .split(' ');
  return { ms: elapsed, bytes: Number(size), arch };
}

/**
 * Where this machine intercepts TLS (NODE_EXTRA_CA_CERTS names the extra CA), npm inside the build needs
 * that CA: buildah mounts it for the RUN steps only (never into a layer), over the empty /usr/local/etc
 * where npm looks for its global npmrc. BuildKit has no such mount: Docker machines need no extra CA.
 */
async function trustForBuild(engine: Engine, work: string): Promise<string[]> {
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (engine.name !== 'podman' || extra === undefined) return [];
  const dir = path.join(work, 'build-trust');
  await mkdir(dir, { recursive: true });
  await cp(extra, path.join(dir, 'host-ca.pem'));
  await writeFile(path.join(dir, 'npmrc'), 'cafile=/usr/local/etc/host-ca.pem\n');
  return ['--volume', `${dir}:/usr/local/etc:ro`];
}

async function freePort(): Promise<number> {
  const { freePort } = await import('../../../tools/free-port.ts');
  return freePort();
}

function publish(engine: Engine, hostPort: number, containerPort: number): { flags: string[]; port: number } {
  return engine.hostLoopback.publish
    ? { flags: ['-p', `127.0.0.1:${String(hostPort)}:${String(containerPort)}`], port: hostPort }
    : { flags: [], port: containerPort };
}

async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const result = await attempt();
      if (result !== undefined) return result;
    } catch {
      // not yet
    }
    if (performance.now() > deadline) throw new Error(`${what}: nothing within ${String(timeoutMs)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function logsOf(engine: Engine, name: string): Promise<string> {
  const ran = await runCommand(engine.cli, ['logs', name]);
  return ran.stdout + ran.stderr;
}

async function webServer(
  t: Test,
  engine: Engine,
  image: string,
  databaseUrl: string,
  platform: string,
): Promise<void> {
  const common = [...engine.runFlags, ...engine.hostLoopback.flags];
  // docs/container.md: "apply migrations with the same image".
  const migrate = await runCommand(engine.cli, [
    'run',
    '--rm',
    ...common,
    '-e',
    `DATABASE_URL=${databaseUrl}`,
    image,
    'node',
    'main.mjs',
    'migrate',
  ]);
  t.equal(migrate.code, 0, '`node main.mjs migrate` exits 0');
  t.match(migrate.stdout, /applied \d+ migration\(s\)/, 'and says what it applied');
  t.notMatch(migrate.stdout, /server (started|stopped)/, 'without a server it never started');

  const name = `hapi-lambda-image-test-web-${String(process.pid)}`;
  const { flags, port } = publish(engine, await freePort(), 8080);
  const base = `http://127.0.0.1:${String(port)}`;
  const started = performance.now();
  // docs/container.md: docker run --rm -p 8080:8080 -e DATABASE_URL=… hapi-lambda (no --rm: the exit code is read).
  await mustRun(engine.cli, [
    'run',
    '-d',
    '--name',
    name,
    ...common,
    ...flags,
    '-e',
    `DATABASE_URL=${databaseUrl}`,
    image,
  ]);
  t.teardown(() => runCommand(engine.cli, ['rm', '-f', name]));
  const health = await until('GET /health', 60_000, async () => {
    const response = await fetch(`${base}/health`);
    return response.status === 200 ? response : undefined;
  });
  const firstAnswer = performance.now() - started;
  const books = await until('GET /v1/books', 60_000, async () => {
    const response = await fetch(`${base}/v1/books?limit=1`);
    return response.status === 200 ? response : undefined;
  });
  const firstDbAnswer = performance.now() - started;
  figures.push(
    `${platform}: web server, \`${engine.cli} run\` → first /health ${ms(firstAnswer)}, → first database answer ${ms(firstDbAnswer)}`,
  );
  t.equal(health.status, 200, 'liveness');
  t.equal(books.status, 200, 'a database-backed read');

  const ready = await fetch(`${base}/health/ready`);
  t.equal(ready.status, 200, 'readiness checks the database');

  // The README's first requests.
  const isbn = uniqueIsbn();
  const created = await fetch(`${base}/v1/books`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      title: 'Structure and Interpretation of Computer Programs',
      author: 'Harold Abelson',
      isbn,
      publishedYear: 1996,
    }),
  });
  t.equal(created.status, 201, 'POST /v1/books creates');
  const listed = (await (
    await fetch(`${base}/v1/books?author=abelson&sort=-publishedYear&limit=10`)
  ).json()) as {
    success: boolean;
    data: { items: { isbn: string }[] };
  };
  t.ok(listed.success && listed.data.items.some((book) => book.isbn === isbn), 'the README query finds it');

  const bad = await fetch(`${base}/v1/books/not-a-uuid`);
  const badBody = (await bad.json()) as { success: boolean; code?: number; traceId?: string };
  t.equal(bad.status, 400, 'a bad id is a 400');
  t.match(badBody, { success: false, code: Number, traceId: String }, 'in the error envelope');

  const status = await mustRun(engine.cli, ['exec', name, 'cat', '/proc/1/status']);
  t.match(status, /^Uid:\s+1000\s/m, 'the server runs as node (uid 1000)');
  const cmdline = (await mustRun(engine.cli, ['exec', name, 'cat', '/proc/1/cmdline']))
    .split('\0')
    .join(' ')
    .trim()
    // Under qemu's binfmt handler (flag P) the interpreter and the binary's path come first.
    .replace(/^\S*qemu\S* \S+ /, '');
  t.equal(cmdline, 'node --snapshot-blob /app/snapshot.blob', 'PID 1 is node, started from the snapshot');

  await mustRun(engine.cli, ['stop', '-t', '10', name]);
  const exitCode = (await mustRun(engine.cli, ['inspect', '--format', '{{.State.ExitCode}}', name])).trim();
  const output = await logsOf(engine, name);
  t.equal(exitCode, '0', 'SIGTERM: exit code 0');
  t.match(output, /shutting down/, 'after draining');
  t.notMatch(output, /Failed to load the startup snapshot/, 'the blob loaded');
}

/** What Lambda sets in a function's environment (besides what the emulator adds: AWS_LAMBDA_RUNTIME_API, …). */
const LAMBDA_ENVIRONMENT = {
  AWS_REGION: 'eu-west-1',
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_EXECUTION_ENV: 'AWS_Lambda_Image',
  AWS_LAMBDA_FUNCTION_NAME: 'hapi-lambda-image-test',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/hapi-lambda-image-test',
  AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef',
  AWS_LAMBDA_LOG_FORMAT: 'JSON',
  AWS_ACCESS_KEY_ID: 'AKIAIMAGETESTONLY000',
  AWS_SECRET_ACCESS_KEY: 'image-test-not-a-secret',
  AWS_SESSION_TOKEN: 'image-test-not-a-token',
  LAMBDA_TASK_ROOT: '/var/task',
  LAMBDA_RUNTIME_DIR: '/var/runtime',
  LANG: 'en_US.UTF-8',
  TZ: ':UTC',
  // What the Pulumi program sets (infrastructure/index.ts), with API keys off: this test is not about keys.
  APP_ENV: 'dev',
  LOG_LEVEL: 'info',
  API_KEYS_REQUIRED: '0',
};

/** Lambda's largest synchronous request payload, 6 MB. */
const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
/** A PNG header and some bytes no text encoding keeps (NUL, 0xFF, invalid UTF-8). */
const COVER = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
  Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256)),
]);

async function lambdaFunction(
  t: Test,
  engine: Engine,
  image: string,
  rieDir: string,
  databaseUrl: string,
  platform: string,
): Promise<void> {
  const command = JSON.parse(
    await mustRun(engine.cli, ['image', 'inspect', '--format', '{{json .Config.Cmd}}', image]),
  ) as string[];
  const name = `hapi-lambda-image-test-fn-${String(process.pid)}`;
  const { flags, port } = publish(engine, await freePort(), 9000);
  const url = `http://127.0.0.1:${String(port)}/2015-03-31/functions/function/invocations`;
  const environment = Object.entries({ ...LAMBDA_ENVIRONMENT, DATABASE_URL: databaseUrl }).flatMap(
    ([key, value]) => ['-e', `${key}=${value}`],
  );
  const started = performance.now();
  // As Lambda starts an image: a read-only root but /tmp, a user of its own, the emulator as the Runtime
  // API, which starts /opt/extensions/* (the adapter) and then the image's command.
  await mustRun(engine.cli, [
    'run',
    '-d',
    '--name',
    name,
    ...engine.runFlags,
    ...engine.hostLoopback.flags,
    ...flags,
    '--read-only',
    '--tmpfs',
    '/tmp:rw,size=512m',
    '--user',
    '993:990',
    ...environment,
    '-v',
    `${rieDir}:/aws-lambda:ro`,
    '--entrypoint',
    '/aws-lambda/aws-lambda-rie',
    image,
    '--runtime-interface-emulator-address',
    '0.0.0.0:9000',
    ...command,
  ]);
  t.teardown(() => runCommand(engine.cli, ['rm', '-f', name]));
  const call = async (payload: unknown) => {
    const result = await invoke(url, payload, 120_000);
    return { ...result, proxy: result.json as ProxyResult };
  };
  const first = await until('the first invocation', 120_000, () =>
    call(httpEvent({ method: 'GET', path: '/health' }).event),
  );
  const firstAnswer = performance.now() - started;
  const firstDb = await call(httpEvent({ method: 'GET', path: '/v1/books', query: 'limit=1' }).event);
  const firstDbAnswer = performance.now() - started;
  figures.push(
    `${platform}: Lambda function, \`${engine.cli} run\` → first invocation answered ${ms(firstAnswer)}, → first database answer ${ms(firstDbAnswer)} (cold start inside the emulator; no timed asserts)`,
  );
  t.equal(first.proxy.statusCode, 200, 'GET /health through the adapter');
  t.equal(firstDb.proxy.statusCode, 200, 'a database-backed read through the adapter');

  await t.test('JSON and base64 bodies; the trace id is the API Gateway request id', async (t) => {
    const book = (isbn: string) =>
      JSON.stringify({
        title: 'The Art of Computer Programming',
        author: 'Donald Knuth',
        isbn,
        publishedYear: 1968,
      });
    const json = httpEvent({
      method: 'POST',
      path: '/v1/books',
      headers: { 'content-type': 'application/json' },
      body: book(uniqueIsbn()),
    });
    const created = await call(json.event);
    t.equal(created.proxy.statusCode, 201);
    t.equal(envelope(created.proxy).traceId, json.requestId);
    t.not(created.proxy.isBase64Encoded, true, 'JSON is never base64');
    const base64 = await call(
      httpEvent({
        method: 'POST',
        path: '/v1/books',
        headers: { 'content-type': 'application/json' },
        body: book(uniqueIsbn()),
        base64: true,
      }).event,
    );
    t.equal(base64.proxy.statusCode, 201, 'a base64-encoded JSON body');
  });

  await t.test('a cover round trip: binary in, binary out, byte for byte', async (t) => {
    const created = await call(
      httpEvent({
        method: 'POST',
        path: '/v1/books',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Covers', author: 'Binary', isbn: uniqueIsbn(), publishedYear: 2001 }),
      }).event,
    );
    const id = (envelope(created.proxy).data as { id: string }).id;
    const put = await call(
      httpEvent({
        method: 'PUT',
        path: `/v1/books/${id}/cover`,
        headers: { 'content-type': 'image/png' },
        body: COVER,
      }).event,
    );
    t.equal(put.proxy.statusCode, 200, envelope(put.proxy).message ?? '');
    const got = await call(
      httpEvent({ method: 'GET', path: `/v1/books/${id}/cover`, headers: { accept: 'image/png' } }).event,
    );
    t.equal(got.proxy.statusCode, 200);
    t.equal(got.proxy.isBase64Encoded, true, 'a binary response comes back base64');
    t.equal(got.proxy.headers?.['content-type'], 'image/png');
    t.ok(bodyBytes(got.proxy).equals(COVER), 'the same bytes');
  });

  await t.test('cookies and repeated query keys reach the server; the answer is an envelope', async (t) => {
    const listed = await call(
      httpEvent({
        method: 'GET',
        path: '/v1/books',
        query: 'author=knuth&author=abelson&limit=2',
        cookies: ['a=1', 'b=2', 'session=x'],
      }).event,
    );
    t.ok(listed.proxy.statusCode < 500, `status ${String(listed.proxy.statusCode)}`);
    t.type(envelope(listed.proxy).success, 'boolean');
    t.comment(
      `repeated author= keys: ${String(listed.proxy.statusCode)} ${envelope(listed.proxy).message ?? ''}`,
    );
    // The service sets no cookies, so several Set-Cookie headers in one answer cannot be produced here.
    t.notOk(listed.proxy.cookies?.length, 'no Set-Cookie from the service');
  });

  await t.test('a body near the 6 MB synchronous limit gets a clear envelope', async (t) => {
    const probe = httpEvent({
      method: 'POST',
      path: '/v1/books',
      headers: { 'content-type': 'application/json' },
      body: '',
    });
    const room = SYNC_PAYLOAD_LIMIT - JSON.stringify(probe.event).length - 1024;
    const big = httpEvent({
      method: 'POST',
      path: '/v1/books',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'x'.repeat(room - 100),
        author: 'Big',
        isbn: uniqueIsbn(),
        publishedYear: 2000,
      }),
    });
    t.ok(JSON.stringify(big.event).length < SYNC_PAYLOAD_LIMIT, 'the event itself fits');
    const result = await call(big.event);
    t.equal(result.status, 200, 'the invocation succeeded');
    t.equal(result.proxy.statusCode, 413);
    t.match(envelope(result.proxy), { success: false, code: Number, traceId: big.requestId });
  });

  await t.test('pass-through events: migrate, the schedule, an unknown event', async (t) => {
    const migrate = await call({ action: 'migrate' });
    t.equal(migrate.functionError, null, 'migrate succeeds');
    t.match(migrate.json, { success: true }, migrate.text.slice(0, 300));
    const schedule = await call({
      version: '0',
      id: 'image-test',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: new Date().toISOString(),
      region: 'eu-west-1',
      resources: [],
      detail: {},
    });
    t.equal(schedule.functionError, null, 'the schedule succeeds');
    t.match(schedule.json, { success: true }, schedule.text.slice(0, 300));
    const unknown = await call({ hello: 'world' });
    t.not(unknown.functionError, null, 'an unknown event is a function error');
    t.match(unknown.json, { errorMessage: /599/ }, unknown.text.slice(0, 300));
  });

  const output = await logsOf(engine, name);
  t.match(output, /lambda-adapter|EXTENSION|extension/i, 'the emulator started the adapter extension');
  t.notMatch(output, /EROFS|read-only file system/, 'nothing wrote outside /tmp');
}

async function appDigests(engine: Engine, image: string, work: string): Promise<Record<string, string>> {
  const container = (await mustRun(engine.cli, ['create', image])).trim();
  const dir = await mkdtemp(path.join(work, 'app-'));
  try {
    await mustRun(engine.cli, ['cp', `${container}:/app`, dir]);
  } finally {
    await runCommand(engine.cli, ['rm', '-f', container]);
  }
  const root = path.join(dir, 'app');
  const files = (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
  const result: Record<string, string> = {};
  for (const file of files)
    result[file] = createHash('sha256')
      .update(await readFile(path.join(root, file)))
      .digest('hex');
  return result;
}

/** The blob and the compile cache hold V8 heap state; docs/container.md says why they may differ. */
const V8_STATE = /^(snapshot\.blob|compile-cache\/)/;

async function reproducible(
  t: Test,
  engine: Engine,
  context: string,
  platform: string,
  image: string,
  work: string,
): Promise<void> {
  const again = `${image}-again`;
  const built = await build(engine, context, platform, again, work);
  figures.push(`${platform}: second build (no layer cache) ${ms(built.ms)}`);
  const [a, b] = await Promise.all([appDigests(engine, image, work), appDigests(engine, again, work)]);
  const pick = (digests: Record<string, string>, v8: boolean) =>
    Object.fromEntries(Object.entries(digests).filter(([file]) => V8_STATE.test(file) === v8));
  t.same(pick(b, false), pick(a, false), 'bundle, chunks, snapshot sources and settings: byte-identical');
  const v8a = pick(a, true);
  const v8b = pick(b, true);
  const differing = Object.keys({ ...v8a, ...v8b }).filter((file) => v8a[file] !== v8b[file]);
  t.same(Object.keys(v8b).sort(), Object.keys(v8a).sort(), 'the same V8 state files');
  figures.push(
    `${platform}: V8 state differing between the two builds (docs/container.md says why): snapshot.blob ${
      differing.includes('snapshot.blob') ? 'differs' : 'identical'
    }, ${String(differing.filter((file) => file !== 'snapshot.blob').length)} of ${String(
      Object.keys(v8a).length - 1,
    )} compile-cache files differ`,
  );
  await runCommand(engine.cli, ['rmi', again]);
}

const engine = await detectEngine();
if (typeof engine === 'string') {
  // CI must build the image; a developer without an engine gets a clear skip.
  if (process.env.CI === 'true') t.fail(`CI=true and no container engine: ${engine}`);
  else t.plan(0, `skipped: ${engine} (install Docker with buildx, or buildah and podman)`);
} else {
  await run(engine);
}
