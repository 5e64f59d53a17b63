// The container engine the image test uses: Docker with BuildKit where a Docker engine answers, else
// buildah (build) and podman (run) from the distribution's packages. Both take the same run flags here.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface Engine {
  readonly name: 'docker' | 'podman';
  /** The CLI that runs containers (`docker` or `podman`). */
  readonly cli: string;
  /** What `docker build`/`buildah bud` is called with, before the per-build arguments. */
  readonly buildCommand: readonly string[];
  /**
   * Run flags every container needs on this machine: podman's default ulimits (1,048,576 open files)
   * are above what an unprivileged sandbox may set, so containers get Lambda's own limits.
   */
  readonly runFlags: readonly string[];
  /**
   * How a container reaches a PostgreSQL that listens on the host's loopback only: its network flags,
   * the database's host name inside, and whether ports are published (`-p`) or shared with the host.
   */
  readonly hostLoopback: {
    readonly flags: readonly string[];
    readonly host: string;
    readonly publish: boolean;
  };
}

async function answers(command: string, args: readonly string[]): Promise<boolean> {
  try {
    await exec(command, [...args], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** The engine this machine has, or a sentence saying why there is none. */
export async function detectEngine(): Promise<Engine | string> {
  if ((await answers('docker', ['info'])) && (await answers('docker', ['buildx', 'version']))) {
    return {
      name: 'docker',
      cli: 'docker',
      buildCommand: ['docker', 'buildx', 'build', '--load', '--provenance=false'],
      runFlags: [],
      // The host's network: a bridge reaches the host only on addresses other than loopback.
      hostLoopback: { flags: ['--network=host'], host: '127.0.0.1', publish: false },
    };
  }
  if ((await answers('buildah', ['--version'])) && (await answers('podman', ['--version']))) {
    const lambdaLimits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
    return {
      name: 'podman',
      cli: 'podman',
      // runc: crun refuses hybrid cgroup hierarchies. --pull-never: the base images are made present first.
      buildCommand: ['buildah', 'bud', '--runtime', 'runc', '--pull-never', ...lambdaLimits],
      runFlags: ['--runtime', 'runc', ...lambdaLimits],
      // slirp4netns maps the host's loopback to 10.0.2.2, and publishes ports like Docker's -p.
      hostLoopback: {
        flags: [
          '--network',
          'slirp4netns:allow_host_loopback=true',
          '--add-host',
          'host.docker.internal:10.0.2.2',
        ],
        host: 'host.docker.internal',
        publish: true,
      },
    };
  }
  return 'neither a Docker engine with buildx (`docker info`, `docker buildx version`) nor buildah and podman answer on this machine';
}
