package main

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/image"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const remoteImageToken = "docker:index/remoteImage:RemoteImage"

// The docker_image attributes of kreuzwerker v4.5.0 resource_docker_image.go the stand-in models.
var imageSchema = schemaOf{
	token: remoteImageToken,
	attrs: []attr{
		{name: "name", kind: kString, required: true, forceNew: true},
		{name: "keepLocally", kind: kBool},
		{name: "forceRemove", kind: kBool},
		{name: "pullTriggers", kind: kSet, forceNew: true},
		{name: "triggers", kind: kMap, forceNew: true},
		{name: "platform", kind: kString, forceNew: true, def: str("")},
		{name: "imageId", kind: kString, output: true, computed: true},
		{name: "repoDigest", kind: kString, output: true, computed: true},
	},
	unmodelled: []string{"build"},
}

type imageResource struct{ docker *dockerConn }

func (r *imageResource) check(req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews(), "Check.news")
	if err != nil {
		return nil, err
	}
	inputs, err := checkObject(remoteImageToken, "", imageSchema.attrs, imageSchema.isUnmodelled, news)
	if err != nil {
		return nil, err
	}
	out, err := marshal(inputs, "Check.inputs", true)
	return &pulumirpc.CheckResponse{Inputs: out, Failures: missingRequired(imageSchema.attrs, inputs)}, err
}

// diff: RemoteImage is replaced create-before-delete (no DeleteBeforeReplace in pulumi-docker, and the
// name is not autonamed).
func (r *imageResource) diff(req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOlds(), "Diff.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "Diff.news")
	if err != nil {
		return nil, err
	}
	return diffResponse(imageSchema, diffState(imageSchema, olds, news, req.GetIgnoreChanges()), false), nil
}

// create is resourceDockerImageCreate (resource_docker_image_funcs.go 34-56): findImage (local first,
// no pull when present), ID = image ID + name, then Read.
func (r *imageResource) create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	inputs, err := unmarshal(req.GetProperties(), "Create.properties")
	if err != nil {
		return nil, err
	}
	in := stripDefaults(resource.NewObjectProperty(inputs)).ObjectValue()
	if req.GetPreview() {
		out, err := marshal(proposed(imageSchema, in), "Create.preview", true)
		return &pulumirpc.CreateResponse{Properties: out}, err
	}
	state, id, err := r.findAndRead(ctx, in)
	if err != nil {
		return nil, err
	}
	out, err := marshal(state, "Create.outs", false)
	return &pulumirpc.CreateResponse{Id: id, Properties: out}, err
}

func (r *imageResource) findAndRead(ctx context.Context, in resource.PropertyMap) (resource.PropertyMap, string, error) {
	cli, err := r.docker.client(ctx)
	if err != nil {
		return nil, "", sdkError(err.Error())
	}
	name := props(in).str("name")
	found, err := findImage(ctx, cli, name, props(in).str("platform"))
	if err != nil {
		return nil, "", sdkError(fmt.Sprintf("Unable to read Docker image into resource: %s", err))
	}
	state := in.Copy()
	state["imageId"] = resource.NewStringProperty(found.ID)
	state["repoDigest"] = resource.NewStringProperty(repoDigest(name, found.RepoDigests))
	return state, found.ID + name, nil
}

// read is resourceDockerImageRead (:103-132): an image no longer present locally is dropped.
func (r *imageResource) read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	state, err := unmarshal(req.GetProperties(), "Read.state")
	if err != nil {
		return nil, err
	}
	if len(state) == 0 {
		return nil, refusal{"import or get of " + remoteImageToken}
	}
	inputs, err := unmarshal(req.GetInputs(), "Read.inputs")
	if err != nil {
		return nil, err
	}
	cli, err := r.docker.client(ctx)
	if err != nil {
		return nil, fmt.Errorf("refreshing %s: %s", req.GetUrn(), multiError(err.Error()))
	}
	name := props(state).str("name")
	found, err := localImage(ctx, cli, name)
	if err != nil {
		return nil, fmt.Errorf("refreshing %s: %s", req.GetUrn(), multiError(err.Error()))
	}
	if found == nil {
		return &pulumirpc.ReadResponse{}, nil
	}
	state["imageId"] = resource.NewStringProperty(found.ID)
	state["repoDigest"] = resource.NewStringProperty(repoDigest(name, found.RepoDigests))
	return readResponse(found.ID+name, state, inputs)
}

// update is resourceDockerImageUpdate (:134-148): findImage again (pulling only if absent), then Read.
func (r *imageResource) update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	news, err := unmarshal(req.GetNews(), "Update.news")
	if err != nil {
		return nil, err
	}
	in := stripDefaults(resource.NewObjectProperty(news)).ObjectValue()
	if req.GetPreview() {
		olds, err := unmarshal(req.GetOlds(), "Update.olds")
		if err != nil {
			return nil, err
		}
		in["imageId"], in["repoDigest"] = olds["imageId"], olds["repoDigest"]
		out, err := marshal(in, "Update.preview", true)
		return &pulumirpc.UpdateResponse{Properties: out}, err
	}
	state, _, err := r.findAndRead(ctx, in)
	if err != nil {
		return nil, err
	}
	out, err := marshal(state, "Update.outs", false)
	return &pulumirpc.UpdateResponse{Properties: out}, err
}

// delete is resourceDockerImageDelete / removeImage (:150-220): nothing with keep_locally, else remove
// the local image by name, forced only with force_remove.
func (r *imageResource) delete(ctx context.Context, req *pulumirpc.DeleteRequest) error {
	state, err := unmarshal(req.GetProperties(), "Delete.state")
	if err != nil {
		return err
	}
	st := props(state)
	if st.boolean("keepLocally") {
		return nil
	}
	cli, err := r.docker.client(ctx)
	if err != nil {
		return fmt.Errorf("deleting %s: %s", req.GetUrn(), multiError(err.Error()))
	}
	found, err := localImage(ctx, cli, st.str("name"))
	if err == nil && found != nil {
		_, err = cli.ImageRemove(ctx, st.str("name"), image.RemoveOptions{Force: st.boolean("forceRemove")})
	}
	if err != nil {
		return fmt.Errorf("deleting %s: %s", req.GetUrn(), multiError("Unable to remove Docker image: "+err.Error()))
	}
	return nil
}
