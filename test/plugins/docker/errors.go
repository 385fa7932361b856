package main

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// multiError renders one SDKv2 diagnostic the way the bridge passes it on (hashicorp/go-multierror).
func multiError(msg string) string {
	return fmt.Sprintf("1 error occurred:\n\t* %s\n\n", msg)
}

// sdkError is a failure that leaves nothing behind: the engine records no resource.
func sdkError(msg string) error {
	return fmt.Errorf("%s", multiError(msg))
}

// initError is the bridge's initializationError (pkg/tfbridge/provider.go 2051-2059): the resource exists
// with this ID and these properties, and the engine records it with the reasons as init errors.
func initError(id string, state resource.PropertyMap, reason string) error {
	props, err := marshal(state, "initError.props", false)
	if err != nil {
		return err
	}
	detail := &pulumirpc.ErrorResourceInitFailed{Id: id, Properties: props, Reasons: []string{reason}}
	st, err := status.New(codes.Unknown, reason).WithDetails(detail)
	if err != nil {
		return err
	}
	return st.Err()
}

// proposed is the state a preview shows before Create: the inputs, and every computed attribute that
// the inputs do not set unknown (Terraform's planned state).
func proposed(s schemaOf, in resource.PropertyMap) resource.PropertyMap {
	out := in.Copy()
	for _, a := range s.attrs {
		k := resource.PropertyKey(a.name)
		if _, set := out[k]; !set && a.computed {
			out[k] = resource.MakeComputed(resource.NewStringProperty(""))
		}
	}
	return out
}
