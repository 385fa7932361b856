// The stack: validated settings in, one WebUi component, the stack outputs out. Kept apart from
// index.ts so tests can evaluate it repeatedly under mocks with different configurations.
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./config/load.js";
import { WebUi } from "./webui.js";

export function deployStack() {
  // Throws one ConfigError listing every problem before any resource is registered.
  const config = loadStackConfig();
  const webui = new WebUi("sdwebui", { ...config, stack: pulumi.getStack(), project: pulumi.getProject() });
  return {
    apiUrl: webui.apiUrl,
    docsUrl: webui.docsUrl,
    outputsDir: webui.outputsDir,
    containerName: webui.containerName,
  };
}
