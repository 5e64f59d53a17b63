#!/usr/bin/env node
// Stops a deploy early when an `external` stack lacks its encrypted `databaseUrl` (CI cannot set it),
// printing what to run locally. Exit code 0 or 1.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CheckError, reportFailure, runAsCommand } from './cli-support.mjs';

const readYaml = (file) => parse(readFileSync(file, 'utf8')) ?? {};

// Each problem with the commands that fix it.
export function stackConfigProblems(stack, dir = '.') {
  const project = readYaml(`${dir}/Pulumi.yaml`);
  const name = project.name;
  const stackFile = `Pulumi.${stack}.yaml`;
  if (!existsSync(`${dir}/${stackFile}`)) {
    return [
      `${stackFile} does not exist: run \`pulumi stack init ${stack}\`, configure it and commit ${stackFile}`,
    ];
  }
  const config = readYaml(`${dir}/${stackFile}`).config ?? {};
  const value = (key) => config[`${name}:${key}`] ?? config[key];
  const mode = value('databaseMode') ?? project.config?.databaseMode?.default ?? 'external';
  if (mode !== 'external') return [];

  const url = value('databaseUrl');
  const setIt = `pulumi config set --secret databaseUrl 'postgres://…' -s ${stack}`;
  const commitIt = `commit the encrypted value it writes into ${stackFile}`;
  if (url === undefined || url === null || url === '') {
    return [
      `stack ${stack} uses databaseMode external but ${stackFile} has no databaseUrl: run \`${setIt}\` and ${commitIt}`,
    ];
  }
  if (typeof url !== 'object' || typeof url.secure !== 'string' || url.secure === '') {
    return [`databaseUrl is plain text in ${stackFile}: remove it, run \`${setIt}\` and ${commitIt}`];
  }
  return [];
}

export function main(argv = process.argv.slice(2), dir = '.') {
  try {
    const [stack] = argv;
    if (argv.length !== 1 || !/^[\w.-]+$/.test(stack ?? '')) {
      throw new CheckError('usage: node .github/scripts/check-stack-config.mjs <stack>');
    }
    const problems = stackConfigProblems(stack, dir);
    for (const problem of problems) console.log(`::error::${problem}`);
    if (problems.length > 0) throw new CheckError(`stack ${stack} is not ready to deploy (see above)`);
    console.log(`Stack ${stack}: required secret config is present.`);
    return 0;
  } catch (error) {
    return reportFailure('stack config', error);
  }
}

await runAsCommand(import.meta.url, async () => main());
