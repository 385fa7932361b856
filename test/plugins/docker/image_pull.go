package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// localSummary is what searchLocalImages keeps of an inspected image.
type localSummary struct {
	ID          string
	RepoDigests []string
}

// findImage is kreuzwerker v4.5.0 findImage (resource_docker_image_funcs.go 343-378): an image present
// locally is used as it is, whatever its tag; only an absent one is pulled.
func findImage(ctx context.Context, cli *client.Client, name, platform string) (*localSummary, error) {
	if name == "" {
		return nil, fmt.Errorf("empty image name is not allowed")
	}
	found, err := localImage(ctx, cli, name)
	if err != nil || found != nil {
		return found, err
	}
	if err := pullImage(ctx, cli, name, platform); err != nil {
		return nil, fmt.Errorf("unable to pull image %s: %w", name, err)
	}
	found, err = localImage(ctx, cli, name)
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("unable to find or pull image %s", name)
	}
	return found, nil
}

func localImage(ctx context.Context, cli *client.Client, name string) (*localSummary, error) {
	info, err := cli.ImageInspect(ctx, name)
	if err != nil {
		if client.IsErrNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("unable to inspect image %s: %w", name, err)
	}
	return &localSummary{ID: info.ID, RepoDigests: info.RepoDigests}, nil
}

// pullImage reads the whole pull stream into memory and shows none of it (_funcs.go 249-292, P5): the
// operation's deadline (20 minutes unless customTimeouts say otherwise) bounds the whole pull.
func pullImage(ctx context.Context, cli *client.Client, name, platform string) error {
	out, err := cli.ImagePull(ctx, name, image.PullOptions{Platform: platform})
	if err != nil {
		return fmt.Errorf("error pulling image %s: %w", name, err)
	}
	defer out.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(out)
	return err
}

// repoDigest is determineRepoDigest (data_source_docker_image.go 66-103): "" without digests, the only
// one when there is one, else the one whose repository the name starts with.
func repoDigest(name string, digests []string) string {
	if len(digests) == 1 {
		return digests[0]
	}
	for _, d := range digests {
		if repo := strings.SplitN(d, "@", 2)[0]; strings.HasPrefix(name, repo) {
			return d
		}
	}
	return ""
}
