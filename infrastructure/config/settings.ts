// Reads one stack setting at a time; errors name the full key.
// Defaults live in Pulumi.yaml alone: the engine fills them in before the run.
import type * as pulumi from '@pulumi/pulumi';

export class ConfigError extends Error {
  constructor(key: string, problem: string) {
    super(`Invalid stack configuration "${key}": ${problem}`);
    this.name = 'ConfigError';
  }
}

// So tests can feed plain values.
export interface ConfigSource {
  get(key: string): string | undefined;
  getSecret(key: string): pulumi.Output<string> | undefined;
}

export interface Settings {
  // `<project>:<name>`, as error messages name it.
  key(name: string): string;
  // Undefined when unset or blank (an optional setting's default is `''`).
  raw(name: string): string | undefined;
  // Pulumi.yaml declares its default.
  text(name: string): string;
  // Still wrapped, so it is never printed.
  secret(name: string): pulumi.Output<string> | undefined;
  oneOf<T extends string>(name: string, allowed: readonly T[]): T;
  num(name: string, min: number, max: number, integer?: boolean): number;
  bool(name: string): boolean;
}

export function readSettings(source: ConfigSource, project: string): Settings {
  const key = (name: string) => `${project}:${name}`;
  const raw = (name: string): string | undefined => {
    const value = source.get(name);
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const text = (name: string): string => {
    const value = raw(name);
    if (value === undefined)
      throw new ConfigError(key(name), 'is not set (Pulumi.yaml declares its default)');
    return value;
  };
  return {
    key,
    raw,
    text,
    secret: (name) => source.getSecret(name),
    oneOf(name, allowed) {
      const value = text(name);
      if (!(allowed as readonly string[]).includes(value)) {
        throw new ConfigError(key(name), `"${value}" is not one of ${allowed.join(', ')}`);
      }
      return value as (typeof allowed)[number];
    },
    num(name, min, max, integer = true) {
      const value = Number(text(name));
      if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
        throw new ConfigError(key(name), `"${text(name)}" is not ${integer ? 'an integer' : 'a number'}`);
      }
      if (value < min || value > max) {
        throw new ConfigError(key(name), `${value} is outside ${min}..${max}`);
      }
      return value;
    },
    bool(name) {
      const value = text(name);
      if (value !== 'true' && value !== 'false') {
        throw new ConfigError(key(name), `"${value}" is not true or false`);
      }
      return value === 'true';
    },
  };
}
