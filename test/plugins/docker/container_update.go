package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// appliedUpdates are the attributes whose change resourceDockerContainerUpdate sends to the daemon
// (_funcs.go 991-1076); every other in-place change is only recorded in the state.
var appliedUpdates = []string{"restart", "maxRetryCount"}

// update records the changed attributes over the old state without reading the container back, sends
// RestartPolicy changes with ContainerUpdate, and starts the container when must_run goes false->true.
// With no change at all (the engine's "empty update" of a resource with init errors) it does nothing.
func (c *containerResource) update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds, err := unmarshal(req.GetOlds(), "Update.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "Update.news")
	if err != nil {
		return nil, err
	}
	changes := diffState(containerSchema, olds, news, req.GetIgnoreChanges())
	if len(changes) == 0 {
		return &pulumirpc.UpdateResponse{Properties: req.GetOlds()}, nil
	}
	next := olds.Copy()
	changed := map[string]bool{}
	for _, ch := range changes {
		if ch.replace {
			return nil, fmt.Errorf("internal: expected diff to not require deletion or replacement during Update of %s", req.GetUrn())
		}
		changed[ch.name] = true
		next[resource.PropertyKey(ch.name)] = stripDefaults(news[resource.PropertyKey(ch.name)])
	}
	if !req.GetPreview() {
		if msg := applyUpdate(ctx, c.docker, req.GetId(), props(olds), props(next), changed); msg != "" {
			return nil, initError(req.GetId(), next, fmt.Sprintf("updating %s: %s", req.GetUrn(), multiError(msg)))
		}
	}
	out, err := marshal(next, "Update.outs", req.GetPreview())
	return &pulumirpc.UpdateResponse{Properties: out}, err
}

func applyUpdate(ctx context.Context, conn *dockerConn, id string, old, next props, changed map[string]bool) string {
	cli, err := conn.client(ctx)
	if err != nil {
		return err.Error()
	}
	for _, a := range appliedUpdates {
		if !changed[a] {
			continue
		}
		upd := container.UpdateConfig{RestartPolicy: container.RestartPolicy{
			Name: container.RestartPolicyMode(next.str("restart")), MaximumRetryCount: next.num("maxRetryCount"),
		}}
		if _, err := cli.ContainerUpdate(ctx, id, upd); err != nil {
			return fmt.Sprintf("Unable to update a container: %v", err)
		}
		break
	}
	if changed["mustRun"] && !old.boolean("mustRun") && next.boolean("mustRun") && next.boolean("start") {
		if err := cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
			return fmt.Sprintf("Unable to start container: %s", err)
		}
	}
	return ""
}

// waitHealthy polls the health status once a second for wait_timeout seconds; on timeout the real
// provider deletes the container and fails, leaving no ID (so nothing is recorded).
func waitHealthy(ctx context.Context, cli *client.Client, id string, in props) (msg string, gone bool) {
	deadline := time.Now().Add(time.Duration(in.num("waitTimeout")) * time.Second)
	for time.Now().Before(deadline) {
		info, err := cli.ContainerInspect(ctx, id)
		if err == nil && info.State != nil && info.State.Health != nil && info.State.Health.Status == "healthy" {
			return "", false
		}
		select {
		case <-ctx.Done():
			return ctx.Err().Error(), false
		case <-time.After(time.Second):
		}
	}
	if err := deleteContainer(ctx, cli, id, in); err != nil {
		return fmt.Sprintf("failed to delete container after timeout: %s", err), false
	}
	return "timeout waiting for container healthy state", true
}

// attachUntilExit waits for the container to stop and, with logs, keeps its output as container_logs.
func attachUntilExit(ctx context.Context, cli *client.Client, id string, in props) string {
	okC, errC := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case <-okC:
	case err := <-errC:
		return fmt.Sprintf("Unable to wait container end of execution: %s", err)
	}
	if !in.boolean("logs") {
		return ""
	}
	r, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return fmt.Sprintf("Unable to read container logs: %s", err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, r); err != nil {
		return fmt.Sprintf("Unable to read container logs: %s", err)
	}
	in["containerLogs"] = resource.NewStringProperty(buf.String())
	return ""
}
