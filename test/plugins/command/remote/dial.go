package remote

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/retry"
	"golang.org/x/crypto/ssh"
)

// dial opens a new SSH client to the target, retrying as remote/connection.go's Dial does.
func (c *Connection) dial(ctx context.Context) (*ssh.Client, error) {
	config, err := c.clientConfig()
	if err != nil {
		return nil, err
	}
	port := 22
	if c.Port != nil {
		port = int(*c.Port)
	}
	endpoint := net.JoinHostPort(deref(c.Host, ""), strconv.Itoa(port))
	limit := derefInt(c.DialErrorLimit, defaultDialLimit)
	return dialWithRetry(ctx, "Dial", limit, func() (*ssh.Client, error) {
		return ssh.Dial("tcp", endpoint, config)
	})
}

// dialWithRetry retries every error (refused, timed out, authentication, host key) through the
// SDK's retry.Until (100 ms delay, x1.5, at most 5 s). It gives up once the number of dials
// exceeds the limit, so a limit of N makes N+1 dials; -1 never gives up. Each retry shows the
// status "Dial k/N failed: retrying"; the final error counts the retries, not the dials.
func dialWithRetry[T any](ctx context.Context, what string, limit int, attempt func() (T, error)) (T, error) {
	var lastErr error
	ok, result, err := retry.Until(ctx, retry.Acceptor{
		Accept: func(try int, _ time.Duration) (bool, any, error) {
			var value T
			value, lastErr = attempt()
			if lastErr == nil {
				return true, value, nil
			}
			dials := try + 1
			if limit > unlimitedDials && dials > limit {
				return true, nil, fmt.Errorf("after %d failed attempts: %w", try, lastErr)
			}
			p.GetLogger(ctx).InfoStatusf("%s %d/%s failed: retrying", what, dials, limitText(limit))
			return false, nil, nil
		},
	})
	if ok && err == nil {
		return result.(T), nil
	}
	if err == nil {
		// retry.Until stops without an error when the context ends.
		err = ctx.Err()
	}
	var zero T
	return zero, err
}

func limitText(limit int) string {
	if limit == unlimitedDials {
		return "inf"
	}
	return strconv.Itoa(limit)
}
