package auditz

import "github.com/otelaudit/otelaudit-go/otelaudit"

func parseNote(note string) (otelaudit.Checkpoint, error) { return otelaudit.ParseNote([]byte(note)) }
