// Web Adapter settings from their one home, the Dockerfile; the function repeats them
// so its configuration shows what the adapter does.
import { readFileSync } from 'node:fs';
import { DockerfileParser, From, PropertyInstruction } from 'dockerfile-ast';

// PORT is shared with the server.
const ADAPTER_VARIABLE = /^(AWS_LWA_\w+|PORT)$/;

// From the Dockerfile's last (runtime) stage.
export function readAdapterSettings(dockerfilePath: string): Record<string, string> {
  const dockerfile = DockerfileParser.parse(readFileSync(dockerfilePath, 'utf8'));
  const instructions = dockerfile.getInstructions();
  const runtimeStart = instructions.findLastIndex((instruction) => instruction instanceof From);
  const settings: Record<string, string> = {};
  for (const instruction of instructions.slice(runtimeStart)) {
    if (!(instruction instanceof PropertyInstruction) || instruction.getKeyword() !== 'ENV') continue;
    for (const property of instruction.getProperties()) {
      const name = property.getName();
      const value = property.getValue();
      if (!ADAPTER_VARIABLE.test(name)) continue;
      if (value === null || value.includes('$')) {
        throw new Error(`${dockerfilePath}: ENV ${name} must be a literal to be repeated on the function`);
      }
      settings[name] = value;
    }
  }
  if (settings.AWS_LWA_PORT !== undefined) {
    // The server listens on PORT; a second variable for the same port lets the two drift apart.
    throw new Error(`${dockerfilePath}: set PORT only; the adapter reads it when AWS_LWA_PORT is unset`);
  }
  return settings;
}
