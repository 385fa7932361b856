// Command pulumi-resource-docker is a stand-in for the real pulumi-docker 5.2.0 plugin (a Terraform
// bridge over kreuzwerker/terraform-provider-docker v4.5.0) for the contract and end-to-end tests of
// this project: the Container and RemoteImage resources and the provider settings the program uses,
// behaving as the real plugin does, and a loud refusal of everything else. See README.md.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/pkg/v3/resource/provider"
)

func main() {
	if err := provider.Main(providerName, newServer); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
