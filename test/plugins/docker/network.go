package main

import (
	"github.com/docker/docker/api/types/container"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// networkData is flattenContainerNetworks: one entry per network the container is attached to.
func networkData(ns *container.NetworkSettings) resource.PropertyValue {
	var out []resource.PropertyValue
	for _, name := range sortedKeys(ns.Networks) {
		n := ns.Networks[name]
		if n == nil {
			continue
		}
		out = append(out, resource.NewObjectProperty(resource.PropertyMap{
			"networkName":            resource.NewStringProperty(name),
			"ipAddress":              resource.NewStringProperty(n.IPAddress),
			"ipPrefixLength":         resource.NewNumberProperty(float64(n.IPPrefixLen)),
			"gateway":                resource.NewStringProperty(n.Gateway),
			"globalIpv6Address":      resource.NewStringProperty(n.GlobalIPv6Address),
			"globalIpv6PrefixLength": resource.NewNumberProperty(float64(n.GlobalIPv6PrefixLen)),
			"ipv6Gateway":            resource.NewStringProperty(n.IPv6Gateway),
			"macAddress":             resource.NewStringProperty(n.MacAddress),
		}))
	}
	return resource.NewArrayProperty(out)
}
