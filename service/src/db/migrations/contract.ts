// The mark of a contract step: a migration that removes, renames, retypes or tightens what older code used
// (docs/migrations.md). `npm run lint` refuses such a migration without it.
export interface ContractStep {
  /** The release (tag or commit) from which no deployed code reads or writes what this step removes. */
  readonly release: string;
  /** Every object the step touches: `table`, `table.column`, or an index or constraint name. */
  readonly objects: readonly string[];
  /** Why the previous release survives it (what it stopped using, and when). */
  readonly reason: string;
}
