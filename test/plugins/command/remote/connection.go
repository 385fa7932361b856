package remote

import (
	"net"
	"os"
	"time"

	"github.com/pulumi/pulumi-go-provider/infer"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

const (
	agentSocketEnv     = "SSH_AUTH_SOCK"
	defaultDialLimit   = 10
	defaultDialTimeout = 15
	unlimitedDials     = -1
)

// connectionBase is what a connection to the target and to a bastion have in common.
type connectionBase struct {
	User               *string  `pulumi:"user,optional"`
	Password           *string  `pulumi:"password,optional"`
	Host               *string  `pulumi:"host"`
	Port               *float64 `pulumi:"port,optional"`
	PrivateKey         *string  `pulumi:"privateKey,optional"`
	PrivateKeyPassword *string  `pulumi:"privateKeyPassword,optional"`
	AgentSocketPath    *string  `pulumi:"agentSocketPath,optional"`
	DialErrorLimit     *int     `pulumi:"dialErrorLimit,optional"`
	PerDialTimeout     *int     `pulumi:"perDialTimeout,optional"`
	HostKey            *string  `pulumi:"hostKey,optional"`
}

// Connection is command:remote:Connection. `proxy` is in the schema but refused by the stand-in
// before anything runs (refuse.go in the main package).
type Connection struct {
	connectionBase
	Proxy *ProxyConnection `pulumi:"proxy,optional"`
}

// ProxyConnection is command:remote:ProxyConnection, the bastion (not modelled).
type ProxyConnection struct {
	connectionBase
}

// Annotate gives the defaults of remote/connection.go: user root, port 22, 10 dial errors,
// 15 s per dial.
func (c *Connection) Annotate(a infer.Annotator) {
	a.Describe(&c, "Instructions for how to connect to a remote endpoint.")
	describeBase(a, &c.connectionBase)
	a.Describe(&c.Proxy, "The connection settings for the bastion/proxy host.")
}

// Annotate gives the bastion the same defaults.
func (c *ProxyConnection) Annotate(a infer.Annotator) {
	a.Describe(&c, "Instructions for how to connect to a remote endpoint via a bastion host.")
	describeBase(a, &c.connectionBase)
}

func describeBase(a infer.Annotator, c *connectionBase) {
	a.Describe(&c.User, "The user that we should use for the connection.")
	a.SetDefault(&c.User, "root")
	a.Describe(&c.Password, "The password we should use for the connection.")
	a.Describe(&c.Host, "The address of the resource to connect to.")
	a.Describe(&c.Port, "The port to connect to. Defaults to 22.")
	a.SetDefault(&c.Port, 22)
	a.Describe(&c.PrivateKey, "The contents of an SSH key to use for the connection. This takes preference over the password if provided.")
	a.Describe(&c.PrivateKeyPassword, "The password to use in case the private key is encrypted.")
	a.Describe(&c.AgentSocketPath, "SSH Agent socket path. Default to environment variable SSH_AUTH_SOCK if present.")
	a.Describe(&c.DialErrorLimit, "Max allowed errors on trying to dial the remote host. -1 set count to unlimited. Default value is 10.")
	a.SetDefault(&c.DialErrorLimit, defaultDialLimit)
	a.Describe(&c.PerDialTimeout, "Max number of seconds for each dial attempt. 0 implies no maximum. Default value is 15 seconds.")
	a.SetDefault(&c.PerDialTimeout, defaultDialTimeout)
	a.Describe(&c.HostKey, "The expected host key to verify the server's identity. If not provided, the host key will be ignored.")
}

// clientConfig builds the x/crypto client configuration as remote/connection.go does. Errors here
// (a bad key, a bad hostKey, a dead agent socket) fail at once, before any dial.
func (c *connectionBase) clientConfig() (*ssh.ClientConfig, error) {
	config := &ssh.ClientConfig{
		User:            deref(c.User, "root"),
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		// Only the TCP connect: x/crypto's ssh.Dial passes it to net.DialTimeout.
		Timeout: time.Duration(derefInt(c.PerDialTimeout, defaultDialTimeout)) * time.Second,
	}
	if err := c.pinHostKey(config); err != nil {
		return nil, err
	}
	methods, err := c.authMethods()
	if err != nil {
		return nil, err
	}
	config.Auth = methods
	return config, nil
}

// pinHostKey accepts only the given key and offers only its type, so an RSA pin offers "ssh-rsa"
// alone (which OpenSSH >= 8.8 no longer accepts for host keys).
func (c *connectionBase) pinHostKey(config *ssh.ClientConfig) error {
	if c.HostKey == nil {
		return nil
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*c.HostKey))
	if err != nil {
		return err
	}
	config.HostKeyCallback = ssh.FixedHostKey(key)
	config.HostKeyAlgorithms = []string{key.Type()}
	return nil
}

// authMethods are, in this order: the private key, the password (plain and keyboard-interactive),
// the agent at agentSocketPath or $SSH_AUTH_SOCK. An agent socket that cannot be dialled is an
// error even when a key or password would do.
func (c *connectionBase) authMethods() ([]ssh.AuthMethod, error) {
	var methods []ssh.AuthMethod
	if c.PrivateKey != nil {
		signer, err := c.signer()
		if err != nil {
			return nil, err
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if c.Password != nil {
		password := *c.Password
		methods = append(methods, ssh.Password(password), ssh.KeyboardInteractive(answerAll(password)))
	}
	if socket, ok := c.agentSocket(); ok {
		// Never closed, like the real plugin's: it lives as long as the plugin process.
		conn, err := net.Dial("unix", socket)
		if err != nil {
			return nil, err
		}
		methods = append(methods, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	return methods, nil
}

func (c *connectionBase) signer() (ssh.Signer, error) {
	if c.PrivateKeyPassword != nil {
		return ssh.ParsePrivateKeyWithPassphrase([]byte(*c.PrivateKey), []byte(*c.PrivateKeyPassword))
	}
	return ssh.ParsePrivateKey([]byte(*c.PrivateKey))
}

// agentSocket is agentSocketPath when given (even ""), else a non-empty $SSH_AUTH_SOCK.
func (c *connectionBase) agentSocket() (string, bool) {
	if c.AgentSocketPath != nil {
		return *c.AgentSocketPath, true
	}
	env := os.Getenv(agentSocketEnv)
	return env, env != ""
}

// answerAll answers every keyboard-interactive question with the password.
func answerAll(password string) ssh.KeyboardInteractiveChallenge {
	return func(_, _ string, questions []string, _ []bool) ([]string, error) {
		answers := make([]string, len(questions))
		for i := range answers {
			answers[i] = password
		}
		return answers, nil
	}
}

func deref(s *string, fallback string) string {
	if s == nil {
		return fallback
	}
	return *s
}

func derefInt(n *int, fallback int) int {
	if n == nil {
		return fallback
	}
	return *n
}
