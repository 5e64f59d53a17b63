// The alarm settings: who is mailed, how long a condition must hold, and each alarm's threshold, read
// from the setting its catalogue row names.
import { ALARMS, type AlarmKey } from '../alarm-catalogue.ts';
import { ConfigError, type Settings } from './settings.ts';

export interface AlarmSettings {
  email: string | undefined;
  evaluationPeriods: number;
  /** By alarm; a `timeout-percent` setting is turned into milliseconds of the function timeout. */
  thresholds: Record<AlarmKey, number>;
}

export function readAlarmSettings(settings: Settings, timeoutSeconds: number): AlarmSettings {
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
  };
}
