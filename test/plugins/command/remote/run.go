package remote

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"golang.org/x/crypto/ssh"

	"sdwebui.local/test/plugins/command/common"
)

// run executes one script as remote/commandOutputs.go does: a new connection, one session, the
// environment by Setenv, then session.Run (sshd runs it with the login shell, no pty). On success
// c gets stdout and stderr with one trailing newline trimmed.
func (c *CommandOutputs) run(ctx context.Context, script string) error {
	if c.Connection == nil {
		return fmt.Errorf("missing required property 'connection'")
	}
	// The client is not closed, as in the real plugin: it lives until the plugin exits.
	client, err := c.Connection.dial(ctx)
	if err != nil {
		return err
	}
	session, err := client.NewSession()
	if err != nil {
		return err
	}
	defer session.Close()
	if err := c.setEnvironment(ctx, session); err != nil {
		return err
	}
	if c.Stdin != nil && *c.Stdin != "" {
		session.Stdin = strings.NewReader(*c.Stdin)
	}
	return c.execute(ctx, session, script)
}

// setEnvironment sends the user's entries (a refusal fails the operation before the command
// runs), then the previous outputs when there are any (a refusal is only a warning).
func (c *CommandOutputs) setEnvironment(ctx context.Context, session *ssh.Session) error {
	for k, v := range c.Environment {
		if err := session.Setenv(k, v); err != nil {
			return setenvFailed(ctx, diag.Error, k, err)
		}
	}
	if !common.UsePreviousOutput(c.AddPreviousOutputInEnv) {
		return nil
	}
	for _, prev := range [][2]string{{common.PreviousStdoutVar, c.Stdout}, {common.PreviousStderrVar, c.Stderr}} {
		if prev[1] == "" {
			continue
		}
		if err := session.Setenv(prev[0], prev[1]); err != nil {
			_ = setenvFailed(ctx, diag.Warning, prev[0], err)
		}
	}
	return nil
}

// setenvFailed logs the real plugin's explanation at the given severity and returns its error.
func setenvFailed(ctx context.Context, severity diag.Severity, key string, err error) error {
	msg := fmt.Sprintf(`Unable to set '%s'. This only works if your SSH server is configured to accept
	these variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could
	prefix the command itself with the variables in the form 'VAR=value command'`, key)
	log := p.GetLogger(ctx)
	if severity == diag.Error {
		log.Error(msg)
	} else {
		log.Warning(msg)
	}
	return fmt.Errorf("could not set environment variable %q: %w", key, err)
}

func (c *CommandOutputs) execute(ctx context.Context, session *ssh.Session, script string) error {
	var stdout, stderr, both bytes.Buffer
	// x/crypto copies stdout and stderr in two goroutines, so the combined buffer is locked.
	combined := &common.LockedWriter{W: &both}
	logR, logW := io.Pipe()
	session.Stdout = streamTo(&stdout, combined, logW, c.Logging.logsStdout())
	session.Stderr = streamTo(&stderr, combined, logW, c.Logging.logsStderr())
	done := make(chan struct{})
	go common.StatusLines(ctx, logR, done)

	err := session.Run(script)
	logW.Close()
	<-done
	if err != nil {
		return fmt.Errorf("%w: running %q:\n%s", err, script, both.String())
	}
	c.BaseOutputs = BaseOutputs{Stdout: common.TrimOne(stdout.String()), Stderr: common.TrimOne(stderr.String())}
	return nil
}

// streamTo sends a stream to its own buffer, the combined buffer and, when logged, the status log.
func streamTo(own, combined, log io.Writer, logged bool) io.Writer {
	if logged {
		return io.MultiWriter(own, combined, log)
	}
	return io.MultiWriter(own, combined)
}
