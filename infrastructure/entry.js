// What Pulumi runs: plain JavaScript, so a Node too old to strip types says what to do
// instead of failing on index.ts with ERR_UNKNOWN_FILE_EXTENSION.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  throw new Error(
    `Pulumi started this program with Node ${process.versions.node}, the first node on PATH; it needs ` +
      "Node >= 22.18. Run Pulumi through npm so that the project's Node comes first on PATH, e.g. " +
      '`npm run pulumi -- preview -s dev` (see the deploy guide).',
  );
}

// A default export is the program: Pulumi awaits it and takes its result as the stack outputs.
export default async () => ({ ...(await import('./index.ts')) });
