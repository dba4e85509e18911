package tests

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// Tests that kill a process, or must outlive a fatal fault in one, run the
// test binary again as a child that runs one Test...Child function. The
// parent hands the child what it needs in environment variables; the child
// reports on stdout, a line per fact, and ends with status 3, after a line
// saying why, when its own setup fails. A child test skips itself when the
// variable that names its store is not set, as in an ordinary `go test`.

// childCommand is the command that runs only the test named test of this
// test binary, in a child process whose environment is this one's plus env
// (each "NAME=value").
func childCommand(test string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// childEnv is the value of the environment variable env, which the parent
// test (named by parent) sets for its child; where it is not set, as in an
// ordinary `go test`, it skips t.
func childEnv(t *testing.T, env, parent string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Skip("run by " + parent + " in a child process")
	}
	return v
}

// startChild starts cmd with its stderr on this process's and returns its
// stdout, which the caller reads to the end.
func startChild(t *testing.T, cmd *exec.Cmd) io.Reader {
	t.Helper()
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	return out
}

// childFail ends a child whose setup failed, saying what failed on a line
// the parent reads as the child's failure.
func childFail(what string, err error) {
	fmt.Println(what+":", err)
	os.Exit(3)
}

// childKey is the ed25519 private key the parent put, as hex, in the
// environment variable env.
func childKey(env string) ed25519.PrivateKey {
	key, err := hex.DecodeString(os.Getenv(env))
	if err != nil || len(key) != ed25519.PrivateKeySize {
		fmt.Println("bad key")
		os.Exit(3)
	}
	return key
}

// signedChildGenerator is the child side of the crash tests: it opens the
// store at path for writing, taking only a head that key signed, and
// resumes a Generator on it that signs with key, with opts besides.
func signedChildGenerator(path string, key ed25519.PrivateKey, opts ...otelaudit.Option) *otelaudit.Generator {
	st, err := store.Open(path, store.WithPublicKey(key.Public().(ed25519.PublicKey)))
	if err != nil {
		childFail("open", err)
	}
	g, err := otelaudit.New(append([]otelaudit.Option{otelaudit.WithStore(st), otelaudit.WithSigningKey(key)}, opts...)...)
	if err != nil {
		childFail("resume", err)
	}
	return g
}
