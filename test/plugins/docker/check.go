package main

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// refusal is an input the stand-in does not model: the whole operation fails, naming it, so that a
// program never runs against behaviour nobody wrote down.
type refusal struct{ what string }

func (r refusal) Error() string {
	return fmt.Sprintf("the docker stand-in (test/plugins/docker) does not model %s; "+
		"model it there from the real provider's source before a test relies on it", r.what)
}

// checkObject refuses keys outside attrs (naming them with path), then fills the schema defaults the way
// bridge v3 applyDefaults does (falsy defaults, such as false or 0, are left out) and records
// the filled keys under __defaults.
func checkObject(token, path string, attrs []attr, unmodelled func(string) bool, in resource.PropertyMap) (resource.PropertyMap, error) {
	out := resource.PropertyMap{}
	for k, v := range in {
		name := string(k)
		if name == defaultsKey {
			continue
		}
		if unmodelled != nil && unmodelled(name) {
			return nil, refusal{fmt.Sprintf("%s input %q", token, path+name)}
		}
		a, ok := findAttr(attrs, name)
		if !ok || a.output {
			return nil, refusal{fmt.Sprintf("%s input %q (not an input of the 5.2.0 schema, or not modelled)", token, path+name)}
		}
		nv, err := checkValue(token, path+name, a, v)
		if err != nil {
			return nil, err
		}
		out[k] = nv
	}
	var filled []string
	for _, a := range attrs {
		if _, set := out[resource.PropertyKey(a.name)]; set || a.def == nil || isFalsy(*a.def) {
			continue
		}
		out[resource.PropertyKey(a.name)] = *a.def
		filled = append(filled, a.name)
	}
	sort.Strings(filled)
	out[defaultsKey] = strings2values(filled)
	return out, nil
}

func checkValue(token, path string, a attr, v resource.PropertyValue) (resource.PropertyValue, error) {
	if v.ContainsUnknowns() || v.IsNull() {
		return v, nil
	}
	switch a.kind {
	case kObject:
		if !v.IsObject() {
			return v, nil
		}
		m, err := checkObject(token, path+".", a.block, nil, v.ObjectValue())
		return resource.NewObjectProperty(m), err
	case kBlocks, kBlockSet:
		if !v.IsArray() {
			return v, nil
		}
		var out []resource.PropertyValue
		for i, e := range v.ArrayValue() {
			if !e.IsObject() {
				out = append(out, e)
				continue
			}
			m, err := checkObject(token, fmt.Sprintf("%s[%d].", path, i), a.block, nil, e.ObjectValue())
			if err != nil {
				return v, err
			}
			out = append(out, resource.NewObjectProperty(m))
		}
		return resource.NewArrayProperty(out), nil
	}
	return v, nil
}

func isFalsy(v resource.PropertyValue) bool {
	switch {
	case v.IsBool():
		return !v.BoolValue()
	case v.IsNumber():
		return v.NumberValue() == 0
	case v.IsString():
		return v.StringValue() == ""
	}
	return false
}

// missingRequired lists required top-level attributes that are absent, as the bridge's check failures.
func missingRequired(attrs []attr, in resource.PropertyMap) []*pulumirpc.CheckFailure {
	var out []*pulumirpc.CheckFailure
	for _, a := range attrs {
		if !a.required {
			continue
		}
		if v, ok := in[resource.PropertyKey(a.name)]; !ok || v.IsNull() {
			out = append(out, &pulumirpc.CheckFailure{
				Property: a.name,
				Reason:   fmt.Sprintf("Missing required argument. The argument %q is required, but no definition was found.", a.name),
			})
		}
	}
	return out
}

// stripDefaults removes the bridge's bookkeeping keys at every level, leaving the values as they go to the
// provider code.
func stripDefaults(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsObject():
		out := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			if string(k) != defaultsKey {
				out[k] = stripDefaults(e)
			}
		}
		return resource.NewObjectProperty(out)
	case v.IsArray():
		var out []resource.PropertyValue
		for _, e := range v.ArrayValue() {
			out = append(out, stripDefaults(e))
		}
		return resource.NewArrayProperty(out)
	}
	return v
}
