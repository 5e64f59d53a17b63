// Values no redacted path reaches skip pino's cloning redactor: same bytes, cheaper (docs/performance.md).
import { pino, type Logger } from 'pino';
import { neverThrows } from './never-throws.ts';

// Valid JSON, for a throwing getter or proxy.
const UNREADABLE_JSON = '"[unserializable]"';

type Stringifier = (value: unknown, stringifySafe?: unknown) => string | undefined;
type Stringifiers = Record<string | symbol, Stringifier | undefined>;

// As pino reads them: `a.b["c-d"]` → a, b, c-d.
function pathSegments(path: string): string[] {
  return [...path.matchAll(/[^.[\]]+|\[([^[\]]*?)\]/g)].map((match) =>
    (match[1] ?? match[0]).replace(/^(["'`])(.*)\1$/, '$2'),
  );
}

export function skipUnreachableRedaction(logger: Logger, paths: readonly string[]): void {
  const { stringifiersSym, redactFmtSym, wildcardFirstSym } = pino.symbols;
  const segments = paths.map(pathSegments);
  // A one-segment path censors the whole value: never bypassed.
  const censoredKeys = new Set<string | symbol>(
    segments.filter((s) => s.length === 1).map(([key]) => (key === '*' ? wildcardFirstSym : (key ?? ''))),
  );
  // A value with none of these keys skips the redactor.
  const innerKeys = new Set(segments.filter((s) => s.length > 1).map((s) => s[1] ?? ''));
  const anyInnerKey = innerKeys.has('*');

  const stringifiers = (logger as unknown as Record<symbol, Stringifiers>)[stringifiersSym];
  if (stringifiers === undefined) return;
  for (const key of Reflect.ownKeys(stringifiers)) {
    const redacting = stringifiers[key];
    if (redacting === undefined) continue;
    const bypass = key !== redactFmtSym && !censoredKeys.has(key);
    // Runs while a line is written: must never throw.
    stringifiers[key] = neverThrows(
      bypass
        ? function (this: unknown, value, stringifySafe) {
            if (unreachable(value, innerKeys, anyInnerKey)) {
              try {
                return JSON.stringify(value);
              } catch {
                // Circular or BigInt: the redactor's own fallback.
              }
            }
            return redacting.call(this, value, stringifySafe);
          }
        : redacting,
      UNREADABLE_JSON,
    );
  }
}

function unreachable(value: unknown, innerKeys: ReadonlySet<string>, anyInnerKey: boolean): boolean {
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return true;
  if (type !== 'object' || value === null || anyInnerKey) return false;
  // Arrays, Dates, Buffers and class instances keep the redactor's handling.
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const key in value) if (innerKeys.has(key)) return false;
  return true;
}
