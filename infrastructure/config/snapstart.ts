// SnapStart per stack (off by default; docs/performance.md#snapstart): refused where Lambda would refuse it,
// and unless the image's Web Adapter calls the service's hooks, so a preview fails before a deploy would.
import { readFileSync } from 'node:fs';
import { ConfigError, type Settings } from './settings.ts';

/** The service's hook routes (service/src/plugins/snapstart.ts), set on the function only with SnapStart. */
export const SNAPSTART_HOOKS = {
  AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH: '/internal/snapstart/before-checkpoint',
  AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH: '/internal/snapstart/after-restore',
} as const;

/** The first Web Adapter release that calls the hooks above. */
export const SNAPSTART_MIN_ADAPTER = '1.1.0';

/** Lambda's SnapStart limit on ephemeral storage (/tmp), in MB; the function leaves it at this default. */
const SNAPSTART_MAX_EPHEMERAL_STORAGE_MB = 512;

export function readSnapStart(
  settings: Settings,
  function_: { provisionedConcurrency: number; ephemeralStorageMb?: number },
): boolean {
  const snapStart = settings.bool('snapStart');
  if (!snapStart) return false;
  if (function_.provisionedConcurrency > 0) {
    throw new ConfigError(
      settings.key('snapStart'),
      `Lambda refuses SnapStart together with provisioned concurrency (provisionedConcurrency is ${function_.provisionedConcurrency}): choose one`,
    );
  }
  const storage = function_.ephemeralStorageMb ?? SNAPSTART_MAX_EPHEMERAL_STORAGE_MB;
  if (storage > SNAPSTART_MAX_EPHEMERAL_STORAGE_MB) {
    throw new ConfigError(
      settings.key('snapStart'),
      `Lambda refuses SnapStart with more than ${SNAPSTART_MAX_EPHEMERAL_STORAGE_MB} MB of ephemeral storage (${storage} MB)`,
    );
  }
  return true;
}

/**
 * The hook paths for the function's environment, or none without SnapStart. An adapter older than 1.1.0
 * never calls them: every restored instance would then reuse the snapshot's connections and ids.
 */
export function snapStartHooks(snapStart: boolean, adapterVersion: string): Record<string, string> {
  if (!snapStart) return {};
  if (compareVersions(adapterVersion, SNAPSTART_MIN_ADAPTER) < 0) {
    throw new ConfigError(
      'snapStart',
      `needs the Lambda Web Adapter ${SNAPSTART_MIN_ADAPTER} or later in docker/Dockerfile (it has ${adapterVersion}, which never calls the service's SnapStart hooks)`,
    );
  }
  return { ...SNAPSTART_HOOKS };
}

/** The Web Adapter version the Dockerfile copies the extension from (its image tag). */
export function readAdapterVersion(dockerfilePath: string): string {
  const version = /COPY --from=\S+\/aws-lambda-adapter:([\w.-]+)/.exec(
    readFileSync(dockerfilePath, 'utf8'),
  )?.[1];
  if (version === undefined)
    throw new Error(`${dockerfilePath}: no aws-lambda-adapter:<version> to copy from`);
  return version;
}

/** `1.0.1` < `1.1.0`; a pre-release (`1.1.0-rc1`) sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (version: string) => {
    const [release, pre] = version.split('-', 2) as [string, string | undefined];
    return { parts: release.split('.').map(Number), pre };
  };
  const [left, right] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) {
    const difference = (left.parts[i] ?? 0) - (right.parts[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  if (left.pre === right.pre) return 0;
  if (left.pre === undefined) return 1;
  if (right.pre === undefined) return -1;
  return left.pre < right.pre ? -1 : 1;
}
