package main

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"google.golang.org/protobuf/types/known/structpb"
)

// defaultsKey is where the bridge records which properties it filled from schema defaults.
const defaultsKey = "__defaults"

func unmarshal(s *structpb.Struct, label string) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, plugin.MarshalOptions{Label: label, KeepUnknowns: true, SkipNulls: true})
}

func marshal(m resource.PropertyMap, label string, keepUnknowns bool) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, plugin.MarshalOptions{Label: label, KeepUnknowns: keepUnknowns})
}

// props reads typed values out of a property map, treating missing and null alike.
type props resource.PropertyMap

func (p props) has(k string) bool {
	v, ok := p[resource.PropertyKey(k)]
	return ok && !v.IsNull()
}

func (p props) str(k string) string {
	if v, ok := p[resource.PropertyKey(k)]; ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

func (p props) num(k string) int {
	if v, ok := p[resource.PropertyKey(k)]; ok && v.IsNumber() {
		return int(v.NumberValue())
	}
	return 0
}

func (p props) boolean(k string) bool {
	if v, ok := p[resource.PropertyKey(k)]; ok && v.IsBool() {
		return v.BoolValue()
	}
	return false
}

func (p props) strs(k string) []string {
	v, ok := p[resource.PropertyKey(k)]
	if !ok || !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

func (p props) objects(k string) []props {
	v, ok := p[resource.PropertyKey(k)]
	if !ok || !v.IsArray() {
		return nil
	}
	var out []props
	for _, e := range v.ArrayValue() {
		if e.IsObject() {
			out = append(out, props(e.ObjectValue()))
		}
	}
	return out
}

// blocksOf is a list of objects as props (nil for anything else).
func blocksOf(v resource.PropertyValue) []props {
	return props{"v": v}.objects("v")
}

func (p props) object(k string) (props, bool) {
	v, ok := p[resource.PropertyKey(k)]
	if !ok || !v.IsObject() {
		return nil, false
	}
	return props(v.ObjectValue()), true
}

func (p props) stringMap(k string) map[string]string {
	v, ok := p[resource.PropertyKey(k)]
	if !ok || !v.IsObject() {
		return nil
	}
	out := map[string]string{}
	for key, e := range v.ObjectValue() {
		if string(key) == defaultsKey {
			continue
		}
		out[string(key)] = fmt.Sprint(e.V)
	}
	return out
}

// getOk follows SDKv2 GetOk: a value that is missing, null or the zero of its type is "not set".
func (p props) getOk(k string) bool {
	v, ok := p[resource.PropertyKey(k)]
	if !ok {
		return false
	}
	switch {
	case v.IsNull():
		return false
	case v.IsString():
		return v.StringValue() != ""
	case v.IsNumber():
		return v.NumberValue() != 0
	case v.IsBool():
		return v.BoolValue()
	case v.IsArray():
		return len(v.ArrayValue()) > 0
	case v.IsObject():
		return len(withoutDefaults(v.ObjectValue())) > 0
	}
	return true
}

func withoutDefaults(m resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range m {
		if string(k) != defaultsKey {
			out[k] = v
		}
	}
	return out
}

func strings2values(xs []string) resource.PropertyValue {
	out := make([]resource.PropertyValue, 0, len(xs))
	for _, x := range xs {
		out = append(out, resource.NewStringProperty(x))
	}
	return resource.NewArrayProperty(out)
}

func map2value(m map[string]string) resource.PropertyValue {
	out := resource.PropertyMap{}
	for k, v := range m {
		out[resource.PropertyKey(k)] = resource.NewStringProperty(v)
	}
	return resource.NewObjectProperty(out)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
