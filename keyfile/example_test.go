package keyfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// The private key signs checkpoints where events are recorded; the public
// key verifies them anywhere.
func Example() {
	dir, err := os.MkdirTemp("", "keys")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	priv, pub := filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit.pub")
	if _, err := keyfile.Generate(priv, pub); err != nil {
		panic(err)
	}

	sk, err := keyfile.ReadPrivate(priv)
	if err != nil {
		panic(err)
	}
	g := otelaudit.NewGenerator(otelaudit.WithSigningKey(sk))
	c := g.Checkpoint() // of the empty trail's head, the genesis

	pk, err := keyfile.ReadPublic(pub)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Seq, c.VerifySignature(pk))
	// Output: 0 <nil>
}
