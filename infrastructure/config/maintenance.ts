// The maintenance setting: the EventBridge schedule of the service's maintenance event, or `off`.
import { ConfigError, type Settings } from './settings.ts';
import { DEFAULTS } from './defaults.ts';

/** The schedule expression; undefined when turned off. */
export function readMaintenanceSchedule(settings: Settings): string | undefined {
  const schedule = settings.raw('maintenanceSchedule') ?? DEFAULTS.maintenanceSchedule;
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
  return schedule === 'off' ? undefined : schedule;
}
