// The real Lambda parts the image test and the bench run: the Web Adapter (built from the Rust crate
// registry) and the Runtime Interface Emulator (from the Go module proxy), with the pins they follow; cached.
import { chmod, copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir } from './build-cache.ts';
import { mustRun, runCommand } from './run-command.ts';

export type Arch = 'amd64' | 'arm64';
export const HOST_ARCH: Arch = process.arch === 'arm64' ? 'arm64' : 'amd64';

/** What one run used, for the report: `real` false marks a stand-in. */
export interface Provenance {
  readonly part: string;
  readonly real: boolean;
  readonly detail: string;
}

export interface Pins {
  /** The FROM image of both stages, e.g. node:24.21.0-bookworm-slim. */
  readonly nodeImage: string;
  readonly nodeVersion: string;
  /** The adapter stage, e.g. public.ecr.aws/awsguru/aws-lambda-adapter:1.0.1. */
  readonly adapterImage: string;
  readonly adapterVersion: string;
  /** RIE_VERSION of .github/workflows/ci.yml, e.g. v1.30. */
  readonly rieVersion: string;
}

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** The versions the Dockerfile and CI pin, read from them. */
export async function readPins(): Promise<Pins> {
  const dockerfile = await readFile(path.join(repoRoot, 'docker/Dockerfile'), 'utf8');
  const node = /^FROM\s+(?:--platform=\S+\s+)?(node:(\d+\.\d+\.\d+)-\S+)/m.exec(dockerfile);
  const adapter = /COPY --from=(\S+\/aws-lambda-adapter:(\S+))\s/.exec(dockerfile);
  const ci = await readFile(path.join(repoRoot, '.github/workflows/ci.yml'), 'utf8');
  const rie = /^\s*RIE_VERSION:\s*(\S+)/m.exec(ci);
  if (!node?.[1] || !node[2] || !adapter?.[1] || !adapter[2] || !rie?.[1]) {
    throw new Error('could not read the Node, adapter and emulator pins from docker/Dockerfile and ci.yml');
  }
  return {
    nodeImage: node[1],
    nodeVersion: node[2],
    adapterImage: adapter[1],
    adapterVersion: adapter[2],
    rieVersion: rie[1],
  };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** `1.0.0-rc1` → comparable parts; a pre-release sorts before its release. */
function versionKey(version: string): [number, number, number, number, string] {
  const [core = '', pre] = version.split('-', 2);
  const [major = 0, minor = 0, patch = 0] = core.split('.').map(Number);
  return [major, minor, patch, pre === undefined ? 1 : 0, pre ?? ''];
}

function compareVersions(a: string, b: string): number {
  const [x, y] = [versionKey(a), versionKey(b)];
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) return (x[i] ?? 0) < (y[i] ?? 0) ? -1 : 1;
  }
  return 0;
}

/** The pinned version if the crate registry has it, else the newest published one not above it. */
async function nearestPublishedAdapter(pinned: string): Promise<string> {
  // The sparse index cargo itself reads: one JSON line per published version.
  const response = await fetch('https://index.crates.io/la/mb/lambda_web_adapter');
  if (!response.ok) throw new Error(`crates.io index: HTTP ${String(response.status)}`);
  const versions = (await response.text())
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { vers: string; yanked: boolean })
    .filter((entry) => !entry.yanked)
    .map((entry) => entry.vers);
  if (versions.includes(pinned)) return pinned;
  const below = versions.filter((v) => compareVersions(v, pinned) <= 0).sort(compareVersions);
  const nearest = below.at(-1);
  if (nearest === undefined) throw new Error(`no lambda_web_adapter version at or below ${pinned}`);
  return nearest;
}

const RUST_TARGET: Record<Arch, string> = {
  amd64: 'x86_64-unknown-linux-musl',
  arm64: 'aarch64-unknown-linux-musl',
};
const CROSS_LINKER: Record<Arch, string> = { amd64: 'x86_64-linux-gnu-gcc', arm64: 'aarch64-linux-gnu-gcc' };

/** The adapter binary for `arch`, statically linked (musl) like the published image's. Cached. */
export async function installAdapter(
  pinned: string,
  arch: Arch,
  log: (line: string) => void,
): Promise<{ binary: string; version: string }> {
  const version = await nearestPublishedAdapter(pinned);
  const root = path.join(cacheDir, `lambda-adapter-${version}-${arch}`);
  const binary = path.join(root, 'bin', 'lambda-adapter');
  if (await exists(binary)) return { binary, version };
  const target = RUST_TARGET[arch];
  log(`cargo install lambda_web_adapter@${version} for ${target} (several minutes, once per machine)`);
  await mustRun('rustup', ['target', 'add', target], { log });
  const env = {
    ...process.env,
    CARGO_TARGET_DIR: path.join(cacheDir, 'cargo-target'),
    ...(arch === HOST_ARCH
      ? {}
      : { [`CARGO_TARGET_${target.toUpperCase().replaceAll('-', '_')}_LINKER`]: CROSS_LINKER[arch] }),
  };
  await mustRun(
    'cargo',
    [
      'install',
      'lambda_web_adapter',
      '--version',
      `=${version}`,
      '--locked',
      '--root',
      root,
      '--target',
      target,
    ],
    { env, log, timeoutMs: 3_600_000 },
  );
  return { binary, version };
}

/**
 * The emulator's Go module has no semver tags (its releases are tagged v1.30, …), so the Go module
 * proxy cannot serve `@v1.30`; this is the newest commit the proxy holds (after v1.30).
 */
const RIE_PROXY_VERSION = 'v0.0.0-20261030222936-bef5c4ba774d';
const RIE_MODULE = 'github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie';

/** A folder holding `aws-lambda-rie` for `arch` (mounted into the container), and where it came from. */
export async function prepareEmulator(
  pins: Pins,
  arch: Arch,
  log: (line: string) => void,
): Promise<{ dir: string; provenance: Provenance }> {
  const dir = path.join(cacheDir, `aws-lambda-rie-${arch}`);
  const binary = path.join(dir, 'aws-lambda-rie');
  const versionFile = path.join(dir, 'version');
  let version = (await exists(versionFile)) ? (await readFile(versionFile, 'utf8')).trim() : undefined;
  if (version === undefined || !(await exists(binary))) {
    const gopath = path.join(cacheDir, 'go');
    const env = {
      ...process.env,
      GOPATH: gopath,
      GOOS: 'linux',
      GOARCH: arch,
      CGO_ENABLED: '0',
      GOFLAGS: '-modcacherw',
    };
    version = pins.rieVersion;
    const install = (at: string) => runCommand('go', ['install', `${RIE_MODULE}@${at}`], { env, log });
    if ((await install(version)).code !== 0) {
      version = RIE_PROXY_VERSION;
      await mustRun('go', ['install', `${RIE_MODULE}@${version}`], { env, log });
    }
    const built = path.join(gopath, 'bin', arch === HOST_ARCH ? '' : `linux_${arch}`, 'aws-lambda-rie');
    await mkdir(dir, { recursive: true });
    await copyFile(built, binary);
    await chmod(binary, 0o755);
    await writeFile(versionFile, `${version}\n`);
  }
  return {
    dir,
    provenance: {
      part: `Runtime Interface Emulator (${arch})`,
      real: true,
      detail: `aws-lambda-rie built from the Go module proxy at ${version}${
        version === pins.rieVersion
          ? ''
          : ` (CI downloads the ${pins.rieVersion} release; the proxy has no v1.x tag)`
      }`,
    },
  };
}
