// Package common holds what both command resources share: the CRUD scripts and triggers, and the
// line-by-line status logging of a command's output.
package common

import "github.com/pulumi/pulumi-go-provider/infer"

// ResourceInputs are the scripts of a command resource and its triggers. As in the real plugin
// (common/inputs.go), only `triggers` carries replaceOnChanges: go-provider then reports a replace
// only for the detailed-diff key "triggers" (a wholly changed or unknown list), while an element
// change ("triggers[0]") is an update that the SDK's replaceOnChanges ["triggers[*]"] turns into
// a replace in the engine.
type ResourceInputs struct {
	Triggers *[]any  `pulumi:"triggers,optional" provider:"replaceOnChanges"`
	Create   *string `pulumi:"create,optional"`
	Update   *string `pulumi:"update,optional"`
	Delete   *string `pulumi:"delete,optional"`
}

// Annotate gives the schema its descriptions (short versions of the real ones).
func (c *ResourceInputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Triggers, "Trigger a resource replacement on changes to any of these values. "+
		"The trigger values can be of any type.")
	a.Describe(&c.Create, "The command to run on create.")
	a.Describe(&c.Update, "The command to run on update, if empty, create will run again. "+
		"The environment variables PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR are set to the "+
		"stdout and stderr properties of the Command resource from previous create or update steps.")
	a.Describe(&c.Delete, "The command to run on delete. The environment variables PULUMI_COMMAND_STDOUT "+
		"and PULUMI_COMMAND_STDERR are set to the stdout and stderr properties of the Command resource "+
		"from previous create or update steps.")
}

// UpdateScript is what an update runs: `update`, else `create`, else nothing (nil).
func (c ResourceInputs) UpdateScript() *string {
	if c.Update != nil {
		return c.Update
	}
	return c.Create
}
