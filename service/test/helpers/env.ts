// Environment variables for one test, for code that reads process.env itself (the AWS SDK does): set
// now, put back as they were when the test ends, so no test leaves the process environment changed.
import type { Teardown } from './teardown.ts';

export function setEnv(t: Teardown, variables: Readonly<Record<string, string>>): void {
  const previous = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  t.teardown(() => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
  });
}
