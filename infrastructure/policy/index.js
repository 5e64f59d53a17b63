// Policy pack entry point (`pulumi preview --policy-pack infrastructure/policy`). Plain JavaScript so the
// CLI's policy host does not hand it to its bundled ts-node; Node's type stripping loads the rules.
import { PolicyPack } from '@pulumi/policy';
import { resourcePolicies, stackPolicies } from './rules.ts';

new PolicyPack('hapi-lambda-guardrails', { policies: [...resourcePolicies, ...stackPolicies] });
