// Policy pack entry point (`pulumi preview --policy-pack infrastructure/policy`). Plain JavaScript on
// purpose: the CLI's policy host registers its bundled ts-node for `.ts` files it require()s, so the
// entry avoids that and Node's type stripping loads the rules.
import { PolicyPack } from '@pulumi/policy';
import { resourcePolicies, stackPolicies } from './rules.ts';

new PolicyPack('hapi-lambda-guardrails', { policies: [...resourcePolicies, ...stackPolicies] });
