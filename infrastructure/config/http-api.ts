// The HTTP API's settings: throttling, the browser origins the service allows (CORS), and an optional
// custom domain.
import { DEFAULTS } from './defaults.ts';
import { ConfigError, type Settings } from './settings.ts';

export interface HttpApiConfig {
  throttle: { rateLimit: number; burstLimit: number };
  corsOrigins: string[];
  domain: { name: string; hostedZoneId: string } | undefined;
}

export function readHttpApiConfig(settings: Settings): HttpApiConfig {
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
    corsOrigins: readCorsOrigins(settings.raw('corsOrigins'), settings.key('corsOrigins')),
    domain: readDomain(settings),
  };
}

function readCorsOrigins(text: string | undefined, fullKey: string): string[] {
  if (text === undefined) return [...DEFAULTS.corsOrigins];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(fullKey, 'must be a list of origins (a YAML list, or a JSON array)');
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new ConfigError(fullKey, 'must be a list of origin strings');
  }
  for (const origin of parsed) {
    // Browsers send the bare origin; a path, a trailing slash or a wildcard never matches it.
    if (!/^https:\/\/[a-z0-9.-]+(:\d+)?$/.test(origin) && !/^http:\/\/localhost(:\d+)?$/.test(origin)) {
      throw new ConfigError(fullKey, `"${origin}" is not https://host[:port] or http://localhost[:port]`);
    }
  }
  return parsed;
}

function readDomain(settings: Settings): HttpApiConfig['domain'] {
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
