/**
 * The one error the config loader throws. Its message is what the CLI prints, so it carries everything a
 * user needs to fix the file: where (file, line, column), what (the key path in the file's own notation)
 * and how. The first problem's location is also exposed as fields, for tools and tests.
 */

/** One problem found in a config file. */
export interface ConfigIssue {
  /** The key path as written in the file, e.g. `model_list[1].litellm_params.model`. */
  path?: string;
  line?: number;
  column?: number;
  /** A sentence that says what is wrong, starting with the path when there is one. */
  message: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly path?: string;
  readonly issues: readonly ConfigIssue[];

  constructor(file: string, issues: readonly ConfigIssue[], notes: readonly string[] = []) {
    super(formatIssues(file, issues, notes));
    const first = issues[0];
    this.file = file;
    this.issues = issues;
    if (first?.line !== undefined) this.line = first.line;
    if (first?.column !== undefined) this.column = first.column;
    if (first?.path !== undefined) this.path = first.path;
  }
}

function where(file: string, issue: ConfigIssue): string {
  if (issue.line === undefined) return file;
  return issue.column === undefined ? `${file}:${issue.line}` : `${file}:${issue.line}:${issue.column}`;
}

function formatIssues(file: string, issues: readonly ConfigIssue[], notes: readonly string[]): string {
  const tail = notes.length === 0 ? "" : `\n\nAlso found:\n${notes.map((n) => `  - ${n}`).join("\n")}`;
  if (issues.length === 1) return `${where(file, issues[0]!)}: ${issues[0]!.message}${tail}`;
  const lines = issues.map((issue) => `  ${where(file, issue)}: ${indentRest(issue.message, "    ")}`);
  return `${file}: ${issues.length} problems:\n${lines.join("\n")}${tail}`;
}

function indentRest(text: string, pad: string): string {
  return text.replace(/\n/g, `\n${pad}`);
}
