#!/usr/bin/env node
// A manual deploy needs a CI run of the commit that passed every named job, not the run's
// conclusion: a failed deploy job must not make a tested commit undeployable. Exit code 0 or 1.
import { CheckError, reportFailure, runAsCommand } from './cli-support.mjs';

const USAGE = 'usage: node .github/scripts/ci-passed.mjs <sha> <branch> --job "<name>" [--job "<name>" …]';

export function parseArgs(argv) {
  const positional = [];
  const jobs = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--job' && argv[i + 1] !== undefined) jobs.push(argv[++i]);
    else positional.push(argv[i]);
  }
  const [sha, branch] = positional;
  if (positional.length !== 2 || jobs.length === 0 || !/^[0-9a-f]{40}$/.test(sha ?? '') || !branch) {
    throw new CheckError(USAGE);
  }
  return { sha, branch, jobs };
}

async function getJson(url, token) {
  const res = await fetch(url, {
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${token}`,
      'x-github-api-version': '2022-11-28',
    },
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok)
    throw new CheckError(`GET ${url} answered HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return res.json();
}

// Newest first.
export async function findPassingRun({ api, repo, workflow, token, sha, branch, jobs }) {
  const query = new URLSearchParams({ head_sha: sha, branch, event: 'push', per_page: '100' });
  const { workflow_runs: runs = [] } = await getJson(
    `${api}/repos/${repo}/actions/workflows/${encodeURIComponent(workflow)}/runs?${query}`,
    token,
  );
  const seen = [];
  for (const run of runs) {
    if (run.head_sha !== sha) continue;
    const { jobs: ran = [] } = await getJson(
      `${api}/repos/${repo}/actions/runs/${run.id}/jobs?per_page=100`,
      token,
    );
    const missing = jobs.filter(
      (name) => !ran.some((job) => job.name === name && job.conclusion === 'success'),
    );
    if (missing.length === 0) return { run, seen };
    seen.push(`${run.html_url ?? run.id}: not passed: ${missing.join(', ')}`);
  }
  return { run: undefined, seen };
}

export async function main(argv = process.argv.slice(2), env = process.env) {
  try {
    const { sha, branch, jobs } = parseArgs(argv);
    const token = env.GITHUB_TOKEN;
    const repo = env.GITHUB_REPOSITORY;
    if (!token || !repo) throw new CheckError('GITHUB_TOKEN and GITHUB_REPOSITORY must be set');
    const api = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
    const workflow = env.CI_WORKFLOW || 'ci.yml';
    const { run, seen } = await findPassingRun({ api, repo, workflow, token, sha, branch, jobs });
    if (run === undefined) {
      const detail = seen.length === 0 ? 'no CI run of it was found' : seen.join('; ');
      throw new CheckError(
        `commit ${sha} has not passed CI (${jobs.join(', ')}) as a push to ${branch}: ${detail}. ` +
          'Deploy a commit that CI tested on this branch.',
      );
    }
    console.log(`CI passed for ${sha} on ${branch}: ${run.html_url ?? run.id}`);
    return 0;
  } catch (error) {
    return reportFailure('ci-passed', error);
  }
}

await runAsCommand(import.meta.url, () => main());
