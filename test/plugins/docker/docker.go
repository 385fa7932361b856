package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/client"
)

// dockerConn is the provider's one Docker client, made and pinged at the first resource operation and
// then kept for the life of the process, as kreuzwerker config.go (166-204) does.
type dockerConn struct {
	mu      sync.Mutex
	host    string
	sshOpts []string
	cli     *client.Client
	err     error
}

func (d *dockerConn) configure(host string, sshOpts []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.host, d.sshOpts, d.cli, d.err = host, sshOpts, nil, nil
}

// client returns the pinged client, or the real provider's error text when the daemon cannot be reached.
func (d *dockerConn) client(ctx context.Context) (*client.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cli != nil || d.err != nil {
		return d.cli, d.err
	}
	cli, err := newDockerClient(d.host, d.sshOpts)
	if err == nil {
		_, err = cli.Ping(ctx)
		if err != nil {
			err = fmt.Errorf("Error pinging Docker server, please make sure that %s is reachable and has a  '_ping' endpoint. Error: %s", d.host, err)
		}
	}
	if err != nil {
		// A failed ping is not cached: the next operation tries again, as a new provider process would.
		return nil, err
	}
	d.cli = cli
	return cli, nil
}

// pingNow checks the daemon without keeping the client (Configure's check).
func (d *dockerConn) pingNow(ctx context.Context) error {
	d.mu.Lock()
	host, opts := d.host, d.sshOpts
	d.mu.Unlock()
	cli, err := newDockerClient(host, opts)
	if err != nil {
		return err
	}
	defer cli.Close()
	_, err = cli.Ping(ctx)
	return err
}

// newDockerClient dials unix:// and tcp:// hosts directly and ssh:// hosts through docker/cli's
// connhelper: one `ssh … -- host docker system dial-stdio` per connection, sshOpts passed verbatim,
// "-o ConnectTimeout=30" and "-T" added by connhelper unless present.
func newDockerClient(host string, sshOpts []string) (*client.Client, error) {
	if !strings.HasPrefix(host, "ssh://") {
		return client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	}
	helper, err := connhelper.GetConnectionHelperWithSSHOpts(host, sshOpts)
	if err != nil {
		return nil, err
	}
	httpClient := &http.Client{Transport: &http.Transport{DialContext: helper.Dialer}}
	return client.NewClientWithOpts(
		client.WithHTTPClient(httpClient),
		client.WithHost(helper.Host),
		client.WithDialContext(helper.Dialer),
		client.WithAPIVersionNegotiation(),
	)
}
