package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// canonical renders a value in a form where two values are equal exactly when Terraform's diff sees no
// change: missing values become the default (or the type's zero), sets are sorted with duplicates
// collapsed (SDKv2 hashes set elements), lists keep their order, maps compare key by key.
func canonical(a attr, v resource.PropertyValue) string {
	if v.IsNull() {
		if a.def != nil {
			v = *a.def
		} else {
			v = zero(a)
		}
	}
	switch a.kind {
	case kString, kInt, kBool:
		return scalar(v)
	case kList:
		return encode(scalars(v))
	case kSet:
		return encode(uniqueSorted(scalars(v)))
	case kMap:
		return encode(stringMapOf(v))
	case kObject:
		if !v.IsObject() {
			return encode(nil)
		}
		return objectCanonical(a.block, v.ObjectValue())
	case kBlocks, kBlockSet:
		var elems []string
		if v.IsArray() {
			for _, e := range v.ArrayValue() {
				if e.IsObject() {
					elems = append(elems, objectCanonical(a.block, e.ObjectValue()))
				}
			}
		}
		if a.kind == kBlockSet {
			elems = uniqueSorted(elems)
		}
		return encode(elems)
	}
	return scalar(v)
}

func objectCanonical(attrs []attr, m resource.PropertyMap) string {
	parts := make([]string, 0, len(attrs))
	for _, sub := range attrs {
		parts = append(parts, sub.name+"="+canonical(sub, m[resource.PropertyKey(sub.name)]))
	}
	return encode(parts)
}

func scalar(v resource.PropertyValue) string {
	switch {
	case v.IsString():
		return v.StringValue()
	case v.IsNumber():
		return strconv.FormatFloat(v.NumberValue(), 'f', -1, 64)
	case v.IsBool():
		return strconv.FormatBool(v.BoolValue())
	case v.IsNull():
		return ""
	}
	return fmt.Sprint(v.V)
}

func scalars(v resource.PropertyValue) []string {
	if !v.IsArray() {
		return []string{}
	}
	out := []string{}
	for _, e := range v.ArrayValue() {
		out = append(out, scalar(e))
	}
	return out
}

func stringMapOf(v resource.PropertyValue) map[string]string {
	out := map[string]string{}
	if !v.IsObject() {
		return out
	}
	for k, e := range v.ObjectValue() {
		if string(k) != defaultsKey {
			out[string(k)] = scalar(e)
		}
	}
	return out
}

func uniqueSorted(xs []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func encode(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
