// Inputs of the key management operations (pass-through events and scripts share the bounds).
import Joi from 'joi';

const MAX_DAILY_QUOTA = 1_000_000_000;
const MAX_RATE_PER_MINUTE = 1_000_000;

export const keyName = Joi.string().trim().min(1).max(100);
export const dailyQuota = Joi.number().integer().min(1).max(MAX_DAILY_QUOTA);
export const ratePerMinute = Joi.number().integer().min(1).max(MAX_RATE_PER_MINUTE);
// Its prefix or the whole key (`id` in keys.revoke, `--id`).
export const keyId = Joi.string().trim().max(200);

export const createKeyEvent = Joi.object({
  action: Joi.string().valid('keys.create').required(),
  name: keyName.required(),
  quota: dailyQuota,
  rate: ratePerMinute,
});

export const listKeysEvent = Joi.object({ action: Joi.string().valid('keys.list').required() });

export const revokeKeyEvent = Joi.object({
  action: Joi.string().valid('keys.revoke').required(),
  id: keyId.required(),
});
