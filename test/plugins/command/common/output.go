package common

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"

	p "github.com/pulumi/pulumi-go-provider"
)

// The names under which the previous stdout and stderr reach update and delete scripts.
const (
	PreviousStdoutVar = "PULUMI_COMMAND_STDOUT"
	PreviousStderrVar = "PULUMI_COMMAND_STDERR"
)

// UsePreviousOutput says whether PULUMI_COMMAND_STDOUT/STDERR are passed on: unless
// addPreviousOutputInEnv is explicitly false.
func UsePreviousOutput(flag *bool) bool { return flag == nil || *flag }

// TrimOne removes exactly one trailing newline, as the real plugin stores stdout and stderr.
func TrimOne(s string) string { return strings.TrimSuffix(s, "\n") }

// LockedWriter serialises writes from the two output streams into one combined buffer (the text
// an error message shows).
type LockedWriter struct {
	mu sync.Mutex
	W  io.Writer
}

func (w *LockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.W.Write(b)
}

// StatusLines logs every line read from r as an ephemeral InfoStatus of the resource (not a kept
// diagnostic), as util.LogOutput does, and closes done when r ends. A line too long for the
// scanner stops the logging; the rest is drained so that the command's writes never block.
func StatusLines(ctx context.Context, r io.Reader, done chan<- struct{}) {
	defer close(done)
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		p.GetLogger(ctx).InfoStatus(scanner.Text())
	}
	_, _ = io.Copy(io.Discard, r)
}
