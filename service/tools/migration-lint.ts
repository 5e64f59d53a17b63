// Refuses migration SQL the previous release cannot survive, unless marked as a contract step.
// Parses what up() sends with PostgreSQL's own parser.
import { isRaw, type MigrationObject } from '@mikro-orm/core';
import type { Migration, Query } from '@mikro-orm/migrations';
import { NativeQueryBuilder, type MikroORM } from '@mikro-orm/postgresql';
import {
  parse,
  type A_Const,
  type AlterDomainStmt,
  type AlterEnumStmt,
  type AlterObjectSchemaStmt,
  type AlterTableCmd,
  type AlterTableStmt,
  type ColumnDef,
  type ColumnRef,
  type Constraint,
  type CreateStmt,
  type DoStmt,
  type DropStmt,
  type IndexStmt,
  type List,
  type ObjectWithArgs,
  type CreateDomainStmt,
  type CreateFunctionStmt,
  type CreateTrigStmt,
  type Node,
  type RangeVar,
  type RenameStmt,
  type String as PgString,
  type TruncateStmt,
  type TypeName,
} from 'libpg-query';
import type { ContractStep } from '../src/db/migrations/contract.ts';
import { createOrm } from '../src/db/orm.ts';

// Shipped before the linter: may be marked `release: 'grandfathered'`.
const GRANDFATHERED_UNTIL = 'Migration20261207100438_isbn_13';

type FindingKind =
  | 'drop-table'
  | 'drop-column'
  | 'drop-object'
  | 'rename'
  | 'alter-type'
  | 'set-not-null'
  | 'add-not-null-column'
  | 'drop-default'
  | 'drop-constraint'
  | 'tighten-constraint'
  | 'unique-index'
  | 'truncate'
  | 'opaque'
  | 'unparsable'
  | 'bad-mark';

export interface Finding {
  readonly migration: string;
  readonly kind: FindingKind;
  // As a contract mark names it: `table`, `table.column` or an object name.
  readonly object: string;
  readonly message: string;
  // 1-based; 0 is the mark itself.
  readonly statement: number;
}

export interface LintResult {
  readonly migrations: number;
  readonly statements: number;
  // Destructive statements no valid contract mark covers, and bad marks.
  readonly problems: readonly Finding[];
  readonly allowed: readonly Finding[];
}

type MigrationClass = MigrationObject['class'] & { readonly contract?: unknown };
type Raw = Omit<Finding, 'migration' | 'statement'>;

/** An ORM at a placeholder address: it connects lazily and lintMigrations never asks it to. */
export function offlineOrm(): Promise<MikroORM> {
  return createOrm({
    url: 'postgres://lint@127.0.0.1:9/lint',
    ssl: false,
    poolMax: 1,
    connectTimeoutMs: 1000,
    queryTimeoutMs: 1000,
  });
}

// `orm` supplies what the migrator would hand each migration.
export async function lintMigrations(orm: MikroORM, list: readonly MigrationObject[]): Promise<LintResult> {
  const problems: Finding[] = [];
  const allowed: Finding[] = [];
  let statements = 0;
  for (const { name, class: Class } of list) {
    const mark = readMark(name, Class);
    const findings: Finding[] = mark.problems.map((message) => ({
      migration: name,
      kind: 'bad-mark',
      object: '',
      message,
      statement: 0,
    }));
    const queries = await queriesOf(orm, Class);
    statements += queries.length;
    const created = new Set<string>();
    for (const [index, sql] of queries.entries()) {
      for (const raw of await checkStatement(sql, created)) {
        findings.push({ ...raw, migration: name, statement: index + 1 });
      }
    }
    const covered = new Set(mark.step?.objects ?? []);
    for (const finding of findings) {
      const coverable = finding.kind !== 'bad-mark' && finding.kind !== 'unparsable';
      if (mark.step && coverable && covered.has(finding.object)) allowed.push(finding);
      else problems.push(finding);
    }
    const touched = new Set(findings.map((finding) => finding.object));
    for (const object of covered) {
      if (!touched.has(object)) {
        problems.push({
          migration: name,
          kind: 'bad-mark',
          object,
          message: `the contract mark names "${object}", which no statement removes or tightens`,
          statement: 0,
        });
      }
    }
  }
  return { migrations: list.length, statements, problems, allowed };
}

export function formatFinding(finding: Finding): string {
  const where = finding.statement === 0 ? 'contract mark' : `statement ${finding.statement}`;
  return `${finding.migration} (${where}): ${finding.kind}: ${finding.message}`;
}

function readMark(name: string, Class: MigrationClass): { step?: ContractStep; problems: string[] } {
  const mark = Class.contract;
  if (mark === undefined) return { problems: [] };
  const step = mark as Partial<Record<keyof ContractStep, unknown>>;
  const problems: string[] = [];
  const { release, objects, reason } = step;
  if (typeof release !== 'string' || !/^[\w.+/-]+$/.test(release)) {
    problems.push('`release` must name the release (tag or commit) that stopped using what this removes');
  } else if (release === 'grandfathered' && name > GRANDFATHERED_UNTIL) {
    problems.push(`only migrations up to ${GRANDFATHERED_UNTIL} may be grandfathered; name a release`);
  }
  const names = Array.isArray(objects) ? (objects as unknown[]) : [];
  if (names.length === 0 || !names.every((object) => typeof object === 'string' && object !== '')) {
    problems.push('`objects` must list what the step removes or tightens (`table`, `table.column`, a name)');
  }
  if (typeof reason !== 'string' || reason.trim().length < 10) {
    problems.push('`reason` must say why the previous release survives this step');
  }
  return problems.length > 0 ? { problems } : { step: mark as ContractStep, problems };
}

// Exactly as the migrator sends it, minus its fixed session preamble.
async function queriesOf(orm: MikroORM, Class: MigrationObject['class']): Promise<string[]> {
  const MigrationClass = Class as unknown as new (...args: unknown[]) => Migration;
  const migration = new MigrationClass(orm.em.getDriver(), orm.config);
  migration.reset();
  await migration.up();
  const platform = orm.em.getPlatform();
  return migration.getQueries().map((query: Query) => {
    if (typeof query === 'string') return query;
    const fragment = query instanceof NativeQueryBuilder ? query.toRaw() : query;
    if (!isRaw(fragment)) throw new Error(`unknown query type in ${Class.name}`);
    return platform.formatQuery(fragment.sql, fragment.params);
  });
}

async function checkStatement(sql: string, created: Set<string>): Promise<Raw[]> {
  let stmts: Node[];
  try {
    stmts = ((await parse(sql)).stmts ?? []).flatMap((raw) => (raw.stmt ? [raw.stmt] : []));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [{ kind: 'unparsable', object: '', message: `PostgreSQL's parser refuses it: ${message}` }];
  }
  return stmts.flatMap((stmt) => checkNode(stmt, created));
}

interface Nodes {
  A_Const: A_Const;
  AlterDomainStmt: AlterDomainStmt;
  AlterEnumStmt: AlterEnumStmt;
  AlterObjectSchemaStmt: AlterObjectSchemaStmt;
  AlterTableCmd: AlterTableCmd;
  AlterTableStmt: AlterTableStmt;
  ColumnDef: ColumnDef;
  ColumnRef: ColumnRef;
  Constraint: Constraint;
  CreateStmt: CreateStmt;
  DoStmt: DoStmt;
  DropStmt: DropStmt;
  IndexStmt: IndexStmt;
  List: List;
  ObjectWithArgs: ObjectWithArgs;
  CreateDomainStmt: CreateDomainStmt;
  CreateFunctionStmt: CreateFunctionStmt;
  CreateTrigStmt: CreateTrigStmt;
  RangeVar: RangeVar;
  RenameStmt: RenameStmt;
  String: PgString;
  TruncateStmt: TruncateStmt;
  TypeName: TypeName;
}

function field<K extends keyof Nodes>(node: Node | undefined, key: K): Nodes[K] | undefined {
  return node === undefined ? undefined : (node as Partial<Nodes>)[key];
}

const strings = (nodes: readonly Node[] | undefined): string[] =>
  (nodes ?? []).flatMap((node) => {
    const value = field(node, 'String')?.sval;
    return value === undefined ? [] : [value];
  });

const TIGHTENING = new Set([
  'CONSTR_CHECK',
  'CONSTR_UNIQUE',
  'CONSTR_PRIMARY',
  'CONSTR_FOREIGN',
  'CONSTR_EXCLUSION',
  'CONSTR_NOTNULL',
]);

function checkNode(stmt: Node, created: Set<string>): Raw[] {
  const create = field(stmt, 'CreateStmt');
  if (create) {
    if (create.relation?.relname) created.add(create.relation.relname);
    return [];
  }
  const routine = strings(field(stmt, 'CreateFunctionStmt')?.funcname).at(-1);
  const trigger = field(stmt, 'CreateTrigStmt')?.trigname;
  const newDomain = strings(field(stmt, 'CreateDomainStmt')?.domainname).at(-1);
  for (const name of [routine, trigger, newDomain]) if (name !== undefined) created.add(name);
  const index = field(stmt, 'IndexStmt');
  if (index) {
    const table = index.relation?.relname ?? '';
    if (index.idxname) created.add(index.idxname);
    if (!index.unique || created.has(table)) return [];
    const object = index.idxname ?? table;
    return [
      {
        kind: 'unique-index',
        object,
        message: `unique index ${object} on "${table}": the previous release may write duplicates`,
      },
    ];
  }
  const drop = field(stmt, 'DropStmt');
  if (drop) return checkDrop(drop, created);
  const rename = field(stmt, 'RenameStmt');
  if (rename) {
    const table = rename.relation?.relname;
    const object =
      rename.renameType === 'OBJECT_COLUMN'
        ? `${table ?? ''}.${rename.subname ?? ''}`
        : (table ?? rename.subname ?? lastName(rename.object) ?? '');
    if (table && created.has(table)) {
      // Later statements of this migration name the created table by its new name.
      if (rename.renameType === 'OBJECT_TABLE' && rename.newname) created.add(rename.newname);
      return [];
    }
    return [
      {
        kind: 'rename',
        object,
        message: `renames ${object} to ${rename.newname ?? '?'}: the previous release still uses the old name`,
      },
    ];
  }
  const alter = field(stmt, 'AlterTableStmt');
  if (alter) {
    const table = alter.relation?.relname ?? '';
    if (created.has(table)) return [];
    return (alter.cmds ?? []).flatMap((cmd) => {
      const command = field(cmd, 'AlterTableCmd');
      return command ? checkAlter(table, command, created) : [];
    });
  }
  const relabel = field(stmt, 'AlterEnumStmt');
  if (relabel?.oldVal !== undefined) {
    const object = `${strings(relabel.typeName).at(-1) ?? ''}.${relabel.oldVal}`;
    return [
      {
        kind: 'rename',
        object,
        message: `renames ${object} to ${relabel.newVal ?? '?'}: the previous release still writes the old label`,
      },
    ];
  }
  const domain = field(stmt, 'AlterDomainStmt');
  if (domain) return checkDomain(domain, created);
  const moved = field(stmt, 'AlterObjectSchemaStmt');
  if (moved) {
    const object = moved.relation?.relname ?? '';
    return [{ kind: 'rename', object, message: `moves ${object} to schema ${moved.newschema ?? '?'}` }];
  }
  const truncate = field(stmt, 'TruncateStmt');
  if (truncate) {
    return (truncate.relations ?? []).map((relation) => {
      const object = field(relation, 'RangeVar')?.relname ?? '';
      return { kind: 'truncate', object, message: `truncates "${object}": every row is lost` } as const;
    });
  }
  if (field(stmt, 'DoStmt')) {
    return [
      {
        kind: 'opaque',
        object: 'do',
        message: 'a DO block hides its statements from the parser: write them as SQL',
      },
    ];
  }
  return [];
}

// A domain's constraints bind every column of that type: adding one tightens them all.
function checkDomain(domain: AlterDomainStmt, created: Set<string>): Raw[] {
  const name = strings(domain.typeName).at(-1) ?? '';
  if (created.has(name)) return [];
  const constraint = field(domain.def, 'Constraint');
  if (domain.subtype === 'C' && constraint && TIGHTENING.has(constraint.contype ?? '')) {
    return [tightening(`domain ${name}`, constraint, name)];
  }
  // 'O' is SET NOT NULL ('N' drops it).
  if (domain.subtype === 'O') {
    return [
      {
        kind: 'set-not-null',
        object: name,
        message: `sets domain ${name} NOT NULL: the previous release may write nulls`,
      },
    ];
  }
  return [];
}

function lastName(node: Node | undefined): string | undefined {
  const list = field(node, 'List') ?? {
    items: field(node, 'ObjectWithArgs')?.objname ?? field(node, 'TypeName')?.names,
  };
  return list.items ? strings(list.items).at(-1) : field(node, 'String')?.sval;
}

function checkDrop(drop: DropStmt, created: Set<string>): Raw[] {
  const type = (drop.removeType ?? 'OBJECT_UNKNOWN').replace(/^OBJECT_/, '').toLowerCase();
  return (drop.objects ?? []).flatMap((node): Raw[] => {
    const object = lastName(node) ?? '';
    if (created.has(object)) return [];
    if (type === 'table') {
      return [
        {
          kind: 'drop-table',
          object,
          message: `drops table "${object}": the previous release still reads it`,
        } as const,
      ];
    }
    return [
      {
        kind: 'drop-object',
        object,
        message: `drops ${type} ${object}: the previous release may rely on it`,
      } as const,
    ];
  });
}

function checkAlter(table: string, cmd: AlterTableCmd, created: Set<string>): Raw[] {
  const column = `${table}.${cmd.name ?? ''}`;
  switch (cmd.subtype) {
    case 'AT_DropColumn':
      return [
        {
          kind: 'drop-column',
          object: column,
          message: `drops column ${column}: the previous release still reads it`,
        },
      ];
    case 'AT_AlterColumnType':
      return [
        {
          kind: 'alter-type',
          object: column,
          message: `changes the type of ${column}: the previous release reads and writes the old type`,
        },
      ];
    case 'AT_SetNotNull':
      return created.has(column)
        ? []
        : [
            {
              kind: 'set-not-null',
              object: column,
              message: `sets ${column} NOT NULL: the previous release may write nulls`,
            },
          ];
    case 'AT_ColumnDefault':
    case 'AT_DropIdentity':
      // `SET DEFAULT NULL` drops it as surely as `DROP DEFAULT`.
      return (cmd.def !== undefined && !isNull(cmd.def)) || created.has(column)
        ? []
        : [
            {
              kind: 'drop-default',
              object: column,
              message: `drops the default of ${column}: the previous release's inserts may omit it`,
            },
          ];
    case 'AT_DropConstraint': {
      const object = cmd.name ?? '';
      return created.has(object)
        ? []
        : [
            {
              kind: 'drop-constraint',
              object,
              message: `drops constraint ${object} of "${table}": the previous release may rely on it`,
            },
          ];
    }
    case 'AT_AddColumn': {
      const def = field(cmd.def, 'ColumnDef');
      const name = `${table}.${def?.colname ?? ''}`;
      created.add(name);
      const constraints = (def?.constraints ?? []).flatMap((node) => field(node, 'Constraint') ?? []);
      const types = new Set(constraints.map((constraint) => constraint.contype));
      const notNull = types.has('CONSTR_NOTNULL') || types.has('CONSTR_PRIMARY');
      const fills = constraints.some(
        (constraint) =>
          (constraint.contype === 'CONSTR_DEFAULT' && !isNull(constraint.raw_expr)) ||
          constraint.contype === 'CONSTR_IDENTITY' ||
          constraint.contype === 'CONSTR_GENERATED',
      );
      // Other constraints on a new column bind nothing: the previous release leaves it null.
      return notNull && !fills
        ? [
            {
              kind: 'add-not-null-column',
              object: name,
              message: `adds ${name} NOT NULL without a default: the previous release's inserts omit it`,
            },
          ]
        : [];
    }
    case 'AT_AddConstraint': {
      const constraint = field(cmd.def, 'Constraint');
      if (!constraint || !TIGHTENING.has(constraint.contype ?? '')) return [];
      if (constraint.conname) created.add(constraint.conname);
      // A constraint only on columns this migration added binds nothing the previous release writes.
      const keys = constraintColumns(constraint).map((key) => `${table}.${key}`);
      if (keys.length > 0 && keys.every((key) => created.has(key))) return [];
      return [tightening(table, constraint, constraint.conname ?? table)];
    }
    default:
      return [];
  }
}

const isNull = (node: Node | undefined): boolean => field(node, 'A_Const')?.isnull === true;

function constraintColumns(constraint: Constraint): string[] {
  const found = [...strings(constraint.keys), ...strings(constraint.fk_attrs)];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
    } else if (typeof value === 'object' && value !== null) {
      const ref = (value as Partial<Nodes>).ColumnRef;
      if (ref) found.push(...strings(ref.fields).slice(-1));
      else for (const item of Object.values(value)) walk(item);
    }
  };
  walk(constraint.raw_expr);
  return found;
}

function tightening(table: string, constraint: Constraint, fallback: string): Raw {
  const object = constraint.conname ?? fallback;
  const type = (constraint.contype ?? '').replace(/^CONSTR_/, '').toLowerCase();
  return {
    kind: 'tighten-constraint',
    object,
    message: `adds ${type} constraint ${object} on "${table}": the previous release may write rows it refuses`,
  };
}
