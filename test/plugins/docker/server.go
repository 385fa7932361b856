package main

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	providerName    = "docker"
	providerVersion = "5.2.0"
)

// resourceImpl is what one resource type of the stand-in implements.
type resourceImpl interface {
	check(req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error)
	diff(req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error)
	create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error)
	read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error)
	update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error)
	delete(ctx context.Context, req *pulumirpc.DeleteRequest) error
}

// server is the plugin's gRPC face: provider calls here, resource calls routed by type token; a token
// the stand-in does not serve is refused by name.
type server struct {
	pulumirpc.UnimplementedResourceProviderServer
	host      *provider.HostClient
	docker    *dockerConn
	resources map[string]resourceImpl
}

func newServer(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
	s := &server{host: host, docker: &dockerConn{}}
	s.resources = map[string]resourceImpl{
		containerToken:   &containerResource{docker: s.docker},
		remoteImageToken: &imageResource{docker: s.docker},
		networkToken:     &networkResource{docker: s.docker},
	}
	return s, nil
}

func (s *server) impl(urn string) (resourceImpl, error) {
	t := string(resource.URN(urn).Type())
	if r, ok := s.resources[t]; ok {
		return r, nil
	}
	return nil, refusal{fmt.Sprintf("resource type %q", t)}
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: providerVersion}, nil
}

// GetSchema answers with the package's name and version only: preview, up, refresh and destroy need
// no more.
func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":%q}`, providerName, providerVersion)}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	r, err := s.impl(req.GetUrn())
	if err != nil {
		return nil, err
	}
	return r.check(req)
}

func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	r, err := s.impl(req.GetUrn())
	if err != nil {
		return nil, err
	}
	return r.diff(req)
}

func (s *server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	r, err := s.impl(req.GetUrn())
	if err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(ctx, req.GetTimeout())
	defer cancel()
	return r.create(ctx, req)
}

func (s *server) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	r, err := s.impl(req.GetUrn())
	if err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(ctx, 0)
	defer cancel()
	return r.read(ctx, req)
}

func (s *server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	r, err := s.impl(req.GetUrn())
	if err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(ctx, req.GetTimeout())
	defer cancel()
	return r.update(ctx, req)
}

func (s *server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	r, err := s.impl(req.GetUrn())
	if err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(ctx, req.GetTimeout())
	defer cancel()
	return &emptypb.Empty{}, r.delete(ctx, req)
}

func (s *server) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	return nil, refusal{fmt.Sprintf("function %q", req.GetTok())}
}

func (s *server) Call(_ context.Context, req *pulumirpc.CallRequest) (*pulumirpc.CallResponse, error) {
	return nil, refusal{fmt.Sprintf("method %q", req.GetTok())}
}

func (s *server) Construct(_ context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
	return nil, refusal{fmt.Sprintf("component %q", req.GetType())}
}
