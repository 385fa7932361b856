// Program entry point (Pulumi.yaml main: dist/infra/index.js). Pulumi calls an exported function
// and publishes the object it returns as the stack outputs.
import { deployStack } from "./program.js";

export = deployStack;
