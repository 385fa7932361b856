// Program entry point (Pulumi.yaml main: dist/infra/index.js). Validates the whole stack config
// first: on bad config one error lists every problem and no resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./config/load.js";
import { WebUi } from "./webui.js";

const config = loadStackConfig();
const webui = new WebUi("sdwebui", { ...config, stack: pulumi.getStack(), project: pulumi.getProject() });

export const apiUrl = webui.apiUrl;
export const docsUrl = webui.docsUrl;
export const outputsDir = webui.outputsDir;
export const containerName = webui.containerName;
