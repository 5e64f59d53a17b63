// How `live` moves to a new version (at once by Pulumi, or shifted by CodeDeploy), what stays provisioned on
// it and how many published versions a deploy keeps; docs/deploy.md says who does what.
import { ConfigError, type Settings } from './settings.ts';

const TRAFFIC_SHIFTS = ['all-at-once', 'canary', 'linear'] as const;
type TrafficShift = (typeof TRAFFIC_SHIFTS)[number];

/** CodeDeploy's own Lambda configurations (CodeDeploy user guide, "Deployment configurations on an AWS Lambda compute platform"). */
const PREDEFINED = {
  canary: { 10: [5, 10, 15, 30] },
  linear: { 10: [1, 2, 3, 10] },
} as const satisfies Record<Exclude<TrafficShift, 'all-at-once'>, Record<number, readonly number[]>>;

/** A CodeDeploy shift of `live`: a `CodeDeployDefault.Lambda*` name, or the custom configuration to create. */
export interface ShiftSettings {
  type: Exclude<TrafficShift, 'all-at-once'>;
  /** Canary: the share of the first step; linear: the share added every interval. */
  percentage: number;
  /** Canary: minutes before the rest moves; linear: minutes between steps. */
  intervalMinutes: number;
  /** Set when CodeDeploy predefines this shift; otherwise the program creates a deployment configuration. */
  predefinedConfigName: string | undefined;
}

export interface DeploymentSettings {
  trafficShift: TrafficShift;
  /** Undefined for `all-at-once`: Pulumi itself moves `live`, as without CodeDeploy. */
  shift: ShiftSettings | undefined;
  /** Instances kept initialised on `live`; 0 for none. */
  provisionedConcurrency: number;
  /** Published versions a deploy keeps (the pruning script never deletes `live`'s or the shift's). */
  retainedVersions: number;
}

export function readDeploymentSettings(
  settings: Settings,
  reservedConcurrency: number | undefined,
): DeploymentSettings {
  const trafficShift = settings.oneOf('trafficShift', TRAFFIC_SHIFTS);
  const provisionedConcurrency = settings.num('provisionedConcurrency', 0, 10_000);
  // Lambda refuses provisioned concurrency above the function's reserved concurrency.
  if (reservedConcurrency !== undefined && provisionedConcurrency > reservedConcurrency) {
    throw new ConfigError(
      settings.key('provisionedConcurrency'),
      `${provisionedConcurrency} is more than reservedConcurrency (${reservedConcurrency})`,
    );
  }
  // Read (and checked) in every mode, so switching a stack to a shift never meets a bad value first.
  const shift = readShift(settings, trafficShift === 'all-at-once' ? 'canary' : trafficShift);
  return {
    trafficShift,
    shift: trafficShift === 'all-at-once' ? undefined : shift,
    provisionedConcurrency,
    retainedVersions: settings.num('retainedVersions', 2, 100),
  };
}

// deploy.yml's rollout waits at most ROLLOUT_MAX_MINUTES (120) for a shift plus its 10-minute margin.
const MAX_SHIFT_MINUTES = 110;

function readShift(settings: Settings, type: ShiftSettings['type']): ShiftSettings {
  const percentage = settings.num('trafficShiftPercent', 1, 99);
  // The deploy job waits for the whole shift; an hour per step bounds it.
  const intervalMinutes = settings.num('trafficShiftMinutes', 1, 60);
  // Refused here, not by the rollout after `pulumi up` has already published and migrated.
  const total = type === 'canary' ? intervalMinutes : Math.ceil(100 / percentage) * intervalMinutes;
  if (total > MAX_SHIFT_MINUTES) {
    throw new ConfigError(
      settings.key('trafficShiftMinutes'),
      `a ${type} shift of ${percentage} % every ${intervalMinutes} min takes up to ${total} min; the deploy job waits at most ${MAX_SHIFT_MINUTES} (raise trafficShiftPercent or lower trafficShiftMinutes)`,
    );
  }
  const offered: Record<number, readonly number[] | undefined> = PREDEFINED[type];
  const predefined = offered[percentage]?.includes(intervalMinutes) === true;
  const name =
    type === 'canary'
      ? `CodeDeployDefault.LambdaCanary${percentage}Percent${intervalMinutes}Minutes`
      : `CodeDeployDefault.LambdaLinear${percentage}PercentEvery${intervalMinutes}Minute${intervalMinutes === 1 ? '' : 's'}`;
  return { type, percentage, intervalMinutes, predefinedConfigName: predefined ? name : undefined };
}
