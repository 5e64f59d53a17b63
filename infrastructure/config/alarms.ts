// The alarm settings: who is mailed, how long a condition must hold, and each alarm's threshold, read
// from the setting its catalogue row names.
import { ALARMS, DATABASE_ALARMS, type AlarmKey, type DatabaseAlarmKey } from '../alarm-catalogue.ts';
import type { DatabaseConfig } from './database.ts';
import { ConfigError, type Settings } from './settings.ts';

export interface AlarmSettings {
  email: string | undefined;
  evaluationPeriods: number;
  /** By alarm; a `timeout-percent` setting is turned into milliseconds of the function timeout. */
  thresholds: Record<AlarmKey, number>;
  /** Managed mode: the database alarms' thresholds (connections, ACU), from their percentages. */
  databaseThresholds: Record<DatabaseAlarmKey, number> | undefined;
}

export function readAlarmSettings(
  settings: Settings,
  timeoutSeconds: number,
  database?: DatabaseConfig,
): AlarmSettings {
  const email = settings.raw('alarmEmail');
  if (email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    throw new ConfigError(settings.key('alarmEmail'), `"${email}" is not an e-mail address`);
  }
  const threshold = ({ setting, range: [min, max], unit }: (typeof ALARMS)[number]) => {
    const value = settings.num(setting, min, max);
    return unit === 'timeout-percent' ? Math.round(timeoutSeconds * 1000 * (value / 100)) : value;
  };
  return {
    email,
    evaluationPeriods: settings.num('alarmEvaluationPeriods', 1, 60),
    thresholds: Object.fromEntries(ALARMS.map((spec) => [spec.key, threshold(spec)])) as Record<
      AlarmKey,
      number
    >,
    databaseThresholds: database?.mode === 'managed' ? databaseThresholds(settings, database) : undefined,
  };
}

function databaseThresholds(
  settings: Settings,
  database: {
    maxConnections: number;
    maxCapacity: number;
    proxy: { maxConnectionsPercent: number } | undefined;
  },
): Record<DatabaseAlarmKey, number> {
  const of = { 'max-connections': database.maxConnections, 'max-capacity': database.maxCapacity };
  // A proxy fills its pool by design under load (clients queue in it): only more than that is alarming.
  const proxyCeiling =
    database.proxy === undefined
      ? 0
      : Math.floor((database.maxConnections * database.proxy.maxConnectionsPercent) / 100) + 1;
  return Object.fromEntries(
    DATABASE_ALARMS.map(({ key, setting, range: [min, max], of: base }) => {
      const percent = settings.num(setting, min, max);
      // Connections are whole; ACU move in halves, so a capacity threshold keeps two decimals.
      const value = (of[base] * percent) / 100;
      return [
        key,
        base === 'max-connections'
          ? Math.max(Math.floor(value), proxyCeiling)
          : Math.round(value * 100) / 100,
      ];
    }),
  ) as Record<DatabaseAlarmKey, number>;
}
