package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// The provider settings of the 5.2.0 schema the stand-in refuses (@pulumi/docker 5.2.0 provider.js).
var unmodelledSettings = []string{
	"caMaterial", "certMaterial", "certPath", "keyMaterial", "registryAuth", "context", "disableDockerDaemonCheck",
}

// engineKeys are the provider inputs the engine itself adds; the bridge passes them through unread.
func engineKey(k string) bool {
	return k == "version" || k == "pluginDownloadURL" || strings.HasPrefix(k, "__")
}

func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews(), "CheckConfig.news")
	if err != nil {
		return nil, err
	}
	for k := range news {
		name := string(k)
		switch {
		case engineKey(name) || name == "host" || name == "sshOpts":
		case contains(unmodelledSettings, name):
			return nil, refusal{fmt.Sprintf("provider setting %q", name)}
		default:
			return nil, refusal{fmt.Sprintf("provider setting %q (not in the 5.2.0 schema)", name)}
		}
	}
	if _, err := sshOptsOf(news); err != nil {
		return &pulumirpc.CheckResponse{Failures: []*pulumirpc.CheckFailure{{Property: "sshOpts", Reason: err.Error()}}}, nil
	}
	// The bridge returns the inputs as given: the host default is applied later, when configuring.
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// DiffConfig follows bridge v3 configDiffer.DiffConfig (pkg/tfbridge/provider.go 842-893): old inputs
// against new inputs; a change replaces the provider only for ForcesProviderReplace fields, and
// pulumi-docker marks none, so every change is an in-place update that keeps the provider's ID.
func (s *server) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := plugin.UnmarshalProperties(req.GetOldInputs(), plugin.MarshalOptions{KeepUnknowns: true})
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), plugin.MarshalOptions{KeepUnknowns: true})
	if err != nil {
		return nil, err
	}
	detailed := plugin.NewDetailedDiffFromObjectDiff(olds.DiffIncludeUnknowns(news), true)
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	for key, d := range detailed {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		resp.DetailedDiff[key] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_Kind(d.Kind), InputDiff: true}
		resp.Diffs = append(resp.Diffs, topLevel(key))
	}
	resp.Diffs = uniqueSorted(resp.Diffs)
	return resp, nil
}

func topLevel(key string) string {
	if i := strings.IndexAny(key, ".["); i > 0 {
		return key[:i]
	}
	return key
}

// Configure records host and sshOpts. Like the native half of pulumi-docker (provider/provider.go
// 80-104, image.go 931-992) it pings a unix:// daemon at once, in preview too; an ssh:// host is first
// contacted by the first resource operation.
func (s *server) Configure(ctx context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	args, err := plugin.UnmarshalProperties(req.GetArgs(), plugin.MarshalOptions{KeepUnknowns: true, SkipNulls: true})
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		args = resource.PropertyMap{}
		for k, v := range req.GetVariables() {
			args[resource.PropertyKey(strings.TrimPrefix(k, "docker:config:"))] = resource.NewStringProperty(v)
		}
	}
	opts, err := sshOptsOf(args)
	if err != nil {
		return nil, err
	}
	host := props(args).str("host")
	if !props(args).has("host") {
		host = os.Getenv("DOCKER_HOST")
	}
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	s.docker.configure(host, opts)
	if strings.HasPrefix(host, "unix://") && !args.ContainsUnknowns() {
		pingCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.docker.pingNow(pingCtx); err != nil {
			return nil, fmt.Errorf("docker native provider returned an unexpected error from Configure: failed to connect to any docker daemon")
		}
	}
	return &pulumirpc.ConfigureResponse{SupportsPreview: true}, nil
}

// sshOptsOf reads sshOpts as the Node SDK sends it (a JSON-encoded list) or as a plain list.
func sshOptsOf(m resource.PropertyMap) ([]string, error) {
	v, ok := m["sshOpts"]
	if !ok || v.IsNull() || v.ContainsUnknowns() {
		return nil, nil
	}
	if v.IsArray() {
		return props(m).strs("sshOpts"), nil
	}
	if !v.IsString() {
		return nil, fmt.Errorf("sshOpts: expected a list of strings")
	}
	var out []string
	if err := json.Unmarshal([]byte(v.StringValue()), &out); err != nil {
		return nil, fmt.Errorf("sshOpts: %q is not a JSON list of strings: %w", v.StringValue(), err)
	}
	return out, nil
}

func contains(xs []string, x string) bool {
	for _, e := range xs {
		if e == x {
			return true
		}
	}
	return false
}

// withTimeout bounds one operation: the engine's customTimeouts when given, else the SDKv2 default of
// 20 minutes (kreuzwerker declares 20 min for docker_image too, resource_docker_image.go 10-12).
func withTimeout(ctx context.Context, seconds float64) (context.Context, context.CancelFunc) {
	d := 20 * time.Minute
	if seconds > 0 {
		d = time.Duration(seconds * float64(time.Second))
	}
	return context.WithTimeout(ctx, d)
}
