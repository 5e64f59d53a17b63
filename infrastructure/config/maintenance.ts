// The maintenance schedule, shaped as MaintenanceSchedule's args; none when `off`.
import { ConfigError, type Settings } from './settings.ts';

export interface MaintenanceSettings {
  // e.g. `rate(1 day)` or `cron(0 3 * * ? *)` (UTC).
  scheduleExpression: string;
}

export function readMaintenanceSettings(settings: Settings): MaintenanceSettings | undefined {
  const schedule = settings.text('maintenanceSchedule');
  if (
    schedule !== 'off' &&
    !/^rate\(([1-9]\d*) (minute|hour|day)s?\)$/.test(schedule) &&
    !/^cron\(\S+( \S+){5}\)$/.test(schedule)
  ) {
    throw new ConfigError(
      settings.key('maintenanceSchedule'),
      `"${schedule}" is not rate(<n> <minute|hour|day>[s]), cron(<6 fields>) or off`,
    );
  }
  return schedule === 'off' ? undefined : { scheduleExpression: schedule };
}
