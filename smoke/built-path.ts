// Where `npm run build` puts the smoke CLI, relative to the project root: ci:stack's preflight and the tests
// look for it there (the smoke step itself finds it beside the compiled program).
export const SMOKE_CLI_BUILT = "dist/smoke/cli.js";
