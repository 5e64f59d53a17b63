// `<project>:<module>:<Class>` with a constant project: a changed token changes every child's URN,
// which replaces everything.
export const TOKEN_PREFIX = 'hapi-lambda';

export function typeToken(module: string, className: string): string {
  return `${TOKEN_PREFIX}:${module}:${className}`;
}
