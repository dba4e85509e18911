package main

import (
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/otelaudit/otelaudit-go/keyfile"
)

var keygenCommand = &command{
	name:    "keygen",
	summary: "create an ed25519 key pair for signing checkpoints, or a pseudonym key",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		priv := fs.String("private", "", "write the private key (PEM, mode 0600) to this `file`; it must not exist")
		pub := fs.String("public", "", "write the public key (PEM) to this `file`; it must not exist")
		hmacKey := fs.String("hmac", "", "instead, write a pseudonym key (PEM, mode 0600) to this `file`, for otelaudit.WithPseudonyms; it must not exist")
		return func(args []string) error {
			if err := noArgs("keygen", args); err != nil {
				return err
			}
			if *hmacKey != "" {
				if *priv != "" || *pub != "" {
					return usageErrorf("keygen: --hmac writes a pseudonym key alone: not with --private or --public")
				}
				if _, err := os.Lstat(*hmacKey); err == nil {
					return usageErrorf("keygen: %s already exists; not overwriting a key", *hmacKey)
				}
				if _, err := keyfile.GenerateHMAC(*hmacKey); err != nil {
					return usageErrorf("keygen: %w", err)
				}
				fmt.Fprintf(e.stdout, "Pseudonym key: %s (keep it secret and apart from the trail: whoever has it can look users up; otelaudit.WithPseudonyms, otelaudit hash --hmac-key)\n", *hmacKey)
				return nil
			}
			switch {
			case *priv == "" || *pub == "":
				return usageErrorf("keygen: --private and --public are both required (or --hmac alone)")
			case *priv == *pub:
				return usageErrorf("keygen: --private and --public name the same file")
			}
			// keyfile.Generate writes the private key before it finds the
			// public one exists; looking first keeps a refused keygen from
			// leaving half a pair behind.
			for _, p := range []string{*priv, *pub} {
				if _, err := os.Lstat(p); err == nil {
					return usageErrorf("keygen: %s already exists; not overwriting a key", p)
				} else if !errors.Is(err, os.ErrNotExist) {
					return usageErrorf("keygen: %w", err)
				}
			}
			pk, err := keyfile.Generate(*priv, *pub)
			if err != nil {
				return usageErrorf("keygen: %w", err)
			}
			sum := sha256.Sum256(pk)
			fmt.Fprintf(e.stdout, "Private key: %s (keep it secret; the writer signs checkpoints with it: otelaudit.WithSigningKey)\n", *priv)
			fmt.Fprintf(e.stdout, "Public key:  %s (give it to otelaudit verify --pubkey)\n", *pub)
			fmt.Fprintf(e.stdout, "Public key SHA-256: %x\n", sum)
			return nil
		}
	},
}
