// The adapter's share of a cold start: the image (Web Adapter + snapshot) against the same service in-process
// (@h4ad/serverless-adapter), both under one Runtime Interface Emulator. docs/performance.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { commonBuildOptions, esmBundleOptions } from '../tools/bundle-options.ts';
import { freePort } from '../tools/free-port.ts';
import { httpEvent, invoke, type ProxyResult } from '../tools/lambda-invoke.ts';
import { HOST_ARCH, installAdapter, prepareEmulator, readPins, repoRoot } from '../tools/lambda-toolchain.ts';
import { inGroup, type CpuGroup } from './cpu-share.ts';
import { cpuMsOf } from './processes.ts';
import { formatTable, markdownTable, shareKey } from './report.ts';
import { quantile, summarize, type Summary } from './stats.ts';

/** The image as shipped, the adapter before a plain bundle (the same start path as in-process), in-process. */
export const ADAPTER_VARIANTS = ['image', 'adapter+bundle', 'in-process'] as const;
type Variant = (typeof ADAPTER_VARIANTS)[number];
const REFERENCE: Variant = 'in-process';
/** Target: the image's cold start at 0.29 vCPU within this factor of the in-process variant's. */
const TARGET_RATIO = 1.05;

export interface AdapterShareOptions {
  /** The image's /app as bench/run.ts bakes it (main.mjs, snapshot.blob). */
  readonly imageDir: string;
  readonly serviceEnv: () => Promise<Record<string, string>>;
  readonly bookPath: string;
  readonly runs: number;
  readonly warmRequests: number;
  /** The bench's CPU groups (none: unthrottled only). */
  readonly groups: readonly CpuGroup[];
  /** Why the CPU share cannot be set (no cgroups): the part then says so and measures nothing. */
  readonly skip?: string | undefined;
  readonly progress: (message: string) => void;
}

export interface AdapterShareRow {
  readonly level: string;
  readonly variant: Variant;
  /** Invoke sent → first /health answered (init + first invoke), ms. */
  readonly wallMs: Summary;
  /** The emulator's INIT REPORT: its init phase, until the runtime first asks for an invocation, ms. */
  readonly initMs: Summary;
  /** INIT START → the emulator starts node (after every extension registered), ms, log resolution. */
  readonly runtimeAfterMs: Summary;
  /** CPU of the whole process tree (emulator, adapter, node) at the first answer, ms. */
  readonly cpuMs: Summary;
  readonly adapterCpuMs: Summary;
  readonly emulatorCpuMs: Summary;
  /** Invoke of /health sent → first GET /v1/books/{id} answered, ms. */
  readonly bookWallMs: Summary;
  readonly bookCpuMs: Summary;
  /** Median of the per-round ratios to the in-process run of the same round (wall). */
  readonly pairedRatio: number;
}

export interface WarmRow {
  readonly variant: Variant;
  readonly p50Ms: number;
  readonly p90Ms: number;
  /** Process-tree CPU per invoke, µs. */
  readonly cpuUsPerInvoke: number;
}

export type AdapterShareResult =
  | { readonly available: false; readonly reason: string }
  | {
      readonly available: true;
      readonly provenance: readonly string[];
      readonly rows: readonly AdapterShareRow[];
      readonly warm: readonly WarmRow[];
      readonly failures: readonly string[];
    };

interface Parts {
  readonly workDir: string;
  readonly rie: string;
  readonly adapterOpt: string;
  readonly emptyOpt: string;
  readonly inProcessEntry: string;
  readonly provenance: string[];
}

/** The emulator, the adapter (both built once per machine, cached) and the in-process bundle; or why not. */
async function prepare(options: AdapterShareOptions): Promise<Parts | string> {
  if (options.skip !== undefined) return `the target is at a CPU share, and ${options.skip}`;
  if (process.getuid?.() !== 0) return 'needs root (a private mount namespace puts the adapter on /opt)';
  const unshare = await new Promise<boolean>((resolve) => {
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: 'ignore' });
    child.once('error', () => {
      resolve(false);
    });
    child.once('exit', (code) => {
      resolve(code === 0);
    });
  });
  if (!unshare) return '`unshare -m` failed (no mount namespaces here)';
  const log = (line: string) => {
    options.progress(`adapter share: ${line}`);
  };
  try {
    const pins = await readPins();
    const emulator = await prepareEmulator(pins, HOST_ARCH, log);
    const adapter = await installAdapter(pins.adapterVersion, HOST_ARCH, log);
    // /opt of each variant's namespace: the adapter as the only extension, or none.
    // Outside .bench/: another bench run empties .bench/tmp when it ends.
    const workDir = await mkdtemp(path.join(tmpdir(), 'adapter-share-'));
    const optRoot = path.join(workDir, 'opt');
    const adapterOpt = path.join(optRoot, 'adapter');
    const emptyOpt = path.join(optRoot, 'empty');
    await mkdir(path.join(adapterOpt, 'extensions'), { recursive: true });
    await mkdir(path.join(emptyOpt, 'extensions'), { recursive: true });
    await copyFile(adapter.binary, path.join(adapterOpt, 'extensions', 'lambda-adapter'));
    const inProcessEntry = await bundleInProcess(path.join(workDir, 'in-process'));
    return {
      workDir,
      rie: path.join(emulator.dir, 'aws-lambda-rie'),
      adapterOpt,
      emptyOpt,
      inProcessEntry,
      provenance: [
        emulator.provenance.detail,
        `Web Adapter: cargo install lambda_web_adapter@${adapter.version} (the image pins ${pins.adapterVersion})`,
      ],
    };
  } catch (error) {
    return `emulator or adapter unavailable: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function bundleInProcess(outdir: string): Promise<string> {
  await rm(outdir, { recursive: true, force: true });
  // The options scripts/build.ts gives main.mjs, so the two bundles differ only in their entry.
  await build({
    ...(await commonBuildOptions(false)),
    ...esmBundleOptions(outdir),
    entryPoints: [path.join(import.meta.dirname, 'in-process-runtime.ts')],
    entryNames: 'main',
  });
  return path.join(outdir, 'main.mjs');
}

/** The adapter settings of docker/Dockerfile's ENV (the function environment cannot override them). */
async function imageEnvironment(): Promise<Record<string, string>> {
  const dockerfile = await readFile(path.join(repoRoot, 'docker/Dockerfile'), 'utf8');
  const block = /^ENV\s+((?:.*\\\n)*.*)$/m.exec(dockerfile)?.[1] ?? '';
  return Object.fromEntries(
    [...block.matchAll(/(\w+)=(\S*)/g)]
      .filter(([, , value]) => !(value ?? '').includes('$'))
      .map(([, key, value]) => [key ?? '', value ?? '']),
  );
}

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly spawnedAt: number;
  /** What the emulator and the processes it started wrote so far. */
  readonly output: () => string;
  stop(): Promise<void>;
}

/** The processes under `root` (itself included), from /proc. */
function tree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Exited meanwhile.
    }
  }
  const all = [root];
  for (let i = 0; i < all.length; i++) all.push(...(parents.get(all[i] ?? 0) ?? []));
  return all;
}

const commOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};

/** CPU so far of the emulator (root), the adapter and everything else, ms. */
function treeCpu(root: number): { total: number; adapter: number; emulator: number } {
  let total = 0;
  let adapter = 0;
  for (const pid of tree(root)) {
    const ms = cpuMsOf(pid);
    if (!Number.isFinite(ms)) continue;
    total += ms;
    if (commOf(pid) === 'lambda-adapter') adapter += ms;
  }
  return { total, adapter, emulator: cpuMsOf(root) };
}

/**
 * From the emulator's log: its init phase (INIT REPORT) and how long after INIT START it started the
 * runtime (the extensions register first), ms; NaN when a line is missing.
 */
function rapidTimes(output: string): { init: number; runtimeAfter: number } {
  const at = (event: string) => {
    const time = new RegExp(`(\\d\\d):(\\d\\d):(\\d\\d),(\\d{3}) \\[\\w+\\] \\(rapid\\) ${event}`).exec(
      output,
    );
    if (time === null) return Number.NaN;
    const [, h, m, sec, milli] = time.map(Number);
    return (((h ?? 0) * 60 + (m ?? 0)) * 60 + (sec ?? 0)) * 1000 + (milli ?? 0);
  };
  return {
    init: Number(/INIT REPORT\(durationMs: ([\d.]+)\)/.exec(output)?.[1]),
    runtimeAfter: at('Starting runtime') - at('INIT START'),
  };
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

export async function adapterShare(options: AdapterShareOptions): Promise<AdapterShareResult> {
  const parts = await prepare(options);
  if (typeof parts === 'string') return { available: false, reason: parts };
  try {
    return await measure(options, parts);
  } finally {
    await rm(parts.workDir, { recursive: true, force: true });
  }
}

async function measure(options: AdapterShareOptions, parts: Parts): Promise<AdapterShareResult> {
  const imageEnv = await imageEnvironment();

  /** The emulator, in a mount namespace of its own with the variant's /opt, in `procsFile`'s group. */
  const start = async (
    variant: Variant,
    procsFile: string | undefined,
    memoryMb: number,
  ): Promise<Started> => {
    const [invokePort, apiPort, appPort] = [await freePort(), await freePort(), await freePort()];
    const command =
      variant === 'image'
        ? ['--snapshot-blob', 'snapshot.blob']
        : variant === 'adapter+bundle'
          ? ['main.mjs']
          : [parts.inProcessEntry];
    const inner = [
      'unshare',
      '-m',
      '--propagation',
      'private',
      '/bin/sh',
      '-c',
      'mount --bind "$0" /opt && exec "$@"',
      variant === 'in-process' ? parts.emptyOpt : parts.adapterOpt,
      parts.rie,
      // info: its INIT REPORT line (the REPORT line's "Init Duration" is not the init's length here).
      '--log-level',
      'info',
      '--runtime-interface-emulator-address',
      `127.0.0.1:${invokePort}`,
      '--runtime-api-address',
      `127.0.0.1:${apiPort}`,
      process.execPath,
      ...command,
    ];
    const argv =
      procsFile === undefined ? { file: 'unshare', args: inner.slice(1) } : inGroup(procsFile, inner);
    const env = {
      ...(await options.serviceEnv()),
      ...(variant === 'in-process' ? { NODE_ENV: imageEnv.NODE_ENV ?? 'production' } : imageEnv),
      PORT: String(appPort),
      HOST: '127.0.0.1',
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: 'adapter-share',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      AWS_LAMBDA_FUNCTION_TIMEOUT: '30',
    };
    const spawnedAt = performance.now();
    const child = spawn(argv.file, argv.args, {
      cwd: options.imageDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Both streams, the emulator's lines and the service's request logs (a few requests' worth).
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        resolve();
      }),
    );
    for (;;) {
      // Both: the Runtime API may bind after the invoke endpoint, and an extension that finds it closed dies.
      if ((await listening(invokePort)) && (await listening(apiPort))) break;
      if (child.exitCode !== null)
        throw new Error(`emulator exited ${child.exitCode}: ${output.slice(-3000)}`);
      if (performance.now() - spawnedAt > 15_000)
        throw new Error(`emulator not listening: ${output.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return {
      child,
      url: `http://127.0.0.1:${invokePort}/2015-03-31/functions/function/invocations`,
      spawnedAt,
      output: () => output,
      async stop() {
        // The emulator starts the adapter and node in process groups of their own: each one by pid.
        const pids = tree(child.pid ?? 0).reverse();
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Gone already.
          }
        }
        await exited;
      },
    };
  };

  const call = async (started: Started, routePath: string) => {
    const result = await invoke(started.url, httpEvent({ method: 'GET', path: routePath }).event, 30_000);
    const status = (result.json as ProxyResult | undefined)?.statusCode;
    if (status !== 200) {
      throw new Error(
        `GET ${routePath} answered ${String(status)}: ${result.text.slice(0, 300)} ${started.output().slice(-3000)}`,
      );
    }
    return result;
  };

  const levels: { level: string; procsFile?: string; memoryMb: number }[] = [
    ...options.groups.map((group) => ({
      level: shareKey(group.share),
      procsFile: group.procsFile,
      memoryMb: Math.round(group.share * 1769),
    })),
    { level: 'unthrottled', memoryMb: 1769 },
  ];
  interface Samples {
    wall: number[];
    init: number[];
    runtimeAfter: number[];
    cpu: number[];
    adapter: number[];
    emulator: number[];
    bookWall: number[];
    bookCpu: number[];
    ratios: number[];
  }
  const samples = new Map<string, Samples>();
  const failures: string[] = [];
  for (let i = 0; i < options.runs; i++) {
    for (const { level, procsFile, memoryMb } of levels) {
      const order = ADAPTER_VARIANTS.map(
        (_, k) => ADAPTER_VARIANTS[(i + k) % ADAPTER_VARIANTS.length] as Variant,
      );
      const line: string[] = [];
      const round = new Map<Variant, number>();
      for (const variant of order) {
        const key = `${level} ${variant}`;
        let started: Started | undefined;
        try {
          started = await start(variant, procsFile, memoryMb);
          const sent = performance.now();
          await call(started, '/health');
          const wall = performance.now() - sent;
          const root = started.child.pid ?? 0;
          const cpu = treeCpu(root);
          await call(started, options.bookPath);
          const bookWall = performance.now() - sent;
          const bookCpu = treeCpu(root).total;
          const { init, runtimeAfter } = rapidTimes(started.output());
          const entry: Samples = samples.get(key) ?? {
            wall: [],
            init: [],
            runtimeAfter: [],
            cpu: [],
            adapter: [],
            emulator: [],
            bookWall: [],
            bookCpu: [],
            ratios: [],
          };
          entry.wall.push(wall);
          entry.init.push(init);
          entry.runtimeAfter.push(runtimeAfter);
          entry.cpu.push(cpu.total);
          entry.adapter.push(cpu.adapter);
          entry.emulator.push(cpu.emulator);
          entry.bookWall.push(bookWall);
          entry.bookCpu.push(bookCpu);
          samples.set(key, entry);
          round.set(variant, wall);
          line.push(`${variant} ${wall.toFixed(0)}/${cpu.total.toFixed(0)}`);
        } catch (error) {
          failures.push(`${key}: ${error instanceof Error ? error.message : String(error)}`);
          line.push(`${variant} FAILED`);
        } finally {
          await started?.stop();
        }
      }
      const reference = round.get(REFERENCE);
      for (const [variant, wall] of round) {
        if (reference !== undefined) samples.get(`${level} ${variant}`)?.ratios.push(wall / reference);
      }
      options.progress(`adapter share ${i + 1}/${options.runs} ${level} (wall/CPU ms): ${line.join(' · ')}`);
    }
  }
  const rows: AdapterShareRow[] = [];
  for (const { level } of levels) {
    for (const variant of ADAPTER_VARIANTS) {
      const s = samples.get(`${level} ${variant}`);
      if (s === undefined) continue;
      rows.push({
        level,
        variant,
        wallMs: summarize(s.wall),
        initMs: summarize(s.init.filter(Number.isFinite)),
        runtimeAfterMs: summarize(s.runtimeAfter.filter(Number.isFinite)),
        cpuMs: summarize(s.cpu),
        adapterCpuMs: summarize(s.adapter),
        emulatorCpuMs: summarize(s.emulator),
        bookWallMs: summarize(s.bookWall),
        bookCpuMs: summarize(s.bookCpu),
        pairedRatio: quantile(s.ratios, 0.5),
      });
    }
  }
  const warm = await warmInvokes(options, start, call, failures);
  for (const failure of new Set(failures))
    options.progress(`adapter share failure: ${failure.slice(0, 1500)}`);
  return { available: true, provenance: parts.provenance, rows, warm, failures };
}

/** Warm GET /v1/books/{id} invokes, unthrottled, all variants up at once and taking turns in blocks. */
async function warmInvokes(
  options: AdapterShareOptions,
  start: (variant: Variant, procsFile: string | undefined, memoryMb: number) => Promise<Started>,
  call: (started: Started, routePath: string) => Promise<unknown>,
  failures: string[],
): Promise<WarmRow[]> {
  const running = new Map<Variant, Started>();
  const latencies = new Map<Variant, number[]>(ADAPTER_VARIANTS.map((variant) => [variant, []]));
  const cpuUs = new Map<Variant, number[]>(ADAPTER_VARIANTS.map((variant) => [variant, []]));
  const blocks = 4;
  const perBlock = Math.max(1, Math.ceil(options.warmRequests / blocks));
  try {
    for (const variant of ADAPTER_VARIANTS) {
      const started = await start(variant, undefined, 1769);
      running.set(variant, started);
      for (let i = 0; i < 20; i++) await call(started, options.bookPath);
    }
    for (let block = 0; block < blocks; block++) {
      for (let k = 0; k < ADAPTER_VARIANTS.length; k++) {
        const variant = ADAPTER_VARIANTS[(block + k) % ADAPTER_VARIANTS.length] as Variant;
        const started = running.get(variant);
        if (started === undefined) continue;
        const before = treeCpu(started.child.pid ?? 0).total;
        for (let i = 0; i < perBlock; i++) {
          const sent = performance.now();
          await call(started, options.bookPath);
          latencies.get(variant)?.push(performance.now() - sent);
        }
        cpuUs.get(variant)?.push(((treeCpu(started.child.pid ?? 0).total - before) * 1000) / perBlock);
      }
    }
  } catch (error) {
    failures.push(`warm: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    for (const started of running.values()) await started.stop();
  }
  return ADAPTER_VARIANTS.filter((variant) => (latencies.get(variant)?.length ?? 0) > 0).map((variant) => ({
    variant,
    p50Ms: quantile(latencies.get(variant) ?? [], 0.5),
    p90Ms: quantile(latencies.get(variant) ?? [], 0.9),
    cpuUsPerInvoke: quantile(cpuUs.get(variant) ?? [], 0.5),
  }));
}

const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)} ms` : '–');

/** The cold-start table (first row the header), per CPU share and variant, medians. */
export function adapterShareRows(result: Extract<AdapterShareResult, { available: true }>): string[][] {
  const reference = (level: string) => result.rows.find((r) => r.level === level && r.variant === REFERENCE);
  return [
    [
      'CPU share',
      'variant',
      'invoke → /health answer',
      'p10–p90',
      'vs in-process (paired)',
      'init phase (RIE)',
      'node started after',
      'CPU tree',
      'adapter CPU',
      'emulator CPU',
      '→ first book answer',
      'CPU to book',
    ],
    ...result.rows.map((row) => {
      const ref = reference(row.level);
      return [
        row.level === 'unthrottled' ? row.level : `${row.level} vCPU`,
        row.variant,
        ms(row.wallMs.median),
        `${ms(row.wallMs.p10)}–${ms(row.wallMs.p90)}`,
        ref === undefined
          ? ''
          : `${(row.wallMs.median / ref.wallMs.median).toFixed(2)}× (${row.pairedRatio.toFixed(2)}×), ${row.wallMs.median >= ref.wallMs.median ? '+' : ''}${(row.wallMs.median - ref.wallMs.median).toFixed(0)} ms`,
        ms(row.initMs.median),
        ms(row.runtimeAfterMs.median),
        ms(row.cpuMs.median),
        ms(row.adapterCpuMs.median),
        ms(row.emulatorCpuMs.median),
        ms(row.bookWallMs.median),
        ms(row.bookCpuMs.median),
      ];
    }),
  ];
}

export function warmRows(result: Extract<AdapterShareResult, { available: true }>): string[][] {
  return [
    ['variant (unthrottled, warm)', 'GET /v1/books/{id} invoke p50', 'p90', 'CPU tree per invoke'],
    ...result.warm.map((row) => [
      row.variant,
      `${row.p50Ms.toFixed(2)} ms`,
      `${row.p90Ms.toFixed(2)} ms`,
      `${row.cpuUsPerInvoke.toFixed(0)} µs`,
    ]),
  ];
}

/** The image's cold start at the lowest CPU share against the in-process variant's, and the target. */
export function adapterShareVerdict(result: Extract<AdapterShareResult, { available: true }>): string {
  const lowest = result.rows.find((row) => row.level !== 'unthrottled')?.level;
  const at = (variant: Variant) => result.rows.find((row) => row.level === lowest && row.variant === variant);
  const image = at('image');
  const reference = at(REFERENCE);
  if (lowest === undefined || image === undefined || reference === undefined) {
    return 'image / in-process at the lowest CPU share: not measured';
  }
  const ratio = image.wallMs.median / reference.wallMs.median;
  return `image / in-process at ${lowest} vCPU: ${ratio.toFixed(2)}× (${ms(image.wallMs.median)} vs ${ms(reference.wallMs.median)}; paired ${image.pairedRatio.toFixed(2)}×), target ≤ ${TARGET_RATIO.toFixed(2)}×: ${ratio <= TARGET_RATIO ? 'met' : 'NOT MET'}`;
}

/** Everything for the terminal, and the same tables in Markdown for docs/performance.md. */
export function adapterShareReport(result: AdapterShareResult): { text: string; markdown: string } {
  if (!result.available) {
    const line = `Adapter share not measured: ${result.reason}`;
    return { text: line, markdown: line };
  }
  const verdict = adapterShareVerdict(result);
  return {
    text: [
      "The adapter's share of a cold start (medians; wall from the invoke sent to its answer):",
      formatTable(adapterShareRows(result)),
      '',
      formatTable(warmRows(result)),
      verdict,
      ...result.provenance,
    ].join('\n'),
    markdown: [
      markdownTable(adapterShareRows(result)),
      '',
      markdownTable(warmRows(result)),
      '',
      verdict,
    ].join('\n'),
  };
}
