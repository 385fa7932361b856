package local

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"sdwebui.local/test/plugins/command/common"
)

// run executes one script as local/commandOutputs.go does: argv is the interpreter (default
// /bin/sh -c) plus the script; the working directory is `dir`, else the plugin's own cwd (the
// engine starts plugins in dirname(main)); the environment is the plugin's plus the entries, plus
// the previous outputs. On success out gets stdout and stderr with one trailing newline trimmed.
func run(ctx context.Context, script string, in BaseInputs, out *BaseOutputs) error {
	args := argv(in.Interpreter, script)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var err error
	if cmd.Dir, err = workDir(in.Dir); err != nil {
		return err
	}
	cmd.Env = environment(in, *out)
	if in.Stdin != nil && *in.Stdin != "" {
		cmd.Stdin = strings.NewReader(*in.Stdin)
	}

	var stdout, stderr, both bytes.Buffer
	combined := &common.LockedWriter{W: &both}
	logR, logW := io.Pipe()
	cmd.Stdout = streamTo(&stdout, combined, logW, in.Logging.logsStdout())
	cmd.Stderr = streamTo(&stderr, combined, logW, in.Logging.logsStderr())
	done := make(chan struct{})
	go common.StatusLines(ctx, logR, done)

	err = cmd.Start()
	if err == nil {
		err = cmd.Wait()
	}
	logW.Close()
	<-done
	if err != nil {
		return fmt.Errorf("%w: running %q:\n%s", err, script, both.String())
	}
	out.Stdout = common.TrimOne(stdout.String())
	out.Stderr = common.TrimOne(stderr.String())
	return nil
}

func argv(interpreter *[]string, script string) []string {
	args := []string{"/bin/sh", "-c"}
	if interpreter != nil && len(*interpreter) > 0 {
		args = append([]string{}, *interpreter...)
	}
	return append(args, script)
}

func workDir(dir *string) (string, error) {
	if dir != nil {
		return *dir, nil
	}
	return os.Getwd()
}

// environment is os.Environ() with the entries appended (a duplicate key: the last one wins, the
// os/exec rule), then PULUMI_COMMAND_STDOUT/STDERR when there is previous output to pass.
func environment(in BaseInputs, prev BaseOutputs) []string {
	env := os.Environ()
	if in.Environment != nil {
		for k, v := range *in.Environment {
			env = append(env, k+"="+v)
		}
	}
	if common.UsePreviousOutput(in.AddPreviousOutputInEnv) {
		if prev.Stdout != "" {
			env = append(env, common.PreviousStdoutVar+"="+prev.Stdout)
		}
		if prev.Stderr != "" {
			env = append(env, common.PreviousStderrVar+"="+prev.Stderr)
		}
	}
	return env
}

// streamTo sends a stream to its own buffer, the combined buffer and, when logged, the status log.
func streamTo(own io.Writer, combined io.Writer, log io.Writer, logged bool) io.Writer {
	if logged {
		return io.MultiWriter(own, combined, log)
	}
	return io.MultiWriter(own, combined)
}
