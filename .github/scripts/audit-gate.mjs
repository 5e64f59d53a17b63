#!/usr/bin/env node
// Decides whether `npm audit --json` found advisories that must stop CI: every advisory at or above the
// audit level fails, unless .github/audit-allowlist.json accepts it (by GHSA id, with a reason and an
// expiry date, so an accepted risk is looked at again).
//
//   npm audit --omit=dev --audit-level=high --json > audit.json || true
//   node .github/scripts/audit-gate.mjs audit.json .github/audit-allowlist.json --audit-level=high
//
// Exit code 0 when nothing blocks, 1 otherwise (also when the report is missing or is npm's error).
import { readFile } from 'node:fs/promises';
import { CheckError, reportFailure, runAsCommand } from './cli-support.mjs';

export const LEVELS = ['info', 'low', 'moderate', 'high', 'critical'];
const GHSA = /^GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}$/;
const USAGE =
  'usage: node .github/scripts/audit-gate.mjs <npm-audit.json> <allowlist.json> [--audit-level=high]';

/** The advisories of an `npm audit --json` report (v2), once each: `via` objects are advisories, strings are links. */
export function advisoriesOf(report) {
  if (typeof report !== 'object' || report === null)
    throw new CheckError('the audit report is not a JSON object');
  if (report.error !== undefined) {
    // npm's own error output (e.g. a registry without the audit endpoint answers 405) has no report.
    const summary =
      report.message || report.error?.summary || report.error?.code || JSON.stringify(report.error);
    throw new CheckError(`npm audit failed instead of reporting: ${summary}`);
  }
  if (report.auditReportVersion !== 2 || typeof report.vulnerabilities !== 'object') {
    throw new CheckError('the audit report is not npm 7+ `npm audit --json` output (auditReportVersion 2)');
  }
  const byUrl = new Map();
  for (const vulnerability of Object.values(report.vulnerabilities)) {
    for (const via of vulnerability.via ?? []) {
      if (typeof via !== 'object' || via === null) continue;
      const id = /\/(GHSA-[\w-]+)$/.exec(via.url ?? '')?.[1] ?? String(via.source);
      byUrl.set(via.url ?? id, {
        id,
        package: via.name,
        severity: via.severity,
        title: via.title,
        url: via.url,
      });
    }
  }
  return [...byUrl.values()];
}

/** Validated allow-list entries; a malformed or expired entry is an error, never a silent pass. */
export function allowedIds(allowlist, today) {
  const entries = allowlist?.advisories;
  if (!Array.isArray(entries)) throw new CheckError('the allow-list needs an "advisories" array');
  const ids = new Set();
  for (const [index, entry] of entries.entries()) {
    const where = `allow-list entry ${index + 1}`;
    if (!GHSA.test(entry?.id ?? ''))
      throw new CheckError(`${where}: "id" must be a GHSA id, got ${entry?.id}`);
    if (typeof entry.reason !== 'string' || entry.reason.trim() === '')
      throw new CheckError(`${where} (${entry.id}): "reason" must say why the advisory is accepted`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(entry.expires ?? '') || Number.isNaN(Date.parse(entry.expires)))
      throw new CheckError(`${where} (${entry.id}): "expires" must be a date (YYYY-MM-DD)`);
    if (entry.expires < today)
      throw new CheckError(
        `${where} (${entry.id}) expired on ${entry.expires}: assess it again, then renew or remove it`,
      );
    ids.add(entry.id);
  }
  return ids;
}

/** The advisories at or above `level` that the allow-list does not accept. */
export function blocking(advisories, allowed, level) {
  const floor = LEVELS.indexOf(level);
  if (floor === -1) throw new CheckError(`unknown audit level "${level}" (one of ${LEVELS.join(', ')})`);
  return advisories.filter(
    (advisory) => LEVELS.indexOf(advisory.severity) >= floor && !allowed.has(advisory.id),
  );
}

async function readJson(path, what) {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CheckError(`cannot read the ${what} ${path}: ${error.message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CheckError(`the ${what} ${path} is not JSON: ${text.slice(0, 200)}`);
  }
}

export async function main(argv = process.argv.slice(2), today = new Date().toISOString().slice(0, 10)) {
  try {
    const flags = argv.filter((arg) => arg.startsWith('--'));
    const files = argv.filter((arg) => !arg.startsWith('--'));
    const unknown = flags.filter((flag) => !flag.startsWith('--audit-level='));
    if (files.length !== 2 || unknown.length > 0) throw new CheckError(USAGE);
    const level = flags.at(-1)?.slice('--audit-level='.length) ?? 'high';
    const advisories = advisoriesOf(await readJson(files[0], 'audit report'));
    const allowed = allowedIds(await readJson(files[1], 'allow-list'), today);
    const found = blocking(advisories, allowed, level);
    for (const id of allowed) {
      if (!advisories.some((advisory) => advisory.id === id))
        console.log(`::warning::${id} is allow-listed but no longer reported; remove it from ${files[1]}`);
    }
    if (found.length === 0) {
      console.log(
        `npm audit: no ${level} or higher advisory outside the allow-list (${advisories.length} in total)`,
      );
      return 0;
    }
    for (const advisory of found) {
      console.log(
        `::error::${advisory.severity} ${advisory.package}: ${advisory.title} (${advisory.id}) ${advisory.url}`,
      );
    }
    throw new CheckError(
      `${found.length} ${level}-or-higher advisory(ies) in production dependencies: update them, or accept ` +
        `one in ${files[1]} with a reason and an expiry date`,
    );
  } catch (error) {
    return reportFailure('audit', error);
  }
}

await runAsCommand(import.meta.url, () => main());
