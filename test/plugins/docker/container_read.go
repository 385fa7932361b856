package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// readContainer is kreuzwerker v4.5.0 resourceDockerContainerRead (resource_docker_container_funcs.go
// 750-981): the prior values overlaid with what the daemon reports, normalised as the daemon and Go
// print them. It returns nil when the container is gone. env and labels are never read back.
func readContainer(ctx context.Context, cli *client.Client, id string, prior resource.PropertyMap) (resource.PropertyMap, error) {
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("Error fetching container information from Docker: %s\n", err)
	}
	if !listed2(list, id) {
		return nil, nil
	}
	info, err := cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("Error inspecting container %s: %s", id, err)
	}
	out := stripDefaults(resource.NewObjectProperty(prior)).ObjectValue()
	set := func(k string, v resource.PropertyValue) { out[resource.PropertyKey(k)] = v }
	readRunState(set, props(prior), info)
	readConfig(set, info.Config)
	readHostConfig(set, props(prior), info.HostConfig)
	if info.NetworkSettings != nil {
		set("bridge", resource.NewStringProperty(info.NetworkSettings.Bridge))
		set("networkDatas", networkData(info.NetworkSettings))
	}
	set("name", resource.NewStringProperty(strings.TrimLeft(info.Name, "/")))
	return out, nil
}

func listed2(list []container.Summary, id string) bool {
	for _, c := range list {
		if c.ID == id {
			return true
		}
	}
	return false
}

// readRunState: a container that is not running gets must_run=false and its exit code (:813-825), and
// its ports from NetworkSettings, which an exited or never-started container has none of (:797-805, P10).
func readRunState(set func(string, resource.PropertyValue), prior props, info container.InspectResponse) {
	running := info.State != nil && info.State.Running
	if running || prior.boolean("mustRun") {
		var ports nat.PortMap
		if info.NetworkSettings != nil {
			ports = info.NetworkSettings.Ports
		}
		set("ports", flattenPorts(ports))
	}
	if !running {
		set("mustRun", resource.NewBoolProperty(false))
		code := 0
		if info.State != nil {
			code = info.State.ExitCode
		}
		set("exitCode", resource.NewNumberProperty(float64(code)))
	}
}

func readConfig(set func(string, resource.PropertyValue), cfg *container.Config) {
	if cfg == nil {
		return
	}
	set("command", strings2values(cfg.Cmd))
	set("entrypoints", strings2values(cfg.Entrypoint))
	set("user", resource.NewStringProperty(cfg.User))
	set("workingDir", resource.NewStringProperty(cfg.WorkingDir))
	set("hostname", resource.NewStringProperty(cfg.Hostname))
	set("stopSignal", resource.NewStringProperty(cfg.StopSignal))
	stop := 0
	if cfg.StopTimeout != nil {
		stop = *cfg.StopTimeout
	}
	set("stopTimeout", resource.NewNumberProperty(float64(stop)))
	if hc := cfg.Healthcheck; hc != nil {
		// Durations as Go prints them: 600s reads back as 10m0s (:960-970, P3).
		set("healthcheck", resource.NewObjectProperty(resource.PropertyMap{
			"tests":         strings2values(hc.Test),
			"interval":      resource.NewStringProperty(hc.Interval.String()),
			"timeout":       resource.NewStringProperty(hc.Timeout.String()),
			"startPeriod":   resource.NewStringProperty(hc.StartPeriod.String()),
			"startInterval": resource.NewStringProperty(hc.StartInterval.String()),
			"retries":       resource.NewNumberProperty(float64(hc.Retries)),
		}))
	}
}

func readHostConfig(set func(string, resource.PropertyValue), prior props, hc *container.HostConfig) {
	if hc == nil {
		return
	}
	set("rm", resource.NewBoolProperty(hc.AutoRemove))
	set("restart", resource.NewStringProperty(string(hc.RestartPolicy.Name)))
	set("maxRetryCount", resource.NewNumberProperty(float64(hc.RestartPolicy.MaximumRetryCount)))
	set("init", resource.NewBoolProperty(hc.Init != nil && *hc.Init))
	set("runtime", resource.NewStringProperty(hc.Runtime))
	set("mounts", flattenMounts(hc.Mounts))
	set("shmSize", resource.NewNumberProperty(float64(hc.ShmSize/mib)))
	set("logDriver", resource.NewStringProperty(hc.LogConfig.Type))
	if prior.getOk("logOpts") {
		// The options as the daemon merged them with its own defaults (containerLogOptsForState, P9).
		set("logOpts", map2value(hc.LogConfig.Config))
	}
	set("networkMode", resource.NewStringProperty(string(hc.NetworkMode)))
	set("ipcMode", resource.NewStringProperty(string(hc.IpcMode)))
	set("securityOpts", strings2values(hc.SecurityOpt))
	if prior.getOk("deviceRequests") {
		set("deviceRequests", flattenDeviceRequests(hc.DeviceRequests))
	}
}

// flattenPorts is flattenContainerPorts (_structures.go 35-58), including its habit of adding one entry
// per binding that all show the port's last binding.
func flattenPorts(in nat.PortMap) resource.PropertyValue {
	var out []resource.PropertyValue
	for port, bindings := range in {
		m := resource.PropertyMap{}
		for _, b := range bindings {
			internal, _ := strconv.Atoi(port.Port())
			external, _ := strconv.Atoi(b.HostPort)
			m["internal"] = resource.NewNumberProperty(float64(internal))
			m["external"] = resource.NewNumberProperty(float64(external))
			m["ip"] = resource.NewStringProperty(b.HostIP)
			m["protocol"] = resource.NewStringProperty(port.Proto())
			out = append(out, resource.NewObjectProperty(m))
		}
	}
	return resource.NewArrayProperty(out)
}

func flattenMounts(in []mount.Mount) resource.PropertyValue {
	var out []resource.PropertyValue
	for _, m := range in {
		pm := resource.PropertyMap{
			"target": resource.NewStringProperty(m.Target), "source": resource.NewStringProperty(m.Source),
			"type": resource.NewStringProperty(string(m.Type)), "readOnly": resource.NewBoolProperty(m.ReadOnly),
		}
		if m.BindOptions != nil {
			pm["bindOptions"] = resource.NewObjectProperty(resource.PropertyMap{
				"propagation": resource.NewStringProperty(string(m.BindOptions.Propagation)),
			})
		}
		out = append(out, resource.NewObjectProperty(pm))
	}
	return resource.NewArrayProperty(out)
}

func flattenDeviceRequests(in []container.DeviceRequest) resource.PropertyValue {
	var out []resource.PropertyValue
	for _, dr := range in {
		var caps []string
		for _, c := range dr.Capabilities {
			caps = append(caps, c...)
		}
		pm := resource.PropertyMap{
			"driver": resource.NewStringProperty(dr.Driver), "count": resource.NewNumberProperty(float64(dr.Count)),
			"deviceIds": strings2values(dr.DeviceIDs), "capabilities": strings2values(caps),
		}
		if len(dr.Options) > 0 {
			pm["options"] = map2value(dr.Options)
		}
		out = append(out, resource.NewObjectProperty(pm))
	}
	return resource.NewArrayProperty(out)
}
