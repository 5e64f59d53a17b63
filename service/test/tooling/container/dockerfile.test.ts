// Static checks of the image (docker/Dockerfile), the compose stack and .dockerignore: the rules in
// dockerfile-rules.ts on the real files and on broken copies (`npm run test:image` builds and runs it).
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import t from 'tap';
import { INVOCATION_ERROR_STATUS } from '../../../src/errors/error-codes.ts';
import { LIVENESS_PATH } from '../../../src/plugins/health.ts';
import { EVENTS_PATH } from '../../../src/plugins/lambda-events.ts';
import {
  checkCompose,
  checkDockerfile,
  checkDockerignore,
  contextSources,
  dockerignoreMatcher,
  expand,
  imagePinProblem,
  type ImageRules,
} from './dockerfile-rules.ts';
import { buildServer } from '../../helpers/server.ts';

const root = new URL('../../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const dockerfile = read('docker/Dockerfile');
const compose = read('docker/compose.yaml');
const dockerignore = read('.dockerignore');

const rules: ImageRules = {
  adapterImage: 'public.ecr.aws/awsguru/aws-lambda-adapter',
  adapterVersion: '1.0.1',
  readinessPath: LIVENESS_PATH,
  passThroughPath: EVENTS_PATH,
  invocationErrorStatus: INVOCATION_ERROR_STATUS,
  platformArg: 'PLATFORM',
  defaultPlatform: 'linux/arm64',
  port: '8080',
};

/** Replaces one exact piece of a file; fails loudly if the piece is gone (the mutation would test nothing). */
function mutate(content: string, from: string, to: string): string {
  if (!content.includes(from)) throw new Error(`mutation target not found: ${from}`);
  return content.replace(from, to);
}

void t.test('the Dockerfile passes every rule and the linter', async (t) => {
  t.same(checkDockerfile(dockerfile, rules), []);
});

void t.test('the adapter readiness and pass-through paths are real service routes', async (t) => {
  // LWA counts any status from 100 to 499 as ready, a 404 included: the path must be a route that
  // answers 200 with no database at all (here: nothing listens at the URL).
  const app = await buildServer(t, { DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused' });
  const routes = app.server.table().map((route) => `${route.method} ${route.path}`);
  t.ok(routes.includes(`get ${LIVENESS_PATH}`), `GET ${LIVENESS_PATH} is a route`);
  t.equal((await app.inject(LIVENESS_PATH)).statusCode, 200, 'and answers 200 without a database');
  t.ok(routes.includes(`post ${EVENTS_PATH}`), `POST ${EVENTS_PATH} is the events route (inside Lambda)`);
  t.not(EVENTS_PATH, LIVENESS_PATH);
  t.match(dockerfile, `AWS_LWA_READINESS_CHECK_PATH=${LIVENESS_PATH} `);
  t.match(dockerfile, `AWS_LWA_PASS_THROUGH_PATH=${EVENTS_PATH} `);
});

// What the adapter does with a response's status (awslabs/aws-lambda-web-adapter, src/lib.rs,
// `fetch_response`, https://github.com/awslabs/aws-lambda-web-adapter/blob/main/src/lib.rs), for every
// forwarded request, HTTP or pass-through alike:
//   if let Some(error_codes) = &self.error_status_codes {
//       let status = app_response.status().as_u16();
//       if error_codes.contains(&status) { … return Err(Error::from(format!(
//           "{{\"statusCode\":{},\"body\":{}}}", status, serde_json::to_string(&*body_str) …
// and otherwise hands the response to lambda_http, which keeps only the body of a pass-through answer
// (awslabs/aws-lambda-rust-runtime, lambda-http/src/response.rs):
//   RequestOrigin::PassThrough => … LambdaResponse::PassThrough(serde_json::from_str(&body).unwrap_or_default())
// So the listed statuses are the only way a failed event becomes an invocation error (its envelope kept
// in the error message), and any HTTP status listed there loses its envelope to API Gateway's bare 500.
void t.test('the adapter turns exactly the event failure status into invocation errors', async (t) => {
  t.notOk(INVOCATION_ERROR_STATUS in STATUS_CODES, 'a status HTTP does not define (no route sends it)');
  t.match(dockerfile, `AWS_LWA_ERROR_STATUS_CODES=${INVOCATION_ERROR_STATUS}\n`);
});

void t.test('each broken Dockerfile is caught by the rule it breaks', async (t) => {
  const cases: { name: string; content: string; problem: RegExp }[] = [
    {
      name: 'adapter on latest',
      content: mutate(dockerfile, 'aws-lambda-adapter:1.0.1', 'aws-lambda-adapter:latest'),
      problem: /adapter is .*:latest, not pinned/,
    },
    {
      name: 'adapter on another version',
      content: mutate(dockerfile, 'aws-lambda-adapter:1.0.1', 'aws-lambda-adapter:0.9.1'),
      problem: /not pinned to public\.ecr\.aws\/awsguru\/aws-lambda-adapter:1\.0\.1/,
    },
    {
      name: 'adapter not copied',
      content: mutate(
        dockerfile,
        'COPY --from=public.ecr.aws/awsguru/aws-lambda-adapter:1.0.1 /lambda-adapter /opt/extensions/lambda-adapter\n',
        '',
      ),
      problem: /copy the adapter once/,
    },
    {
      name: 'adapter in the wrong folder',
      content: mutate(dockerfile, '/opt/extensions/lambda-adapter', '/opt/lambda-adapter'),
      problem: /\/opt\/extensions\/lambda-adapter/,
    },
    {
      name: 'runtime base on latest',
      content: mutate(dockerfile, 'node:24.21.0-bookworm-slim AS runtime', 'node:latest AS runtime'),
      problem: /FROM node:latest uses the latest tag/,
    },
    {
      name: 'runtime base without a tag',
      content: mutate(dockerfile, 'node:24.21.0-bookworm-slim AS runtime', 'node AS runtime'),
      problem: /FROM node has no tag/,
    },
    {
      name: 'build base on a moving major tag',
      content: mutate(dockerfile, 'node:24.21.0-bookworm-slim AS build', 'node:24-bookworm-slim AS build'),
      problem: /not pinned to a version/,
    },
    {
      name: 'runs as root',
      content: mutate(dockerfile, 'USER node', 'USER root'),
      problem: /runs as root/,
    },
    {
      name: 'no USER',
      content: mutate(dockerfile, 'USER node\n', ''),
      problem: /no USER/,
    },
    {
      name: 'readiness on the database-backed route',
      content: mutate(
        dockerfile,
        `AWS_LWA_READINESS_CHECK_PATH=${LIVENESS_PATH} `,
        'AWS_LWA_READINESS_CHECK_PATH=/health/ready ',
      ),
      problem: /AWS_LWA_READINESS_CHECK_PATH is \/health\/ready/,
    },
    {
      name: 'readiness left at the adapter default',
      content: mutate(dockerfile, `AWS_LWA_READINESS_CHECK_PATH=${LIVENESS_PATH} \\\n`, ''),
      problem: /AWS_LWA_READINESS_CHECK_PATH is not set/,
    },
    {
      name: '404 counted as ready',
      content: mutate(dockerfile, 'HEALTHY_STATUS=200-299', 'HEALTHY_STATUS=100-499'),
      problem: /counts 404 as ready/,
    },
    {
      name: 'pass-through at the public default',
      content: mutate(
        dockerfile,
        `AWS_LWA_PASS_THROUGH_PATH=${EVENTS_PATH}`,
        'AWS_LWA_PASS_THROUGH_PATH=/events',
      ),
      problem: /AWS_LWA_PASS_THROUGH_PATH is \/events/,
    },
    {
      name: 'failed events reported as successes',
      content: mutate(dockerfile, `AWS_LWA_ERROR_STATUS_CODES=${INVOCATION_ERROR_STATUS}`, 'X_UNUSED=1'),
      problem: /AWS_LWA_ERROR_STATUS_CODES is not set/,
    },
    {
      name: 'every HTTP 500 an invocation error',
      content: mutate(
        dockerfile,
        `AWS_LWA_ERROR_STATUS_CODES=${INVOCATION_ERROR_STATUS}`,
        'AWS_LWA_ERROR_STATUS_CODES=500',
      ),
      problem: /does not list 599/,
    },
    {
      name: 'HTTP statuses listed next to the event status',
      content: mutate(
        dockerfile,
        `AWS_LWA_ERROR_STATUS_CODES=${INVOCATION_ERROR_STATUS}`,
        'AWS_LWA_ERROR_STATUS_CODES=500-599',
      ),
      problem: /lists 500, 501, 502, 503, 504, …: HTTP responses/,
    },
    {
      name: 'another port',
      content: mutate(dockerfile, 'PORT=8080', 'PORT=3000'),
      problem: /ENV PORT is 3000/,
    },
    {
      name: 'HOST set for the adapter to pick up',
      content: mutate(dockerfile, 'PORT=8080 \\', 'PORT=8080 \\\n    HOST=0.0.0.0 \\'),
      problem: /ENV HOST should not be set/,
    },
    {
      name: 'x86_64 by default',
      content: mutate(dockerfile, 'ARG PLATFORM=linux/arm64', 'ARG PLATFORM=linux/amd64'),
      problem: /runtime platform defaults to linux\/amd64/,
    },
    {
      name: 'runtime platform not chosen',
      content: mutate(dockerfile, 'FROM --platform=${PLATFORM:-$TARGETPLATFORM} ', 'FROM '),
      problem: /no --platform/,
    },
    {
      name: 'platform arg cannot be emptied for local builds',
      content: mutate(dockerfile, '${PLATFORM:-$TARGETPLATFORM}', '${PLATFORM}'),
      problem: /empty PLATFORM should follow the target platform/,
    },
    {
      name: 'build stage emulated',
      content: mutate(dockerfile, 'FROM --platform=$BUILDPLATFORM ', 'FROM '),
      problem: /build stage should run on \$BUILDPLATFORM/,
    },
    {
      name: 'every workspace installed',
      content: mutate(dockerfile, 'npm ci --workspace service --include-workspace-root=false', 'npm ci'),
      problem: /service workspace only/,
    },
    {
      name: 'node_modules shipped',
      content: mutate(
        dockerfile,
        'COPY docker/compile-cache.mjs ./',
        'COPY --from=build /src/node_modules ./node_modules',
      ),
      problem: /copies node_modules/,
    },
    {
      name: 'shell-form CMD',
      content: mutate(
        dockerfile,
        'CMD ["node", "--snapshot-blob", "/app/snapshot.blob"]',
        'CMD node main.mjs',
      ),
      problem: /exec form/,
    },
    {
      name: 'snapshot blob copied from the build stage',
      content: mutate(
        dockerfile,
        'COPY docker/compile-cache.mjs ./',
        'COPY docker/compile-cache.mjs ./\nCOPY --from=build /src/service/snapshot.blob ./',
      ),
      problem: /built by the runtime stage's own node, not copied/,
    },
    {
      name: 'snapshot never built',
      content: mutate(
        dockerfile,
        'RUN node --snapshot-blob snapshot.blob --build-snapshot-config snapshot.json \\\n    && test -s snapshot.blob',
        'RUN true',
      ),
      problem: /no RUN in the runtime stage builds \/app\/snapshot\.blob/,
    },
    {
      name: 'snapshot with the code cache (tied to the build CPU)',
      content: mutate(dockerfile, '--build-snapshot-config snapshot.json', '--build-snapshot snapshot.cjs'),
      problem: /--build-snapshot-config/,
    },
    {
      name: 'not a port (linter)',
      content: mutate(dockerfile, 'EXPOSE 8080', 'EXPOSE 8080/xyz'),
      problem: /^lint, line \d+/,
    },
  ];
  for (const { name, content, problem } of cases) {
    const problems = checkDockerfile(content, rules);
    t.ok(
      problems.some((p) => problem.test(p)),
      name,
      { problems, expected: problem },
    );
  }
});

void t.test('a Dockerfile that breaks everything at once', async (t) => {
  const bad = [
    'FROM node:latest',
    'COPY --from=public.ecr.aws/awsguru/aws-lambda-adapter:latest /lambda-adapter /opt/extensions/lambda-adapter',
    'ENV AWS_LWA_READINESS_CHECK_PATH=/health/ready',
    'USER root',
    'CMD node main.mjs',
    '',
  ].join('\n');
  const problems = checkDockerfile(bad, rules);
  t.same(problems, ['not a multi-stage build (a build stage, then the runtime stage)']);

  const twoStages = `FROM node:latest AS build\nRUN npm ci\n${bad}`;
  const all = checkDockerfile(twoStages, rules).join('\n');
  for (const expected of [
    /FROM node:latest uses the latest tag/,
    /adapter is .*:latest/,
    /COPY --from=public\.ecr\.aws\/awsguru\/aws-lambda-adapter:latest uses the latest tag/,
    /runs as root/,
    /AWS_LWA_READINESS_CHECK_PATH is \/health\/ready/,
    /AWS_LWA_PASS_THROUGH_PATH is not set/,
    /ENV PORT is not set/,
    /no --platform/,
    /build stage should run on \$BUILDPLATFORM/,
    /service workspace only/,
    /does not EXPOSE 8080/,
    /exec form/,
  ]) {
    t.match(all, expected);
  }
});

void t.test('variable expansion follows BuildKit', async (t) => {
  const vars = { A: 'a', EMPTY: '', T: 'target' };
  t.equal(expand('$A/${A}', vars), 'a/a');
  t.equal(expand('${EMPTY:-$T}', vars), 'target');
  t.equal(expand('${A:-$T}', vars), 'a');
  t.equal(expand('${UNSET:-x}', vars), 'x');
  t.equal(expand('${A:+on}${EMPTY:+off}', vars), 'on');
  t.equal(expand('cost $ 5', vars), 'cost $ 5');
  t.throws(() => expand('${A%%x}', vars));
});

void t.test('image pins', async (t) => {
  t.equal(imagePinProblem('node:24.21.0-bookworm-slim'), null);
  t.equal(imagePinProblem('postgres:18.4-alpine'), null);
  t.equal(imagePinProblem('localhost:5000/x:1.2.3'), null);
  t.equal(imagePinProblem(`node@sha256:${'a'.repeat(64)}`), null);
  t.match(imagePinProblem('localhost:5000/x'), /no tag/);
  t.match(imagePinProblem('node:lts'), /not pinned/);
  t.match(imagePinProblem('node:24'), /not pinned/);
});

void t.test('compose: postgres, then migrations, then the API', async (t) => {
  t.same(checkCompose(compose, 'docker/Dockerfile'), []);

  const cases: { name: string; content: string; problem: RegExp }[] = [
    {
      name: 'api does not wait for migrations',
      content: mutate(compose, 'condition: service_completed_successfully', 'condition: service_started'),
      problem: /after migrate completed successfully/,
    },
    {
      name: 'migrate does not wait for a healthy database',
      content: mutate(
        compose,
        'postgres:\n        condition: service_healthy\n\n  api',
        'postgres:\n        condition: service_started\n\n  api',
      ),
      problem: /migrate should wait for postgres/,
    },
    {
      name: 'postgres on a moving tag',
      content: mutate(compose, 'image: postgres:18.4-alpine', 'image: postgres:alpine'),
      problem: /postgres: postgres:alpine is not pinned/,
    },
    {
      name: 'database on the host',
      content: mutate(compose, '@postgres:5432/', '@localhost:5432/'),
      problem: /DATABASE_URL should point at the postgres service/,
    },
    {
      name: 'always arm64, even on x86 laptops',
      content: mutate(compose, 'PLATFORM: ${PLATFORM:-}', 'PLATFORM: linux/arm64'),
      problem: /host's platform/,
    },
    {
      name: 'no postgres healthcheck',
      content: mutate(
        compose,
        "test: ['CMD-SHELL', 'pg_isready --username=app --dbname=app']",
        'disable: true',
      ),
      problem: /postgres has no healthcheck/,
    },
    { name: 'not YAML', content: 'services: [', problem: /does not parse/ },
  ];
  for (const { name, content, problem } of cases) {
    const problems = checkCompose(content, 'docker/Dockerfile');
    t.ok(
      problems.some((p) => problem.test(p)),
      name,
      { problems, expected: problem },
    );
  }
});

void t.test('.dockerignore sends what the build copies and nothing else', async (t) => {
  t.same(checkDockerignore(dockerignore, dockerfile), []);
  t.same(contextSources(dockerfile).sort(), [
    '.npmrc',
    'docker/compile-cache.mjs',
    'docker/warm-compile-cache.mjs',
    'infrastructure/package.json',
    'package-lock.json',
    'package.json',
    'service',
    'service/package.json',
    'tsconfig.base.json',
  ]);

  const ignored = dockerignoreMatcher(dockerignore);
  t.notOk(ignored('service/src/plugins/health.ts'));
  t.ok(
    ignored('service/test/tooling/container/dockerfile.test.ts'),
    'tests stay out (they would only bust the cache)',
  );
  t.ok(ignored('README.md'));
  t.ok(ignored('docker/compose.yaml'));

  t.match(
    checkDockerignore(mutate(dockerignore, '\n*\n', '\n'), dockerfile).join('\n'),
    /sends infrastructure\/index\.ts/,
  );
  t.match(
    checkDockerignore(mutate(dockerignore, '!service/\n', ''), dockerfile).join('\n'),
    /leaves out service\/package\.json/,
  );
  t.match(
    checkDockerignore(mutate(dockerignore, 'service/node_modules/\n', ''), dockerfile).join('\n'),
    /sends service\/node_modules/,
  );
  t.match(
    checkDockerignore(mutate(dockerignore, '!docker/warm-compile-cache.mjs\n', ''), dockerfile).join('\n'),
    /leaves out docker\/warm-compile-cache\.mjs/,
  );
});
