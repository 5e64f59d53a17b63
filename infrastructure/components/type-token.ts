// Type tokens of this program's components: `<project>:<module>:<Class>`. A constant, not the project
// name at run time, because changing a token changes every child's URN (= replace everything).
export const TOKEN_PREFIX = 'hapi-lambda';

export function typeToken(module: string, className: string): string {
  return `${TOKEN_PREFIX}:${module}:${className}`;
}
