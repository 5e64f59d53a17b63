// Static rules for docker/Dockerfile, docker/compose.yaml and .dockerignore (no Docker engine needed).
// Each check returns the problems it finds, so tests can run it on the real files and on broken ones.
import {
  DockerfileParser,
  From,
  ModifiableInstruction,
  PropertyInstruction,
  type Dockerfile,
  type Instruction,
} from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { parse as parseYaml } from 'yaml';

export interface ImageRules {
  /** Repository of the Lambda Web Adapter image, e.g. public.ecr.aws/awsguru/aws-lambda-adapter. */
  adapterImage: string;
  /** Exact adapter version the image must copy. */
  adapterVersion: string;
  /** Path the adapter polls before the first invocation: the service's liveness route. */
  readinessPath: string;
  /** Path the adapter posts non-HTTP events to: the service's events route. */
  passThroughPath: string;
  /**
   * The one status the service answers a failed pass-through event with, and that no HTTP route sends:
   * the only one the adapter may turn into an invocation error (AWS_LWA_ERROR_STATUS_CODES).
   */
  invocationErrorStatus: number;
  /** Build arg that chooses the runtime platform, and its default. */
  platformArg: string;
  defaultPlatform: string;
  port: string;
}

/** Sentinels for BuildKit's automatic platform args, to see which one a FROM --platform resolves to. */
const BUILDPLATFORM = '<build platform>';
const TARGETPLATFORM = '<target platform>';

// A tag that names a version (24.21.0-bookworm-slim, 18.4-alpine, 1.0.1), not a moving alias (latest,
// lts, 24-bookworm-slim).
const VERSION_TAG = /^v?\d+\.\d+(\.\d+)?([-.+][\w.-]+)?$/;

/** Expands $NAME, ${NAME}, ${NAME:-word} and ${NAME:+word} the way BuildKit does (words may nest). */
export function expand(text: string, vars: Readonly<Record<string, string | undefined>>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text.charAt(i);
    if (ch !== '$') {
      out += ch;
      i += 1;
      continue;
    }
    if (text.charAt(i + 1) === '{') {
      let depth = 1;
      let j = i + 2;
      while (j < text.length && depth > 0) {
        if (text.charAt(j) === '{') depth += 1;
        if (text.charAt(j) === '}') depth -= 1;
        j += 1;
      }
      const inner = text.slice(i + 2, j - 1);
      const match = /^(\w+)(?::([-+])(.*))?$/s.exec(inner);
      if (match === null) throw new Error(`unsupported substitution \${${inner}}`);
      const [, name = '', modifier, word = ''] = match;
      const value = vars[name] ?? '';
      if (modifier === '-') out += value === '' ? expand(word, vars) : value;
      else if (modifier === '+') out += value === '' ? '' : expand(word, vars);
      else out += value;
      i = j;
      continue;
    }
    const name = /^\w+/.exec(text.slice(i + 1))?.[0];
    if (name === undefined) {
      out += ch;
      i += 1;
      continue;
    }
    out += vars[name] ?? '';
    i += 1 + name.length;
  }
  return out;
}

interface Stage {
  from: From;
  name: string | null;
  instructions: Instruction[];
}

function stagesOf(dockerfile: Dockerfile): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction instanceof From) {
      stages.push({ from: instruction, name: instruction.getBuildStage(), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** Global ARG defaults (before the first FROM), overridable like --build-arg. */
function globalArgs(dockerfile: Dockerfile, overrides: Record<string, string> = {}): Record<string, string> {
  const vars: Record<string, string> = { BUILDPLATFORM, TARGETPLATFORM };
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    if (property !== null) vars[property.getName()] = property.getValue() ?? '';
  }
  return { ...vars, ...overrides };
}

function flagValue(instruction: Instruction, name: string): string | null {
  const flags = instruction instanceof ModifiableInstruction ? instruction.getFlags() : [];
  return flags.find((flag) => flag.getName() === name)?.getValue() ?? null;
}

/** Splits an image reference into name, tag and digest (the registry may carry a port). */
function parseImageRef(ref: string): { name: string; tag: string | null; digest: string | null } {
  const [withoutDigest = '', digest = null] = ref.split('@');
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > slash) {
    return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest };
  }
  return { name: withoutDigest, tag: null, digest };
}

/** null when the image is pinned to a version (or digest); otherwise why not. */
export function imagePinProblem(ref: string): string | null {
  const { tag, digest } = parseImageRef(ref);
  if (digest !== null && /^sha256:[0-9a-f]{64}$/.test(digest)) return null;
  if (tag === null) return `${ref} has no tag (that means :latest)`;
  if (tag === 'latest') return `${ref} uses the latest tag`;
  if (!VERSION_TAG.test(tag)) return `${ref} is not pinned to a version (tag "${tag}")`;
  return null;
}

/** Instruction arguments without flags, as written (JSON arrays are parsed). */
function argumentsOf(instruction: Instruction): string[] {
  const content = (instruction.getArgumentsContent() ?? '').trim();
  if (content.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(content);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // shell form after all
    }
  }
  return instruction.getArguments().map((argument) => argument.getValue());
}

function envOf(stage: Stage, vars: Record<string, string>): Map<string, string> {
  const env = new Map<string, string>();
  for (const instruction of stage.instructions) {
    if (instruction.getKeyword() !== 'ENV' || !(instruction instanceof PropertyInstruction)) continue;
    for (const property of instruction.getProperties()) {
      env.set(property.getName(), expand(property.getValue() ?? '', vars));
    }
  }
  return env;
}

function parseStatusCodes(spec: string): Set<number> {
  const codes = new Set<number>();
  for (const part of spec.split(',').map((p) => p.trim())) {
    const [start, end = start] = part.split('-').map(Number);
    if (start === undefined || end === undefined || Number.isNaN(start) || Number.isNaN(end)) continue;
    for (let code = start; code <= end; code += 1) codes.add(code);
  }
  return codes;
}

/** Everything the Dockerfile copies from the build context (COPY sources and RUN bind mounts). */
export function contextSources(content: string): string[] {
  const dockerfile = DockerfileParser.parse(content);
  const sources: string[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if ((keyword === 'COPY' || keyword === 'ADD') && flagValue(instruction, 'from') === null) {
      sources.push(...argumentsOf(instruction).slice(0, -1));
    }
    if (keyword === 'RUN' && instruction instanceof ModifiableInstruction) {
      for (const flag of instruction.getFlags().filter((f) => f.getName() === 'mount')) {
        const options = new Map(
          (flag.getValue() ?? '').split(',').map((pair) => {
            const [key = '', value = ''] = pair.split('=', 2);
            return [key, value];
          }),
        );
        if (options.get('type') === 'bind' && !options.has('from')) {
          sources.push(options.get('source') ?? options.get('src') ?? '.');
        }
      }
    }
  }
  return sources.map((source) => source.replace(/^\.\//, '').replace(/\/$/, ''));
}

export function checkDockerfile(content: string, rules: ImageRules): string[] {
  const problems: string[] = [];
  const dockerfile = DockerfileParser.parse(content);

  for (const diagnostic of validate(content)) {
    const message = typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
    problems.push(`lint, line ${diagnostic.range.start.line + 1}: ${message}`);
  }

  const stages = stagesOf(dockerfile);
  const runtime = stages.at(-1);
  if (stages.length < 2 || runtime === undefined) {
    problems.push('not a multi-stage build (a build stage, then the runtime stage)');
    return problems;
  }
  const vars = globalArgs(dockerfile);
  const stageNames = new Set(stages.map((stage) => stage.name).filter((name) => name !== null));

  // Every base image is pinned to a version.
  for (const { from } of stages) {
    const image = expand(from.getImage() ?? '', vars);
    if (stageNames.has(image) || image === 'scratch') continue;
    const problem = imagePinProblem(image);
    if (problem !== null) problems.push(`FROM ${problem}`);
  }

  // The build stage runs on the builder's platform (no emulation to bundle JavaScript).
  const [build] = stages;
  const buildPlatform = flagValue(build?.from ?? runtime.from, 'platform');
  if (buildPlatform === null || expand(buildPlatform, vars) !== BUILDPLATFORM) {
    problems.push('the build stage should run on $BUILDPLATFORM');
  }

  // The runtime platform: the default, a different one on request, the target platform when emptied.
  const runtimePlatform = flagValue(runtime.from, 'platform');
  if (runtimePlatform === null) {
    problems.push(`the runtime stage has no --platform, so it does not default to ${rules.defaultPlatform}`);
  } else {
    const resolved = expand(runtimePlatform, vars);
    if (resolved !== rules.defaultPlatform) {
      problems.push(`the runtime platform defaults to ${resolved}, not ${rules.defaultPlatform}`);
    }
    const amd64 = expand(runtimePlatform, globalArgs(dockerfile, { [rules.platformArg]: 'linux/amd64' }));
    if (amd64 !== 'linux/amd64') {
      problems.push(`--build-arg ${rules.platformArg}=linux/amd64 gives ${amd64}, not linux/amd64`);
    }
    const host = expand(runtimePlatform, globalArgs(dockerfile, { [rules.platformArg]: '' }));
    if (host !== TARGETPLATFORM) {
      problems.push(`an empty ${rules.platformArg} should follow the target platform, gives ${host}`);
    }
  }

  // Only the service workspace is installed, and nothing of it reaches the runtime stage.
  const buildRuns = (build?.instructions ?? []).filter((i) => i.getKeyword() === 'RUN');
  const install = buildRuns.map((i) => i.getArgumentsContent() ?? '').find((run) => /\bnpm ci\b/.test(run));
  if (install === undefined) {
    problems.push('the build stage does not run npm ci');
  } else if (
    !/(--workspace[= ]|-w )service\b/.test(install) ||
    !install.includes('--include-workspace-root=false')
  ) {
    problems.push(
      'npm ci should install the service workspace only (--workspace service --include-workspace-root=false)',
    );
  }
  for (const instruction of runtime.instructions) {
    const text = instruction.getArgumentsContent() ?? '';
    if (instruction.getKeyword() === 'RUN' && /\bnpm\b/.test(text)) {
      problems.push(`the runtime stage runs npm: ${text}`);
    }
    if (['COPY', 'ADD'].includes(instruction.getKeyword()) && text.includes('node_modules')) {
      problems.push(`the runtime stage copies node_modules: ${text}`);
    }
  }

  // The adapter, pinned to the exact version, into Lambda's extensions folder.
  const adapterCopies = runtime.instructions.filter((instruction) => {
    const from = flagValue(instruction, 'from');
    return (
      instruction.getKeyword() === 'COPY' && from !== null && parseImageRef(from).name === rules.adapterImage
    );
  });
  if (adapterCopies.length !== 1) {
    problems.push(`the runtime stage should copy the adapter once from ${rules.adapterImage}`);
  }
  for (const copy of adapterCopies) {
    const ref = flagValue(copy, 'from') ?? '';
    const { tag } = parseImageRef(ref);
    if (tag !== rules.adapterVersion) {
      problems.push(`the adapter is ${ref}, not pinned to ${rules.adapterImage}:${rules.adapterVersion}`);
    }
    const args = argumentsOf(copy);
    if (args[0] !== '/lambda-adapter' || args.at(-1) !== '/opt/extensions/lambda-adapter') {
      problems.push(
        `the adapter should go from /lambda-adapter to /opt/extensions/lambda-adapter: ${args.join(' ')}`,
      );
    }
  }
  for (const instruction of dockerfile.getInstructions()) {
    const from = flagValue(instruction, 'from');
    if (instruction.getKeyword() === 'COPY' && from !== null && !stageNames.has(from)) {
      const problem = imagePinProblem(from);
      if (problem !== null) problems.push(`COPY --from=${problem}`);
    }
  }

  // Runs as a non-root user.
  const users = runtime.instructions.filter((i) => i.getKeyword() === 'USER');
  const user = users.at(-1)?.getArgumentsContent()?.trim();
  if (user === undefined) {
    problems.push('the runtime stage has no USER (it would run as root)');
  } else if (/^(root|0)(:.*)?$/.test(user)) {
    problems.push(`the runtime stage runs as root (USER ${user})`);
  }

  // What the adapter and the server are told.
  const env = envOf(runtime, vars);
  const expectEnv = (name: string, value: string): void => {
    const actual = env.get(name);
    if (actual !== value) problems.push(`ENV ${name} is ${actual ?? 'not set'}, expected ${value}`);
  };
  expectEnv('PORT', rules.port);
  expectEnv('NODE_ENV', 'production');
  expectEnv('AWS_LWA_READINESS_CHECK_PATH', rules.readinessPath);
  expectEnv('AWS_LWA_PASS_THROUGH_PATH', rules.passThroughPath);
  const healthy = env.get('AWS_LWA_READINESS_CHECK_HEALTHY_STATUS');
  if (healthy !== undefined && parseStatusCodes(healthy).has(404)) {
    problems.push('AWS_LWA_READINESS_CHECK_HEALTHY_STATUS counts 404 as ready');
  }
  // The adapter drops a pass-through response's status, so without this a failed event (a migration)
  // reports success; and it applies to HTTP requests too, whose envelope API Gateway then replaces.
  const errorStatuses = env.get('AWS_LWA_ERROR_STATUS_CODES');
  if (errorStatuses === undefined) {
    problems.push(
      `ENV AWS_LWA_ERROR_STATUS_CODES is not set: a failed event would report success (expected ${rules.invocationErrorStatus})`,
    );
  } else {
    const listed = [...parseStatusCodes(errorStatuses)];
    if (!listed.includes(rules.invocationErrorStatus)) {
      problems.push(
        `AWS_LWA_ERROR_STATUS_CODES does not list ${rules.invocationErrorStatus}: a failed event would report success`,
      );
    }
    const http = listed.filter((status) => status !== rules.invocationErrorStatus);
    if (http.length > 0) {
      problems.push(
        `AWS_LWA_ERROR_STATUS_CODES lists ${http.slice(0, 5).join(', ')}${http.length > 5 ? ', …' : ''}: HTTP responses with that status would lose their envelope`,
      );
    }
  }
  for (const name of ['HOST', 'AWS_LWA_PORT']) {
    // The adapter reads HOST as a fallback for AWS_LWA_HOST and would call the server on 0.0.0.0;
    // AWS_LWA_PORT would let the adapter and the server disagree when PORT is changed.
    if (env.has(name)) problems.push(`ENV ${name} should not be set in the image`);
  }

  const exposed = runtime.instructions
    .filter((i) => i.getKeyword() === 'EXPOSE')
    .flatMap((i) => argumentsOf(i).map((port) => port.split('/')[0]));
  if (!exposed.includes(rules.port)) problems.push(`the runtime stage does not EXPOSE ${rules.port}`);

  // Exec form, so SIGTERM reaches node (Lambda's shutdown signal).
  const cmd = runtime.instructions.filter((i) => i.getKeyword() === 'CMD').at(-1);
  const cmdText = cmd?.getArgumentsContent()?.trim() ?? '';
  if (cmd === undefined || !cmdText.startsWith('[')) {
    problems.push('CMD should be in exec form (JSON array) so signals reach node');
  } else {
    const args = argumentsOf(cmd);
    const blobAt = args.indexOf('--snapshot-blob');
    if (args[0] !== 'node' || (args.at(-1) !== 'main.mjs' && blobAt < 0)) {
      problems.push(`CMD should run node main.mjs or node --snapshot-blob: ${JSON.stringify(args)}`);
    }
    if (blobAt >= 0) problems.push(...snapshotProblems(runtime, args[blobAt + 1] ?? ''));
  }

  return problems;
}

/**
 * A startup snapshot loads only into the node binary that built it (Node checks version, architecture
 * and platform; with V8's code cache also the CPU features), so the runtime stage must build it itself,
 * without the code cache, and fail when it cannot; a blob copied in from elsewhere may be refused.
 */
function snapshotProblems(runtime: Stage, blob: string): string[] {
  const problems: string[] = [];
  const name = blob.split('/').at(-1) ?? blob;
  const copies = runtime.instructions.filter(
    (i) => ['COPY', 'ADD'].includes(i.getKeyword()) && (i.getArgumentsContent() ?? '').includes('.blob'),
  );
  if (copies.length > 0) {
    problems.push(
      `the snapshot blob must be built by the runtime stage's own node, not copied: ${copies[0]?.getArgumentsContent() ?? ''}`,
    );
  }
  const builds = runtime.instructions.filter((i) => {
    const text = i.getArgumentsContent() ?? '';
    return (
      i.getKeyword() === 'RUN' &&
      /\bnode\b/.test(text) &&
      /--build-snapshot/.test(text) &&
      text.includes(name)
    );
  });
  if (builds.length === 0) {
    problems.push(`no RUN in the runtime stage builds ${blob} with node --build-snapshot`);
  }
  for (const build of builds) {
    const text = build.getArgumentsContent() ?? '';
    if (!text.includes('--build-snapshot-config')) {
      problems.push(
        'the snapshot should be built with --build-snapshot-config (withoutCodeCache), or the blob is tied to the build CPU',
      );
    }
  }
  return problems;
}

type Yaml = Record<string, unknown>;
const asObject = (value: unknown): Yaml =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Yaml) : {};

export function checkCompose(content: string, dockerfilePath: string): string[] {
  const problems: string[] = [];
  let doc: Yaml;
  try {
    doc = asObject(parseYaml(content, { merge: true }));
  } catch (error) {
    return [`compose file does not parse: ${String(error)}`];
  }
  const services = asObject(doc.services);
  const service = (name: string): Yaml => {
    if (!(name in services)) problems.push(`no ${name} service`);
    return asObject(services[name]);
  };
  const postgres = service('postgres');
  const migrate = service('migrate');
  const api = service('api');
  const dependsOn = (svc: Yaml, on: string): unknown => asObject(asObject(svc.depends_on)[on]).condition;

  const postgresImage = typeof postgres.image === 'string' ? postgres.image : '';
  const pinProblem = imagePinProblem(postgresImage);
  if (pinProblem !== null) problems.push(`postgres: ${pinProblem}`);
  if (asObject(postgres.healthcheck).test === undefined) problems.push('postgres has no healthcheck');

  for (const [name, svc] of [
    ['migrate', migrate],
    ['api', api],
  ] as const) {
    const build = asObject(svc.build);
    if (build.context !== '..' || build.dockerfile !== dockerfilePath) {
      problems.push(`${name} should build context .. with ${dockerfilePath}`);
    }
    const platform = asObject(build.args).PLATFORM;
    if (typeof platform !== 'string' || !/^\$\{PLATFORM:?-\}$/.test(platform)) {
      problems.push(
        `${name} should build for the host's platform by default (args.PLATFORM: \${PLATFORM:-})`,
      );
    }
    if (dependsOn(svc, 'postgres') !== 'service_healthy') {
      problems.push(`${name} should wait for postgres to be healthy`);
    }
    const url = asObject(svc.environment).DATABASE_URL;
    let host = '';
    try {
      host = typeof url === 'string' ? new URL(url).hostname : '';
    } catch {
      // reported below
    }
    if (host !== 'postgres') problems.push(`${name}: DATABASE_URL should point at the postgres service`);
  }

  const command = Array.isArray(migrate.command) ? migrate.command.map(String) : [];
  if (command.join(' ') !== 'node main.mjs migrate')
    problems.push('migrate should run node main.mjs migrate');
  if (dependsOn(api, 'migrate') !== 'service_completed_successfully') {
    problems.push('api should start only after migrate completed successfully');
  }
  const ports = Array.isArray(api.ports) ? api.ports.map(String) : [];
  if (!ports.some((port) => /(^|:)8080:8080$/.test(port))) problems.push('api should publish port 8080');
  if (asObject(api.healthcheck).test === undefined) problems.push('api has no healthcheck');

  return problems;
}

/** .dockerignore semantics (moby patternmatcher): last matching pattern wins; parents count. */
export function dockerignoreMatcher(content: string): (path: string) => boolean {
  const patterns = content
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const exclusion = line.startsWith('!');
      const pattern = (exclusion ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
      let source = '';
      for (let i = 0; i < pattern.length; i += 1) {
        const ch = pattern.charAt(i);
        if (ch === '*' && pattern.charAt(i + 1) === '*') {
          const slash = pattern.charAt(i + 2) === '/';
          source += slash ? '(?:.*/)?' : '.*';
          i += slash ? 2 : 1;
        } else if (ch === '*') source += '[^/]*';
        else if (ch === '?') source += '[^/]';
        else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { exclusion, regex: new RegExp(`^${source}$`) };
    });
  return (path: string): boolean => {
    const parts = path.split('/');
    const candidates = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
    let ignored = false;
    for (const { exclusion, regex } of patterns) {
      if (exclusion !== ignored) continue;
      if (candidates.some((candidate) => regex.test(candidate))) ignored = !exclusion;
    }
    return ignored;
  };
}

export function checkDockerignore(content: string, dockerfileContent: string): string[] {
  const problems: string[] = [];
  const ignored = dockerignoreMatcher(content);
  const mustSend = [
    'package.json',
    'package-lock.json',
    '.npmrc',
    'infrastructure/package.json',
    'service/package.json',
    'service/src/index.ts',
    ...contextSources(dockerfileContent).map((source) => (source.includes('.') ? source : `${source}/x`)),
  ];
  const mustKeepOut = [
    'node_modules/esbuild/package.json',
    'service/node_modules/x/index.js',
    'service/dist/main.mjs',
    'infrastructure/index.ts',
    'infrastructure/components/service-image.ts',
    'infrastructure/node_modules/@pulumi/pulumi/index.js',
    '.git/HEAD',
    '.env',
    'service/.env.local',
    'coverage/index.html',
  ];
  for (const path of mustSend) if (ignored(path)) problems.push(`.dockerignore leaves out ${path}`);
  for (const path of mustKeepOut) if (!ignored(path)) problems.push(`.dockerignore sends ${path}`);
  return problems;
}
