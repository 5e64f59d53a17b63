// Lambda architecture → image platform (a mismatch is `exec format error`),
// one table for the program and the policy pack.
export const PLATFORMS = { arm64: 'linux/arm64', x86_64: 'linux/amd64' } as const;
export type Architecture = keyof typeof PLATFORMS;
export type Platform = (typeof PLATFORMS)[Architecture];
