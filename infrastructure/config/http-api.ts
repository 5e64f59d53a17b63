// The HTTP API's settings, shaped as HttpApi's args.
import { ConfigError, type Settings } from './settings.ts';

export interface HttpApiSettings {
  throttle: { rateLimit: number; burstLimit: number };
  // The function's logs keep the same.
  logRetentionDays: number;
  domain?: { name: string; hostedZoneId: string };
}

// `logRetentionDays` is read and checked once, for the function.
export function readHttpApiSettings(settings: Settings, logRetentionDays: number): HttpApiSettings {
  const rateLimit = settings.num('throttleRateLimit', 1, 10_000);
  const burstLimit = settings.num('throttleBurstLimit', 1, 5_000);
  if (burstLimit < rateLimit / 10) {
    // API Gateway accepts it, but a burst far below the rate throttles traffic the rate allows.
    throw new ConfigError(
      settings.key('throttleBurstLimit'),
      `${burstLimit} is too small for a rate of ${rateLimit}/s`,
    );
  }
  return {
    throttle: { rateLimit, burstLimit },
    logRetentionDays,
    domain: readDomain(settings),
  };
}

function readDomain(settings: Settings): HttpApiSettings['domain'] {
  const name = settings.raw('domainName');
  const hostedZoneId = settings.raw('hostedZoneId');
  if (name !== undefined && !/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/.test(name)) {
    throw new ConfigError(settings.key('domainName'), `"${name}" is not a lower-case DNS name`);
  }
  if (name === undefined || hostedZoneId === undefined) {
    if (name !== hostedZoneId) {
      throw new ConfigError(
        settings.key(name === undefined ? 'domainName' : 'hostedZoneId'),
        'domainName and hostedZoneId must be set together',
      );
    }
    return undefined;
  }
  return { name, hostedZoneId };
}
