// pino's redactor clones and walks every value, even ones no redacted path can reach (docs/performance.md):
// those go straight to JSON.stringify here, so the lines are byte for byte the same, just cheaper.
import { pino, type Logger } from 'pino';
import { neverThrows } from './never-throws.ts';

/** What a stringifier writes (valid JSON) for a value that cannot be read: a throwing getter or proxy. */
const UNREADABLE_JSON = '"[unserializable]"';

type Stringifier = (value: unknown, stringifySafe?: unknown) => string | undefined;
type Stringifiers = Record<string | symbol, Stringifier | undefined>;

/** A path's segments as pino reads them: `a.b["c-d"]` → a, b, c-d. */
function pathSegments(path: string): string[] {
  return [...path.matchAll(/[^.[\]]+|\[([^[\]]*?)\]/g)].map((match) =>
    (match[1] ?? match[0]).replace(/^(["'`])(.*)\1$/, '$2'),
  );
}

/** Wraps the logger's redacting stringifiers (inherited by its children) with the fast path. */
export function skipUnreachableRedaction(logger: Logger, paths: readonly string[]): void {
  const { stringifiersSym, redactFmtSym, wildcardFirstSym } = pino.symbols;
  const segments = paths.map(pathSegments);
  // A one-segment path censors the whole value of that key, whatever it is: never bypassed.
  const censoredKeys = new Set<string | symbol>(
    segments.filter((s) => s.length === 1).map(([key]) => (key === '*' ? wildcardFirstSym : (key ?? ''))),
  );
  // Keys a redacted path looks for inside a logged value; a value with none of them is left as it is.
  const innerKeys = new Set(segments.filter((s) => s.length > 1).map((s) => s[1] ?? ''));
  const anyInnerKey = innerKeys.has('*');

  const stringifiers = (logger as unknown as Record<symbol, Stringifiers>)[stringifiersSym];
  if (stringifiers === undefined) return;
  for (const key of Reflect.ownKeys(stringifiers)) {
    const redacting = stringifiers[key];
    if (redacting === undefined) continue;
    const bypass = key !== redactFmtSym && !censoredKeys.has(key);
    // Every stringifier, fast path or not, runs while a line is written: none may throw.
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
  // Plain objects only: arrays, Dates, Buffers and class instances keep the redactor's own handling.
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const key in value) if (innerKeys.has(key)) return false;
  return true;
}
