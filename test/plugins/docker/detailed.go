package main

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// leaf is one Terraform flatmap attribute ("log_opts.max-size", "env.<hash>", "ports.0.external") of a
// value, with the Pulumi path the bridge reports it under ("logOpts.max-size", "envs[1]",
// "ports[0].external") and whether changing it forces a new resource.
type leaf struct {
	key, path, value string
	forceNew         bool
}

// flatten lists the leaves of an attribute's value and, for each list, set or map, its count key
// ("x.#", "x.%") under the collection's path. As in SDKv2 diffList/diffSet/diffMap, the elements of a
// primitive collection take its ForceNew; the fields of a block keep their own.
func flatten(a attr, key, path string, v resource.PropertyValue, forceNew bool, out map[string]leaf, counts map[string]leaf) {
	forceNew = forceNew || a.forceNew
	if v.IsNull() && a.kind == kObject {
		return // an absent block has no attributes at all
	}
	if v.IsNull() {
		v = zero(a)
		if a.def != nil {
			v = *a.def
		}
	}
	switch a.kind {
	case kString, kInt, kBool:
		out[key] = leaf{key, path, scalar(v), forceNew}
	case kList, kSet:
		xs := scalars(v)
		counts[key+".#"] = leaf{key + ".#", path, fmt.Sprint(len(uniqueIf(a.kind == kSet, xs))), forceNew}
		for i, x := range xs {
			k := fmt.Sprintf("%s.%d", key, i)
			if a.kind == kSet {
				k = key + "." + x // a set element is keyed by its hash, i.e. by its value
			}
			out[k] = leaf{k, fmt.Sprintf("%s[%d]", path, i), x, forceNew}
		}
	case kMap:
		m := stringMapOf(v)
		counts[key+".%"] = leaf{key + ".%", path, fmt.Sprint(len(m)), forceNew}
		for _, k := range sortedKeys(m) {
			out[key+"."+k] = leaf{key + "." + k, path + "." + k, m[k], forceNew}
		}
	case kObject:
		if v.IsObject() {
			flattenObject(a.block, key+".0", path, v.ObjectValue(), false, out, counts)
		}
	case kBlocks, kBlockSet:
		elems := blocksOf(v)
		counts[key+".#"] = leaf{key + ".#", path, fmt.Sprint(len(elems)), forceNew}
		for i, e := range elems {
			k := fmt.Sprintf("%s.%d", key, i)
			if a.kind == kBlockSet {
				k = key + "." + objectCanonical(a.block, resource.PropertyMap(e))
			}
			flattenObject(a.block, k, fmt.Sprintf("%s[%d]", path, i), resource.PropertyMap(e), false, out, counts)
		}
	}
}

func flattenObject(attrs []attr, key, path string, m resource.PropertyMap, forceNew bool, out, counts map[string]leaf) {
	for _, sub := range attrs {
		flatten(sub, key+"."+sub.name, path+"."+sub.name, m[resource.PropertyKey(sub.name)], forceNew, out, counts)
	}
}

func uniqueIf(unique bool, xs []string) []string {
	if unique {
		return uniqueSorted(xs)
	}
	return xs
}

// detailedDiff is bridge v3 makeDetailedDiffExtra (pkg/tfbridge/diff.go) over the leaves that differ:
// visiting the old value then the new one, a leaf gone from the config is a delete, one seen once an
// add, one seen twice an update (replace kinds when ForceNew); a collection whose count changed is also
// reported, as an update, under its own path (provider.go collectionDiffs). A changed count of a
// ForceNew attribute makes every changed element a replace (the bridge's arrDiff.RequiresNew).
func detailedDiff(a attr, ov, nv resource.PropertyValue) map[string]pulumirpc.PropertyDiff_Kind {
	oldLeaves, newLeaves := map[string]leaf{}, map[string]leaf{}
	oldCounts, newCounts := map[string]leaf{}, map[string]leaf{}
	flatten(a, a.name, a.name, ov, false, oldLeaves, oldCounts)
	flatten(a, a.name, a.name, nv, false, newLeaves, newCounts)
	countKey := a.name + ".#"
	countChanged := oldCounts[countKey].value != newCounts[countKey].value
	out := map[string]pulumirpc.PropertyDiff_Kind{}
	visit := func(l leaf) {
		o, inOld := oldLeaves[l.key]
		n, inNew := newLeaves[l.key]
		if inOld && inNew && o.value == n.value {
			return
		}
		_, seen := out[l.path]
		var k pulumirpc.PropertyDiff_Kind
		switch {
		case !inNew:
			k = pulumirpc.PropertyDiff_DELETE
		case !seen:
			k = pulumirpc.PropertyDiff_ADD
		default:
			k = pulumirpc.PropertyDiff_UPDATE
		}
		out[l.path] = replaceKind(k, l.forceNew || (countChanged && a.forceNew))
	}
	for _, l := range sortedLeaves(oldLeaves) {
		visit(l)
	}
	for _, l := range sortedLeaves(newLeaves) {
		visit(l)
	}
	for k, c := range newCounts {
		if o, ok := oldCounts[k]; !ok || o.value != c.value {
			out[c.path] = pulumirpc.PropertyDiff_UPDATE
		}
	}
	return out
}

func sortedLeaves(m map[string]leaf) []leaf {
	out := make([]leaf, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}
