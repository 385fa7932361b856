// Added by sd-webui's toolchain build to pulumi-language-nodejs v3.68.0 (the newest release the module
// proxy serves). That host reads Pulumi.yaml's runtime options (typescript, tsconfig, nodeargs) from
// command-line flags, which engines since 3.7x no longer pass: they send the options in each request
// instead. Without this, `typescript: false` is ignored and every program runs under ts-node. So the
// options are read here from the project file of the directory the engine starts the host in; a flag
// given on the command line still wins.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

func applyProjectRuntimeOptions(typescript *bool, tsconfigpath, nodeargs *string) {
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })

	cwd, err := os.Getwd()
	if err != nil {
		return
	}
	path, err := workspace.DetectProjectPathFrom(cwd)
	if err != nil || path == "" {
		return
	}
	proj, err := workspace.LoadProject(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: reading runtime options from %s: %v\n", path, err)
		return
	}
	opts := proj.Runtime.Options()
	if v, ok := opts["typescript"].(bool); ok && !given["typescript"] {
		*typescript = v
	}
	if v, ok := opts["tsconfig"].(string); ok && !given["tsconfig"] {
		*tsconfigpath = v
	}
	if v, ok := opts["nodeargs"].(string); ok && !given["nodeargs"] {
		*nodeargs = v
	}
}
