package main

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func port(internal, external float64, ip string) resource.PropertyValue {
	m := resource.PropertyMap{"internal": resource.NewNumberProperty(internal), "protocol": resource.NewStringProperty("tcp")}
	if external != 0 {
		m["external"] = resource.NewNumberProperty(external)
	}
	if ip != "" {
		m["ip"] = resource.NewStringProperty(ip)
	}
	return resource.NewObjectProperty(m)
}

func list(vs ...resource.PropertyValue) resource.PropertyValue { return resource.NewArrayProperty(vs) }

func changed(t *testing.T, olds, news resource.PropertyMap, ignore ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, c := range diffState(containerSchema, olds, news, ignore) {
		out[c.name] = c.replace
	}
	return out
}

// The state Read stored for a running container, and the config that created it.
func baseline() (resource.PropertyMap, resource.PropertyMap) {
	state := resource.PropertyMap{
		"image": resource.NewStringProperty("sha256:1"), "name": resource.NewStringProperty("c"),
		"envs": strings2values([]string{"A=1", "B=2"}), "command": strings2values([]string{"serve"}),
		"ports":       list(port(8080, 18080, "127.0.0.1")),
		"restart":     resource.NewStringProperty("no"),
		"mustRun":     resource.NewBoolProperty(true),
		"healthcheck": resource.NewObjectProperty(resource.PropertyMap{"tests": strings2values([]string{"CMD", "true"}), "startPeriod": resource.NewStringProperty("10m0s")}),
	}
	config := state.Copy()
	delete(config, "command")
	return state, config
}

func TestNoDiffAgainstReadBackState(t *testing.T) {
	state, config := baseline()
	config["envs"] = strings2values([]string{"B=2", "A=1", "A=1"})
	if got := changed(t, state, config); len(got) != 0 {
		t.Fatalf("reordered set, absent Optional+Computed command: want no diff, got %v", got)
	}
}

func TestGoDurationSpellingIsAnUpdate(t *testing.T) {
	state, config := baseline()
	hc := config["healthcheck"].ObjectValue().Copy()
	hc["startPeriod"] = resource.NewStringProperty("600s")
	config["healthcheck"] = resource.NewObjectProperty(hc)
	if got := changed(t, state, config); len(got) != 1 || got["healthcheck"] {
		t.Fatalf("600s against 10m0s: want an in-place healthcheck diff, got %v", got)
	}
	if got := changed(t, state, config, "healthcheck.startPeriod"); len(got) != 0 {
		t.Fatalf("ignored field: want no diff, got %v", got)
	}
}

func TestCommandListOrderAndEmptyList(t *testing.T) {
	state, config := baseline()
	config["command"] = strings2values([]string{})
	if got := changed(t, state, config); !got["command"] {
		t.Fatalf("command [] against the image CMD: want a replace, got %v", got)
	}
	state["command"] = strings2values([]string{"a", "b"})
	config["command"] = strings2values([]string{"b", "a"})
	if got := changed(t, state, config); !got["command"] {
		t.Fatalf("reordered command: want a replace, got %v", got)
	}
}

func TestPortsSuppress(t *testing.T) {
	cases := []struct {
		name      string
		old, new  []resource.PropertyValue
		wantDiffs bool
	}{
		{"same", []resource.PropertyValue{port(80, 1, "127.0.0.1")}, []resource.PropertyValue{port(80, 1, "127.0.0.1")}, false},
		{"reordered", []resource.PropertyValue{port(80, 1, ""), port(90, 2, "")}, []resource.PropertyValue{port(90, 2, ""), port(80, 1, "")}, false},
		{"external", []resource.PropertyValue{port(80, 1, "")}, []resource.PropertyValue{port(80, 2, "")}, true},
		{"ip", []resource.PropertyValue{port(80, 1, "127.0.0.1")}, []resource.PropertyValue{port(80, 1, "0.0.0.0")}, true},
		{"unset external keeps the state's", []resource.PropertyValue{port(80, 32768, "")}, []resource.PropertyValue{port(80, 0, "")}, false},
		{"count", []resource.PropertyValue{port(80, 1, "")}, nil, true},
	}
	for _, c := range cases {
		state, config := baseline()
		state["ports"], config["ports"] = list(c.old...), list(c.new...)
		if got := changed(t, state, config)["ports"]; got != c.wantDiffs {
			t.Errorf("%s: ports replace = %v, want %v", c.name, got, c.wantDiffs)
		}
	}
}

func TestCheckFillsNonFalsyDefaultsOnly(t *testing.T) {
	in := resource.PropertyMap{"image": resource.NewStringProperty("i"), "name": resource.NewStringProperty("n")}
	out, err := checkObject(containerToken, "", containerSchema.attrs, containerSchema.isUnmodelled, in)
	if err != nil {
		t.Fatal(err)
	}
	p := props(out)
	if p.str("restart") != "no" || !p.boolean("mustRun") || p.num("waitTimeout") != 60 || p.has("wait") {
		t.Fatalf("defaults: %v", out)
	}
	if _, err := checkObject(containerToken, "", containerSchema.attrs, containerSchema.isUnmodelled,
		resource.PropertyMap{"privileged": resource.NewBoolProperty(true)}); err == nil {
		t.Fatal("an unmodelled input must be refused")
	}
}

func TestDetailedDiffKeysPerElement(t *testing.T) {
	state, config := baseline()
	state["logOpts"] = map2value(map[string]string{"max-size": "10m", "max-file": "3", "labels": "x"})
	config["logOpts"] = map2value(map[string]string{"max-size": "10m", "max-file": "3"})
	config["envs"] = strings2values([]string{"A=1", "B=3"})
	resp := diffResponse(containerSchema, diffState(containerSchema, state, config, nil), true)
	want := map[string]pulumirpc.PropertyDiff_Kind{
		"logOpts.labels": pulumirpc.PropertyDiff_DELETE_REPLACE, "logOpts": pulumirpc.PropertyDiff_UPDATE,
		"envs[1]": pulumirpc.PropertyDiff_UPDATE_REPLACE,
	}
	for k, kind := range want {
		if d := resp.DetailedDiff[k]; d == nil || d.Kind != kind {
			t.Errorf("%s: got %v, want %v (all: %v)", k, d, kind, resp.DetailedDiff)
		}
	}
	if len(resp.DetailedDiff) != len(want) || !resp.DeleteBeforeReplace || len(resp.Replaces) != 2 {
		t.Errorf("response: %v", resp)
	}
}

func bindMount(source string) resource.PropertyValue {
	return resource.NewObjectProperty(resource.PropertyMap{
		"type": resource.NewStringProperty("bind"), "target": resource.NewStringProperty("/data"),
		"source": resource.NewStringProperty(source), "readOnly": resource.NewBoolProperty(false),
	})
}

func TestMountsReplaceOnlyWhenTheCountChanges(t *testing.T) {
	state, config := baseline()
	state["mounts"], config["mounts"] = list(bindMount("/a")), list(bindMount("/b"))
	if got, ok := changed(t, state, config)["mounts"]; !ok || got {
		t.Fatalf("same count, new source: want an in-place diff, got replace=%v present=%v", got, ok)
	}
	config["mounts"] = list(bindMount("/b"), bindMount("/c"))
	if got := changed(t, state, config)["mounts"]; !got {
		t.Fatal("one more mount: want a replace")
	}
}
