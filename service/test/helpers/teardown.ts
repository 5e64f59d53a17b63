// What the helpers need of a tap test: somewhere to register clean-up (a Test, or the file's root `t`).
export interface Teardown {
  teardown(fn: () => unknown): void;
}
