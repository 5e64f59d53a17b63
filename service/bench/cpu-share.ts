// Lambda's CPU share (memory / 1,769 MB of a vCPU, init included) reproduced with a cgroup v1 CFS quota.
// Needs root and a writable `cpu` controller; without them the bench says why and measures unthrottled only.
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const CONTROLLER = '/sys/fs/cgroup/cpu';
const PERIOD_US = 100_000;

export interface CpuGroup {
  /** CPUs the group may use, e.g. 0.29. */
  readonly share: number;
  /** The group's cgroup.procs: a process writes its own pid here before it execs node. */
  readonly procsFile: string;
}

export type CpuGroups =
  | { readonly available: true; readonly groups: readonly CpuGroup[]; remove(): Promise<void> }
  | { readonly available: false; readonly reason: string };

/** One cgroup per share under the `cpu` controller, named for this bench process. */
export async function createCpuGroups(shares: readonly number[]): Promise<CpuGroups> {
  const made: string[] = [];
  const remove = async () => {
    for (const dir of made.reverse()) await rmdir(dir).catch(() => undefined);
  };
  try {
    const groups: CpuGroup[] = [];
    for (const share of shares) {
      const dir = path.join(CONTROLLER, `bench-${process.pid}-${Math.round(share * 100)}`);
      await mkdir(dir);
      made.push(dir);
      await writeFile(path.join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
      await writeFile(path.join(dir, 'cpu.cfs_quota_us'), String(quotaUs(share)));
      groups.push({ share, procsFile: path.join(dir, 'cgroup.procs') });
    }
    return { available: true, groups, remove };
  } catch (error) {
    await remove();
    const reason = error instanceof Error ? error.message : String(error);
    return { available: false, reason: `no writable cgroup v1 cpu controller at ${CONTROLLER}: ${reason}` };
  }
}

/** The CFS quota for `share` CPUs per 100 ms period, in µs (the kernel's minimum is 1 000). */
export function quotaUs(share: number): number {
  return Math.max(1000, Math.round(share * PERIOD_US));
}

/**
 * The command that starts `argv` inside the group: a shell writes its own pid into cgroup.procs and
 * then execs node, so node's whole start-up (and every thread it makes) is already throttled.
 */
export function inGroup(procsFile: string, argv: readonly string[]): { file: string; args: string[] } {
  return { file: '/bin/sh', args: ['-c', 'echo $$ > "$0" && exec "$@"', procsFile, ...argv] };
}
