// pulumi-resource-command: a stand-in for the real pulumi/pulumi-command plugin v1.2.1, which the
// Go module proxy refuses here. Like the real one it is built on pulumi-go-provider v1.3.0's
// infer package, so diff, replace, secrets, defaults, preview and the default Read come from the
// same library. It serves command:local:Command and command:remote:Command; everything else the
// real plugin has fails loudly (refuse.go). See README.md.
package main

import (
	"context"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi-go-provider/middleware/schema"

	"sdwebui.local/test/plugins/command/local"
	"sdwebui.local/test/plugins/command/remote"
)

const (
	name    = "command"
	version = "1.2.1"
)

func newProvider() p.Provider {
	inner := infer.Provider(infer.Options{
		Metadata: schema.Metadata{
			DisplayName: "Command",
			Description: "Stand-in for the Pulumi Command Provider v1.2.1 (local and remote commands only).",
			Homepage:    "https://pulumi.com",
			License:     "Apache-2.0",
			Repository:  "https://github.com/pulumi/pulumi-command",
			Publisher:   "Pulumi",
		},
		Resources: []infer.InferredResource{
			infer.Resource(&local.Command{}),
			infer.Resource(&remote.Command{}),
		},
	})
	return refuseUnmodelled(inner)
}

func main() {
	if err := p.RunProvider(context.Background(), name, version, newProvider()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
