// The policy pack's rules, exported one by one so tests can run each validator on good and bad input.
import type {
  ReportViolation,
  ResourceValidationPolicy,
  StackValidationPolicy,
  PolicyResource,
} from '@pulumi/policy';
import { PLATFORMS } from '../platforms.ts';

type Props = Record<string, unknown>;

const isRecord = (value: unknown): value is Props =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** Policy SDK props are `any`; narrow them once. */
const propsOf = (resource: { props: unknown }): Props => (isRecord(resource.props) ? resource.props : {});
const asArray = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

/** Lambda architecture → the only image platform it can execute (the program builds from the same table). */
const ARCHITECTURE_PLATFORM: Readonly<Record<string, string>> = PLATFORMS;

const IAM_POLICY_TYPES = new Set([
  'aws:iam/rolePolicy:RolePolicy',
  'aws:iam/policy:Policy',
  'aws:iam/userPolicy:UserPolicy',
  'aws:iam/groupPolicy:GroupPolicy',
]);

/** Actions of every statement in a policy document (a JSON string or an object). */
export function policyActions(document: unknown): string[] {
  let parsed: unknown = document;
  if (typeof document === 'string') {
    try {
      parsed = JSON.parse(document);
    } catch {
      return [];
    }
  }
  if (!isRecord(parsed)) return [];
  return asArray(parsed.Statement)
    .filter(isRecord)
    .flatMap((statement) => [...asArray(statement.Action), ...asArray(statement.NotAction)])
    .filter((action): action is string => typeof action === 'string');
}

const noIamWildcardActions: ResourceValidationPolicy = {
  name: 'iam-no-wildcard-actions',
  description: 'IAM policies name their actions; "*" or "service:*" grants far more than the service needs.',
  enforcementLevel: 'mandatory',
  validateResource: (args, reportViolation) => {
    const documents: unknown[] = [];
    if (IAM_POLICY_TYPES.has(args.type)) documents.push(propsOf(args).policy);
    if (args.type === 'aws:iam/role:Role') {
      documents.push(
        ...asArray(propsOf(args).inlinePolicies)
          .filter(isRecord)
          .map((inline) => inline.policy),
      );
    }
    for (const action of documents.flatMap(policyActions)) {
      if (action.includes('*')) reportViolation(`wildcard action "${action}"`);
    }
  },
};

const logGroupsHaveRetention: ResourceValidationPolicy = {
  name: 'log-group-retention',
  description: 'Every log group expires its events; "never expire" grows the bill forever.',
  enforcementLevel: 'mandatory',
  validateResource: (args, reportViolation) => {
    if (args.type !== 'aws:cloudwatch/logGroup:LogGroup') return;
    const days = propsOf(args).retentionInDays;
    if (typeof days !== 'number' || days <= 0) reportViolation('retentionInDays is not set');
  },
};

const ecrScanOnPush: ResourceValidationPolicy = {
  name: 'ecr-scan-on-push',
  description: 'ECR repositories scan every pushed image for known vulnerabilities.',
  enforcementLevel: 'mandatory',
  validateResource: (args, reportViolation) => {
    if (args.type !== 'aws:ecr/repository:Repository') return;
    const scanning = propsOf(args).imageScanningConfiguration;
    if (!isRecord(scanning) || scanning.scanOnPush !== true) reportViolation('scanOnPush is not enabled');
  },
};

/** Names that announce a secret; `…_ARN`/`…_NAME`/`…_ID` point at one instead of holding it. */
const SECRET_NAME =
  /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|DATABASE_URL|CONNECTION_STRING|DSN)/i;
const REFERENCE_NAME = /_(ARN|NAME|ID)$/i;
/** Values that are secrets whatever their name: URLs with a password, private keys, AWS secret keys. */
const SECRET_VALUE = [
  /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^AKIA[0-9A-Z]{16}$/,
];

const noPlaintextSecretsInEnvironment: ResourceValidationPolicy = {
  name: 'lambda-no-plaintext-secrets',
  description:
    'Lambda environment variables are readable by anyone with lambda:GetFunctionConfiguration; ' +
    'secrets live in Secrets Manager and only their ARN is passed.',
  enforcementLevel: 'mandatory',
  validateResource: (args, reportViolation) => {
    if (args.type !== 'aws:lambda/function:Function') return;
    const environment = propsOf(args).environment;
    const variables = isRecord(environment) && isRecord(environment.variables) ? environment.variables : {};
    for (const [name, value] of Object.entries(variables)) {
      if (SECRET_NAME.test(name) && !REFERENCE_NAME.test(name)) {
        reportViolation(`environment variable ${name} looks like a secret; pass a Secrets Manager ARN`);
      } else if (typeof value === 'string' && SECRET_VALUE.some((pattern) => pattern.test(value))) {
        reportViolation(`environment variable ${name} holds a secret-looking value`);
      }
    }
  },
};

const functions = (resources: PolicyResource[]) =>
  resources.filter((resource) => resource.type === 'aws:lambda/function:Function');

const everyFunctionHasAlarms: StackValidationPolicy = {
  name: 'lambda-has-alarms',
  description: 'Every function has CloudWatch alarms on its Errors and Throttles that notify someone.',
  enforcementLevel: 'mandatory',
  validateStack: (args, reportViolation: ReportViolation) => {
    const alarms = args.resources
      .filter((resource) => resource.type === 'aws:cloudwatch/metricAlarm:MetricAlarm')
      .map(propsOf)
      .filter((props) => props.namespace === 'AWS/Lambda' && asArray(props.alarmActions).length > 0);
    for (const fn of functions(args.resources)) {
      const name = propsOf(fn).name;
      if (typeof name !== 'string') continue; // Unknown during a first preview.
      const metrics = new Set(
        alarms
          .filter((props) => isRecord(props.dimensions) && props.dimensions.FunctionName === name)
          .map((props) => props.metricName),
      );
      for (const metric of ['Errors', 'Throttles']) {
        if (!metrics.has(metric))
          reportViolation(`function ${name} has no ${metric} alarm with an action`, fn.urn);
      }
    }
  },
};

const lambdaArchitectureMatchesImage: StackValidationPolicy = {
  name: 'lambda-architecture-matches-image',
  description: 'A function runs only images built for its architecture (otherwise: exec format error).',
  enforcementLevel: 'mandatory',
  validateStack: (args, reportViolation: ReportViolation) => {
    const images = args.resources.filter((resource) => resource.type === 'docker-build:index:Image');
    for (const fn of functions(args.resources)) {
      const imageUri = propsOf(fn).imageUri;
      if (propsOf(fn).packageType !== 'Image' || typeof imageUri !== 'string') continue;
      // `repo:tag@sha256:…` or `repo@sha256:…` → `repo`.
      const repository = imageUri.replace(/@.*$/, '').replace(/:[^/]*$/, '');
      const image = images.find((candidate) =>
        asArray(propsOf(candidate).tags).some(
          (tag) => typeof tag === 'string' && tag.startsWith(`${repository}:`),
        ),
      );
      if (image === undefined) continue; // Built elsewhere: nothing to compare with.
      const architectures = asArray(propsOf(fn).architectures);
      const architecture = typeof architectures[0] === 'string' ? architectures[0] : 'x86_64'; // Lambda's default.
      const expected = ARCHITECTURE_PLATFORM[architecture];
      const platforms = asArray(propsOf(image).platforms);
      if (platforms.length !== 1 || platforms[0] !== expected) {
        reportViolation(
          `function ${String(propsOf(fn).name)} is ${architecture} but its image is built for ${platforms.join(', ') || 'the host platform'}`,
          fn.urn,
        );
      }
    }
  },
};

export const resourcePolicies = [
  noIamWildcardActions,
  logGroupsHaveRetention,
  ecrScanOnPush,
  noPlaintextSecretsInEnvironment,
];
export const stackPolicies = [everyFunctionHasAlarms, lambdaArchitectureMatchesImage];
