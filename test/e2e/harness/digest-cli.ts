// Child-process half of the determinism test: evaluates the program once with the stack input from
// E2E_STACK_INPUT (JSON) and prints the digests as JSON. A fresh process catches values fixed at
// module load (pids, start times) that two evaluations in one process would share.
import { digestEvaluation } from "./digest.js";
import { evaluateProgram, type StackInput } from "./evaluate.js";

const input = JSON.parse(process.env.E2E_STACK_INPUT ?? "null") as StackInput | null;
if (!input) {
  process.stderr.write("digest-cli: set E2E_STACK_INPUT to a StackInput JSON\n");
  process.exit(2);
}
evaluateProgram(input, { imageId: () => `sha256:${"5".repeat(64)}` })
  .then((ev) => process.stdout.write(`${JSON.stringify(digestEvaluation(ev))}\n`))
  .catch((e: Error) => { process.stderr.write(`digest-cli: ${e.message}\n`); process.exit(1); });
