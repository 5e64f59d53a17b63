// `ak_<12 base32>_<43 base64url>`: a public prefix, 256 secret bits; garbage never reaches the database.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const KEY_PATTERN = /^(ak_[a-z2-7]{12})_[A-Za-z0-9_-]{43}$/;
const PREFIX_PATTERN = /^(?:ak_)?([a-z2-7]{12})(?:_[A-Za-z0-9_-]{43})?$/;

export interface GeneratedKey {
  readonly key: string;
  readonly prefix: string;
  readonly hash: string;
}

export function generateKey(): GeneratedKey {
  // 256 % 32 === 0, so masking each byte keeps every character equally likely.
  const prefixChars = Array.from(randomBytes(12), (byte) => BASE32.charAt(byte & 31)).join('');
  const prefix = `ak_${prefixChars}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashKey(key) };
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function parseKey(key: string): { prefix: string; hash: string } | undefined {
  const match = KEY_PATTERN.exec(key);
  return match?.[1] === undefined ? undefined : { prefix: match[1], hash: hashKey(key) };
}

// `ak_xxxxxxxxxxxx`, its 12 characters or a whole key → `ak_xxxxxxxxxxxx`.
export function normalizePrefix(value: string): string | undefined {
  const prefixChars = PREFIX_PATTERN.exec(value.trim())?.[1];
  return prefixChars === undefined ? undefined : `ak_${prefixChars}`;
}

export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

export type PresentedKey =
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'key'; readonly prefix: string; readonly hash: string };

// `x-api-key`, else `Authorization: Bearer <key>`.
export function readPresentedKey(headers: Readonly<Record<string, unknown>>): PresentedKey {
  const header = headers['x-api-key'];
  let value: string;
  if (header !== undefined) {
    // Node joins repeated headers into one string; anything else is not a key.
    if (typeof header !== 'string') return { kind: 'malformed' };
    value = header.trim();
  } else {
    const authorization = headers.authorization;
    if (typeof authorization !== 'string') return { kind: 'missing' };
    const match = /^Bearer +(\S+) *$/i.exec(authorization.trim());
    if (match?.[1] === undefined) return { kind: 'missing' };
    value = match[1];
  }
  if (value === '') return { kind: 'missing' };
  const parsed = parseKey(value);
  return parsed === undefined ? { kind: 'malformed' } : { kind: 'key', ...parsed };
}
