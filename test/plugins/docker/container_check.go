package main

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

type containerResource struct{ docker *dockerConn }

func (c *containerResource) check(req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews(), "Check.news")
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds(), "Check.olds")
	if err != nil {
		return nil, err
	}
	inputs, err := checkObject(containerToken, "", containerSchema.attrs, containerSchema.isUnmodelled, news)
	if err != nil {
		return nil, err
	}
	if err := autoname(inputs, olds, req); err != nil {
		return nil, err
	}
	failures := append(missingRequired(containerSchema.attrs, inputs), validateContainer(props(inputs))...)
	out, err := marshal(inputs, "Check.inputs", true)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: out, Failures: failures}, nil
}

// autoname gives a container without a name "<resource name>-<7 hex>", kept across updates, as
// pulumi-docker's SetAutonaming(255, "-") does through the bridge.
func autoname(inputs, olds resource.PropertyMap, req *pulumirpc.CheckRequest) error {
	if props(inputs).has("name") {
		return nil
	}
	name := ""
	if props(olds).has("name") && listed(olds[defaultsKey], "name") {
		name = props(olds).str("name")
	} else {
		urn := resource.URN(req.GetUrn())
		n, err := resource.NewUniqueName(req.GetRandomSeed(), urn.Name()+"-", 7, 255, nil)
		if err != nil {
			return err
		}
		name = n
	}
	inputs["name"] = resource.NewStringProperty(name)
	defs := props(inputs).strs(defaultsKey)
	inputs[defaultsKey] = strings2values(uniqueSorted(append(defs, "name")))
	return nil
}

func listed(v resource.PropertyValue, name string) bool {
	if !v.IsArray() {
		return false
	}
	for _, e := range v.ArrayValue() {
		if e.IsString() && e.StringValue() == name {
			return true
		}
	}
	return false
}

// validateContainer applies the ValidateFuncs of the attributes the stand-in models.
func validateContainer(in props) []*pulumirpc.CheckFailure {
	var out []*pulumirpc.CheckFailure
	fail := func(prop, reason string) {
		out = append(out, &pulumirpc.CheckFailure{Property: prop, Reason: reason})
	}
	if v, ok := in["restart"]; ok && v.IsString() && !contains([]string{"no", "on-failure", "always", "unless-stopped"}, v.StringValue()) {
		fail("restart", fmt.Sprintf("expected restart to be one of [no on-failure always unless-stopped], got %s", v.StringValue()))
	}
	if hc, ok := in.object("healthcheck"); ok {
		for _, f := range []string{"interval", "timeout", "startPeriod", "startInterval"} {
			v, ok := hc[resource.PropertyKey(f)]
			if !ok || !v.IsString() {
				continue
			}
			if d, err := time.ParseDuration(v.StringValue()); err != nil || d < 0 {
				fail("healthcheck."+f, fmt.Sprintf("%q: must be of the form 10s, 1m30s, ... and >= 0", v.StringValue()))
			}
		}
	}
	for i, m := range in.objects("mounts") {
		if t := m.str("type"); m.has("type") && !contains([]string{"bind", "volume", "tmpfs"}, t) {
			fail(fmt.Sprintf("mounts[%d].type", i), fmt.Sprintf("expected type to be one of [bind volume tmpfs], got %s", t))
		}
	}
	return out
}
