// Lambda architecture → the Docker platform its image must be built for (a mismatch is `exec format
// error`). One table for the program, which builds for it, and the policy pack, which checks it.
export const PLATFORMS = { arm64: 'linux/arm64', x86_64: 'linux/amd64' } as const;
export type Architecture = keyof typeof PLATFORMS;
export type Platform = (typeof PLATFORMS)[Architecture];
