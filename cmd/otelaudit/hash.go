package main

import (
	"flag"
	"fmt"

	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

var hashCommand = &command{
	name:    "hash",
	args:    "<value>...",
	summary: "the pseudonym of each value under a pseudonym key: what a trail written with the key stores for it",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		hmacKey := fs.String("hmac-key", "", "the pseudonym key `file` (otelaudit keygen --hmac)")
		return func(args []string) error {
			if *hmacKey == "" {
				return usageErrorf("hash: --hmac-key is required")
			}
			if len(args) == 0 {
				return usageErrorf("hash: want at least one value (usage: otelaudit hash --hmac-key FILE <value>...)")
			}
			key, err := keyfile.ReadHMAC(*hmacKey)
			if err != nil {
				return usageErrorf("hash: --hmac-key: %w", err)
			}
			for _, v := range args {
				fmt.Fprintln(e.stdout, otelaudit.Pseudonym(key, v))
			}
			return nil
		}
	},
}
