package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"
)

const mib = 1024 * 1024

// containerSpec builds the create request as kreuzwerker v4.5.0 resourceDockerContainerCreate does
// (resource_docker_container_funcs.go 43-460): lists and strings only when GetOk (so an empty list or ""
// is left to the image), Init always explicit, NetworkMode and the log driver always sent.
func containerSpec(in props) (*container.Config, *container.HostConfig, error) {
	cfg := &container.Config{Image: in.str("image")}
	if in.getOk("envs") {
		cfg.Env = uniqueInOrder(in.strs("envs"))
	}
	if in.getOk("command") {
		cfg.Cmd = in.strs("command")
		for _, v := range cfg.Cmd {
			if v == "" {
				return nil, nil, fmt.Errorf("values for command may not be empty")
			}
		}
	}
	if in.getOk("entrypoints") {
		cfg.Entrypoint = in.strs("entrypoints")
	}
	if in.getOk("user") {
		cfg.User = in.str("user")
	}
	exposed, bindings := portSpec(in.objects("ports"))
	if len(exposed) > 0 {
		cfg.ExposedPorts = exposed
	}
	if in.getOk("workingDir") {
		cfg.WorkingDir = in.str("workingDir")
	}
	if in.getOk("labels") {
		cfg.Labels = map[string]string{}
		for _, l := range in.objects("labels") {
			cfg.Labels[l.str("label")] = l.str("value")
		}
	}
	if hc, ok := in.object("healthcheck"); ok && in.getOk("healthcheck") {
		cfg.Healthcheck = healthSpec(hc)
	}
	host := hostSpec(in)
	if len(bindings) > 0 {
		host.PortBindings = bindings
	}
	return cfg, host, nil
}

func hostSpec(in props) *container.HostConfig {
	host := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{
			Name: container.RestartPolicyMode(in.str("restart")), MaximumRetryCount: in.num("maxRetryCount"),
		},
		Mounts:     mountSpec(in.objects("mounts")),
		AutoRemove: in.boolean("rm"),
		LogConfig:  container.LogConfig{Type: in.str("logDriver")},
	}
	if in.getOk("shmSize") {
		host.ShmSize = int64(in.num("shmSize")) * mib
	}
	if in.getOk("logOpts") {
		host.LogConfig.Config = in.stringMap("logOpts")
	}
	if in.getOk("networkMode") {
		host.NetworkMode = container.NetworkMode(in.str("networkMode"))
	}
	if in.getOk("deviceRequests") {
		host.DeviceRequests = deviceRequestSpec(in.objects("deviceRequests"))
	}
	init := in.boolean("init")
	host.Init = &init
	return host
}

// portSpec is portSetToDockerPorts (_structures.go): one exposed port per internal/protocol, its bindings
// with the given ip and, when set, the external port.
func portSpec(ports []props) (nat.PortSet, nat.PortMap) {
	exposed, bindings := nat.PortSet{}, nat.PortMap{}
	for _, p := range ports {
		protocol := p.str("protocol")
		if protocol == "" {
			protocol = "tcp"
		}
		port := nat.Port(strconv.Itoa(p.num("internal")) + "/" + protocol)
		exposed[port] = struct{}{}
		b := nat.PortBinding{HostIP: p.str("ip")}
		if p.num("external") != 0 {
			b.HostPort = strconv.Itoa(p.num("external"))
		}
		bindings[port] = append(bindings[port], b)
	}
	return exposed, bindings
}

func mountSpec(mounts []props) []mount.Mount {
	out := []mount.Mount{}
	for _, m := range mounts {
		mt := mount.Mount{Type: mount.Type(m.str("type")), Target: m.str("target"), Source: m.str("source"), ReadOnly: m.boolean("readOnly")}
		if b, ok := m.object("bindOptions"); ok && mt.Type == mount.TypeBind {
			mt.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(b.str("propagation"))}
		}
		out = append(out, mt)
	}
	return out
}

// deviceRequestSpec follows _structures.go 332-363: capabilities become one AND-list.
func deviceRequestSpec(reqs []props) []container.DeviceRequest {
	var out []container.DeviceRequest
	for _, r := range reqs {
		dr := container.DeviceRequest{Driver: r.str("driver"), Count: r.num("count"), DeviceIDs: uniqueInOrder(r.strs("deviceIds"))}
		if caps := uniqueInOrder(r.strs("capabilities")); len(caps) > 0 {
			dr.Capabilities = [][]string{caps}
		}
		if r.getOk("options") {
			dr.Options = r.stringMap("options")
		}
		out = append(out, dr)
	}
	return out
}

func healthSpec(hc props) *container.HealthConfig {
	d := func(k string) time.Duration {
		v, _ := time.ParseDuration(hc.str(k))
		return v
	}
	return &container.HealthConfig{
		Test: hc.strs("tests"), Interval: d("interval"), Timeout: d("timeout"),
		StartPeriod: d("startPeriod"), StartInterval: d("startInterval"), Retries: hc.num("retries"),
	}
}

func uniqueInOrder(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
