// Rules of the config schema (config.ts) that joi's built-ins would make expensive at start-up.
import { isIP } from 'node:net';
import Joi from 'joi';

// joi's hostname()/uri() cost a cold start ≈ 70 ms: the same checks, codes and messages, cheaper.
// docs/performance.md#cold-start-at-lambdas-cpu-share-and-memorysize
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const POSTGRES_SCHEMES = ['postgres', 'postgresql'];

export const hostname = Joi.string().custom((value: string, helpers) =>
  isIP(value) !== 0 || HOST_NAME.test(value) ? value : helpers.error('string.hostname'),
);

export const postgresUrl = Joi.string().custom((value: string, helpers) => {
  let scheme: string | undefined;
  try {
    scheme = new URL(value).protocol.slice(0, -1);
  } catch {
    // joi's message, for a malformed URL as for another scheme.
  }
  return scheme !== undefined && POSTGRES_SCHEMES.includes(scheme)
    ? value
    : helpers.error('string.uriCustomScheme', { scheme: POSTGRES_SCHEMES.join('|') });
});
