package main

import (
	"context"
	"fmt"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// modelled lists, per resource token, the inputs that the schema has but the stand-in does not
// reproduce; a present (non-null) value fails Check, so preview and up stop before anything runs
// instead of silently behaving unlike the real plugin.
var modelled = map[tokens.Type][]unmodelledInput{
	"command:local:Command": {
		{path: []string{"assetPaths"}, real: "globs files under dir after the command (local/commandOutputs.go)"},
		{path: []string{"archivePaths"}, real: "globs files under dir into an archive after the command (local/commandOutputs.go)"},
	},
	"command:remote:Command": {
		{path: []string{"connection", "proxy"}, real: "dials the target through a bastion (remote/connection.go)"},
	},
}

type unmodelledInput struct {
	path []string
	real string
}

// standIn is named in every refusal, so that a failing deploy points at the stand-in.
const standIn = "the command stand-in (test/plugins/command)"

// refuseUnmodelled wraps the inferred provider: resource types and invokes of the real plugin
// that the stand-in does not serve (remote:CopyToRemote, remote:CopyFile, local:run) fail with
// their token named, as do the inputs listed in modelled.
func refuseUnmodelled(inner p.Provider) p.Provider {
	check, read, create := inner.Check, inner.Read, inner.Create
	inner.Check = func(ctx context.Context, req p.CheckRequest) (p.CheckResponse, error) {
		if err := refusedInputs(req.Urn.Type(), req.Inputs); err != nil {
			return p.CheckResponse{}, err
		}
		return check(ctx, req)
	}
	inner.Read = func(ctx context.Context, req p.ReadRequest) (p.ReadResponse, error) {
		if err := refusedType(req.Urn.Type()); err != nil {
			return p.ReadResponse{}, err
		}
		return read(ctx, req)
	}
	inner.Create = func(ctx context.Context, req p.CreateRequest) (p.CreateResponse, error) {
		if err := refusedType(req.Urn.Type()); err != nil {
			return p.CreateResponse{}, err
		}
		return create(ctx, req)
	}
	inner.Invoke = func(ctx context.Context, req p.InvokeRequest) (p.InvokeResponse, error) {
		// The stand-in serves no function at all.
		return p.InvokeResponse{}, unmodelledToken("function", string(req.Token))
	}
	return inner
}

func refusedType(tk tokens.Type) error {
	if _, ok := modelled[tk]; ok {
		return nil
	}
	return unmodelledToken("resource type", string(tk))
}

func unmodelledToken(kind, token string) error {
	return fmt.Errorf("%s %s is not modelled by %s, which serves only command:local:Command and command:remote:Command",
		kind, token, standIn)
}

func refusedInputs(tk tokens.Type, inputs property.Map) error {
	if err := refusedType(tk); err != nil {
		return err
	}
	for _, in := range modelled[tk] {
		if present(inputs, in.path) {
			return fmt.Errorf("%s: %s is not modelled by %s: the real plugin v1.2.1 %s; "+
				"this stand-in refuses it rather than ignore it", tk, joinPath(in.path), standIn, in.real)
		}
	}
	return nil
}

// present says whether the value at path is set: not absent and not null. An unknown value
// counts as set; an unknown parent does not (Check runs again once it is known).
func present(m property.Map, path []string) bool {
	v, ok := m.GetOk(path[0])
	switch {
	case !ok || v.IsNull():
		return false
	case len(path) == 1:
		return true
	case v.IsMap():
		return present(v.AsMap(), path[1:])
	default:
		return false
	}
}

func joinPath(path []string) string { return strings.Join(path, ".") }
