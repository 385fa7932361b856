package main

import (
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// attrChange is one attribute whose config differs from the stored state.
type attrChange struct {
	name    string
	details map[string]pulumirpc.PropertyDiff_Kind
	replace bool
}

// diffState compares the checked inputs (news) with the stored state (olds, the values Read last wrote),
// attribute by attribute, as the bridge's Diff does through the Terraform diff (bridge v3
// pkg/tfbridge/provider.go Diff; SDKv2 schemaMap.Diff): a missing config value is the type's zero, an
// Optional+Computed one keeps the state, DiffSuppress functions apply, ignoreChanges paths are skipped.
func diffState(s schemaOf, olds, news resource.PropertyMap, ignore []string) []attrChange {
	ig := parseIgnores(ignore)
	var out []attrChange
	for _, a := range s.attrs {
		if a.output || ig.whole[a.name] {
			continue
		}
		if c, changed := diffAttr(a, olds, news, ig.sub[a.name]); changed {
			out = append(out, c)
		}
	}
	return out
}

func diffAttr(a attr, olds, news resource.PropertyMap, ignoredSubs map[string]bool) (attrChange, bool) {
	key := resource.PropertyKey(a.name)
	nv, hasNew := news[key]
	ov, hasOld := olds[key]
	hasNew = hasNew && !nv.IsNull()
	hasOld = hasOld && !ov.IsNull()
	if a.computed && !hasNew {
		return attrChange{}, false
	}
	c := attrChange{name: a.name, details: map[string]pulumirpc.PropertyDiff_Kind{}}
	kindOf := func(forceNew bool) pulumirpc.PropertyDiff_Kind {
		switch {
		case !hasOld:
			return replaceKind(pulumirpc.PropertyDiff_ADD, forceNew)
		case !hasNew:
			return replaceKind(pulumirpc.PropertyDiff_DELETE, forceNew)
		}
		return replaceKind(pulumirpc.PropertyDiff_UPDATE, forceNew)
	}
	if nv.ContainsUnknowns() {
		c.details[a.name], c.replace = kindOf(a.forceNew), a.forceNew
		return c, true
	}
	if a.suppress != nil && a.suppress(ov, nv) {
		return attrChange{}, false
	}
	nv = keepIgnored(a, ov, fillComputed(a, ov, nv), ignoredSubs)
	if a.name == "ports" && portsUnchanged(blocksOf(ov), blocksOf(nv)) {
		return attrChange{}, false
	}
	if canonical(a, ov) == canonical(a, nv) {
		return attrChange{}, false
	}
	c.details = detailedDiff(a, ov, nv)
	for _, k := range c.details {
		c.replace = c.replace || isReplaceKind(k)
	}
	if len(c.details) == 0 {
		c.details[a.name], c.replace = kindOf(a.forceNew), a.forceNew
	}
	return c, true
}

// keepIgnored gives an object's ignored fields (ignoreChanges "healthcheck.startPeriod") their state value.
func keepIgnored(a attr, ov, nv resource.PropertyValue, ignoredSubs map[string]bool) resource.PropertyValue {
	if len(ignoredSubs) == 0 || a.kind != kObject || !ov.IsObject() || !nv.IsObject() {
		return nv
	}
	m := nv.ObjectValue().Copy()
	for sub := range ignoredSubs {
		k := resource.PropertyKey(sub)
		if o, ok := ov.ObjectValue()[k]; ok {
			m[k] = o
		} else {
			delete(m, k)
		}
	}
	return resource.NewObjectProperty(m)
}

func isReplaceKind(k pulumirpc.PropertyDiff_Kind) bool {
	return k == pulumirpc.PropertyDiff_ADD_REPLACE || k == pulumirpc.PropertyDiff_DELETE_REPLACE ||
		k == pulumirpc.PropertyDiff_UPDATE_REPLACE
}

func replaceKind(k pulumirpc.PropertyDiff_Kind, replace bool) pulumirpc.PropertyDiff_Kind {
	if !replace {
		return k
	}
	switch k {
	case pulumirpc.PropertyDiff_ADD:
		return pulumirpc.PropertyDiff_ADD_REPLACE
	case pulumirpc.PropertyDiff_DELETE:
		return pulumirpc.PropertyDiff_DELETE_REPLACE
	}
	return pulumirpc.PropertyDiff_UPDATE_REPLACE
}

// portsUnchanged is kreuzwerker v4.5.0's ports DiffSuppressFunc (resource_docker_container.go,
// suppressIfPortsDidNotChangeForMigrationV0ToV1 and containsPortWithProtocol): no diff while the count
// is the same and every old port is still there with the same external port and ip, whatever the order;
// a changed protocol is tolerated only when another new port has the old internal port and protocol.
// The new list has its Optional+Computed external ports filled from the old list first, as Terraform's
// plan does.
func portsUnchanged(old, new []props) bool {
	if len(old) != len(new) {
		return false
	}
	for _, o := range old {
		found := false
		for _, n := range new {
			if n.num("internal") != o.num("internal") {
				continue
			}
			if portProtocol(n) != portProtocol(o) {
				if containsPortWithProtocol(new, o.num("internal"), portProtocol(o)) {
					continue
				}
				return false
			}
			if n.num("external") != o.num("external") || portIP(n) != portIP(o) {
				return false
			}
			found = true
			break
		}
		if !found {
			return false
		}
	}
	return true
}

func containsPortWithProtocol(ports []props, internal int, protocol string) bool {
	for _, p := range ports {
		if p.num("internal") == internal && portProtocol(p) == protocol {
			return true
		}
	}
	return false
}

func portProtocol(p props) string {
	if p.has("protocol") {
		return p.str("protocol")
	}
	return "tcp"
}

// portIP follows the ip attribute's default and StateFunc: "" and missing are 0.0.0.0.
func portIP(p props) string {
	if ip := p.str("ip"); ip != "" {
		return ip
	}
	return "0.0.0.0"
}

// fillComputed gives each new block the old block's value, at the same index, of every Optional+Computed
// field the config leaves out (Terraform plans an unset computed field as its prior value).
func fillComputed(a attr, old, new resource.PropertyValue) resource.PropertyValue {
	if a.kind != kBlocks || !old.IsArray() || !new.IsArray() {
		return new
	}
	olds, news := old.ArrayValue(), new.ArrayValue()
	out := make([]resource.PropertyValue, len(news))
	for i, n := range news {
		out[i] = n
		if i >= len(olds) || !n.IsObject() || !olds[i].IsObject() {
			continue
		}
		m := n.ObjectValue().Copy()
		for _, sub := range a.block {
			k := resource.PropertyKey(sub.name)
			if v, set := m[k]; sub.computed && (!set || v.IsNull()) {
				if ov, ok := olds[i].ObjectValue()[k]; ok {
					m[k] = ov
				}
			}
		}
		out[i] = resource.NewObjectProperty(m)
	}
	return resource.NewArrayProperty(out)
}

// diffResponse builds the bridge's answer: top-level diffs and replaces, the ForceNew attributes that did
// not change as stables, and delete-before-replace only when the provider itself replaces.
func diffResponse(s schemaOf, changes []attrChange, dbrWhenReplacing bool) *pulumirpc.DiffResponse {
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}}
	replaced := map[string]bool{}
	for _, c := range changes {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		resp.Diffs = append(resp.Diffs, c.name)
		if c.replace {
			resp.Replaces = append(resp.Replaces, c.name)
			replaced[c.name] = true
		}
		for k, kind := range c.details {
			resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: kind}
		}
	}
	for _, a := range s.attrs {
		if a.forceNew && !a.output && !replaced[a.name] {
			resp.Stables = append(resp.Stables, a.name)
		}
	}
	sort.Strings(resp.Diffs)
	sort.Strings(resp.Replaces)
	sort.Strings(resp.Stables)
	resp.DeleteBeforeReplace = dbrWhenReplacing && len(resp.Replaces) > 0
	return resp
}

type ignores struct {
	whole map[string]bool
	sub   map[string]map[string]bool
}

// parseIgnores reads ignoreChanges paths: a top-level name skips the attribute, name.field skips one
// field of an object, anything deeper skips the whole attribute.
func parseIgnores(paths []string) ignores {
	ig := ignores{whole: map[string]bool{}, sub: map[string]map[string]bool{}}
	for _, p := range paths {
		path, err := resource.ParsePropertyPath(p)
		if err != nil || len(path) == 0 {
			continue
		}
		top, _ := path[0].(string)
		field, isField := "", false
		if len(path) == 2 {
			field, isField = path[1].(string)
		}
		if isField {
			if ig.sub[top] == nil {
				ig.sub[top] = map[string]bool{}
			}
			ig.sub[top][field] = true
			continue
		}
		ig.whole[top] = true
	}
	return ig
}
