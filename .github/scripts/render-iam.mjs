#!/usr/bin/env node
// Fills a .github/iam/ template's ${PLACEHOLDERS} for `aws iam … file://` (.github/iam/README.md).
// IAM's own `${aws:…}` variables stay. Exit code 0 or 1.
import { readFileSync } from 'node:fs';
import { CheckError, reportFailure, runAsCommand } from './cli-support.mjs';

export const PLACEHOLDERS = {
  AWS_ACCOUNT_ID: /^\d{12}$/,
  AWS_REGION: /^[a-z]{2}(?:-[a-z]+)+-\d$/,
  // Newer repositories present the immutable owner@<org id>/repo@<repo id>.
  OIDC_REPO: /^[\w.-]+(?:@\d+)?\/[\w.-]+(?:@\d+)?$/,
  // The preview role takes the glob of every preview stack.
  STACK: /^(?:[a-z0-9]+|preview-\*)$/,
  STATE_BUCKET: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  // Derived, never set: the permissions boundary every role the program creates must carry.
  WORKLOAD_BOUNDARY_ARN: /^arn:aws:iam::\d{12}:policy\/[\w+=,.@-]+$/,
};

// One home: the Pulumi program reads it too.
export const BOUNDARY_POLICY_NAME = JSON.parse(
  readFileSync(new URL('../../infrastructure/permissions-boundary.json', import.meta.url), 'utf8'),
).policyName;

const derived = (values) =>
  values.AWS_ACCOUNT_ID === undefined
    ? values
    : {
        ...values,
        WORKLOAD_BOUNDARY_ARN: `arn:aws:iam::${values.AWS_ACCOUNT_ID}:policy/${BOUNDARY_POLICY_NAME}`,
      };

const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)\}/g;

// Throws naming a missing or malformed value.
export function render(template, given) {
  const values = derived(given);
  const text = template.replace(PLACEHOLDER, (_, name) => {
    const pattern = PLACEHOLDERS[name];
    if (pattern === undefined) throw new CheckError(`unknown placeholder \${${name}}`);
    const value = values[name];
    if (value === undefined || value === '')
      throw new CheckError(`${name} must be set (the template uses it)`);
    if (!pattern.test(value)) throw new CheckError(`${name}="${value}" does not match ${pattern}`);
    return value;
  });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CheckError(`the rendered policy is not JSON: ${error.message}`);
  }
}

export function main(argv = process.argv.slice(2), env = process.env) {
  try {
    if (argv.length !== 1) throw new CheckError('usage: node .github/scripts/render-iam.mjs <template.json>');
    const policy = render(readFileSync(argv[0], 'utf8'), env);
    process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
    return 0;
  } catch (error) {
    return reportFailure('render-iam', error);
  }
}

await runAsCommand(import.meta.url, async () => main());
