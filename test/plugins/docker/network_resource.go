package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const networkToken = "docker:index/network:Network"

// The docker_network attributes of kreuzwerker v4.5.0 internal/provider/resource_docker_network.go: every
// input is ForceNew and the resource has no Update; driver, options and internal are Optional+Computed.
var networkSchema = schemaOf{
	token: networkToken,
	attrs: []attr{
		{name: "name", kind: kString, required: true, forceNew: true},
		{name: "labels", kind: kBlockSet, forceNew: true, block: labelAttrs},
		{name: "driver", kind: kString, computed: true, forceNew: true},
		{name: "options", kind: kMap, computed: true, forceNew: true},
		{name: "internal", kind: kBool, computed: true, forceNew: true},
		{name: "attachable", kind: kBool, forceNew: true},
		{name: "ingress", kind: kBool, forceNew: true},
		{name: "ipv6", kind: kBool, forceNew: true},
		{name: "ipamDriver", kind: kString, forceNew: true, def: str("default")},
		{name: "scope", kind: kString, output: true, computed: true},
	},
	// Every other input of the 5.2.0 schema (@pulumi/docker 5.2.0 network.d.ts).
	unmodelled: []string{"ipamConfigs", "ipamOptions"},
}

// The waits of resource_docker_network_funcs.go: Read's StateChangeConf waits Delay (2 s) before its first
// inspect; Delete retries a network that "has active endpoints" for up to 30 s.
const (
	networkReadDelay      = 2 * time.Second
	networkRemoveTimeout  = 30 * time.Second
	networkRemoveInterval = 5 * time.Second
)

type networkResource struct{ docker *dockerConn }

func (r *networkResource) check(req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews(), "Check.news")
	if err != nil {
		return nil, err
	}
	inputs, err := checkObject(networkToken, "", networkSchema.attrs, networkSchema.isUnmodelled, news)
	if err != nil {
		return nil, err
	}
	out, err := marshal(inputs, "Check.inputs", true)
	return &pulumirpc.CheckResponse{Inputs: out, Failures: missingRequired(networkSchema.attrs, inputs)}, err
}

// diff: any change replaces (all ForceNew), create-before-delete unless the program asks otherwise.
func (r *networkResource) diff(req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOlds(), "Diff.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "Diff.news")
	if err != nil {
		return nil, err
	}
	return diffResponse(networkSchema, diffState(networkSchema, olds, news, req.GetIgnoreChanges()), false), nil
}

// create is resourceDockerNetworkCreate (_funcs.go): NetworkCreate with the options that are set (GetOk),
// the ID recorded, then Read.
func (r *networkResource) create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	inputs, err := unmarshal(req.GetProperties(), "Create.properties")
	if err != nil {
		return nil, err
	}
	in := props(stripDefaults(resource.NewObjectProperty(inputs)).ObjectValue())
	if req.GetPreview() {
		out, err := marshal(proposed(networkSchema, resource.PropertyMap(in)), "Create.preview", true)
		return &pulumirpc.CreateResponse{Properties: out}, err
	}
	cli, err := r.docker.client(ctx)
	if err != nil {
		return nil, sdkError(err.Error())
	}
	opts := network.CreateOptions{Driver: in.str("driver"), Options: in.stringMap("options"), Internal: in.boolean("internal"),
		Attachable: in.boolean("attachable"), Ingress: in.boolean("ingress"), Labels: labelMap(in.objects("labels"))}
	if in.boolean("ipv6") {
		v6 := true
		opts.EnableIPv6 = &v6
	}
	if in.getOk("ipamDriver") {
		opts.IPAM = &network.IPAM{Driver: in.str("ipamDriver")}
	}
	created, err := cli.NetworkCreate(ctx, in.str("name"), opts)
	if err != nil {
		return nil, sdkError(fmt.Sprintf("Unable to create network: %s", err))
	}
	state, err := readNetwork(ctx, cli, created.ID, resource.PropertyMap(in))
	if err != nil || state == nil {
		return nil, fmt.Errorf("creating %s: reading the new network %s back: %v", req.GetUrn(), created.ID, err)
	}
	out, err := marshal(state, "Create.outs", false)
	return &pulumirpc.CreateResponse{Id: created.ID, Properties: out}, err
}

// readNetwork is resourceDockerNetworkReadRefreshFunc: after the wait's first delay, the network as the
// engine reports it; nil when it is gone (refresh drops it).
func readNetwork(ctx context.Context, cli *client.Client, id string, prior resource.PropertyMap) (resource.PropertyMap, error) {
	select {
	case <-time.After(networkReadDelay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	n, err := cli.NetworkInspect(ctx, id, network.InspectOptions{})
	if err != nil {
		return nil, nil //nolint:nilerr // any inspect error is "removed" there
	}
	state := prior.Copy()
	state["name"] = resource.NewStringProperty(n.Name)
	state["driver"] = resource.NewStringProperty(n.Driver)
	state["internal"] = resource.NewBoolProperty(n.Internal)
	state["attachable"] = resource.NewBoolProperty(n.Attachable)
	state["ingress"] = resource.NewBoolProperty(n.Ingress)
	state["ipv6"] = resource.NewBoolProperty(n.EnableIPv6)
	state["ipamDriver"] = resource.NewStringProperty(n.IPAM.Driver)
	state["scope"] = resource.NewStringProperty(n.Scope)
	state["options"] = map2value(n.Options)
	state["labels"] = labelBlocks(n.Labels)
	return state, nil
}

func (r *networkResource) read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	state, err := unmarshal(req.GetProperties(), "Read.state")
	if err != nil {
		return nil, err
	}
	if len(state) == 0 {
		return nil, refusal{"import or get of " + networkToken}
	}
	inputs, err := unmarshal(req.GetInputs(), "Read.inputs")
	if err != nil {
		return nil, err
	}
	cli, err := r.docker.client(ctx)
	if err != nil {
		return nil, fmt.Errorf("refreshing %s: %s", req.GetUrn(), multiError(err.Error()))
	}
	next, err := readNetwork(ctx, cli, req.GetId(), state)
	if err != nil {
		return nil, err
	}
	if next == nil {
		return &pulumirpc.ReadResponse{}, nil
	}
	return readResponse(req.GetId(), next, inputs)
}

// update never happens: every input is ForceNew, so the engine replaces instead.
func (r *networkResource) update(context.Context, *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	return nil, refusal{"an update of " + networkToken + " (the real provider has no Update: every input replaces)"}
}

// delete is resourceDockerNetworkRemoveRefreshFunc: a network already gone is fine; one that still has
// endpoints is tried again until the 30 s timeout.
func (r *networkResource) delete(ctx context.Context, req *pulumirpc.DeleteRequest) error {
	cli, err := r.docker.client(ctx)
	if err != nil {
		return fmt.Errorf("deleting %s: %s", req.GetUrn(), multiError(err.Error()))
	}
	deadline := time.Now().Add(networkRemoveTimeout)
	for {
		if _, err := cli.NetworkInspect(ctx, req.GetId(), network.InspectOptions{}); err != nil {
			return nil
		}
		err := cli.NetworkRemove(ctx, req.GetId())
		if err == nil {
			return nil
		}
		if !strings.Contains(err.Error(), "has active endpoints") || time.Now().After(deadline) {
			return fmt.Errorf("deleting %s: %s", req.GetUrn(), multiError(err.Error()))
		}
		select {
		case <-time.After(networkRemoveInterval):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func labelMap(blocks []props) map[string]string {
	out := map[string]string{}
	for _, b := range blocks {
		out[b.str("label")] = b.str("value")
	}
	return out
}

func labelBlocks(m map[string]string) resource.PropertyValue {
	var out []resource.PropertyValue
	for _, k := range sortedKeys(m) {
		out = append(out, resource.NewObjectProperty(resource.PropertyMap{"label": resource.NewStringProperty(k), "value": resource.NewStringProperty(m[k])}))
	}
	return resource.NewArrayProperty(out)
}
