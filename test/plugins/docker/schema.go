package main

import "github.com/pulumi/pulumi/sdk/v3/go/common/resource"

// kind is the Terraform type of an attribute as the bridge presents it to Pulumi.
type kind int

const (
	kString kind = iota
	kInt
	kBool
	kList   // ordered list of strings
	kSet    // unordered set of strings
	kMap    // string map
	kObject // a MaxItems:1 block, flattened to one object by the bridge
	kBlocks // a TypeList of blocks: an ordered list of objects
	kBlockSet
)

// attr is one attribute of a Terraform schema, under its Pulumi name, with the flags that decide how the
// real provider checks, diffs and stores it.
type attr struct {
	name     string
	kind     kind
	required bool
	computed bool // Optional+Computed (or Computed only, with output)
	output   bool // Computed only: never an input
	forceNew bool
	def      *resource.PropertyValue
	// block holds the attributes of an object, blocks or block set.
	block []attr
	// suppress, when set, says that the change old -> new is no change (a DiffSuppressFunc).
	suppress func(old, new resource.PropertyValue) bool
}

func str(v string) *resource.PropertyValue {
	p := resource.NewStringProperty(v)
	return &p
}

func num(v float64) *resource.PropertyValue {
	p := resource.NewNumberProperty(v)
	return &p
}

func boolean(v bool) *resource.PropertyValue {
	p := resource.NewBoolProperty(v)
	return &p
}

// schemaOf is a resource's modelled attributes, plus the names of every other input of the real schema
// (refused when a program sets them).
type schemaOf struct {
	token      string
	attrs      []attr
	unmodelled []string
}

func (s schemaOf) attr(name string) (attr, bool) {
	return findAttr(s.attrs, name)
}

func findAttr(attrs []attr, name string) (attr, bool) {
	for _, a := range attrs {
		if a.name == name {
			return a, true
		}
	}
	return attr{}, false
}

func (s schemaOf) isUnmodelled(name string) bool {
	for _, n := range s.unmodelled {
		if n == name {
			return true
		}
	}
	return false
}

// zero is what the real provider's diff compares a missing config value with (SDKv2 uses the type's zero).
func zero(a attr) resource.PropertyValue {
	switch a.kind {
	case kString:
		return resource.NewStringProperty("")
	case kInt:
		return resource.NewNumberProperty(0)
	case kBool:
		return resource.NewBoolProperty(false)
	case kMap, kObject:
		return resource.NewObjectProperty(resource.PropertyMap{})
	default:
		return resource.NewArrayProperty(nil)
	}
}
