package evidence_test

import "os"

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "otelaudit-evidence-") }
