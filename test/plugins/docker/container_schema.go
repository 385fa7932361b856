package main

import "github.com/pulumi/pulumi/sdk/v3/go/common/resource"

const containerToken = "docker:index/container:Container"

// The container attributes the stand-in models, with the flags of kreuzwerker v4.5.0
// internal/provider/resource_docker_container.go (defaults, ForceNew, Optional+Computed, DiffSuppress).
var containerSchema = schemaOf{
	token: containerToken,
	attrs: []attr{
		{name: "image", kind: kString, required: true, forceNew: true},
		{name: "name", kind: kString, required: true, forceNew: true},
		{name: "command", kind: kList, computed: true, forceNew: true},
		{name: "envs", kind: kSet, computed: true, forceNew: true},
		{name: "user", kind: kString, forceNew: true, suppress: emptyIsNoOp},
		{name: "workingDir", kind: kString, forceNew: true, suppress: emptyIsNoOp},
		{name: "ports", kind: kBlocks, forceNew: true, block: portAttrs},
		{name: "mounts", kind: kBlockSet, forceNew: true, block: mountAttrs},
		{name: "deviceRequests", kind: kBlockSet, forceNew: true, block: deviceRequestAttrs},
		// Not ForceNew in the Terraform provider v4.5.0 it bridges: a change is recorded in state, never applied to the container.
		{name: "healthcheck", kind: kObject, computed: true, block: healthcheckAttrs},
		{name: "restart", kind: kString, def: str("no")},
		{name: "labels", kind: kBlockSet, computed: true, forceNew: true, block: labelAttrs},
		{name: "logDriver", kind: kString, computed: true, forceNew: true},
		{name: "logOpts", kind: kMap, forceNew: true},
		{name: "shmSize", kind: kInt, computed: true, forceNew: true},
		{name: "wait", kind: kBool, def: boolean(false)},
		{name: "waitTimeout", kind: kInt, def: num(60)},
		{name: "destroyGraceSeconds", kind: kInt},
		{name: "mustRun", kind: kBool, def: boolean(true)},
		{name: "start", kind: kBool, def: boolean(true)},
		{name: "rm", kind: kBool, def: boolean(false)},
		{name: "removeVolumes", kind: kBool, def: boolean(true)},
		{name: "init", kind: kBool, computed: true},
		{name: "attach", kind: kBool, def: boolean(false)},
		{name: "logs", kind: kBool, def: boolean(false)},
		{name: "networkMode", kind: kString, forceNew: true, def: str("bridge")},
		// Defaulted by the schema although the stand-in refuses it as an input.
		{name: "containerReadRefreshTimeoutMilliseconds", kind: kInt, def: num(15000)},
		{name: "maxRetryCount", kind: kInt},
		{name: "entrypoints", kind: kList, computed: true, forceNew: true},
		// Computed attributes Read sets (outputs only, or inputs the stand-in refuses).
		{name: "hostname", kind: kString, computed: true, forceNew: true},
		{name: "ipcMode", kind: kString, computed: true, forceNew: true},
		{name: "runtime", kind: kString, computed: true, forceNew: true},
		{name: "securityOpts", kind: kSet, computed: true, forceNew: true},
		{name: "stopSignal", kind: kString, computed: true, forceNew: true},
		{name: "stopTimeout", kind: kInt, computed: true, forceNew: true},
		{name: "bridge", kind: kString, output: true, computed: true},
		{name: "containerLogs", kind: kString, output: true, computed: true},
		{name: "exitCode", kind: kInt, output: true, computed: true},
		{name: "networkDatas", kind: kBlocks, output: true, computed: true},
	},
	// Every other input of the 5.2.0 schema (@pulumi/docker 5.2.0 container.d.ts).
	unmodelled: []string{
		"capabilities", "cgroupParent", "cgroupnsMode", "containerReadRefreshTimeoutMilliseconds", "cpuPeriod",
		"cpuQuota", "cpuSet", "cpuShares", "cpus", "deviceCgroupRules", "deviceReadBps", "deviceReadIops",
		"deviceWriteBps", "deviceWriteIops", "devices", "dns", "dnsOpts", "dnsSearches", "domainname",
		"gpus", "groupAdds", "hostname", "hosts", "ipcMode", "memory",
		"memoryReservation", "memorySwap", "networksAdvanced", "pidMode", "platform", "privileged",
		"publishAllPorts", "readOnly", "runtime", "securityOpts", "stdinOpen", "stopSignal", "stopTimeout",
		"storageOpts", "sysctls", "tmpfs", "tty", "ulimits", "uploads", "usernsMode", "volumes",
	},
}

var portAttrs = []attr{
	{name: "internal", kind: kInt, required: true, forceNew: true},
	{name: "external", kind: kInt, computed: true, forceNew: true},
	{name: "ip", kind: kString, forceNew: true, def: str("0.0.0.0")},
	{name: "protocol", kind: kString, forceNew: true, def: str("tcp")},
}

// Only the mounts set is ForceNew at v4.5.0, not its fields (tmpfs_options, refused here, is): an element
// changed in place with the count unchanged is an update that Update never applies (SDKv2 diffSet gives
// block fields their own ForceNew; pulumi-docker's schema marks willReplaceOnChanges the same way).
var mountAttrs = []attr{
	{name: "target", kind: kString, required: true},
	{name: "type", kind: kString, required: true},
	{name: "source", kind: kString},
	{name: "readOnly", kind: kBool},
	{name: "bindOptions", kind: kObject, block: []attr{{name: "propagation", kind: kString}}},
}

var deviceRequestAttrs = []attr{
	{name: "driver", kind: kString, forceNew: true, def: str("cdi")},
	{name: "count", kind: kInt, forceNew: true, def: num(0)},
	{name: "deviceIds", kind: kSet, forceNew: true},
	{name: "capabilities", kind: kSet, forceNew: true},
	{name: "options", kind: kMap, forceNew: true},
}

var healthcheckAttrs = []attr{
	{name: "tests", kind: kList, required: true},
	{name: "interval", kind: kString, def: str("0s")},
	{name: "timeout", kind: kString, def: str("0s")},
	{name: "startPeriod", kind: kString, def: str("0s")},
	{name: "startInterval", kind: kString, def: str("0s")},
	{name: "retries", kind: kInt, def: num(0)},
}

var labelAttrs = []attr{
	{name: "label", kind: kString, required: true, forceNew: true},
	{name: "value", kind: kString, required: true, forceNew: true},
}

// emptyIsNoOp follows the DiffSuppressFunc of user and working_dir: "" is Docker's default, so an empty
// config value never differs from what the container has.
func emptyIsNoOp(_, new resource.PropertyValue) bool {
	return new.IsNull() || (new.IsString() && new.StringValue() == "")
}

// inputNames are the container inputs a program may set (modelled and not output-only and not refused).
func (s schemaOf) inputAttr(name string) (attr, bool) {
	if s.isUnmodelled(name) {
		return attr{}, false
	}
	a, ok := s.attr(name)
	if !ok || a.output {
		return attr{}, false
	}
	return a, true
}
