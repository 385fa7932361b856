package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func (c *containerResource) diff(req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOlds(), "Diff.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "Diff.news")
	if err != nil {
		return nil, err
	}
	// pulumi-docker sets DeleteBeforeReplace on docker_container (provider/resources.go 112-126); the
	// bridge reports it only with replaces of the provider's own (pkg/tfbridge/provider.go 1275).
	return diffResponse(containerSchema, diffState(containerSchema, olds, news, req.GetIgnoreChanges()), true), nil
}

// create is resourceDockerContainerCreate (_funcs.go 43-674): find (or pull) the image, create, record
// the ID, start, optionally wait for health, and end with Read so its normalisation is the state.
func (c *containerResource) create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	inputs, err := unmarshal(req.GetProperties(), "Create.properties")
	if err != nil {
		return nil, err
	}
	in := props(stripDefaults(resource.NewObjectProperty(inputs)).ObjectValue())
	if req.GetPreview() {
		out, err := marshal(proposed(containerSchema, resource.PropertyMap(in)), "Create.preview", true)
		return &pulumirpc.CreateResponse{Properties: out}, err
	}
	cli, err := c.docker.client(ctx)
	if err != nil {
		return nil, sdkError(err.Error())
	}
	if _, err := findImage(ctx, cli, in.str("image"), ""); err != nil {
		return nil, sdkError(fmt.Sprintf("Unable to create container with image %s: %s", in.str("image"), err))
	}
	cfg, host, err := containerSpec(in)
	if err != nil {
		return nil, sdkError(err.Error())
	}
	created, err := cli.ContainerCreate(ctx, cfg, host, &network.NetworkingConfig{}, nil, in.str("name"))
	if err != nil {
		return nil, sdkError(fmt.Sprintf("Unable to create container: %s", err))
	}
	// The ID is recorded before the start: from here on a failure leaves a resource with init errors (P7).
	id := created.ID
	fail := func(msg string) (*pulumirpc.CreateResponse, error) {
		return nil, initError(id, resource.PropertyMap(in), fmt.Sprintf("creating %s: %s", req.GetUrn(), multiError(msg)))
	}
	if msg, gone := startAndWait(ctx, cli, id, in); gone {
		return nil, sdkError(msg)
	} else if msg != "" {
		return fail(msg)
	}
	state, err := readContainer(ctx, cli, id, resource.PropertyMap(in))
	if err != nil {
		return fail(err.Error())
	}
	if state == nil {
		return nil, fmt.Errorf("expected non-empty ID for new state during Create of %s", req.GetUrn())
	}
	out, err := marshal(state, "Create.outs", false)
	return &pulumirpc.CreateResponse{Id: id, Properties: out}, err
}

// startAndWait starts the container (when start), attaches (when attach) and waits for health (when
// wait); it returns the real provider's message of the first failure ("" for none), and whether the
// container was removed on the way.
func startAndWait(ctx context.Context, cli *client.Client, id string, in props) (string, bool) {
	if in.boolean("start") {
		if err := cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
			return fmt.Sprintf("Unable to start container: %s", err), false
		}
	}
	if in.boolean("attach") {
		if msg := attachUntilExit(ctx, cli, id, in); msg != "" {
			return msg, false
		}
	}
	if in.boolean("wait") {
		return waitHealthy(ctx, cli, id, in)
	}
	return "", false
}

func (c *containerResource) read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	state, err := unmarshal(req.GetProperties(), "Read.state")
	if err != nil {
		return nil, err
	}
	if len(state) == 0 {
		return nil, refusal{"import or get of " + containerToken}
	}
	inputs, err := unmarshal(req.GetInputs(), "Read.inputs")
	if err != nil {
		return nil, err
	}
	cli, err := c.docker.client(ctx)
	if err != nil {
		return nil, fmt.Errorf("refreshing %s: %s", req.GetUrn(), multiError(err.Error()))
	}
	next, err := readContainer(ctx, cli, req.GetId(), state)
	if err != nil {
		return nil, fmt.Errorf("refreshing %s: %s", req.GetUrn(), multiError(err.Error()))
	}
	if next == nil {
		// Gone: an empty ID makes the engine drop it from the state (_funcs.go 765-772).
		return &pulumirpc.ReadResponse{}, nil
	}
	return readResponse(req.GetId(), next, inputs)
}

// readResponse returns the refreshed state and the old inputs with their refreshed values, without
// __defaults (bridge ExtractInputsFromOutputs and deleteDefaultsKey on refresh).
func readResponse(id string, state, inputs resource.PropertyMap) (*pulumirpc.ReadResponse, error) {
	newInputs := resource.PropertyMap{}
	for k, v := range inputs {
		if string(k) == defaultsKey {
			continue
		}
		if o, ok := state[k]; ok {
			v = o
		}
		newInputs[k] = v
	}
	outs, err := marshal(state, "Read.state", false)
	if err != nil {
		return nil, err
	}
	ins, err := marshal(newInputs, "Read.inputs", false)
	return &pulumirpc.ReadResponse{Id: id, Properties: outs, Inputs: ins}, err
}

// deleteContainer is resourceDockerContainerDelete (_funcs.go 1079-1131): stop with the grace period
// (unset or 0 kills at once), force-remove with the volumes, wait. "No such container" is forgiven by
// the remove and the wait only: a container removed by hand fails the stop, unless a refresh dropped it.
func deleteContainer(ctx context.Context, cli *client.Client, id string, st props) error {
	if !st.boolean("attach") {
		grace := st.num("destroyGraceSeconds")
		if err := cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &grace}); err != nil {
			return fmt.Errorf("Error stopping container %s: %s", id, err)
		}
	}
	opts := container.RemoveOptions{RemoveVolumes: st.boolean("removeVolumes"), Force: true}
	if err := cli.ContainerRemove(ctx, id, opts); err != nil && !ignorable(err) {
		return fmt.Errorf("Error deleting container %s: %s", id, err)
	}
	cond := container.WaitConditionNotRunning
	if st.boolean("rm") {
		cond = container.WaitConditionRemoved
	}
	okC, errC := cli.ContainerWait(ctx, id, cond)
	select {
	case <-okC:
	case err := <-errC:
		if !ignorable(err) {
			return fmt.Errorf("Error waiting for container removal '%s': %s", id, err)
		}
	}
	return nil
}

func ignorable(err error) bool {
	return strings.Contains(err.Error(), "No such container") || strings.Contains(err.Error(), "is already in progress")
}

func (c *containerResource) delete(ctx context.Context, req *pulumirpc.DeleteRequest) error {
	state, err := unmarshal(req.GetProperties(), "Delete.state")
	if err != nil {
		return err
	}
	cli, err := c.docker.client(ctx)
	if err == nil {
		err = deleteContainer(ctx, cli, req.GetId(), props(state))
	}
	if err != nil {
		return fmt.Errorf("deleting %s: %s", req.GetUrn(), multiError(err.Error()))
	}
	return nil
}
